"""The step translator over the real IDX fixtures: exact step JSON for each kind of screen, a
scan that no step of any fixture leaks an Okta secret or Okta's wording, and submissions
(validated against the state, turned into the nested IDX body)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from bff.errors import error_response
from bff.signin.idx import IdxParseError, IdxState, parse_state
from bff.signin.steps import (
    MAX_VALUE_CHARS,
    SUPPORTED_AUTHENTICATORS,
    InvalidSubmission,
    StepNotOffered,
    StepNotSupported,
    StepPolicy,
    prepare,
    redirect_idp,
    submittable,
    to_step,
)
from tests.unit.signin.samples import FIXTURE_ORIGIN, IDX_STATES, SWEPT, load, mutations

WEBAUTHN = StepPolicy(authenticators=SUPPORTED_AUTHENTICATORS | {"webauthn"})


def state(name: str) -> IdxState:
    return parse_state(load(name))


def step(name: str, **kw: Any) -> Any:
    return to_step(state(name), **kw)


def field(name: str, type: str = "string", required: bool = False, secret: bool = False,
          **extra: Any) -> dict[str, Any]:
    return {"name": name, "type": type, "required": required, "secret": secret, **extra}


PASSWORD_POLICY = {
    "complexity": {"minLength": 8, "minLowerCase": 1, "minUpperCase": 1, "minNumber": 1, "minSymbol": 0,
                   "excludeUsername": True, "excludeAttributes": [], "maxConsecutiveRepeatingCharacters": 3},
    "age": {"minAgeMinutes": 0, "historyCount": 0},
}


# -- exact steps -----------------------------------------------------------------------------


def test_identify() -> None:
    assert step("identify.json") == {
        "step": "identify",
        "fields": [field("identifier", required=True), field("rememberMe", "boolean")],
        "alternatives": ["select-enroll-profile", "cancel"],
        "messages": [],
    }


def test_unknown_user_keeps_the_identify_step_with_the_message_key() -> None:
    assert step("identify-unknown-user.json") == {
        "step": "identify",
        "fields": [field("identifier")],
        "alternatives": ["select-enroll-profile", "cancel"],
        "messages": [{"key": "errors.E0000004", "class": "ERROR"}],
    }


def test_wrong_password() -> None:
    assert step("error-authenticator-verify-password.json") == {
        "step": "challenge-authenticator",
        "fields": [field("credentials.passcode", secret=True)],
        "authenticator": {"key": "okta_password", "methods": [], "profile": {}, "resend": False,
                          "poll": False},
        "alternatives": ["select-authenticator-authenticate", "recover", "cancel"],
        "messages": [{"key": "incorrectPassword", "class": "ERROR"}],
    }


def test_invalid_email_code_is_a_field_message_with_resend_and_poll() -> None:
    assert step("error-401-invalid-otp-passcode.json") == {
        "step": "challenge-authenticator",
        "fields": [field("credentials.passcode")],
        "authenticator": {"key": "okta_email", "methods": ["email"], "profile": {"email": "t***t@idx.com"},
                          "resend": True, "poll": True, "pollInterval": 4200},
        "alternatives": ["select-authenticator-authenticate", "resend", "poll", "cancel"],
        "messages": [{"key": "api.authn.error.PASSCODE_INVALID", "class": "ERROR",
                      "field": "credentials.passcode"}],
    }


def test_totp_enrollment_gives_the_otpauth_uri_not_the_png() -> None:
    assert step("authenticator-enroll-google-authenticator.json") == {
        "step": "enroll-authenticator",
        "fields": [field("credentials.passcode", required=True)],
        "authenticator": {
            "key": "google_otp", "methods": ["otp"], "profile": {}, "resend": False, "poll": False,
            "enrollment": {"type": "totp", "sharedSecret": "ZR74DHZTG43NBULV",
                           "otpauthUri": "otpauth://totp/TestApp:testUser@okta.com"
                                         "?secret=ZR74DHZTG43NBULV&issuer=TestApp"},
        },
        "alternatives": ["select-authenticator-enroll", "cancel"],
        "messages": [],
    }


def test_totp_issuer_from_the_policy_is_encoded() -> None:
    view = step("authenticator-enroll-google-authenticator.json",
                policy=StepPolicy(totp_issuer="Acme Portal"))["authenticator"]
    assert view["enrollment"]["otpauthUri"] == (
        "otpauth://totp/Acme%20Portal:testUser@okta.com?secret=ZR74DHZTG43NBULV&issuer=Acme%20Portal")


def test_expired_password_shows_the_policy() -> None:
    assert step("authenticator-expired-password.json") == {
        "step": "reenroll-authenticator",
        "fields": [field("credentials.passcode", secret=True)],
        "authenticator": {"key": "okta_password", "methods": ["password"], "profile": {}, "resend": False,
                          "poll": False, "settings": PASSWORD_POLICY},
        "alternatives": ["cancel"],
        "messages": [],
    }


def test_select_authenticator_offers_supported_choices_and_the_redirect() -> None:
    assert step("authenticator-verification-select-authenticator.json") == {
        "step": "select-authenticator-authenticate",
        "fields": [
            field("authenticator.id", required=True, options=[
                "aidwboITrg4b4yAYd0g3", "aidtm56L8gXXHI1SD0g3", "aut5v31Tb789KuCGY0g4",
                "aut11ceMaP0B0EzMI0g4"]),
            field("authenticator.methodType", options=["password", "email", "sms", "voice"]),
            field("authenticator.enrollmentId", options=["pae5ykx4eIvfslkO90g4", "pae5ykzcnhmdfSMuQ0g4"]),
        ],
        "choices": [
            {"id": "aidwboITrg4b4yAYd0g3", "key": "okta_password", "label": "Okta Password",
             "methodTypes": ["password"]},
            {"id": "aidtm56L8gXXHI1SD0g3", "key": "okta_email", "label": "Okta Email",
             "methodTypes": ["email"]},
            {"id": "aut5v31Tb789KuCGY0g4", "key": "phone_number", "label": "Phone",
             "methodTypes": ["sms", "voice"], "enrollmentId": "pae5ykx4eIvfslkO90g4",
             "profile": {"phoneNumber": "+1 XXX-XXX-5309"}},
            {"id": "aut5v31Tb789KuCGY0g4", "key": "phone_number", "label": "Phone",
             "methodTypes": ["sms", "voice"], "enrollmentId": "pae5ykzcnhmdfSMuQ0g4",
             "profile": {"phoneNumber": "+1 XXX-XXX-5310"}},
            {"id": "aut11ceMaP0B0EzMI0g4", "key": "google_otp", "label": "Google Authenticator",
             "methodTypes": ["otp"]},
        ],
        # Okta Verify, Duo, RSA, WebAuthn... were left out: the redirect flow is the last resort.
        "alternatives": ["cancel", "redirect"],
        "messages": [],
    }


def test_enrollment_choice_with_a_phone_number_field() -> None:
    got = step("authenticator-enroll-select-authenticator-with-skip.json")
    assert got["fields"] == [
        field("authenticator.id", required=True, options=["autwa6eD9o02iBbtv0g3", "aid568g3mXgtID0X1SLH"]),
        field("authenticator.methodType", options=["password", "sms", "voice"]),
        field("authenticator.phoneNumber"),
    ]
    assert [c["key"] for c in got["choices"]] == ["okta_password", "phone_number"]
    assert got["alternatives"] == ["skip", "cancel", "redirect"]


def test_unsupported_challenge_becomes_choose_another_way() -> None:
    assert step("authenticator-verification-duo.json") == {
        "step": "select-authenticator-authenticate",
        "fields": [field("authenticator.id", required=True, options=["aut2wlv2v7GH2vJ5u0g4"]),
                   field("authenticator.methodType", options=["password"])],
        "choices": [{"id": "aut2wlv2v7GH2vJ5u0g4", "key": "okta_password", "label": "Password",
                     "methodTypes": ["password"]}],
        "alternatives": ["cancel", "redirect"],
        "messages": [],
        "unsupported": "duo",
    }


def test_unknown_remediation_of_an_unsupported_authenticator() -> None:
    got = step("authenticator-verification-okta-verify-push.json")
    assert (got["step"], got["unsupported"], got["alternatives"]) == (
        "select-authenticator-authenticate", "okta_verify", ["cancel", "redirect"])
    assert [c["key"] for c in got["choices"]] == ["okta_password"]


def test_unsupported_without_another_way_is_never_a_dead_end() -> None:
    doc = load("authenticator-verification-okta-verify-push.json")
    doc["remediation"]["value"] = doc["remediation"]["value"][:1]  # only challenge-poll (Okta Verify)
    assert to_step(parse_state(doc)) == {
        "step": "unsupported", "fields": [], "alternatives": ["cancel", "redirect"], "messages": [],
        "unsupported": "okta_verify",
    }


def test_an_unknown_remediation_name_is_unsupported() -> None:
    doc = load("identify.json")
    doc["remediation"]["value"][0]["name"] = "launch-quantum-authenticator"
    got = to_step(parse_state(doc))
    assert (got["step"], got["unsupported"]) == ("unsupported", "launch-quantum-authenticator")
    assert got["alternatives"] == ["select-enroll-profile", "cancel", "redirect"]


def test_redirect_idps_are_listed_without_their_hrefs() -> None:
    got = step("identify-with-third-party-idps.json")
    assert got["alternatives"] == ["redirect-idp", "select-enroll-profile", "cancel"]
    assert got["idps"] == [
        {"id": "google-123", "name": "Google IDP", "type": "GOOGLE"},
        {"id": "facebook-123", "name": "Facebook IDP", "type": "FACEBOOK"},
        {"id": "linkedin-123", "name": "Linkedin IDP", "type": "LINKEDIN"},
        {"id": "microsoft-123", "name": "Microsoft IDP", "type": "MICROSOFT"},
        {"id": "apple-123", "name": "Apple IDP", "type": "APPLE"},
        {"id": "x509-123", "name": "X509 Authentication", "type": "X509"},
    ]


def test_only_the_idps_of_the_policy_are_listed() -> None:
    policy = StepPolicy(idps=frozenset({"google-123", "apple-123"}))
    got = step("identify-with-third-party-idps.json", policy=policy)
    assert [i["id"] for i in got["idps"]] == ["google-123", "apple-123"]
    assert got["alternatives"] == ["redirect-idp", "select-enroll-profile", "cancel", "redirect"]
    none = step("identify-with-third-party-idps.json", policy=StepPolicy(idps=frozenset()))
    assert "idps" not in none and "redirect-idp" not in none["alternatives"]
    assert none["alternatives"][-1] == "redirect"


def test_redirect_idp_finds_only_an_offered_and_allowed_idp() -> None:
    s = state("identify-with-third-party-idps.json")
    form = redirect_idp(s, "apple-123")
    assert form.idp is not None and form.idp.id == "apple-123" and form.method == "GET"
    policy = StepPolicy(idps=frozenset({"google-123"}))
    assert redirect_idp(s, "google-123", policy).type == "GOOGLE"
    for idp, pol in (("apple-123", policy), ("nope", StepPolicy()), ("", StepPolicy())):
        with pytest.raises(InvalidSubmission) as info:
            redirect_idp(s, idp, pol)
        assert info.value.errors == [{"field": "idp", "code": "not_an_option"}]
    with pytest.raises(InvalidSubmission):  # a state without IdPs
        redirect_idp(state("identify.json"), "google-123")


def test_signup_email_taken() -> None:
    assert step("error-new-signup-email-exists.json") == {
        "step": "enroll-profile",
        "fields": [field("userProfile.lastName", required=True),
                   field("userProfile.firstName", required=True),
                   field("userProfile.email", required=True)],
        "alternatives": ["select-identify", "cancel"],
        "messages": [{"key": "registration.error.notUniqueWithinOrg", "class": "ERROR",
                      "field": "userProfile.email", "params": ["Email"]}],
    }


def test_signup_with_password_carries_the_password_policy() -> None:
    got = step("enroll-profile-with-password.json")
    assert [f["name"] for f in got["fields"]] == [
        "userProfile.email", "userProfile.firstName", "userProfile.lastName", "credentials.passcode"]
    assert got["fields"][3] == field("credentials.passcode", required=True, secret=True)
    assert got["authenticator"]["key"] == "okta_password"
    assert got["authenticator"]["settings"]["complexity"]["minLength"] == 8


@pytest.mark.parametrize(("relates_to", "key"), [("$.nowhere", "enroll-profile"),
                                                 ("$.authenticators.value[0]", "enroll-profile")])
def test_a_field_tied_to_an_unknown_authenticator_is_not_supported(relates_to: str, key: str) -> None:
    doc = load("enroll-profile-with-password.json")
    doc["remediation"]["value"][0]["value"][1]["relatesTo"] = relates_to
    got = to_step(parse_state(doc))
    assert (got["step"], got["unsupported"]) == ("unsupported", key)
    assert got["alternatives"] == ["select-identify", "cancel", "redirect"]


def test_progressive_profile_merges_the_repeated_user_profile_forms() -> None:
    assert step("enroll-profile-update-params.json") == {
        "step": "profile-update",
        "fields": [field("userProfile.newAttribute"),
                   field("userProfile.secondEmail", minLength=1, maxLength=100),
                   field("userProfile.newAttribute2", required=True)],
        "alternatives": ["skip", "cancel"],
        "messages": [],
    }


def test_unlock_account() -> None:
    got = step("user-unlock-account.json")
    assert got["step"] == "select-authenticator-unlock-account"
    assert got["fields"][0] == field("identifier", required=True)
    assert [(c["key"], c["methodTypes"]) for c in got["choices"]] == [
        ("okta_email", ["email"]), ("phone_number", ["voice"])]


def test_success_carries_only_the_location() -> None:
    assert step("success-with-interaction-code.json", location="/orders?id=7") == {
        "step": "success", "fields": [], "alternatives": [], "messages": [], "location": "/orders?id=7"}
    assert "location" not in step("identify.json", location="/x")


@pytest.mark.parametrize(("name", "key", "cls"), [
    ("terminal-return-email.json", "idx.return.to.original.tab", "INFO"),
    ("terminal-return-expired-email.json", "idx.return.link.expired", "INFO"),
    ("terminal-registration.json", "idx.email.verification.required", "INFO"),
    ("terminal-reset-password-success.json", "idx.recovery.completed", "INFO"),
    ("user-account-unlock-success.json", "oie.selfservice.unlock_user.success.message", "INFO"),
    ("error-unlock-account.json", "oie.selfservice.unlock_user.failed.message", "ERROR"),
    ("error-identify-access-denied.json", "security.access_denied", "ERROR"),
    ("error-401-session-expired.json", "idx.session.expired", "ERROR"),
])
def test_terminal(name: str, key: str, cls: str) -> None:
    assert step(name) == {"step": "terminal", "fields": [], "alternatives": [],
                          "messages": [{"key": key, "class": cls}]}


def test_a_legacy_success_redirect_falls_back_to_the_redirect_flow() -> None:
    assert step("success.json") == {"step": "unsupported", "fields": [],
                                    "alternatives": ["cancel", "redirect"], "messages": [],
                                    "unsupported": "success-redirect"}


def test_messages_without_a_key_or_with_an_odd_class() -> None:
    doc = load("identify.json")
    doc["messages"] = {"type": "array", "value": [{"message": "Something new", "class": "NOTICE"},
                                                  {"message": "x", "i18n": {"key": "k", "params": [1]}}]}
    assert to_step(parse_state(doc))["messages"] == [
        {"key": None, "class": "INFO"}, {"key": "k", "class": "ERROR", "params": [1]}]


def test_webauthn_when_enabled() -> None:
    enroll = step("authenticator-enroll-webauthn.json", policy=WEBAUTHN)
    assert enroll["step"] == "enroll-authenticator"
    assert enroll["fields"] == [field(f"credentials.{name}", required=True, visible=False)
                                for name in ("clientData", "attestation", "transports", "clientExtensions")]
    assert enroll["authenticator"]["enrollment"]["type"] == "webauthn"
    assert enroll["authenticator"]["enrollment"]["activationData"]["challenge"] == "zrTo0mMXyCt90mweh2HL"
    verify = step("authenticator-verification-webauthn.json", policy=WEBAUTHN)
    assert verify["step"] == "challenge-authenticator"
    challenge = verify["authenticator"]["challenge"]
    assert challenge["challengeData"]["challenge"] == "qjUCU0xoVe5QZ3-etDCD"
    assert challenge["credentialIds"] == [
        "hpxQXbu5R5Y2JMqpvtE9Oo9FdwO6z2kMR-ZQkAb6p6GSguXQ57oVXKvpVHT2fyCR_m2EL1vIgszxi00kyFIX6w",
        "7Ag2iWUqfz0SanWDj-ZZ2fpDsgiEDt_08O1VSSRZHpgkUS1zhLSyWYDrxXXB5VE_w1iiqSvPaRgXcmG5rPwB-w"]
    # By default WebAuthn is not offered (its RP id must match the app's origin).
    assert step("authenticator-verification-webauthn.json")["unsupported"] == "webauthn"


# -- nothing of Okta's leaks -------------------------------------------------------------------


def _secrets(doc: Any) -> set[str]:
    """Every string of the raw document that must never reach the browser: the state handle,
    every href, the interaction code, Okta's message text."""
    found: set[str] = set()

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            for key, value in node.items():
                if key in ("stateHandle", "href") and isinstance(value, str):
                    found.add(value)
                if key == "message" and isinstance(value, str) and len(value) > 3:
                    found.add(value)
                if node.get("name") in ("interaction_code", "stateHandle") and key == "value" \
                        and isinstance(value, str):
                    found.add(value)
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(doc)
    return found


