from __future__ import annotations

import pytest

from bff.errors import ValidationFailed
from bff.signup.validation import (
    ERROR_CODES,
    Errors,
    check_email,
    check_name,
    check_organisation,
    check_profile_value,
    normalize_email,
    org_slug,
    password_problem,
    supported_locale,
)

LOCALES = ("en", "fr", "fr-CA", "de", "es", "ja")


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("ada@example.com", "ada@example.com"),
        ("  Ada.Lovelace+signup@Example.CO.uk ", "ada.lovelace+signup@example.co.uk"),
        ("o'brien@acme.test", "o'brien@acme.test"),
        ("x@xn--bcher-kva.example", "x@xn--bcher-kva.example"),
    ],
)
def test_valid_emails_are_canonicalised(raw: str, expected: str) -> None:
    assert normalize_email(raw) == expected


@pytest.mark.parametrize(
    "raw",
    [
        "plainaddress",
        "@example.com",
        "ada@",
        "ada@example",
        "ada@@example.com",
        "ada@exa mple.com",
        "ada..x@example.com",
        ".ada@example.com",
        "ada@-example.com",
        "ada@example.c",
        "ada@example.123",
        "ada@exam_ple.com",
        "ädä@example.com",
        "ada@exämple.com",
        "ada\u202e@example.com",
        "ada@exa\nmple.com",
        "ada@example.com\x00",
        "<script>@example.com",
        "ada@example.com.",
        "ada@ｅxample.com",
        '"ada"@example.com',
        "a" * 65 + "@example.com",
    ],
)
def test_invalid_emails_are_refused(raw: str) -> None:
    assert normalize_email(raw) is None


@pytest.mark.parametrize(
    ("raw", "code"),
    [
        (None, "error.email.required"),
        ("   ", "error.email.required"),
        (42, "error.email.invalid"),
        (["a@b.co"], "error.email.invalid"),
        ({"x": 1}, "error.email.invalid"),
        (True, "error.email.invalid"),
        ("a" * 95 + "@b.com", "error.email.tooLong"),
        ("nope", "error.email.invalid"),
    ],
)
def test_email_field_errors(raw: object, code: str) -> None:
    errors = Errors()
    assert check_email(errors, raw) is None
    assert [e.code for e in errors.items] == [code]


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("Ada", "Ada"),
        ("  Jean-Luc  ", "Jean-Luc"),
        ("O'Brien", "O'Brien"),
        ("d’Artagnan", "d’Artagnan"),
        ("Zoë", "Zoë"),
        ("José María", "José María"),
        ("Nguyễn", "Nguyễn"),
        ("Søren", "Søren"),
        ("山田", "山田"),
        ("Łukasz", "Łukasz"),
        ("محمد", "محمد"),
        ("Ólafur Jr.", "Ólafur Jr."),
        ("Anne   Marie", "Anne Marie"),
        ("ｍａｒｙ", "mary"),  # NFKC folds full-width letters
        ("फ़ातिमा", "फ़ातिमा"),
        ("میر\u200cزاده", "میر\u200cزاده"),  # ZWNJ inside a Persian name
    ],
)
def test_names_of_every_script_are_accepted(raw: str, expected: str) -> None:
    errors = Errors()
    assert check_name(errors, "firstName", raw) == expected
    assert not errors


@pytest.mark.parametrize(
    ("raw", "code"),
    [
        ("<script>alert(1)</script>", "error.firstName.invalid"),
        ("<b>Bob</b>", "error.firstName.invalid"),
        ("＜script＞", "error.firstName.invalid"),  # full-width brackets fold to < >
        ("Bob\u202eevil", "error.firstName.invalid"),  # right-to-left override
        ("Bob\u200b", "error.firstName.invalid"),  # zero-width space
        ("Bob\x00", "error.firstName.invalid"),
        ("Bob\x1b[31m", "error.firstName.invalid"),
        ("Robert'); DROP TABLE users;--", "error.firstName.invalid"),
        ("{{7*7}}", "error.firstName.invalid"),
        ("${jndi:ldap://x}", "error.firstName.invalid"),
        ("Bob123", "error.firstName.invalid"),
        ("javascript:alert(1)", "error.firstName.invalid"),
        ("'", "error.firstName.invalid"),
        ("\ud800", "error.firstName.invalid"),  # lone surrogate
        ("\U0001f600", "error.firstName.invalid"),  # emoji
        ("A" * 51, "error.firstName.tooLong"),
        ("A" * 10_000, "error.firstName.tooLong"),
        ("", "error.firstName.required"),
        ("   ", "error.firstName.required"),
        (None, "error.firstName.required"),
        (7, "error.firstName.invalid"),
        (["Bob"], "error.firstName.invalid"),
        ({"$ne": ""}, "error.firstName.invalid"),
    ],
)
def test_hostile_names_are_refused_with_a_copy_key(raw: object, code: str) -> None:
    errors = Errors()
    assert check_name(errors, "firstName", raw) is None
    assert [e.code for e in errors.items] == [code]


