"""The twin's profile enrollment policy against real Okta: the registration and progressive
profiling states, read by the BFF's one parser and step translator, have the structure of the
real responses (``enroll-profile-new.json``, ``enroll-profile-with-password.json``,
``error-new-signup-email-exists.json``, ``terminal-registration.json``,
``enroll-profile-update-params.json``, ``authenticator-enroll-email.json``,
``authenticator-enroll-password.json``), and the policy holds: an unverified address is never
ACTIVE, the LogEvents come in order."""

from __future__ import annotations

import httpx
import pytest

from bff.signin.idx import parse_state
from bff.signin.steps import to_step
from bff_dev.twins.okta import OktaTwin
from tests.integration.twins.okta.flows import CLIENT_ID
from tests.integration.twins.okta.test_idx_contract import Idx, same_structure, structure
from tests.support.okta import PASSWORD as SEEDED_PASSWORD
from tests.unit.signin.samples import load

NEW = {"userProfile.email": "nia@example.test", "userProfile.firstName": "Nia",
       "userProfile.lastName": "Okafor"}
PASSWORD = "Correct-Horse-9"


@pytest.fixture
async def idx(okta: OktaTwin, http: httpx.AsyncClient) -> Idx:
    okta.clients[CLIENT_ID].grant_types = ("authorization_code", "refresh_token", "interaction_code")
    return Idx(okta, http)


def same_new_profile_form(twin: Idx) -> None:
    """``enroll-profile-new.json`` lacks the ``cancel`` form every other state has (Okta's own
    registration mocks with errors carry it): everything else is compared as usual."""
    assert twin.state is not None and twin.status == 200
    doc = load("enroll-profile-new.json")
    ours, theirs = structure(twin.state, twin.doc), structure(parse_state(doc), doc)
    for key in ("step", "fields", "authenticator", "messages", "relatesTo"):
        assert ours[key] == theirs[key], key
    assert to_step(twin.state)["alternatives"] == ["select-identify", "cancel"]
    assert to_step(parse_state(doc))["alternatives"] == ["select-identify"]


def last_code(okta: OktaTwin, to: str) -> str:
    return next(m["code"] for m in reversed(okta.idx.outbox) if m["to"] == to)


async def test_identify_offers_registration(idx: Idx, okta: OktaTwin) -> None:
    okta.idx.self_service_unlock = False
    await idx.begin()
    same_structure(idx, "identify.json")
    assert idx.state is not None and [f.name for f in idx.state.remediations] == ["identify",
                                                                                 "select-enroll-profile"]


async def test_registration_email_then_password(idx: Idx, okta: OktaTwin) -> None:
    okta.idx_registration.attributes = ("lastName", "firstName", "email")  # this mock's policy order
    await idx.begin()
    await idx.submit("select-enroll-profile", {})
    same_new_profile_form(idx)
    await idx.submit("enroll-profile", NEW)
    same_structure(idx, "authenticator-enroll-email.json")
    user = okta.directory.user("nia@example.test")
    assert user is not None and user.status == "STAGED"  # not verified: never ACTIVE
    assert [e["eventType"] for e in okta.hooks.events] == ["user.lifecycle.create"]
    mail = okta.idx.outbox[-1]
    assert mail["to"] == "nia@example.test" and "otp=" in mail["link"] and mail["code"] in mail["link"]

    await idx.submit("enroll-authenticator", {"credentials.passcode": "000000"})
    assert idx.status == 401 and user.status == "STAGED"
    await idx.submit("enroll-authenticator", {"credentials.passcode": last_code(okta, "nia@example.test")})
    same_structure(idx, "authenticator-enroll-password.json")
    assert user.status == "STAGED"  # the password is not set yet

    await idx.submit("enroll-authenticator", {"credentials.passcode": "short"})
    assert idx.status == 400
    step = to_step(idx.state)  # type: ignore[arg-type]
    assert [m["key"] for m in step["messages"]] == ["password.passwordRequirementsNotMet"]
    await idx.submit("enroll-authenticator", {"credentials.passcode": PASSWORD})
    assert idx.state is not None and idx.state.interaction_code is not None
    assert user.status == "ACTIVE"
    assert [e["eventType"] for e in okta.hooks.events] == ["user.lifecycle.create", "user.lifecycle.activate"]


async def test_registration_with_password_in_the_profile(idx: Idx, okta: OktaTwin) -> None:
    okta.idx_registration.password_with_profile = True
    await idx.begin()
    await idx.submit("select-enroll-profile", {})
    same_structure(idx, "enroll-profile-with-password.json")
    await idx.submit("enroll-profile", {**NEW, "credentials.passcode": PASSWORD})
    same_structure(idx, "authenticator-enroll-email.json")
    user = okta.directory.user("nia@example.test")
    assert user is not None and user.status == "STAGED"
    await idx.submit("enroll-authenticator", {"credentials.passcode": last_code(okta, "nia@example.test")})
    assert idx.state is not None and idx.state.interaction_code is not None and user.status == "ACTIVE"