@pytest.mark.parametrize("policy", [StepPolicy(), WEBAUTHN], ids=["default", "webauthn"])
@pytest.mark.parametrize("name", IDX_STATES)
def test_no_step_of_any_fixture_leaks(name: str, policy: StepPolicy) -> None:
    doc = load(name)
    out = json.dumps(to_step(parse_state(doc), policy=policy))
    for secret in _secrets(doc):
        assert secret not in out
    handle = doc.get("stateHandle")
    if isinstance(handle, str) and len(handle) > 20:
        assert handle[:24] not in out
    assert FIXTURE_ORIGIN not in out and "stateToken" not in out and "data:image" not in out
    assert "interaction_code" not in out and "stateHandle" not in out


@pytest.mark.parametrize("name", IDX_STATES)
def test_every_fixture_translates_to_the_public_shape(name: str) -> None:
    s = state(name)
    got: Any = to_step(s)
    assert set(got) <= {"step", "fields", "authenticator", "choices", "alternatives", "idps", "messages",
                        "unsupported", "location"}
    assert {"step", "fields", "alternatives", "messages"} <= set(got)
    for f in got["fields"]:
        assert {"name", "type", "required", "secret"} <= set(f) and "label" not in f
    for m in got["messages"]:
        assert set(m) <= {"key", "class", "field", "params"} and m["class"] in {"ERROR", "INFO", "WARNING"}
    # Every alternative the SPA may post is one prepare() accepts (redirect-idp and redirect
    # are navigations, not posts).
    for alt in got["alternatives"]:
        if alt not in ("redirect", "redirect-idp"):
            assert alt in submittable(s), alt
    if got["step"] in submittable(s):
        assert got["step"] not in got["alternatives"]


