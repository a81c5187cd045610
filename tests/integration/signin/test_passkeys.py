"""Passkeys through the BFF's sign-in API against the Okta twin, with a software authenticator
(tests/support/webauthn.py: real P-256 keys, packed attestations, ES256 assertions; the twin
verifies them with py_webauthn). pia enrols a passkey after her password, signs out, and signs
in with the passkey alone; a wrong origin, a replayed answer and a bad signature are refused
with Okta's messages; malformed credential fields never reach Okta; nothing is logged."""

from __future__ import annotations

import logging
from typing import Any

import httpx
import pytest

from bff.settings import Settings
from bff_dev.twins.okta import OktaTwin
from bff_dev.twins.okta.idx import Factor
from tests.integration.signin.conftest import CSRF, start, submit
from tests.support.okta import PASSWORD
from tests.support.webauthn import CeremonyRefused, SoftAuthenticator, b64url, unb64url

ORIGIN = "https://app.example.test"  # BFF_PUBLIC_URL: the app's origin, the twin's RP id is its host
PIA = "pia@acme.test"
WEBAUTHN_ERROR = "authfactor.webauthn.error."


@pytest.fixture
def env() -> dict[str, str]:
    return {"BFF_SIGNIN_WEBAUTHN": "on"}


def _keys(step: dict[str, Any]) -> list[str | None]:
    return [m["key"] for m in step["messages"]]


def _fields(values: dict[str, str]) -> dict[str, str]:
    return {f"credentials.{k}": v for k, v in values.items()}


async def enrol(client: httpx.AsyncClient, key: SoftAuthenticator) -> dict[str, Any]:
    """pia's first sign-in: password, then the offered passkey. Returns the success step."""
    r = await start(client, identifier=PIA)
    assert r.json()["authenticator"]["key"] == "okta_password"
    r = await submit(client, "challenge-authenticator", {"credentials.passcode": PASSWORD})
    offer = r.json()
    assert offer["step"] == "select-authenticator-enroll", offer
    assert [c["key"] for c in offer["choices"]] == ["webauthn"]
    assert "skip" in offer["alternatives"]  # offered, not demanded
    r = await submit(client, "select-authenticator-enroll", {"authenticator.id": offer["choices"][0]["id"]})
    step = r.json()
    assert step["step"] == "enroll-authenticator"
    assert [f["name"] for f in step["fields"]] == [
        "credentials.clientData", "credentials.attestation", "credentials.transports",
        "credentials.clientExtensions"]
    options = step["authenticator"]["enrollment"]["activationData"]
    assert options["rp"]["id"] == "app.example.test"
    r = await submit(client, "enroll-authenticator", _fields(key.create(options, ORIGIN)))
    assert r.status_code == 200, r.text
    return r.json()


async def passkey_step(client: httpx.AsyncClient) -> dict[str, Any]:
    r = await start(client, identifier=PIA)
    step = r.json()
    assert step["step"] == "challenge-authenticator", step
    assert step["authenticator"]["key"] == "webauthn"
    return step


async def sign_out(client: httpx.AsyncClient) -> None:
    r = await client.post("/bff/logout", headers=CSRF)
    assert r.status_code in (200, 303), r.text
    assert (await client.get("/bff/user")).status_code == 401


async def test_enrol_sign_out_and_sign_in_with_the_passkey_alone(client: httpx.AsyncClient,
                                                                okta: OktaTwin) -> None:
    key = SoftAuthenticator()
    done = await enrol(client, key)
    assert done["step"] == "success" and done["location"] == "/home"
    assert (await client.get("/bff/user")).json()["email"] == PIA
    assert okta.counters["idx:passkey_enrolled"] == 1
    await sign_out(client)

    step = await passkey_step(client)  # identify → the passkey: no password asked
    assert [f["name"] for f in step["fields"]] == [
        "credentials.clientData", "credentials.authenticatorData", "credentials.signatureData"]
    challenge = step["authenticator"]["challenge"]
    assert challenge["credentialIds"] == [b64url(key.credentials[0].id)]
    assert challenge["challengeData"]["rpId"] == "app.example.test"
    assert "select-authenticator-authenticate" in step["alternatives"]  # "verify with something else"
    r = await submit(client, "challenge-authenticator",
                     _fields(key.get(challenge["challengeData"], ORIGIN, challenge["credentialIds"])))
    assert r.json()["step"] == "success", r.text
    user = (await client.get("/bff/user")).json()
    assert user["email"] == PIA
    assert okta.counters["token:interaction_code"] == 2