def test_newlines_inside_a_name_collapse_to_one_space() -> None:
    # Whitespace runs (including newlines and tabs) are normalised, not rejected.
    errors = Errors()
    assert check_name(errors, "lastName", "Smith\n\tJones") == "Smith Jones"


@pytest.mark.parametrize(
    ("password", "problem"),
    [
        ("Short1A", "tooShort"),
        ("alllowercase123", "weak"),
        ("ALLUPPERCASE123", "weak"),
        ("NoDigitsAtAllHere", "weak"),
        ("Lovelace2025Secure", "weak"),  # contains the last name
        ("AdaKing2025xyzzy", "weak"),  # contains the email's local-part word "king"
        ("Tab\tInside12345", "weak"),
        ("A1" + "a" * 71, "tooLong"),
        ("Correct-Horse-9-Battery", None),
        ("Mot de passe Sûr 42", None),
    ],
)
def test_password_complexity(password: str, problem: str | None) -> None:
    assert password_problem(password, email="ada.king@example.com", first="Ada", last="Lovelace") == problem


def test_locales_are_negotiated_against_the_supported_list() -> None:
    assert supported_locale("fr-CA", LOCALES) == "fr-CA"
    assert supported_locale("fr_ca", LOCALES) == "fr-CA"
    assert supported_locale("fr-BE", LOCALES) == "fr"
    assert supported_locale("pt-BR", LOCALES) is None
    assert supported_locale("zz-ZZ", LOCALES) is None


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("acme", ("acme", "acme")),
        ("  ACME  ", ("ACME", "acme")),
        ("Acme Société Générale", ("Acme Société Générale", "acme-societe-generale")),
        ("Smith & Sons", None),  # '&' is markup
        ("<img src=x>", None),
        ("---", None),
    ],
)
def test_organisation_keeps_the_name_and_derives_an_id(raw: str, expected: tuple[str, str] | None) -> None:
    errors = Errors()
    assert check_organisation(errors, raw) == expected
    assert bool(errors) == (expected is None)
    if expected is None:
        assert errors.items[0].code == "error.company.invalid"


def test_non_latin_organisation_names_get_a_stable_id() -> None:
    first, second = org_slug("株式会社アクメ"), org_slug("株式会社アクメ")
    assert first == second and first.startswith("org-") and len(first) == 16
    assert org_slug("株式会社ベータ") != first


@pytest.mark.parametrize(
    ("name", "raw", "expected", "code"),
    [
        ("mobilePhone", "+44 7700 900123", "+44 7700 900123", None),
        ("mobilePhone", "call me", None, "error.mobilePhone.invalid"),
        ("mobilePhone", "+1" + "2" * 20, None, "error.mobilePhone.invalid"),
        ("preferredLanguage", "fr-CA", "fr-CA", None),
        ("preferredLanguage", "tlh", None, "error.preferredLanguage.invalid"),
        ("preferredLanguage", "<x>", None, "error.preferredLanguage.invalid"),
        ("title", "Purchasing manager", "Purchasing manager", None),
        ("title", "<script>", None, "error.title.invalid"),
        ("title", "x" * 101, None, "error.title.tooLong"),
        ("company", 12, None, "error.company.invalid"),
        ("countryCode", "gb", "GB", None),
        ("countryCode", "XX", None, "error.countryCode.invalid"),
        ("title", None, None, None),  # clears the attribute
    ],
)
def test_profile_values(name: str, raw: object, expected: object, code: str | None) -> None:
    errors = Errors()
    assert check_profile_value(errors, name, raw, LOCALES) == expected
    assert [e.code for e in errors.items] == ([code] if code else [])


def test_errors_raise_one_422_listing_every_field() -> None:
    errors = Errors()
    errors.add("email", "invalid")
    errors.unknown("is\u202eAdmin\x00" + "x" * 100)
    with pytest.raises(ValidationFailed) as info:
        errors.raise_if_any()
    listed = info.value.extra["errors"]
    assert listed[0] == {"field": "email", "code": "error.email.invalid"}
    assert listed[1]["code"] == "error.field.unknown"
    assert "\u202e" not in listed[1]["field"] and "\x00" not in listed[1]["field"]
    assert len(listed[1]["field"]) <= 64


def test_error_codes_are_copy_keys() -> None:
    assert all(code.startswith("error.") and code.count(".") == 2 for code in ERROR_CODES)