@pytest.mark.parametrize("name", SWEPT)
def test_the_translator_survives_every_parseable_mutation(name: str) -> None:
    translated = 0
    for doc in mutations(name):
        try:
            parsed = parse_state(doc)
        except IdxParseError:
            continue
        json.dumps(to_step(parsed))
        translated += 1
    assert translated


# -- submissions -------------------------------------------------------------------------------


def test_identify_submission() -> None:
    s = state("identify.json")
    request = prepare(s, "identify", {"identifier": "bob@example.com", "rememberMe": True})
    assert request.form is s.remediations[0]
    assert request.form.href == "http://localhost:3000/idp/idx/identify"
    assert request.body == {"identifier": "bob@example.com", "rememberMe": True,
                            "stateHandle": s.state_handle}


def test_password_submission_nests_the_credentials() -> None:
    s = state("authenticator-verification-password.json")
    request = prepare(s, "challenge-authenticator", {"credentials.passcode": "correct horse"})
    assert request.body == {"credentials": {"passcode": "correct horse"}, "stateHandle": s.state_handle}
    assert "correct horse" not in repr(request)


def test_fixed_values_are_filled_in_from_the_state() -> None:
    s = state("authenticator-verification-data-email.json")
    request = prepare(s, "authenticator-verification-data", {"authenticator.methodType": "email"})
    assert request.body == {"authenticator": {"id": "aut1v94GMPPMvkjbp0g4", "methodType": "email"},
                            "stateHandle": s.state_handle}


