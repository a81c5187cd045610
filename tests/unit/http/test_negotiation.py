"""bff.http.negotiation: Content-Type, Accept-Language and If-None-Match, read once for every endpoint."""

from __future__ import annotations

import pytest

from bff.http.negotiation import (
    MAX_ACCEPT_LANGUAGE,
    if_none_match_hits,
    is_json,
    language_tag,
    media_type,
    negotiate_language,
    parse_accept_language,
)

SUPPORTED = ("en", "fr", "fr-CA", "de", "es", "ja")

# -- Content-Type ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("application/json", "application/json"),
        ("Application/JSON; charset=UTF-8", "application/json"),
        ("  application/x-www-form-urlencoded ;charset=utf-8", "application/x-www-form-urlencoded"),
        ("text/plain;", "text/plain"),
        ("", ""),
        (None, ""),
        (";charset=utf-8", ""),
    ],
)
def test_media_type_is_the_lower_case_essence(header: str | None, expected: str) -> None:
    assert media_type(header) == expected


@pytest.mark.parametrize(
    ("media", "expected"),
    [
        ("application/json", True),
        ("application/cloudevents+json", True),
        ("application/merge-patch+json", True),
        ("application/jsonx", False),
        ("text/json", False),
        ("application/json-seq", False),
        ("text/plain", False),
        ("", False),
    ],
)
def test_is_json(media: str, expected: bool) -> None:
    assert is_json(media) is expected


# -- Accept-Language ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("en", "en"),
        ("FR_ca", "fr-CA"),
        ("fr-ca", "fr-CA"),
        ("zh-hant-tw", "zh-Hant-TW"),
        ("es-419", "es-419"),
        ("", None),
        ("e", None),
        ("english", None),
        ("fr-CA-x", None),
        ("de-DE-1996", None),  # variants are outside the subset
        ("../etc", None),
        ("fr;DROP", None),
        ("fr\n", None),
        ("x" * 40, None),
    ],
)
def test_language_tag(raw: str, expected: str | None) -> None:
    assert language_tag(raw) == expected


def test_accept_language_honours_q_values_and_drops_junk() -> None:
    header = "fr-CH, fr;q=0.9, en;q=0.8, de;q=0.7, *;q=0.5"
    assert parse_accept_language(header) == ["fr-CH", "fr", "en", "de"]
    assert parse_accept_language("en;q=0.1, ja;q=0.9") == ["ja", "en"]
    assert parse_accept_language("de;q=0, es") == ["es"]
    assert parse_accept_language("de;q=abc, xx-not-a-tag!, es;q=2, fr") == ["fr"]
    assert parse_accept_language("de;q=nan, es;level=1, FR_ca") == ["fr-CA"]
    assert parse_accept_language("en, fr") == ["en", "fr"]  # ties keep header order
    assert parse_accept_language("fr;q=0.5, de;Q=0.5 , es") == ["es", "fr", "de"]


def test_accept_language_bounds() -> None:
    assert parse_accept_language(None) == [] and parse_accept_language("") == []
    assert parse_accept_language("a" * 600) == []
    assert parse_accept_language("en," + " " * (MAX_ACCEPT_LANGUAGE - 3)) == ["en"]
    assert parse_accept_language("en," + " " * (MAX_ACCEPT_LANGUAGE - 2)) == []  # one byte over
    many = ", ".join(["xx-not-a-tag"] * 16 + ["fr"])
    assert parse_accept_language(many) == []  # only the first 16 entries are read


def test_negotiation_exact_then_language_in_the_supported_spelling() -> None:
    assert negotiate_language(["fr-CA"], SUPPORTED) == "fr-CA"
    assert negotiate_language(["fr-BE"], SUPPORTED) == "fr"
    assert negotiate_language(["FR-ca"], SUPPORTED) == "fr-CA"
    assert negotiate_language(["pt-BR", "de-AT", "fr"], SUPPORTED) == "de"  # best first
    assert negotiate_language(["pt-PT"], SUPPORTED) is None
    assert negotiate_language([], SUPPORTED) is None


def test_negotiation_has_no_alias_table() -> None:
    # Babel's default aliases would answer en-US for "en"; what is served is what was asked
    # for, or its language.
    assert negotiate_language(["en"], ("en-US", "fr")) is None
    assert negotiate_language(["en-US"], ("en", "fr")) == "en"


def test_header_to_locale_the_way_sign_up_and_the_copy_api_both_do_it() -> None:
    header = "de-CH, de;q=0.9, en;q=0.5"
    assert negotiate_language(parse_accept_language(header), SUPPORTED) == "de"
    assert negotiate_language(parse_accept_language("pt-BR, fr-ca;q=0.1"), SUPPORTED) == "fr-CA"


# -- If-None-Match --------------------------------------------------------------------------------

ETAG = '"0123abcd"'


@pytest.mark.parametrize(
    ("header", "hit"),
    [
        ('"0123abcd"', True),
        ('W/"0123abcd"', True),  # weak comparison (RFC 9110 §13.1.2)
        ('"zzz", W/"0123abcd" ,"yyy"', True),
        ("*", True),
        (" * ", True),
        ('"0123abce"', False),
        ("0123abcd", False),  # unquoted is not the same tag
        ('"0123abcd-gz"', False),
        ("", False),
        (None, False),
        ("*, \"x\"", False),  # "*" only alone
    ],
)
def test_if_none_match(header: str | None, hit: bool) -> None:
    assert if_none_match_hits(header, ETAG) is hit
