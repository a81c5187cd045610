"""Sign-up through the embedded sign-in (issue 11 §1, §3), over ``/bff/signin`` against the Okta
twin's profile enrollment policy: the BFF's own validation in front of Okta's, Okta's taken-email
message, the address verified before the account is ACTIVE, ``AccountCreated`` exactly once
(through the outbox, the event hook's report of the same user adding nothing), and the
progressive profile step at the next sign-in with the profile screen's rules."""

from __future__ import annotations

import time
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette

from bff.signup.events import event_id_for
from bff_dev.twins.okta import OktaTwin
from tests.integration.signin.conftest import email_code, start, submit
from tests.unit.signup.fakes import API_TOKEN, HOOK_SECRET

EMAIL = "nia@example.test"
PASSWORD = "Correct-Horse-9"
PROFILE = {"userProfile.email": EMAIL, "userProfile.firstName": "Nia", "userProfile.lastName": "Okafor"}


@pytest.fixture
def env(okta: OktaTwin) -> dict[str, str]:
    okta.add_api_token(API_TOKEN)
    return {"BFF_OKTA_API_TOKEN": API_TOKEN, "BFF_OKTA_HOOK_SECRET": HOOK_SECRET, "BFF_SIGNUP_ORG": "none"}


async def begin_signup(client: httpx.AsyncClient) -> dict[str, Any]:
    first = (await start(client)).json()
    assert first["step"] == "identify" and "select-enroll-profile" in first["alternatives"]
    step = (await submit(client, "select-enroll-profile", {})).json()
    assert step["step"] == "enroll-profile"
    assert [f["name"] for f in step["fields"]] == ["userProfile.email", "userProfile.firstName",
                                                   "userProfile.lastName"]
    return step


async def register(client: httpx.AsyncClient, okta: OktaTwin) -> dict[str, Any]:
    await begin_signup(client)
    step = (await submit(client, "enroll-profile", PROFILE)).json()
    assert step["step"] == "enroll-authenticator" and step["authenticator"]["key"] == "okta_email"
    code = email_code(okta, EMAIL)
    step = (await submit(client, "enroll-authenticator", {"credentials.passcode": code})).json()
    assert step["step"] == "enroll-authenticator" and step["authenticator"]["key"] == "okta_password"
    return (await submit(client, "enroll-authenticator", {"credentials.passcode": PASSWORD})).json()


async def test_bff_rules_come_before_okta(client: httpx.AsyncClient, okta: OktaTwin) -> None:
    await begin_signup(client)
    r = await submit(client, "enroll-profile", {"userProfile.email": "not an address",
                                                "userProfile.firstName": "<script>",
                                                "userProfile.lastName": "Okafor"})
    assert r.status_code == 422 and r.headers["content-type"] == "application/problem+json"
    assert sorted((e["field"], e["code"]) for e in r.json()["errors"]) == [
        ("userProfile.email", "error.email.invalid"), ("userProfile.firstName", "error.firstName.invalid")]
    assert okta.counters["idx:enroll/new"] == 0  # nothing reached Okta
    assert okta.directory.user("not an address") is None
    # normalised before it is sent: upper case and blanks do not reach Okta
    ok = await submit(client, "enroll-profile", {**PROFILE, "userProfile.email": "  NIA@Example.TEST "})
    assert ok.status_code == 200
    user = okta.directory.user(EMAIL)
    assert user is not None and user.profile["email"] == EMAIL


async def test_taken_email_is_okta_s_message(client: httpx.AsyncClient, okta: OktaTwin) -> None:
    await begin_signup(client)
    r = await submit(client, "enroll-profile", {**PROFILE, "userProfile.email": "alice@acme.test"})
    assert r.status_code == 200
    step = r.json()
    assert step["step"] == "enroll-profile"
    assert {"key": "registration.error.notUniqueWithinOrg", "class": "ERROR", "field": "userProfile.email",
            "params": ["Email"]} in step["messages"]


async def test_unverified_address_is_never_active_and_announces_nothing(
        client: httpx.AsyncClient, okta: OktaTwin, app: Starlette) -> None:
    await begin_signup(client)
    await submit(client, "enroll-profile", PROFILE)
    user = okta.directory.user(EMAIL)
    assert user is not None and user.status == "STAGED"
    wrong = (await submit(client, "enroll-authenticator", {"credentials.passcode": "000000"})).json()
    assert wrong["step"] == "enroll-authenticator"
    assert user.status == "STAGED"
    outbox = app.state.services.signup.outbox
    assert await outbox.get(event_id_for(user.id)) is None
    assert (await outbox.counts())["pending"] == 0


