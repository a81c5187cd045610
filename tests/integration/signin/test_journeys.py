"""Each seeded journey through the BFF's public sign-in API against the Okta twin's IDX."""

from __future__ import annotations

import httpx
import pyotp

from bff_dev.twins.okta import OktaTwin
from tests.integration.signin.conftest import email_code, start, submit
from tests.support.okta import PASSWORD


def _message_keys(step: dict) -> list[str | None]:
    return [m["key"] for m in step["messages"]]


async def test_password_identifier_first_bob(client: httpx.AsyncClient, okta: OktaTwin) -> None:
    r = await start(client)
    assert r.status_code == 200, r.text
    step = r.json()
    assert step["step"] == "identify"
    assert [f["name"] for f in step["fields"]] == ["identifier", "rememberMe"]

    r = await submit(client, "identify", {"identifier": "bob@acme.test"})
    step = r.json()
    assert step["step"] == "challenge-authenticator"
    assert step["authenticator"]["key"] == "okta_password"
    assert step["fields"] == [{"name": "credentials.passcode", "type": "string", "required": False,
                               "secret": True}]

    r = await submit(client, "challenge-authenticator", {"credentials.passcode": PASSWORD})
    assert r.status_code == 200, r.text
    assert r.json()["step"] == "success"
    assert r.json()["location"] == "/home"
    assert "__Host-bff=" in r.headers.get("set-cookie", "")
    user = await client.get("/bff/user")
    assert user.status_code == 200
    assert user.json()["email"] == "bob@acme.test"
    assert okta.counters["token:interaction_code"] == 1


async def test_wrong_password_shows_the_step_again_with_incorrect_password(client: httpx.AsyncClient) -> None:
    await start(client, identifier="bob@acme.test")
    r = await submit(client, "challenge-authenticator", {"credentials.passcode": "wrong"})
    assert r.status_code == 200
    step = r.json()
    assert step["step"] == "challenge-authenticator"
    assert "incorrectPassword" in _message_keys(step)
    r = await submit(client, "challenge-authenticator", {"credentials.passcode": PASSWORD})
    assert r.json()["step"] == "success"


async def test_email_passcode_dave_with_resend(client: httpx.AsyncClient, okta: OktaTwin) -> None:
    r = await start(client, identifier="dave@acme.test")
    step = r.json()
    assert step["step"] == "challenge-authenticator"
    assert step["authenticator"]["key"] == "okta_email"
    assert step["authenticator"]["resend"] is True
    assert step["authenticator"]["profile"]["email"] != "dave@acme.test"  # masked as Okta does
    first = email_code(okta, "dave@acme.test")
    r = await submit(client, "resend", {})
    assert r.json()["step"] == "challenge-authenticator"
    second = email_code(okta, "dave@acme.test")
    assert len(okta.idx.outbox) == 2
    if first != second:
        r = await submit(client, "challenge-authenticator", {"credentials.passcode": first})
        assert "api.authn.error.PASSCODE_INVALID" in _message_keys(r.json())
    r = await submit(client, "challenge-authenticator", {"credentials.passcode": second})
    assert r.json()["step"] == "success"
    assert (await client.get("/bff/user")).json()["email"] == "dave@acme.test"


async def test_totp_alice(client: httpx.AsyncClient, okta: OktaTwin) -> None:
    await start(client, identifier="alice@acme.test")
    r = await submit(client, "challenge-authenticator", {"credentials.passcode": PASSWORD})
    step = r.json()
    assert step["step"] == "challenge-authenticator"
    assert step["authenticator"]["key"] == "google_otp"
    r = await submit(client, "challenge-authenticator", {"credentials.passcode": "000000"})
    assert "api.authn.error.PASSCODE_INVALID" in _message_keys(r.json())
    secret = okta.idx.totp_secret("alice@acme.test")
    assert secret is not None
    r = await submit(client, "challenge-authenticator",
                     {"credentials.passcode": pyotp.TOTP(secret).at(okta.now())})
    assert r.json()["step"] == "success", r.text


async def test_admin_step_up_requires_a_second_factor(client: httpx.AsyncClient, okta: OktaTwin) -> None:
    r = await start(client, identifier="gina@acme.test", scope="admin")
    assert r.status_code == 200, r.text
    r = await submit(client, "challenge-authenticator", {"credentials.passcode": PASSWORD})
    step = r.json()
    assert step["step"] == "challenge-authenticator"  # not success: the admin scope needs 2 factors
    assert step["authenticator"]["key"] == "okta_email"
    r = await submit(client, "challenge-authenticator",
                     {"credentials.passcode": email_code(okta, "gina@acme.test")})
    assert r.json()["step"] == "success"
    assert "admin" in (await client.get("/bff/user")).json()["scopes"]