async def test_taken_email(idx: Idx, okta: OktaTwin) -> None:
    okta.idx_registration.attributes = ("lastName", "firstName", "email")  # this mock's policy order
    await idx.begin()
    await idx.submit("select-enroll-profile", {})
    await idx.submit("enroll-profile", {**NEW, "userProfile.email": "alice@acme.test"})
    same_structure(idx, "error-new-signup-email-exists.json", status=400)
    assert not any(e["eventType"] == "user.lifecycle.create" for e in okta.hooks.events)


async def test_terminal_registration_and_its_link(idx: Idx, okta: OktaTwin, http: httpx.AsyncClient) -> None:
    okta.idx_registration.verification = "terminal"
    okta.idx_registration.password_with_profile = True
    await idx.begin()
    await idx.submit("select-enroll-profile", {})
    await idx.submit("enroll-profile", {**NEW, "credentials.passcode": PASSWORD})
    same_structure(idx, "terminal-registration.json")
    user = okta.directory.user("nia@example.test")
    assert user is not None and user.status == "STAGED"
    link = okta.idx.outbox[-1]["link"]
    assert (await http.get(link)).status_code == 200
    assert user.status == "ACTIVE"
    assert (await http.get(link)).status_code == 404  # single use


async def register(idx: Idx, okta: OktaTwin) -> None:
    await idx.begin()
    await idx.submit("select-enroll-profile", {})
    await idx.submit("enroll-profile", NEW)
    await idx.submit("enroll-authenticator", {"credentials.passcode": last_code(okta, "nia@example.test")})
    await idx.submit("enroll-authenticator", {"credentials.passcode": PASSWORD})
    assert idx.state is not None and idx.state.interaction_code is not None


async def sign_in(idx: Idx) -> None:
    await idx.begin()
    await idx.submit("identify", {"identifier": "nia@example.test"})
    await idx.submit("challenge-authenticator", {"credentials.passcode": PASSWORD})


async def test_progressive_profile_at_the_next_sign_in(idx: Idx, okta: OktaTwin) -> None:
    await register(idx, okta)  # the registration itself asks nothing more
    await sign_in(idx)
    assert idx.state is not None and idx.state.remediations[0].name == "profile-update"
    step = to_step(idx.state)
    assert [f["name"] for f in step["fields"]] == ["userProfile.company", "userProfile.title",
                                                   "userProfile.mobilePhone", "userProfile.countryCode"]
    assert all(f["required"] is False for f in step["fields"]) and "skip" in step["alternatives"]
    real = to_step(parse_state(load("enroll-profile-update-params.json")))
    assert real["step"] == step["step"] and "skip" in real["alternatives"]
    await idx.submit("profile-update", {"userProfile.company": "Okafor Ltd", "userProfile.title": "CTO"})
    assert idx.state is not None and idx.state.interaction_code is not None
    user = okta.directory.user("nia@example.test")
    assert user is not None and user.profile["company"] == "Okafor Ltd" and user.profile["title"] == "CTO"
    assert okta.hooks.events[-1]["eventType"] == "user.account.update_profile"

    await sign_in(idx)  # still missing phone and country: asked again, skipped this time
    assert idx.state is not None and [f["name"] for f in to_step(idx.state)["fields"]] == [
        "userProfile.mobilePhone", "userProfile.countryCode"]
    await idx.submit("skip", {})
    assert idx.state is not None and idx.state.interaction_code is not None


async def test_progressive_profile_refuses_other_attributes(idx: Idx, okta: OktaTwin) -> None:
    await register(idx, okta)
    await sign_in(idx)
    assert idx.state is not None
    r = await idx.http.post(f"{okta.base_url}/idp/idx/enroll/update", json={
        "stateHandle": idx.state.state_handle, "userProfile": {"orgId": "acme"}})
    assert r.status_code == 400
    user = okta.directory.user("nia@example.test")
    assert user is not None and "orgId" not in user.profile


async def test_seeded_users_are_not_asked(idx: Idx) -> None:
    # The policy applies to self-registered users: the seeded journeys are unchanged.
    await idx.begin()
    await idx.submit("identify", {"identifier": "bob@acme.test"})
    await idx.submit("challenge-authenticator", {"credentials.passcode": SEEDED_PASSWORD})
    assert idx.state is not None and idx.state.interaction_code is not None