async def test_registration_signs_in_and_announces_the_account_once(
        client: httpx.AsyncClient, okta: OktaTwin, app: Starlette) -> None:
    done = await register(client, okta)
    assert done["step"] == "success" and done["location"] == "/home"
    user = okta.directory.user(EMAIL)
    assert user is not None and user.status == "ACTIVE"
    me = await client.get("/bff/user")
    assert me.status_code == 200 and EMAIL in me.text
    outbox = app.state.services.signup.outbox
    entry = await outbox.get(event_id_for(user.id))
    assert entry is not None and entry.kind == "AccountCreated" and entry.needs_enrichment
    assert entry.payload["userId"] == user.id and entry.payload["source"] == "bff-signup"
    # Okta's event hook reports the same account: nothing more enters the pipeline
    activate = next(e for e in okta.hooks.events if e["eventType"] == "user.lifecycle.activate")
    create = next(e for e in okta.hooks.events if e["eventType"] == "user.lifecycle.create")
    delivery = {"data": {"events": [activate, create]}}
    for _ in range(2):  # and a redelivery
        r = await client.post("/bff/hooks/okta", json=delivery, headers={"Authorization": HOOK_SECRET})
        assert r.status_code == 200 and r.json() == {"received": 2, "accepted": 0, "duplicates": 1}
    assert sum((await outbox.counts()).values()) == 1


async def profile_updates(app: Starlette) -> list[dict[str, Any]]:
    """The ``ProfileUpdated`` payloads in the outbox (no topic here: they stay pending)."""
    entries = await app.state.services.signup.outbox.claim_due(now=time.time() + 3600, limit=100, lease=1)
    return [e.payload for e in entries if e.kind == "ProfileUpdated"]


async def test_progressive_profile_at_the_second_sign_in(client: httpx.AsyncClient, okta: OktaTwin,
                                                         app: Starlette) -> None:
    await register(client, okta)
    await client.post("/bff/logout", headers={"X-CSRF": "1"})
    await start(client)
    await submit(client, "identify", {"identifier": EMAIL})
    step = (await submit(client, "challenge-authenticator", {"credentials.passcode": PASSWORD})).json()
    assert step["step"] == "profile-update" and "skip" in step["alternatives"]
    assert [f["name"] for f in step["fields"]] == ["userProfile.company", "userProfile.title",
                                                   "userProfile.mobilePhone", "userProfile.countryCode"]
    bad = await submit(client, "profile-update", {"userProfile.mobilePhone": "call me",
                                                  "userProfile.countryCode": "XX"})
    assert bad.status_code == 422
    assert sorted(e["code"] for e in bad.json()["errors"]) == ["error.countryCode.invalid",
                                                               "error.mobilePhone.invalid"]
    done = (await submit(client, "profile-update", {"userProfile.company": "  Okafor   Ltd ",
                                                    "userProfile.countryCode": "gb",
                                                    "userProfile.title": ""})).json()
    assert done["step"] == "success"
    user = okta.directory.user(EMAIL)
    assert user is not None
    assert user.profile["company"] == "Okafor Ltd" and user.profile["countryCode"] == "GB"  # normalised
    assert not user.profile.get("title")
    # announced for the Marketo lead: the attributes answered, never their values
    (update,) = await profile_updates(app)
    assert update["userId"] == user.id and update["attributes"] == ["company", "countryCode"]
    assert update["source"] == "bff-signin" and "Okafor" not in str(update)


async def test_a_skipped_profile_step_announces_nothing(client: httpx.AsyncClient, okta: OktaTwin,
                                                        app: Starlette) -> None:
    await register(client, okta)
    await client.post("/bff/logout", headers={"X-CSRF": "1"})
    await start(client)
    await submit(client, "identify", {"identifier": EMAIL})
    step = (await submit(client, "challenge-authenticator", {"credentials.passcode": PASSWORD})).json()
    assert step["step"] == "profile-update"
    assert (await submit(client, "skip", {})).json()["step"] == "success"
    assert await profile_updates(app) == []