async def test_without_step_up_gina_needs_only_her_password(client: httpx.AsyncClient) -> None:
    await start(client, identifier="gina@acme.test")
    r = await submit(client, "challenge-authenticator", {"credentials.passcode": PASSWORD})
    assert r.json()["step"] == "success"


async def test_step_up_denied_by_policy_is_terminal(client: httpx.AsyncClient, okta: OktaTwin) -> None:
    await start(client, identifier="bob@acme.test", scope="admin")  # bob is not a customer admin
    r = await submit(client, "challenge-authenticator", {"credentials.passcode": PASSWORD})
    step = r.json()
    assert step["step"] == "select-authenticator-enroll"  # two factors for the admin scope
    assert "skip" not in step["alternatives"]  # no grace period for a step-up
    r = await submit(client, "select-authenticator-enroll", {"authenticator.id": step["choices"][0]["id"]})
    secret = r.json()["authenticator"]["enrollment"]["sharedSecret"]
    r = await submit(client, "enroll-authenticator",
                     {"credentials.passcode": pyotp.TOTP(secret).at(okta.now())})
    step = r.json()
    assert step["step"] == "terminal"
    assert _message_keys(step) == ["security.access_denied"]
    assert (await client.get("/bff/user")).status_code == 401


async def test_select_another_authenticator(client: httpx.AsyncClient, okta: OktaTwin) -> None:
    r = await start(client, identifier="gina@acme.test")
    step = r.json()
    assert step["authenticator"]["key"] == "okta_password"
    assert "select-authenticator-authenticate" in step["alternatives"]
    r = await submit(client, "select-authenticator-authenticate",
                     {"authenticator.id": "autemail000000000001", "authenticator.methodType": "email"})
    step = r.json()
    assert step["step"] == "challenge-authenticator", r.text
    assert step["authenticator"]["key"] == "okta_email"
    r = await submit(client, "challenge-authenticator",
                     {"credentials.passcode": email_code(okta, "gina@acme.test")})
    assert r.json()["step"] == "success"


async def test_totp_enrollment_erin_and_skip(client: httpx.AsyncClient, okta: OktaTwin) -> None:
    await start(client, identifier="erin@acme.test")
    r = await submit(client, "challenge-authenticator", {"credentials.passcode": PASSWORD})
    step = r.json()
    assert step["step"] == "select-authenticator-enroll"
    assert "skip" in step["alternatives"]
    choice = step["choices"][0]
    assert choice["key"] == "google_otp"
    r = await submit(client, "select-authenticator-enroll", {"authenticator.id": choice["id"]})
    step = r.json()
    assert step["step"] == "enroll-authenticator"
    enrollment = step["authenticator"]["enrollment"]
    assert enrollment["type"] == "totp"
    assert enrollment["otpauthUri"].startswith("otpauth://totp/")
    code = pyotp.TOTP(enrollment["sharedSecret"]).at(okta.now())
    r = await submit(client, "enroll-authenticator", {"credentials.passcode": code})
    assert r.json()["step"] == "success", r.text


async def test_enrollment_can_be_skipped_in_the_grace_period(client: httpx.AsyncClient) -> None:
    await start(client, identifier="erin@acme.test")
    await submit(client, "challenge-authenticator", {"credentials.passcode": PASSWORD})
    r = await submit(client, "skip", {})
    assert r.json()["step"] == "success"


async def test_suspended_ivan_gets_a_terminal_message_and_no_session(client: httpx.AsyncClient) -> None:
    r = await start(client, identifier="ivan@acme.test")
    assert r.json()["step"] == "challenge-authenticator"  # nothing revealed before the password
    r = await submit(client, "challenge-authenticator", {"credentials.passcode": PASSWORD})
    step = r.json()
    assert step["step"] == "terminal"
    assert _message_keys(step) == ["errors.E0000004"]
    assert (await client.get("/bff/user")).status_code == 401
    assert (await client.get("/bff/signin")).status_code == 404  # the transaction ended


async def test_unknown_and_known_identifiers_look_the_same(client: httpx.AsyncClient) -> None:
    known = (await start(client, identifier="bob@acme.test"))
    unknown = (await start(client, identifier="nobody@acme.test"))
    assert known.status_code == unknown.status_code == 200

    def shape(step: dict) -> tuple:
        return (step["step"], step["fields"], step["alternatives"], step.get("authenticator", {}).get("key"))

    assert shape(known.json()) == shape(unknown.json())
    wrong = await submit(client, "challenge-authenticator", {"credentials.passcode": "nope"})
    assert wrong.status_code == 200
    assert "incorrectPassword" in _message_keys(wrong.json())