async def test_a_wrong_origin_is_refused(client: httpx.AsyncClient, okta: OktaTwin) -> None:
    key = SoftAuthenticator()
    await enrol(client, key)
    await sign_out(client)
    step = await passkey_step(client)
    data = step["authenticator"]["challenge"]["challengeData"]
    # what a look-alike page would get signed: its own origin in the client data
    r = await submit(client, "challenge-authenticator",
                     _fields(key.get(data, ORIGIN, client_origin="https://app.example.test.evil.example")))
    step = r.json()
    assert step["step"] == "challenge-authenticator"
    assert _keys(step) == [WEBAUTHN_ERROR + "clientdata_origin_mismatch"]
    assert (await client.get("/bff/user")).status_code == 401


async def test_a_replayed_answer_is_refused(client: httpx.AsyncClient, okta: OktaTwin) -> None:
    key = SoftAuthenticator()
    await enrol(client, key)
    await sign_out(client)
    step = await passkey_step(client)
    captured = _fields(key.get(step["authenticator"]["challenge"]["challengeData"], ORIGIN))
    assert (await submit(client, "challenge-authenticator", captured)).json()["step"] == "success"
    await sign_out(client)

    step = await passkey_step(client)  # a new transaction, a new challenge: the old answer is stale
    r = await submit(client, "challenge-authenticator", captured)
    refused = r.json()
    assert _keys(refused) == [WEBAUTHN_ERROR + "clientdata_challenge_mismatch"]
    assert (await client.get("/bff/user")).status_code == 401
    fresh = refused["authenticator"]["challenge"]["challengeData"]
    assert fresh["challenge"] != step["authenticator"]["challenge"]["challengeData"]["challenge"]
    r = await submit(client, "challenge-authenticator", _fields(key.get(fresh, ORIGIN)))
    assert r.json()["step"] == "success"


async def test_an_answer_is_single_use_within_a_transaction(client: httpx.AsyncClient) -> None:
    key = SoftAuthenticator()
    await enrol(client, key)
    await sign_out(client)
    step = await passkey_step(client)
    answer = key.get(step["authenticator"]["challenge"]["challengeData"], ORIGIN)
    tampered = {**answer, "signatureData": b64url(unb64url(answer["signatureData"])[:-1] + b"\x00")}
    first = (await submit(client, "challenge-authenticator", _fields(tampered))).json()
    assert _keys(first) == [WEBAUTHN_ERROR + "assertion_validation_failure"]  # a bad signature
    # the untampered answer signed the first challenge, which the refused attempt consumed
    second = (await submit(client, "challenge-authenticator", _fields(answer))).json()
    assert _keys(second) == [WEBAUTHN_ERROR + "clientdata_challenge_mismatch"]
    assert (await client.get("/bff/user")).status_code == 401


async def test_a_bad_signature_is_refused(client: httpx.AsyncClient, okta: OktaTwin) -> None:
    key = SoftAuthenticator()
    await enrol(client, key)
    await sign_out(client)
    step = await passkey_step(client)
    other = SoftAuthenticator()  # another key signs pia's challenge for pia's RP
    other.create({"rp": {"id": "app.example.test"}, "user": {"id": b64url(b"x")},
                  "pubKeyCredParams": [{"alg": -7}], "challenge": b64url(b"c")}, ORIGIN)
    r = await submit(client, "challenge-authenticator",
                     _fields(other.get(step["authenticator"]["challenge"]["challengeData"], ORIGIN)))
    assert _keys(r.json()) == [WEBAUTHN_ERROR + "assertion_validation_failure"]
    assert (await client.get("/bff/user")).status_code == 401


async def test_a_refused_attestation_enrols_nothing(client: httpx.AsyncClient, okta: OktaTwin) -> None:
    await start(client, identifier=PIA)
    r = await submit(client, "challenge-authenticator", {"credentials.passcode": PASSWORD})
    choice = r.json()["choices"][0]["id"]
    r = await submit(client, "select-authenticator-enroll", {"authenticator.id": choice})
    options = r.json()["authenticator"]["enrollment"]["activationData"]
    with pytest.raises(CeremonyRefused):  # a browser on another site refuses the app's RP id
        SoftAuthenticator().create(options, "https://phish.example")
    made = SoftAuthenticator().create({**options, "challenge": b64url(b"not-the-challenge")}, ORIGIN)
    r = await submit(client, "enroll-authenticator", _fields(made))
    step = r.json()
    assert step["step"] == "enroll-authenticator"
    assert _keys(step) == [WEBAUTHN_ERROR + "clientdata_challenge_mismatch"]
    assert okta.counters["idx:passkey_enrolled"] == 0
    assert not okta.idx.passkeys.credentials


