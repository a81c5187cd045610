"""Passkeys in the BFF: the switch (``BFF_SIGNIN_WEBAUTHN``) and the checks on the WebAuthn
credential fields, alone and through ``steps.prepare`` on Okta's own WebAuthn states."""

from __future__ import annotations

import json

import pytest

from bff.config import ConfigError
from bff.errors import error_response
from bff.signin.idx import parse_state
from bff.signin.passkeys import LIMITS, authenticators, field_problem
from bff.signin.steps import (
    SUPPORTED_AUTHENTICATORS,
    InvalidSubmission,
    StepNotSupported,
    StepPolicy,
    prepare,
)
from tests.support.env import make_settings
from tests.unit.signin.samples import load

WEBAUTHN = StepPolicy(authenticators=SUPPORTED_AUTHENTICATORS | {"webauthn"})
B64 = "AAECAwQFBgcICQoLDA0ODw"  # 16 bytes, base64url without padding
ENROLL = {"credentials.clientData": B64, "credentials.attestation": B64,
          "credentials.transports": '["internal","hybrid"]', "credentials.clientExtensions": "{}"}
ASSERT = {"credentials.clientData": B64, "credentials.authenticatorData": B64,
          "credentials.signatureData": B64}


def test_off_by_default_and_on_with_the_setting() -> None:
    assert make_settings().signin.webauthn is False
    on = make_settings(BFF_SIGNIN_WEBAUTHN="on").signin
    assert on.webauthn is True
    assert authenticators(on, SUPPORTED_AUTHENTICATORS) == SUPPORTED_AUTHENTICATORS | {"webauthn"}
    assert "webauthn" not in authenticators(make_settings(BFF_SIGNIN_WEBAUTHN="off").signin,
                                            SUPPORTED_AUTHENTICATORS | {"webauthn"})


def test_a_bad_value_refuses_to_start() -> None:
    with pytest.raises(ConfigError, match="BFF_SIGNIN_WEBAUTHN"):
        make_settings(BFF_SIGNIN_WEBAUTHN="maybe")


@pytest.mark.parametrize(("name", "value", "problem"), [
    ("credentials.clientData", B64, None),
    ("credentials.clientData", B64 + "==", "not_base64url"),  # padding: not what the SPA posts
    ("credentials.clientData", "AAEC+/8", "not_base64url"),  # the standard alphabet
    ("credentials.clientData", "AAECA", "not_base64url"),  # 5 chars: no whole number of bytes
    ("credentials.signatureData", "A" * 1024, None),
    ("credentials.signatureData", "A" * 1025, "too_long"),
    ("credentials.attestation", "A" * LIMITS["credentials.attestation"], None),
    ("credentials.attestation", "A" * (LIMITS["credentials.attestation"] + 1), "too_long"),
    ("credentials.transports", '["usb","nfc"]', None),
    ("credentials.transports", '"usb"', "not_json"),
    ("credentials.transports", json.dumps(["usb"] * 9), "not_json"),
    ("credentials.transports", '[1]', "not_json"),
    ("credentials.transports", "[usb]", "not_json"),
    ("credentials.clientExtensions", '{"credProps":{"rk":true}}', None),
    ("credentials.clientExtensions", "[]", "not_json"),
    ("credentials.passcode", "anything", None),  # not a WebAuthn field: left to the generic checks
])
def test_field_problem(name: str, value: str, problem: str | None) -> None:
    assert field_problem(name, value) == problem


def test_prepare_an_enrollment_and_an_assertion() -> None:
    enroll = parse_state(load("authenticator-enroll-webauthn.json"))
    req = prepare(enroll, "enroll-authenticator", ENROLL, policy=WEBAUTHN)
    assert req.body["credentials"] == {"clientData": B64, "attestation": B64,
                                       "transports": '["internal","hybrid"]', "clientExtensions": "{}"}
    verify = parse_state(load("authenticator-verification-webauthn.json"))
    req = prepare(verify, "challenge-authenticator", ASSERT, policy=WEBAUTHN)
    assert req.body["credentials"] == {"clientData": B64, "authenticatorData": B64, "signatureData": B64}
    assert B64 not in repr(req)  # the body (credentials) stays out of logs and tracebacks


def test_an_attestation_longer_than_the_generic_limit_is_accepted() -> None:
    enroll = parse_state(load("authenticator-enroll-webauthn.json"))
    big = "A" * 8000  # a packed attestation with its certificate chain
    req = prepare(enroll, "enroll-authenticator", {**ENROLL, "credentials.attestation": big}, policy=WEBAUTHN)
    assert isinstance(req.body["credentials"], dict) and req.body["credentials"]["attestation"] == big


@pytest.mark.parametrize(("field", "value", "code"), [
    ("credentials.signatureData", "not base64!", "not_base64url"),
    ("credentials.signatureData", "", "required"),
    ("credentials.signatureData", 42, "type"),
    ("credentials.clientData", "A" * 5000, "too_long"),
    ("credentials.authenticatorData", "<script>", "not_base64url"),
])
def test_prepare_refuses_bad_assertion_fields_without_echoing_them(field: str, value: object,
                                                                   code: str) -> None:
    verify = parse_state(load("authenticator-verification-webauthn.json"))
    with pytest.raises(InvalidSubmission) as info:
        prepare(verify, "challenge-authenticator", {**ASSERT, field: value}, policy=WEBAUTHN)
    assert info.value.errors == [{"field": field, "code": code}]
    response = error_response(info.value)
    assert response.status_code == 400 and response.media_type == "application/problem+json"
    if isinstance(value, str) and value:
        assert value.encode() not in bytes(response.body)


def test_a_missing_enrollment_field_is_required() -> None:
    enroll = parse_state(load("authenticator-enroll-webauthn.json"))
    values = {k: v for k, v in ENROLL.items() if k != "credentials.attestation"}
    with pytest.raises(InvalidSubmission) as info:
        prepare(enroll, "enroll-authenticator", values, policy=WEBAUTHN)
    assert info.value.errors == [{"field": "credentials.attestation", "code": "required"}]


def test_off_the_passkey_steps_are_not_supported() -> None:
    verify = parse_state(load("authenticator-verification-webauthn.json"))
    with pytest.raises(StepNotSupported):
        prepare(verify, "challenge-authenticator", ASSERT)


def test_the_same_field_names_of_other_authenticators_keep_the_generic_rules() -> None:
    # credentials.clientData is an on-prem MFA's username elsewhere: no base64url rule there.
    doc = load("authenticator-verification-webauthn.json")
    doc["currentAuthenticator"]["value"]["key"] = "okta_password"
    req = prepare(parse_state(doc), "challenge-authenticator",
                  {**ASSERT, "credentials.clientData": "jane.doe@example.com"})
    assert isinstance(req.body["credentials"], dict)
    assert req.body["credentials"]["clientData"] == "jane.doe@example.com"
