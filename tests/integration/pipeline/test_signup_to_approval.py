"""The whole registration path over real local servers (issue 5, "Done when").

The full local stack (``bff_dev.devstack.run_stack``: the BFF, the Okta twin, moto in server mode
with the real SNS -> SQS topology, the subscriber workers running the Lambda handlers, the
compliance and Marketo twins, the API Gateway twin in front of the admin API) on free loopback
ports, driven over HTTP the way the SPA does:

* pass: ``POST /bff/signup`` -> the Okta user exists (PROVISIONED) -> its activation link is
  opened (address verified, ACTIVE) -> ``AccountCreated`` on SNS -> both
  queues -> the welcome email in SES -> compliance passes -> Okta ``complianceStatus=passed``
  and the Marketo lead exists;
* fail: compliance flags the name -> ``complianceStatus=review`` and a manual-review record ->
  the org admin (after the step-up sign-in) approves it through the BFF proxy and the admin API
  -> ``passed`` + the Marketo lead; a plain user and another org's admin cannot touch it;
* the embedded sign-up (issue 11): Okta's profile enrollment over ``/bff/signin`` with the email
  code -> nothing before verification -> the same pipeline -> at the next sign-in the progressive
  step's answers reach Okta and, through ``ProfileUpdated``, the Marketo lead.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any, TypeVar

import httpx
import pytest
import pytest_asyncio

from bff_dev.devstack import StackInfo, run_stack
from bff_dev.serving import free_ports
from tests.integration.pipeline.fixtures import Browser
from tests.support.login import login_as

T = TypeVar("T")
pytestmark = pytest.mark.asyncio(loop_scope="module")
CSRF = {"X-CSRF": "1"}


@pytest_asyncio.fixture(loop_scope="module", scope="module")
async def stack(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[StackInfo]:
    data_dir: Path = tmp_path_factory.mktemp("signup-to-approval")
    async with run_stack(free_ports(), data_dir) as info:
        yield info


def _client(stack: StackInfo) -> httpx.AsyncClient:
    return httpx.AsyncClient(base_url=stack.url, timeout=20, follow_redirects=False)


async def _eventually(probe: Callable[[], T | None], *, within: float = 30.0, what: str) -> T:
    deadline = time.monotonic() + within
    while True:
        value = probe()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.2)


async def _sign_up(stack: StackInfo, last_name: str, locale: str = "en") -> str:
    email = f"pat.{uuid.uuid4().hex[:10]}@acme.test"
    async with _client(stack) as client:
        answer = await client.post("/bff/signup", headers=CSRF, json={
            "email": email, "firstName": "Pat", "lastName": last_name, "company": "acme",
            "locale": locale, "terms": True})
    assert answer.status_code == 201, answer.text
    assert answer.json()["next"] == "activateByEmail"  # PROVISIONED: nothing announced yet
    # Okta's activation email (the twin's outbox): opening its link verifies the address; the
    # account is ACTIVE once a password is chosen, and only then is AccountCreated published.
    okta = stack.info["okta"]
    mail = await _eventually(lambda: next((m for m in okta.idx.outbox if m["to"] == email
                                           and m["subject"] == "Activate your account"), None),
                             what="the activation email")
    async with httpx.AsyncClient(timeout=20) as browser:
        done = await browser.post(mail["link"], data={"password": "Correct-Horse-9-Battery"})
        assert done.status_code == 200, done.text
    user = okta.directory.user(email)
    assert user is not None and user.status == "ACTIVE"
    return email


def _okta_profile(stack: StackInfo, email: str) -> dict[str, Any] | None:
    user = stack.info["okta"].directory.user(email)
    return dict(user.profile) if user is not None else None


async def test_sign_up_passes_compliance_and_reaches_okta_marketo_and_the_inbox(stack: StackInfo) -> None:
    email = await _sign_up(stack, "Passer", locale="fr")

    profile = _okta_profile(stack, email)
    assert profile is not None, "the Okta user was not created"
    assert profile["orgId"] == "acme" and profile["firstName"] == "Pat"

    pipeline = stack.info["pipeline"]
    mails = await pipeline.wait_for_mail(email, within=30)
    assert len(mails) == 1 and mails[0].to == email
    assert "Pat" in mails[0].subject and "Bienvenue" in mails[0].subject  # localized (fr)
    assert mails[0].html and mails[0].text  # both MIME parts

    await _eventually(lambda: (_okta_profile(stack, email) or {}).get("complianceStatus") == "passed",
                      what="complianceStatus=passed in Okta")
    lead = await _eventually(lambda: pipeline.marketo.lead_by_email(email), what="the Marketo lead")
    assert lead["firstName"] == "Pat" and lead["lastName"] == "Passer"
    assert not [r for r in pipeline.reviews("acme") if r.get("login") == email]


async def test_flagged_sign_up_is_reviewed_and_approved_by_the_org_admin(stack: StackInfo) -> None:
    email = await _sign_up(stack, "Review")
    pipeline = stack.info["pipeline"]

    review = await _eventually(
        lambda: next((r for r in pipeline.reviews("acme") if r.get("login") == email), None),
        what="the manual-review record")
    assert review["status"] == "pending"
    await _eventually(lambda: (_okta_profile(stack, email) or {}).get("complianceStatus") == "review",
                      what="complianceStatus=review in Okta")
    assert pipeline.marketo.lead_by_email(email) is None
    review_id = review["reviewId"]

    # A plain user: the BFF refuses before anything reaches the admin API.
    async with _client(stack) as bob:
        await login_as(bob, "bob@acme.test")
        refused = await bob.post(f"/api/admin/reviews/{review_id}/approve", headers=CSRF)
        assert refused.status_code == 403
        assert refused.headers["content-type"].startswith("application/problem+json")

    # Another org's admin: the admin API does not even admit the review exists.
    async with _client(stack) as olga:
        await login_as(olga, "olga@globex.test", scope="admin")
        hidden = await olga.post(f"/api/admin/reviews/{review_id}/approve", headers=CSRF)
        assert hidden.status_code == 404

    # The org admin, after the step-up sign-in, sees it in the queue and approves it.
    async with _client(stack) as alice:
        await login_as(alice, "alice@acme.test", scope="admin")
        queue = await alice.get("/api/admin/reviews", headers=CSRF)
        assert queue.status_code == 200, queue.text
        assert review_id in {item["reviewId"] for item in queue.json()["reviews"]}
        approved = await alice.post(f"/api/admin/reviews/{review_id}/approve", headers=CSRF)
        assert approved.status_code == 200, approved.text
        again = await alice.post(f"/api/admin/reviews/{review_id}/approve", headers=CSRF)
        assert again.status_code == 409  # decided once

    assert (_okta_profile(stack, email) or {}).get("complianceStatus") == "passed"
    lead = pipeline.marketo.lead_by_email(email)
    assert lead is not None and lead["lastName"] == "Review"
    decided = next(r for r in pipeline.reviews("acme") if r.get("reviewId") == review_id)
    assert decided["status"] == "approved" and decided["decidedBy"] == "alice@acme.test"


async def _step(browser: Browser, remediation: str | None, values: dict[str, Any]) -> dict[str, Any]:
    """One step of the embedded sign-in the way the SPA posts it (None: start)."""
    if remediation is None:
        return await browser.post("/bff/signin", {"returnTo": "/", **values})
    return await browser.post(f"/bff/signin/{remediation}", values)


async def test_the_embedded_sign_up_then_progressive_profile_reach_the_pipeline_and_marketo(
        stack: StackInfo) -> None:
    """Issue 11: the registration through Okta's profile enrollment (IDX, the SPA's own screens),
    the address verified by the email code before anything is announced, then AccountCreated ->
    welcome email + compliance pass + Marketo lead; at the next sign-in the progressive step's
    answers go to Okta and, through ProfileUpdated, to the same lead."""
    email = f"nia.{uuid.uuid4().hex[:10]}@example.test"
    password = "Correct-Horse-9-Battery"
    okta, pipeline = stack.info["okta"], stack.info["pipeline"]
    async with _client(stack) as http:
        client = Browser(http)
        step = await _step(client, None, {})
        assert "select-enroll-profile" in step["alternatives"]
        step = await _step(client, "select-enroll-profile", {})
        step = await _step(client, "enroll-profile", {"userProfile.email": email,
                                                       "userProfile.firstName": "Nia",
                                                       "userProfile.lastName": "Okafor"})
        assert step["step"] == "enroll-authenticator" and step["authenticator"]["key"] == "okta_email"
        user = okta.directory.user(email)
        assert user is not None and user.status != "ACTIVE"  # not verified yet: nothing announced
        await asyncio.sleep(1.5)
        assert await pipeline.sent_emails(email) == []
        code = [m for m in okta.idx.outbox if m["to"] == email][-1]["code"]
        step = await _step(client, "enroll-authenticator", {"credentials.passcode": code})
        assert step["authenticator"]["key"] == "okta_password"
        step = await _step(client, "enroll-authenticator", {"credentials.passcode": password})
        assert step["step"] == "success", step
        assert (await client.get("/bff/user")).status_code == 200  # signed in: the session cookie

    mails = await pipeline.wait_for_mail(email, within=30)
    assert len(mails) == 1 and "Nia" in mails[0].subject
    await _eventually(lambda: (_okta_profile(stack, email) or {}).get("complianceStatus") == "passed",
                      what="complianceStatus=passed in Okta")
    lead = await _eventually(lambda: pipeline.marketo.lead_by_email(email), what="the Marketo lead")
    assert lead["lastName"] == "Okafor" and not lead.get("company")

    async with _client(stack) as http:  # the next sign-in: the profile policy asks for more
        client = Browser(http)
        await _step(client, None, {})
        await _step(client, "identify", {"identifier": email})
        step = await _step(client, "challenge-authenticator", {"credentials.passcode": password})
        assert step["step"] == "profile-update", step
        step = await _step(client, "profile-update", {"userProfile.company": "Okafor Analytics",
                                                       "userProfile.countryCode": "ng"})
        assert step["step"] == "success", step
    assert (_okta_profile(stack, email) or {}).get("company") == "Okafor Analytics"
    lead = await _eventually(
        lambda: (lambda got: got if got and got.get("company") == "Okafor Analytics" else None)(
            pipeline.marketo.lead_by_email(email)),
        what="the company on the Marketo lead")
    assert lead["country"] == "NG"
    assert len(await pipeline.sent_emails(email)) == 1  # a profile update sends no second welcome