async def test_expired_password_frank_chooses_a_new_one_under_the_policy(client: httpx.AsyncClient,
                                                                         okta: OktaTwin) -> None:
    await start(client, identifier="frank@acme.test")
    r = await submit(client, "challenge-authenticator", {"credentials.passcode": PASSWORD})
    step = r.json()
    assert step["step"] == "reenroll-authenticator"
    assert step["fields"] == [{"name": "credentials.passcode", "type": "string", "required": False,
                               "secret": True}]
    complexity = step["authenticator"]["settings"]["complexity"]
    assert complexity["minLength"] == 8 and complexity["excludeUsername"] is True
    for weak in ("short1A", "frankFrank123", PASSWORD):  # too short, holds the username, the old one
        r = await submit(client, "reenroll-authenticator", {"credentials.passcode": weak})
        assert r.json()["step"] == "reenroll-authenticator"
        assert _message_keys(r.json()) == ["password.passwordRequirementsNotMet"]
    r = await submit(client, "reenroll-authenticator", {"credentials.passcode": "Tr0ub4dor-Horse"})
    assert r.json()["step"] == "success", r.text
    assert okta.directory.authenticate("frank@acme.test", "Tr0ub4dor-Horse") is not None


async def test_forgotten_password_recovery_by_email_code(client: httpx.AsyncClient, okta: OktaTwin) -> None:
    step = (await start(client, identifier="bob@acme.test")).json()
    assert "recover" in step["alternatives"]
    step = (await submit(client, "recover", {})).json()
    assert step["step"] == "challenge-authenticator"
    assert step["authenticator"]["key"] == "okta_email" and step["authenticator"]["resend"] is True
    step = (await submit(client, "challenge-authenticator",
                         {"credentials.passcode": email_code(okta, "bob@acme.test")})).json()
    assert step["step"] == "reset-authenticator"
    assert [f["name"] for f in step["fields"]] == ["credentials.passcode", "credentials.revokeSessions"]
    assert "complexity" in step["authenticator"]["settings"]
    weak = (await submit(client, "reset-authenticator", {"credentials.passcode": "weak"})).json()
    assert _message_keys(weak) == ["password.passwordRequirementsNotMet"]
    done = await submit(client, "reset-authenticator", {"credentials.passcode": "N3w-Secret-Phrase",
                                                        "credentials.revokeSessions": False})
    assert done.json()["step"] == "success", done.text
    assert okta.directory.authenticate("bob@acme.test", "N3w-Secret-Phrase") is not None
    assert okta.directory.authenticate("bob@acme.test", PASSWORD) is None


async def test_locked_out_hana_unlocks_by_email_then_signs_in(client: httpx.AsyncClient,
                                                             okta: OktaTwin) -> None:
    await start(client, identifier="hana@acme.test")
    for _ in range(okta.idx.lockout_attempts):
        r = await submit(client, "challenge-authenticator", {"credentials.passcode": "wrong"})
        assert "incorrectPassword" in _message_keys(r.json())
    r = await submit(client, "challenge-authenticator", {"credentials.passcode": PASSWORD})
    assert _message_keys(r.json()) == ["authfactor.challenge.suspended_factor"]  # even the right one
    await submit(client, "cancel", {})

    step = (await start(client)).json()
    assert "unlock-account" in step["alternatives"]
    step = (await submit(client, "unlock-account", {})).json()
    assert step["step"] == "select-authenticator-unlock-account"
    assert {f["name"] for f in step["fields"]} >= {"identifier", "authenticator.id"}
    email = next(c for c in step["choices"] if c["key"] == "okta_email")
    step = (await submit(client, "select-authenticator-unlock-account",
                         {"identifier": "hana@acme.test", "authenticator.id": email["id"]})).json()
    assert step["step"] == "challenge-authenticator" and step["authenticator"]["key"] == "okta_email"
    step = (await submit(client, "challenge-authenticator",
                         {"credentials.passcode": email_code(okta, "hana@acme.test")})).json()
    assert step["step"] == "terminal"
    assert step["messages"] == [{"key": "oie.selfservice.unlock_user.success.message", "class": "INFO"}]

    await start(client, identifier="hana@acme.test")
    r = await submit(client, "challenge-authenticator", {"credentials.passcode": PASSWORD})
    assert r.json()["step"] == "success"
