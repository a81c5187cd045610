"""The account notices over the whole local stack (issue 11, part 5).

``bff_dev.devstack.run_stack``: the BFF, the Okta twin with its event hook on the BFF (as
``bff dev`` registers it), moto with the real topology, the subscriber workers running
``account_notices`` in-process. Driven over the BFF's sign-in API the way the SPA does:

* hana types a wrong password until the twin's lockout policy locks her: Okta's
  ``user.account.lock`` → ``/bff/hooks/okta`` → the outbox → SNS ``AccountLocked`` → the
  account-notices queue → SES: one email in her locale whose link opens the SPA's unlock journey;
  the same LogEvent delivered again sends nothing more; the welcome queue never sees it;
* frank (``de_DE``) renews his expired password: ``user.account.update_password`` → ``PasswordChanged``;
* erin enrolls an authenticator app: ``user.mfa.factor.activate`` → ``FactorAdded``.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pyotp
import pytest
import pytest_asyncio

from bff_dev.devstack import StackInfo, run_stack
from bff_dev.serving import free_ports
from tests.integration.pipeline.fixtures import Browser
from tests.support.okta import PASSWORD

pytestmark = pytest.mark.asyncio(loop_scope="module")
CSRF = {"X-CSRF": "1"}
COPY = Path(__file__).resolve().parents[3] / "content" / "copy"


@pytest_asyncio.fixture(loop_scope="module", scope="module")
async def stack(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[StackInfo]:
    async with run_stack(free_ports(), tmp_path_factory.mktemp("account-notices")) as info:
        yield info


def strings(locale: str) -> dict[str, str]:
    return json.loads((COPY / locale / "email.json").read_text())  # type: ignore[no-any-return]


async def sign_in(browser: Browser, identifier: str) -> dict[str, Any]:
    step = await browser.post("/bff/signin", {"returnTo": "/home", "identifier": identifier})
    assert step.get("step") == "challenge-authenticator", step
    return step


async def submit(browser: Browser, remediation: str, values: dict[str, Any]) -> dict[str, Any]:
    return await browser.post(f"/bff/signin/{remediation}", values)


async def test_hana_locked_out_gets_one_localized_notice_with_the_unlock_link(stack: StackInfo) -> None:
    okta, pipeline = stack.info["okta"], stack.info["pipeline"]
    hana = okta.directory.user("hana@acme.test")
    hana.profile["locale"] = "fr_CA"  # Okta's format; the notice is in fr-CA
    async with httpx.AsyncClient(base_url=stack.url, timeout=20) as http:
        client = Browser(http)
        await sign_in(client, "hana@acme.test")
        for _ in range(okta.idx.lockout_attempts):
            await submit(client, "challenge-authenticator", {"credentials.passcode": "wrong-password"})
        locked = await submit(client, "challenge-authenticator", {"credentials.passcode": PASSWORD})
        assert "authfactor.challenge.suspended_factor" in json.dumps(locked)

    (mail,) = await pipeline.wait_for_mail("hana@acme.test", within=30)
    assert mail.subject == strings("fr")["locked.subject"]
    assert f"{stack.url}/signin?unlock=1" in mail.text and f"{stack.url}/signin?unlock=1" in mail.html
    assert strings("fr-CA")["notice.footer"] in mail.text
    lock_events = [e for e in okta.hooks.events if e["eventType"] == "user.account.lock"]
    assert len(lock_events) == 1  # the fourth attempt on a locked factor locks nothing again

    # Okta delivers at least once: the same LogEvent again is a duplicate, no second email.
    again = await httpx.AsyncClient(base_url=stack.url).post(
        "/bff/hooks/okta", json=okta.hooks.payload(okta.event_hooks[0], lock_events),
        headers={"Authorization": stack.env["BFF_OKTA_HOOK_SECRET"].split(",")[0]})
    assert again.status_code == 200 and again.json()["noticeDuplicates"] == 1
    await pipeline.settle()
    assert len(await pipeline.sent_emails("hana@acme.test")) == 1
    # the notice went to its own queue only: nothing about hana reached the welcome email
    assert not [m for m in await pipeline.sent_emails("hana@acme.test") if "Bienvenue" in m.subject]
    assert pipeline.queue_counts("welcome-email", dlq=True) == {"visible": 0, "in_flight": 0}


async def test_frank_renewing_his_expired_password_is_told_it_changed(stack: StackInfo) -> None:
    pipeline = stack.info["pipeline"]
    async with httpx.AsyncClient(base_url=stack.url, timeout=20) as http:
        client = Browser(http)
        await sign_in(client, "frank@acme.test")
        step = await submit(client, "challenge-authenticator", {"credentials.passcode": PASSWORD})
        assert step["step"] == "reenroll-authenticator"
        step = await submit(client, "reenroll-authenticator", {"credentials.passcode": "Tr0ub4dor-Horse"})
        assert step["step"] == "success"
    (mail,) = await pipeline.wait_for_mail("frank@acme.test", within=30)
    assert mail.subject == strings("de")["passwordChanged.subject"]  # frank's locale: de_DE
    assert f"{stack.url}/signin" in mail.text and "unlock=1" not in mail.text


async def test_erin_enrolling_an_authenticator_app_is_told_a_method_was_added(stack: StackInfo) -> None:
    okta, pipeline = stack.info["okta"], stack.info["pipeline"]
    async with httpx.AsyncClient(base_url=stack.url, timeout=20) as http:
        client = Browser(http)
        await sign_in(client, "erin@acme.test")
        step = await submit(client, "challenge-authenticator", {"credentials.passcode": PASSWORD})
        choice = next(c for c in step["choices"] if c["key"] == "google_otp")
        step = await submit(client, "select-authenticator-enroll", {"authenticator.id": choice["id"]})
        secret = step["authenticator"]["enrollment"]["sharedSecret"]
        step = await submit(client, "enroll-authenticator",
                            {"credentials.passcode": pyotp.TOTP(secret).at(okta.now())})
        assert step["step"] == "success", step
    (mail,) = await pipeline.wait_for_mail("erin@acme.test", within=30)
    assert mail.subject == strings("en")["factorAdded.subject"]
    assert [e["eventType"] for e in okta.hooks.events if e["target"][0]["alternateId"] == "erin@acme.test"] \
        == ["user.mfa.factor.activate"]
