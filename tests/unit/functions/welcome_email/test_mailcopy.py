"""Email copy: locale chains, bundled files, the AEM persisted query first, per-key fallback."""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path

import httpx
import pytest

from welcome_email.mailcopy import (
    AemCopy,
    BundledCopy,
    CopyMissing,
    CopyResolver,
    locale_chain,
    normalise_locale,
)
from welcome_email.render import REQUIRED_KEYS

REPO_COPY = Path(__file__).resolve().parents[4] / "content" / "copy"


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("fr_ca", "fr-CA"),
        ("FR-ca", "fr-CA"),
        ("de", "de"),
        ("es-419", "es-419"),
        ("ja-JP-u-ca-japanese", "ja-JP"),
        ("", None),
        ("12", None),
        ("<b>", None),
    ],
)
def test_normalise_locale(given: str, expected: str | None) -> None:
    assert normalise_locale(given) == expected


@pytest.mark.parametrize(
    ("given", "chain"),
    [
        ("fr-CA", ["fr-CA", "fr", "en"]),
        ("fr", ["fr", "en"]),
        ("en-GB", ["en-GB", "en"]),
        ("en", ["en"]),
        ("garbage!", ["en"]),
    ],
)
def test_locale_chain(given: str, chain: list[str]) -> None:
    assert locale_chain(given) == chain


class Fixed:
    def __init__(self, by_locale: Mapping[str, Mapping[str, str]]) -> None:
        self.by_locale = by_locale
        self.asked: list[str] = []

    def strings(self, locale: str) -> Mapping[str, str] | None:
        self.asked.append(locale)
        return self.by_locale.get(locale)


def test_per_key_fallback_and_aem_before_bundled() -> None:
    aem = Fixed({"fr": {"a": "aem-fr-a"}})
    bundled = Fixed(
        {
            "en": {"a": "en-a", "b": "en-b", "c": "en-c"},
            "fr": {"a": "fr-a", "b": "fr-b"},
            "fr-CA": {"b": "ca-b"},
        }
    )
    strings, served = CopyResolver([aem, bundled]).resolve("fr_CA", ["a", "b", "c"])
    assert strings == {"a": "aem-fr-a", "b": "ca-b", "c": "en-c"}
    assert served == "fr-CA"


def test_unknown_locale_is_served_in_the_default() -> None:
    strings, served = CopyResolver([Fixed({"en": {"a": "x"}})]).resolve("pt-BR", ["a"])
    assert (strings, served) == ({"a": "x"}, "en")


def test_missing_required_keys_raise() -> None:
    with pytest.raises(CopyMissing, match="welcome.subject"):
        CopyResolver([Fixed({})]).resolve("en", ["welcome.subject"])


def test_bundled_copy_reads_the_first_directory_that_has_the_locale(tmp_path: Path) -> None:
    (tmp_path / "a" / "en").mkdir(parents=True)
    (tmp_path / "b" / "en").mkdir(parents=True)
    (tmp_path / "b" / "de").mkdir(parents=True)
    (tmp_path / "a" / "en" / "email.json").write_text(json.dumps({"k": "from a", "n": 3}))
    (tmp_path / "b" / "en" / "email.json").write_text(json.dumps({"k": "from b"}))
    (tmp_path / "b" / "de" / "email.json").write_text(json.dumps({"k": "aus b"}))
    copy = BundledCopy([tmp_path / "a", tmp_path / "b"])
    assert copy.strings("en") == {"k": "from a"}  # non-string values dropped
    assert copy.strings("de") == {"k": "aus b"}
    assert copy.strings("ja") is None


@pytest.mark.parametrize("locale", sorted(p.name for p in REPO_COPY.iterdir() if (p / "email.json").exists()))
def test_the_repository_copy_has_every_key_the_emails_need(locale: str) -> None:
    resolver = CopyResolver([BundledCopy([REPO_COPY])])
    for keys in REQUIRED_KEYS.values():
        strings, _ = resolver.resolve(locale, keys)
        assert all(strings[k].strip() for k in keys)


class Clock:
    now = 0.0

    def __call__(self) -> float:
        return self.now


def aem_answer(strings: dict[str, str]) -> dict[str, object]:
    return {
        "data": {
            "uiCopyList": {
                "items": [
                    {
                        "_path": "/content/dam/bff/fr/ui-copy/email",
                        "_variation": "master",
                        "journey": "email",
                        "strings": strings,
                    }
                ]
            }
        }
    }


def test_aem_persisted_query_url_and_cache() -> None:
    seen: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(str(request.url))
        return httpx.Response(200, json=aem_answer({"welcome.subject": "Salut"}))

    clock = Clock()
    aem = AemCopy(
        "https://publish.example.test/",
        "bff",
        http=httpx.Client(transport=httpx.MockTransport(handler)),
        ttl=60,
        clock=clock,
    )
    assert aem.strings("fr-CA") == {"welcome.subject": "Salut"}
    assert seen == [
        "https://publish.example.test/graphql/execute.json/bff/ui-copy;journey=email;locale=fr_ca"
    ]
    clock.now = 59
    aem.strings("fr-CA")
    assert len(seen) == 1
    clock.now = 61
    aem.strings("fr-CA")
    assert len(seen) == 2


@pytest.mark.parametrize(
    "response",
    [
        httpx.Response(503),
        httpx.Response(200, text="<html>"),
        httpx.Response(200, json={"data": None}),
        httpx.Response(200, json={"data": {"uiCopyList": {"items": []}}}),
    ],
)
def test_aem_failures_fall_back_to_the_bundled_copy(response: httpx.Response) -> None:
    aem = AemCopy(
        "https://publish.example.test",
        "bff",
        http=httpx.Client(transport=httpx.MockTransport(lambda r: response)),
    )
    assert aem.strings("fr") is None
    strings, _ = CopyResolver([aem, Fixed({"fr": {"welcome.subject": "bundled"}})]).resolve(
        "fr", ["welcome.subject"]
    )
    assert strings["welcome.subject"] == "bundled"


def test_aem_timeout_falls_back() -> None:
    def boom(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectTimeout("slow")

    aem = AemCopy(
        "https://publish.example.test", "bff", http=httpx.Client(transport=httpx.MockTransport(boom))
    )
    assert aem.strings("de") is None
