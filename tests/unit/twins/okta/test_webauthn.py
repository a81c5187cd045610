"""The twin's passkeys without HTTP: py_webauthn verifies what the software authenticator makes,
and each refusal carries Okta's key."""

from __future__ import annotations

from typing import Any

import pytest

from bff_dev.twins.okta.directory import User
from bff_dev.twins.okta.webauthn import Passkeys, WebAuthnRefused
from tests.support.webauthn import CeremonyRefused, SoftAuthenticator

REDIRECT = "https://app.example.test/bff/callback"
ORIGIN = "https://app.example.test"
PIA = User(id="00upia00000000000001", status="ACTIVE", created=0.0, last_updated=0.0,
           profile={"login": "pia@acme.test", "firstName": "Pia", "lastName": "Petersen"})


def _creation(passkeys: Passkeys, handle: str) -> dict[str, Any]:
    doc = passkeys.enroll_state({}, PIA, REDIRECT, handle, lambda *a: {"name": a[0]}, {})
    return doc["currentAuthenticator"]["value"]["contextualData"]["activationData"]  # type: ignore[no-any-return]


def _request(passkeys: Passkeys, handle: str) -> dict[str, Any]:
    doc = passkeys.challenge_state({}, REDIRECT, handle, lambda *a: {"name": a[0]}, {}, [], {})
    return doc["currentAuthenticator"]["value"]["contextualData"]["challengeData"]  # type: ignore[no-any-return]


def _reason(exc: pytest.ExceptionInfo[WebAuthnRefused]) -> str:
    return str(exc.value.message["i18n"]["key"]).removeprefix("authfactor.webauthn.error.")


@pytest.fixture
def enrolled() -> tuple[Passkeys, SoftAuthenticator]:
    passkeys, key = Passkeys(), SoftAuthenticator()
    made = key.create(_creation(passkeys, "h1"), ORIGIN)
    passkeys.register(PIA, "fwfenr", REDIRECT, "h1", made)
    return passkeys, key


@pytest.mark.parametrize("attestation", ["packed", "none"])
def test_register_then_authenticate(attestation: str) -> None:
    passkeys, key = Passkeys(), SoftAuthenticator(attestation=attestation)
    options = _creation(passkeys, "h1")
    assert options["rp"]["id"] == "app.example.test"
    credential = passkeys.register(PIA, "fwfenr", REDIRECT, "h1", key.create(options, ORIGIN))
    assert credential.id == key.credentials[0].id and passkeys.has_passkey(PIA)
    assert passkeys.enrollment(PIA)["transports"] == ["internal", "hybrid"]
    used = passkeys.authenticate(PIA, REDIRECT, "h2", key.get(_request(passkeys, "h2"), ORIGIN))
    assert used.sign_count == 1
    assert "h1" not in passkeys.challenges and "h2" not in passkeys.challenges  # consumed


def test_a_cloned_authenticator_is_refused(enrolled: tuple[Passkeys, SoftAuthenticator]) -> None:
    passkeys, key = enrolled
    passkeys.authenticate(PIA, REDIRECT, "h2", key.get(_request(passkeys, "h2"), ORIGIN))
    key.credentials[0].sign_count = 0  # a copy of the key that has not seen the last use
    with pytest.raises(WebAuthnRefused) as exc:
        passkeys.authenticate(PIA, REDIRECT, "h3", key.get(_request(passkeys, "h3"), ORIGIN))
    assert _reason(exc) == "assertion_validation_failure"


def test_a_creation_answer_posted_as_an_assertion(enrolled: tuple[Passkeys, SoftAuthenticator]) -> None:
    passkeys, key = enrolled
    request = _request(passkeys, "h2")
    made = key.create({**_creation(passkeys, "other"), "challenge": request["challenge"]}, ORIGIN)
    answer = {**key.get(request, ORIGIN), "clientData": made["clientData"]}
    with pytest.raises(WebAuthnRefused) as exc:
        passkeys.authenticate(PIA, REDIRECT, "h2", answer)
    assert _reason(exc) == "clientdata_message_type_mismatch"


def test_garbage_is_refused_as_unparseable(enrolled: tuple[Passkeys, SoftAuthenticator]) -> None:
    passkeys, _ = enrolled
    _request(passkeys, "h2")
    with pytest.raises(WebAuthnRefused) as exc:
        passkeys.authenticate(PIA, REDIRECT, "h2", {"clientData": "bm90IGpzb24", "authenticatorData": "",
                                                    "signatureData": ""})
    assert _reason(exc) == "clientdata_parsing_failed"
    with pytest.raises(WebAuthnRefused) as exc:
        passkeys.register(PIA, "e", REDIRECT, "h3", "not an object")
    assert _reason(exc) == "clientdata_parsing_failed"


def test_okta_on_its_own_domain_cannot_serve_the_app() -> None:
    # Okta's RP id is its own domain: a browser on the app's origin refuses the ceremony, and a
    # key made for the app's RP id does not verify against Okta's.
    passkeys = Passkeys()
    passkeys.rp_id = "acme.okta.example"
    with pytest.raises(CeremonyRefused):
        SoftAuthenticator().create(_creation(passkeys, "h1"), ORIGIN)
    options = {**_creation(passkeys, "h1"), "rp": {"id": "app.example.test"}}
    with pytest.raises(WebAuthnRefused) as exc:
        passkeys.register(PIA, "e", REDIRECT, "h1", SoftAuthenticator().create(options, ORIGIN))
    assert _reason(exc) == "invalid_enrollment_request_data"
    assert not passkeys.has_passkey(PIA)


def test_the_offer_follows_the_policy(enrolled: tuple[Passkeys, SoftAuthenticator]) -> None:
    passkeys, _ = enrolled
    assert not passkeys.offers_enrollment(PIA, "h9")  # she has one
    fresh = Passkeys()
    assert fresh.offers_enrollment(PIA, "h9")
    fresh.skip("h9")
    assert not fresh.offers_enrollment(PIA, "h9") and fresh.offers_enrollment(PIA, "h10")
    bob = User(id="00ubob", status="ACTIVE", created=0.0, last_updated=0.0,
               profile={"login": "bob@acme.test"})
    assert not fresh.offers_enrollment(bob, "h9")