def test_choosing_an_authenticator() -> None:
    s = state("authenticator-verification-select-authenticator.json")
    request = prepare(s, "select-authenticator-authenticate", {"authenticator.id": "aidwboITrg4b4yAYd0g3"})
    assert request.body == {"authenticator": {"id": "aidwboITrg4b4yAYd0g3", "methodType": "password"},
                            "stateHandle": s.state_handle}


def test_two_phones_need_the_enrollment_id() -> None:
    s = state("authenticator-verification-select-authenticator.json")
    values = {"authenticator.id": "aut5v31Tb789KuCGY0g4", "authenticator.methodType": "sms"}
    with pytest.raises(InvalidSubmission) as info:
        prepare(s, "select-authenticator-authenticate", values)
    assert info.value.errors == [{"field": "authenticator.id", "code": "ambiguous"}]
    request = prepare(s, "select-authenticator-authenticate",
                      {**values, "authenticator.enrollmentId": "pae5ykzcnhmdfSMuQ0g4"})
    assert request.body["authenticator"] == {"id": "aut5v31Tb789KuCGY0g4", "methodType": "sms",
                                             "enrollmentId": "pae5ykzcnhmdfSMuQ0g4"}


def test_phone_enrollment_with_a_number() -> None:
    s = state("authenticator-enroll-select-authenticator-with-skip.json")
    request = prepare(s, "select-authenticator-enroll", {
        "authenticator.id": "aid568g3mXgtID0X1SLH", "authenticator.methodType": "voice",
        "authenticator.phoneNumber": "+15555550100"})
    assert request.body["authenticator"] == {"id": "aid568g3mXgtID0X1SLH", "methodType": "voice",
                                             "phoneNumber": "+15555550100"}