async def test_malformed_credentials_never_reach_okta(client: httpx.AsyncClient, okta: OktaTwin) -> None:
    key = SoftAuthenticator()
    await enrol(client, key)
    await sign_out(client)
    step = await passkey_step(client)
    answer = _fields(key.get(step["authenticator"]["challenge"]["challengeData"], ORIGIN))
    before = okta.counters["idx:challenge/answer"]
    for field, value in [("credentials.signatureData", "not base64url!"),
                         ("credentials.clientData", "A" * 5000), ("credentials.authenticatorData", 7)]:
        r = await submit(client, "challenge-authenticator", {**answer, field: value})
        assert r.status_code == 400 and r.headers["content-type"] == "application/problem+json"
        assert r.json()["code"] == "invalid_submission"
        assert [e["field"] for e in r.json()["errors"]] == [field]
        assert str(value) not in r.text
    oversized = await client.post("/bff/signin/challenge-authenticator",
                                  headers={**CSRF, "Content-Type": "application/json"},
                                  content=b'{"credentials.clientData": "' + b"A" * 40000 + b'"}')
    assert oversized.status_code == 413 and oversized.headers["content-type"] == "application/problem+json"
    assert okta.counters["idx:challenge/answer"] == before


async def test_no_credential_material_is_logged(client: httpx.AsyncClient,
                                                caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    key = SoftAuthenticator()
    await enrol(client, key)
    await sign_out(client)
    step = await passkey_step(client)
    answer = key.get(step["authenticator"]["challenge"]["challengeData"], ORIGIN)
    assert (await submit(client, "challenge-authenticator", _fields(answer))).json()["step"] == "success"
    logged = "\n".join(f"{r.getMessage()} {r.args!r} {r.__dict__}" for r in caplog.records)
    assert caplog.records  # the flow did log
    for value in answer.values():
        assert value not in logged


class TestOff:
    """``BFF_SIGNIN_WEBAUTHN=off`` (the default): the passkey step is never offered."""

    @pytest.fixture
    def env(self) -> dict[str, str]:
        return {}

    async def test_the_offer_leaves_only_skip(self, client: httpx.AsyncClient, settings: Settings) -> None:
        assert settings.signin.webauthn is False
        await start(client, identifier=PIA)
        r = await submit(client, "challenge-authenticator", {"credentials.passcode": PASSWORD})
        step = r.json()
        assert step["step"] == "unsupported" and step["unsupported"] == "webauthn"
        assert "skip" in step["alternatives"]
        r = await submit(client, "select-authenticator-enroll", {"authenticator.id": "autwebauthn000000001"})
        assert r.status_code == 400 and r.json()["code"] == "step_not_supported"
        assert (await submit(client, "skip", {})).json()["step"] == "success"

    async def test_a_passkey_user_is_asked_for_something_else(self, client: httpx.AsyncClient,
                                                               okta: OktaTwin) -> None:
        # pia enrolled a passkey elsewhere (straight through the twin's ceremony)
        key, passkeys = SoftAuthenticator(), okta.idx.passkeys
        user = okta.directory.user(PIA)
        assert user is not None
        passkeys.challenges["seed"] = b"seed-challenge-0123456789abcdef0"
        made = key.create({"rp": {"id": "app.example.test"}, "user": {"id": b64url(b"pia")},
                           "pubKeyCredParams": [{"alg": -7}],
                           "challenge": b64url(passkeys.challenges["seed"])}, ORIGIN)
        credential = passkeys.register(user, "fwfpia0enr", f"{ORIGIN}/bff/callback", "seed", made)
        okta.idx.factors_of(user).append(Factor("webauthn", credential.enrollment_id))

        r = await start(client, identifier=PIA)
        step = r.json()
        assert step["step"] == "select-authenticator-authenticate" and step["unsupported"] == "webauthn"
        assert "webauthn" not in [c["key"] for c in step["choices"]]
        password = next(c for c in step["choices"] if c["key"] == "okta_password")
        r = await submit(client, "select-authenticator-authenticate", {"authenticator.id": password["id"]})
        r = await submit(client, "challenge-authenticator", {"credentials.passcode": PASSWORD})
        assert r.json()["step"] == "success"
