"""The LogEvents the twin's Identity Engine raises on a user's own account, as Okta does: the
lockout (``user.account.lock``, once), a password renewed or reset
(``user.account.update_password``), an authenticator enrolled (``user.mfa.factor.activate``).
The user is both the actor and the target; the BFF turns them into its account notices."""

from __future__ import annotations

from typing import Any

import httpx
import pyotp
import pytest

from bff.okta.events import parse_delivery
from bff.signin.steps import to_step
from bff.signup.hooks import notice_subjects
from bff_dev.twins.okta import OktaTwin
from tests.integration.twins.okta.flows import CLIENT_ID
from tests.integration.twins.okta.test_idx_contract import Idx
from tests.support.okta import PASSWORD


@pytest.fixture
async def idx(okta: OktaTwin, http: httpx.AsyncClient) -> Idx:
    okta.clients[CLIENT_ID].grant_types = ("authorization_code", "refresh_token", "interaction_code")
    return Idx(okta, http)


def events_about(okta: OktaTwin, login: str) -> list[dict[str, Any]]:
    return [e for e in okta.hooks.events if e["target"][0]["alternateId"] == login]


def read_by_the_bff(okta: OktaTwin, login: str) -> list[tuple[str, str]]:
    events, _ = parse_delivery({"data": {"events": events_about(okta, login)}})
    return [(s.event_type, s.login) for s in notice_subjects(events)]


async def test_the_lockout_is_logged_once(idx: Idx, okta: OktaTwin) -> None:
    await idx.begin()
    await idx.submit("identify", {"identifier": "hana@acme.test"})
    for _ in range(okta.idx.lockout_attempts + 2):  # past the lockout: no second lock event
        await idx.submit("challenge-authenticator", {"credentials.passcode": "wrong"})
    (lock,) = events_about(okta, "hana@acme.test")
    hana = okta.directory.user("hana@acme.test")
    assert lock["eventType"] == "user.account.lock" and lock["outcome"]["result"] == "SUCCESS"
    assert lock["actor"]["id"] == lock["target"][0]["id"] == hana.id and lock["actor"]["type"] == "User"
    assert read_by_the_bff(okta, "hana@acme.test") == [("user.account.lock", "hana@acme.test")]


async def test_a_password_reset_is_logged(idx: Idx, okta: OktaTwin) -> None:
    await idx.begin()
    await idx.submit("identify", {"identifier": "bob@acme.test"})
    await idx.submit("recover", {})
    await idx.submit("challenge-authenticator", {"credentials.passcode": okta.idx.outbox[-1]["code"]})
    assert events_about(okta, "bob@acme.test") == []  # nothing changed yet
    await idx.submit("reset-authenticator", {"credentials.passcode": "N3w-Secret-Phrase"})
    assert read_by_the_bff(okta, "bob@acme.test") == [("user.account.update_password", "bob@acme.test")]


async def test_an_expired_password_renewed_is_logged(idx: Idx, okta: OktaTwin) -> None:
    await idx.begin()
    await idx.submit("identify", {"identifier": "frank@acme.test"})
    await idx.submit("challenge-authenticator", {"credentials.passcode": PASSWORD})
    await idx.submit("reenroll-authenticator", {"credentials.passcode": "Tr0ub4dor-Horse"})
    assert read_by_the_bff(okta, "frank@acme.test") == [("user.account.update_password", "frank@acme.test")]


async def test_an_authenticator_enrolled_is_logged(idx: Idx, okta: OktaTwin) -> None:
    await idx.begin()
    await idx.submit("identify", {"identifier": "erin@acme.test"})
    await idx.submit("challenge-authenticator", {"credentials.passcode": PASSWORD})
    assert idx.state is not None
    totp = next(c for c in to_step(idx.state)["choices"] if c["key"] == "google_otp")
    await idx.submit("select-authenticator-enroll", {"authenticator.id": totp["id"]})
    assert idx.state is not None
    secret = to_step(idx.state)["authenticator"]["enrollment"]["sharedSecret"]
    await idx.submit("enroll-authenticator", {"credentials.passcode": pyotp.TOTP(secret).at(okta.now())})
    (event,) = events_about(okta, "erin@acme.test")
    assert event["eventType"] == "user.mfa.factor.activate"
    assert "Google Authenticator" in event["displayMessage"]
    assert read_by_the_bff(okta, "erin@acme.test") == [("user.mfa.factor.activate", "erin@acme.test")]