def test_profile_update_merges_user_profile() -> None:
    s = state("enroll-profile-update-params.json")
    request = prepare(s, "profile-update",
                      {"userProfile.newAttribute2": "b", "userProfile.secondEmail": "c@d.e"})
    assert request.body == {"userProfile": {"newAttribute2": "b", "secondEmail": "c@d.e"},
                            "stateHandle": s.state_handle}


def test_signup_submission() -> None:
    s = state("enroll-profile-with-password.json")
    request = prepare(s, "enroll-profile", {
        "userProfile.email": "new@example.com", "userProfile.firstName": "N", "userProfile.lastName": "U",
        "credentials.passcode": "S3cret!pass"})
    assert request.body == {"userProfile": {"email": "new@example.com", "firstName": "N", "lastName": "U"},
                            "credentials": {"passcode": "S3cret!pass"}, "stateHandle": s.state_handle}


@pytest.mark.parametrize(("name", "remediation"), [
    ("identify.json", "select-enroll-profile"),
    ("identify.json", "cancel"),
    ("identify-with-unlock-account-link.json", "unlock-account"),
    ("authenticator-verification-email.json", "resend"),
    ("authenticator-verification-email.json", "poll"),
    ("authenticator-verification-password.json", "recover"),
    ("authenticator-enroll-select-authenticator-with-skip.json", "skip"),
])
def test_forms_without_fields(name: str, remediation: str) -> None:
    s = state(name)
    request = prepare(s, remediation, {})
    assert request.form is s.form(remediation)
    assert request.body == {"stateHandle": s.state_handle}


