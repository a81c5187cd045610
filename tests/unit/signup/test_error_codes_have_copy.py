"""Every field error ``POST /bff/signup`` and ``POST /bff/profile`` can answer is a key of the
matching journey's ``en`` copy, so the SPA always has a sentence to show (issue 5: "per-field
errors whose codes map to keys of the signup copy").

The codes are collected from the code itself, twice: the registries in
``bff.signup.validation`` (``ERROR_CODES``, ``profile_error_codes``) and by running the
validators (and the Okta error mapping) over a table of bad inputs covering every branch. The
registry must equal what the validators actually emit, and every code must be in the copy.
The bundle test (tests/unit/content/test_bundle.py) then carries every ``en`` key into every
locale with the same placeholders.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import httpx
import pytest

from bff.content.bundle import CopyBundle
from bff.errors import ClientError, ValidationFailed
from bff.okta import SswsAuth
from bff.settings import SignupSettings
from bff.signup.forms import parse_profile, parse_signup, signup_fields
from bff.signup.invitations import Reason
from bff.signup.membership import InvitationInvalid
from bff.signup.okta_users import OktaManagementClient
from bff.signup.validation import ERROR_CODES, KNOWN_PROFILE_FIELDS, profile_error_codes
from tests.support.env import make_settings, organisation_settings
from tests.unit.signup.fakes import API_TOKEN, FakeOktaApi, okta_error

BUNDLE = CopyBundle.load()
SIGNUP_COPY = BUNDLE.strings("en", "signup") or {}
PROFILE_COPY = BUNDLE.strings("en", "profile") or {}
LOCALES = ("en", "fr", "fr-CA", "de", "es", "ja")
GOOD = {"email": "ada@example.com", "firstName": "Ada", "lastName": "Lovelace"}


def signup_settings(org: str = "organisation") -> SignupSettings:
    if org == "organisation":
        return organisation_settings().signup
    return make_settings(BFF_SIGNUP_ORG=org).signup


def codes_of(exc: ClientError) -> set[str]:
    return {e["code"] for e in exc.extra["errors"]}


def signup_codes(body: Mapping[str, Any], *, org: str = "organisation",
                 federated: Iterable[str] = ()) -> set[str]:
    with pytest.raises(ValidationFailed) as info:
        parse_signup(body, signup_settings(org), locales=LOCALES,
                     fallback_locale="en", federated_domains=federated)
    return codes_of(info.value)


# Bad sign-up bodies, one per branch of parse_signup and the checks it calls (each must fail).
SIGNUP_CASES: list[tuple[str, dict[str, Any], dict[str, Any]]] = [
    ("everything missing", {}, {}),
    ("blank strings", {"email": " ", "firstName": "\t", "lastName": "", "company": "  "}, {}),
    ("wrong JSON types", {"email": 5, "firstName": 5, "lastName": [], "company": {}, "password": 5,
                          "terms": "yes", "locale": 5}, {}),
    ("markup and junk", {"email": "not-an-email", "firstName": "<script>", "lastName": "Love1ace",
                         "company": "<b>Acme</b>", "locale": "not a locale!"}, {}),
    ("names that normalise to nothing", {**GOOD, "firstName": "\u3000", "company": "---"}, {}),
    ("too long after normalising", {"email": "a" * 95 + "@x.com", "firstName": "A" * 51,
                                    "lastName": "B" * 60, "company": "C" * 101}, {}),
    ("too long before normalising", {**GOOD, "firstName": "A" * 201, "company": "C" * 401}, {}),
    ("unknown fields", {**GOOD, "company": "Acme", "isAdmin": True, "groupIds": ["x"]}, {}),
    ("terms not accepted", {**GOOD, "company": "Acme", "terms": False}, {}),
    ("federated domain", {**GOOD, "company": "Acme"}, {"federated": ["example.com"]}),
    ("alias: blank organisation", {**GOOD, "organisation": ""}, {}),
    ("alias: bad organisation", {**GOOD, "organisation": "<x>"}, {}),
    ("alias: long organisation", {**GOOD, "organisation": "O" * 101}, {}),
    ("invitation missing", dict(GOOD), {"org": "invitation"}),
    ("invitation wrong type", {**GOOD, "invitationCode": 7}, {"org": "invitation"}),
    ("invitation oversized", {**GOOD, "invitationCode": "x" * 1025}, {"org": "invitation"}),
    ("password not offered", {**GOOD, "password": "Correct-Horse-9"}, {"org": "none"}),
]


@pytest.mark.parametrize(("body", "config"), [(b, c) for _, b, c in SIGNUP_CASES],
                         ids=[name for name, _, _ in SIGNUP_CASES])
def test_each_bad_signup_fails_with_registered_codes(body: dict[str, Any], config: dict[str, Any]) -> None:
    emitted = signup_codes(body, **config)
    assert emitted and emitted <= set(ERROR_CODES), emitted - set(ERROR_CODES)


def okta_client(fake: FakeOktaApi) -> OktaManagementClient:
    async def no_sleep(seconds: float) -> None:
        return None

    return OktaManagementClient("https://okta.example.test", httpx.AsyncClient(transport=fake.transport()),
                                SswsAuth(API_TOKEN), sleep=no_sleep)


# Okta's own E0000001 causes, as Okta words them; the client maps them to field errors.
OKTA_CAUSES = [
    "login: An object with this field already exists in the current organization",
    "email: Does not match required pattern",
    "login: Username must be in the form of an email address",
    "firstName: The field cannot be left blank",
    "lastName: The field cannot be left blank",
    "password: Password requirements were not met. Password requirements: at least 8 characters.",
    "Password requirements were not met. Your password cannot be any of your last 4 passwords.",
]


async def okta_signup_codes() -> set[str]:
    found: set[str] = set()
    for cause in OKTA_CAUSES:
        fake = FakeOktaApi(queued=[okta_error("E0000001", "Api validation failed", [cause])])
        with pytest.raises(ClientError) as info:
            await okta_client(fake).create_user({"login": "ada@example.com"}, password="Correct-Horse-9")
        found |= codes_of(info.value)
    return found


async def test_the_signup_registry_is_exactly_what_can_be_emitted_and_all_of_it_has_copy() -> None:
    from_validators = set().union(*(signup_codes(b, **c) for _, b, c in SIGNUP_CASES))
    from_okta = await okta_signup_codes()
    # The store's verdicts on a code (bff.signup.membership), one per reason.
    reasons: tuple[Reason, ...] = ("unknown", "expired", "revoked", "used", "email")
    from_validators |= {e["code"] for r in reasons
                        for e in InvitationInvalid(r, "invitationCode").extra["errors"]}
    assert from_okta <= set(ERROR_CODES), from_okta - set(ERROR_CODES)
    # No dead registry entries either: the table above reaches every registered code.
    assert from_validators | from_okta == set(ERROR_CODES), set(ERROR_CODES) ^ (from_validators | from_okta)
    missing = sorted(code for code in ERROR_CODES if code not in SIGNUP_COPY)
    assert not missing, f"codes POST /bff/signup emits that the en signup copy lacks: {missing}"


def test_every_signup_field_the_spa_can_show_has_a_label() -> None:
    # The SPA labels each field of the form description (GET /bff/signup) with
    # signup:field.<name>.label; ``locale`` is sent by the SPA itself, never shown.
    shown: set[str] = set()
    for org in ("organisation", "invitation", "none"):
        shown |= set(signup_fields(signup_settings(org))) - {"locale"}
    missing = sorted(f"field.{name}.label" for name in shown if f"field.{name}.label" not in SIGNUP_COPY)
    assert not missing, missing


def profile_codes(body: Mapping[str, Any], fields: Iterable[str]) -> set[str]:
    try:
        parse_profile(body, fields, locales=LOCALES)
    except ValidationFailed as exc:
        return codes_of(exc)
    return set()


# Values a browser might send for any profile attribute; for every attribute some of them fail.
BAD_VALUES: list[Any] = [
    None, "", "   ", 5, 1.5, True, ["x"], {"x": 1}, "<script>alert(1)</script>", "a\u202eb", "a\x00b",
    "x" * 101, "x" * 401, "abc", "+1", "+44 (0) 20 7946 0958 ext 12345678901", "ZZ", "GBR", "g",
    "xx-ZZ", "not a locale", "pt-BR", "Ada1", "😀",
]


def test_every_profile_field_the_validator_knows_is_in_the_defaults_or_registry() -> None:
    defaults = make_settings().signup.profile_fields
    assert set(defaults) <= set(KNOWN_PROFILE_FIELDS), set(defaults) - set(KNOWN_PROFILE_FIELDS)


@pytest.mark.parametrize("name", KNOWN_PROFILE_FIELDS)
def test_each_profile_field_emits_only_registered_codes(name: str) -> None:
    registered = set(profile_error_codes([name]))
    emitted = set().union(*(profile_codes({name: value}, [name]) for value in BAD_VALUES))
    emitted |= profile_codes({"isAdmin": True, "groupIds": []}, [name])
    assert emitted <= registered, emitted - registered
    assert emitted == registered, f"registered but unreachable: {registered - emitted}"


async def test_okta_profile_refusals_map_to_registered_codes() -> None:
    # Okta re-validates what is sent; its causes for the sent attributes come back as field
    # errors of those attributes (only names are mapped; anything else is a 502).
    fields = KNOWN_PROFILE_FIELDS
    for cause in ("firstName: The field cannot be left blank", "lastName: Does not match required pattern"):
        fake = FakeOktaApi(queued=[okta_error("E0000001", "Api validation failed", [cause])])
        with pytest.raises(ValidationFailed) as info:
            await okta_client(fake).update_profile("00u1", {"firstName": "Ada", "lastName": "L"})
        assert codes_of(info.value) <= set(profile_error_codes(fields))


def test_every_profile_code_and_label_has_copy() -> None:
    codes = profile_error_codes(KNOWN_PROFILE_FIELDS)
    missing = sorted(code for code in codes if code not in PROFILE_COPY)
    assert not missing, f"codes POST /bff/profile emits that the en profile copy lacks: {missing}"
    labels = sorted(f"field.{n}.label" for n in KNOWN_PROFILE_FIELDS)
    labels = [label for label in labels if label not in PROFILE_COPY]
    assert not labels, labels