@pytest.mark.parametrize(("name", "remediation", "values", "errors"), [
    ("identify.json", "identify", {}, [{"field": "identifier", "code": "required"}]),
    ("identify.json", "identify", {"identifier": ""}, [{"field": "identifier", "code": "required"}]),
    ("identify.json", "identify", {"identifier": "a", "rememberMe": "yes"},
     [{"field": "rememberMe", "code": "type"}]),
    ("identify.json", "identify", {"identifier": "a", "rememberMe": 1},
     [{"field": "rememberMe", "code": "type"}]),
    ("identify.json", "identify", {"identifier": ["a"]}, [{"field": "identifier", "code": "type"}]),
    ("identify.json", "identify", {"identifier": "a", "password": "x"},
     [{"field": "password", "code": "unknown_field"}]),
    ("identify.json", "identify", {"identifier": "a", "stateHandle": "forged"},
     [{"field": "stateHandle", "code": "unknown_field"}]),
    ("identify.json", "identify", {"identifier": "a", "bad key\n": 1},
     [{"field": "(invalid name)", "code": "unknown_field"}]),
    ("identify.json", "identify", {"identifier": "a" * (MAX_VALUE_CHARS + 1)},
     [{"field": "identifier", "code": "too_long"}]),
    ("authenticator-verification-password.json", "challenge-authenticator",
     {"credentials": {"passcode": "x"}}, [{"field": "credentials", "code": "unknown_field"}]),
    ("authenticator-verification-password.json", "challenge-authenticator", {"credentials.passcode": 123456},
     [{"field": "credentials.passcode", "code": "type"}]),
    ("enroll-profile-new.json", "enroll-profile",
     {"userProfile.lastName": "A", "userProfile.firstName": "Bob", "userProfile.email": "x" * 101},
     [{"field": "userProfile.lastName", "code": "too_short"},
      {"field": "userProfile.email", "code": "too_long"}]),
    ("enroll-profile-update-params.json", "profile-update", {"userProfile.newAttribute": "x"},
     [{"field": "userProfile.newAttribute2", "code": "required"}]),
    ("authenticator-verification-select-authenticator.json", "select-authenticator-authenticate", {},
     [{"field": "authenticator.id", "code": "required"}]),
    # Okta Verify is offered by Okta, not by the BFF: not a choice.
    ("authenticator-verification-select-authenticator.json", "select-authenticator-authenticate",
     {"authenticator.id": "auttheidkwh282hv8g3"}, [{"field": "authenticator.id", "code": "not_an_option"}]),
    ("authenticator-verification-select-authenticator.json", "select-authenticator-authenticate",
     {"authenticator.id": "aut5v31Tb789KuCGY0g4", "authenticator.enrollmentId": "pae5ykx4eIvfslkO90g4",
      "authenticator.methodType": "pigeon"},
     [{"field": "authenticator.methodType", "code": "not_an_option"}]),
    ("authenticator-verification-select-authenticator.json", "select-authenticator-authenticate",
     {"authenticator.id": "aidwboITrg4b4yAYd0g3", "authenticator.phoneNumber": "+1555"},
     [{"field": "authenticator.phoneNumber", "code": "unknown_field"}]),
    ("authenticator-verification-select-authenticator.json", "select-authenticator-authenticate",
     {"authenticator.id": "aidwboITrg4b4yAYd0g3", "authenticator.methodType": "email"},
     [{"field": "authenticator.id", "code": "not_an_option"}]),
    ("authenticator-verification-data-email.json", "authenticator-verification-data",
     {"authenticator.methodType": "sms"}, [{"field": "authenticator.methodType", "code": "not_an_option"}]),
    ("authenticator-verification-data-email.json", "authenticator-verification-data",
     {"authenticator.methodType": "email", "authenticator.id": "aut-someone-else"},
     [{"field": "authenticator.id", "code": "unknown_field"}]),
])
def test_invalid_submissions(name: str, remediation: str, values: dict[str, Any],
                             errors: list[dict[str, str]]) -> None:
    with pytest.raises(InvalidSubmission) as info:
        prepare(state(name), remediation, values)
    assert info.value.errors == errors
    assert info.value.status == 400


@pytest.mark.parametrize("values", [None, [], "identifier=a", {1: "a"}, {f"k{i}": "v" for i in range(65)}])
def test_submissions_that_are_not_small_objects(values: Any) -> None:
    with pytest.raises(InvalidSubmission) as info:
        prepare(state("identify.json"), "identify", values)
    assert info.value.errors[0]["code"] in {"not_an_object", "too_many_fields"}


@pytest.mark.parametrize(("name", "remediation"), [
    ("identify.json", "challenge-authenticator"),
    ("identify.json", "issue"),
    ("authenticator-verification-password.json", "identify"),
    ("success-with-interaction-code.json", "identify"),
    ("success-with-interaction-code.json", "cancel"),  # a success is redeemed, nothing is posted after it
    ("user-account-unlock-success.json", "cancel"),  # terminal: the transaction is over
    ("terminal-return-email.json", "identify"),
    ("error-429-too-many-request.json", "identify"),
])
def test_steps_not_offered_are_409(name: str, remediation: str) -> None:
    with pytest.raises(StepNotOffered) as info:
        prepare(state(name), remediation, {"identifier": "a"})
    assert info.value.status == 409


@pytest.mark.parametrize(("name", "remediation"), [
    ("authenticator-verification-okta-verify-push.json", "challenge-poll"),
    ("authenticator-verification-duo.json", "challenge-authenticator"),
    ("identify-with-third-party-idps.json", "redirect-idp"),
])
def test_steps_okta_offers_but_the_bff_does_not_are_400(name: str, remediation: str) -> None:
    with pytest.raises(StepNotSupported) as info:
        prepare(state(name), remediation, {})
    assert info.value.status == 400


def test_errors_render_as_problems_without_the_values() -> None:
    secret = "hunter2-do-not-echo"
    with pytest.raises(InvalidSubmission) as info:
        prepare(state("authenticator-verification-password.json"), "challenge-authenticator",
                {"credentials.passcode": secret, "credentials.extra": secret})
    response = error_response(info.value)
    body = json.loads(bytes(response.body))
    assert response.status_code == 400 and body["code"] == "invalid_submission"
    assert body["errors"] == [{"field": "credentials.extra", "code": "unknown_field"}]
    assert secret not in bytes(response.body).decode() and secret not in repr(info.value)
