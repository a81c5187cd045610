"""The bundled copy is complete and consistent: every locale carries every key of ``en`` with the
same placeholders; regional overrides and drafts only override; keys are documented."""

from __future__ import annotations

import json
import re

import pytest

from bff.content.bundle import CONTENT_DIR, JOURNEYS, BundleError, CopyBundle, placeholders
from bff.settings import REPO_ROOT

BUNDLE = CopyBundle.load()
FULL_LOCALES = ("en", "fr", "de", "es", "ja")
SCREEN_JOURNEYS = ("signin", "signup", "profile", "admin")


def test_every_full_locale_has_every_journey() -> None:
    for locale in FULL_LOCALES:
        assert set(BUNDLE.copy[locale]) == set(JOURNEYS), locale


@pytest.mark.parametrize("locale", [loc for loc in FULL_LOCALES if loc != "en"])
@pytest.mark.parametrize("journey", JOURNEYS)
def test_locale_carries_every_en_key_with_the_same_placeholders(locale: str, journey: str) -> None:
    en = BUNDLE.strings("en", journey)
    other = BUNDLE.strings(locale, journey)
    assert en is not None and other is not None
    assert set(other) == set(en), (
        f"{locale}/{journey}: missing {set(en) - set(other)}, extra {set(other) - set(en)}"
    )
    for key, text in en.items():
        assert placeholders(other[key]) == placeholders(text), f"{locale}/{journey}/{key}"
        assert other[key].strip(), f"{locale}/{journey}/{key} is empty"


def test_translations_are_translated() -> None:
    # A locale that copied English wholesale would pass the key check; demand real copy.
    for locale in ("fr", "de", "es", "ja"):
        for journey in JOURNEYS:
            en = BUNDLE.strings("en", journey) or {}
            other = BUNDLE.strings(locale, journey) or {}
            same = [k for k in en if other[k] == en[k] and not k.startswith("locale.")]
            assert len(same) <= max(2, len(en) // 10), f"{locale}/{journey} untranslated: {same}"


def test_regional_override_and_drafts_only_override_known_keys() -> None:
    fr_ca = BUNDLE.copy["fr-CA"]
    assert 0 < sum(len(s) for s in fr_ca.values()) < sum(len(s) for s in BUNDLE.copy["fr"].values()) // 4
    for tree, name in ((BUNDLE.copy, "copy"), (BUNDLE.drafts, "drafts")):
        for locale, journeys in tree.items():
            for journey, strings in journeys.items():
                en = BUNDLE.strings("en", journey) or {}
                for key, text in strings.items():
                    assert key in en, f"{name}/{locale}/{journey}: unknown key {key}"
                    assert placeholders(text) == placeholders(en[key]), f"{name}/{locale}/{journey}/{key}"
    # The drafts visibly differ from the published copy (preview must show something).
    for locale, journeys in BUNDLE.drafts.items():
        for journey, strings in journeys.items():
            published = BUNDLE.strings(locale, journey) or {}
            assert any(published.get(k) != v for k, v in strings.items())


def test_screen_journeys_never_collide_with_common() -> None:
    common = set(BUNDLE.strings("en", "common") or {})
    for journey in SCREEN_JOURNEYS:
        assert not common & set(BUNDLE.strings("en", journey) or {}), journey


def test_required_screen_keys_exist() -> None:
    required = {
        "signin": [
            "title",
            "intro",
            "email.label",
            "submit",
            "signup.link",
            "error.access_denied",
            "error.login_required",
            "error.session_expired",
            "error.unknown",
        ],
        "signup": [
            "error.email.invalid",
            "error.email.taken",
            "error.firstName.required",
            "error.firstName.invalid",
            "error.tooMany",
            "success.body",
        ],
        "profile": [
            "field.company.label",
            "field.title.label",
            "field.mobilePhone.label",
            "field.preferredLanguage.label",
            "save",
            "saved",
            "home.welcome",
            "home.org",
            "home.signOut",
        ],
        "admin": [
            "users.column.name",
            "role.org_admin",
            "role.group_admin",
            "action.assignGroupAdmin",
            "action.removeGroupAdmin",
            "action.deactivate",
            "action.reactivate",
            "review.approve",
            "review.reject",
            "review.empty",
            "users.empty",
            "stepup.title",
        ],
        "common": [
            "app.name",
            "locale.label",
            "locale.fr-CA",
            "status.loading",
            "error.generic",
            "session.expired.title",
            "preview.banner",
            "preview.on",
            "preview.off",
        ],
        "email": ["welcome.subject", "welcome.heading", "welcome.body"],
    }
    for journey, keys in required.items():
        strings = BUNDLE.strings("en", journey) or {}
        assert not [k for k in keys if k not in strings], journey
    assert (BUNDLE.strings("en", "common") or {})["preview.banner"] == "Preview mode: showing draft copy"
    assert "{email}" in (BUNDLE.strings("en", "signup") or {})["success.body"]
    assert "{firstName}" in (BUNDLE.strings("en", "email") or {})["welcome.subject"]


def test_docs_list_every_en_key() -> None:
    # Each journey's table in docs/content.md mirrors its en copy: same keys in the same order,
    # same English text, and the key count in the heading.
    doc = (REPO_ROOT / "docs" / "content.md").read_text(encoding="utf-8")
    for journey in JOURNEYS:
        en = BUNDLE.strings("en", journey) or {}
        heading = rf"^### `{re.escape(journey)}` — [^\n]*\((\d+) keys\)\n\n"
        section = re.search(heading + r"\| key \| en \|\n\|---\|---\|\n((?:\|[^\n]*\n)+)", doc, re.MULTILINE)
        assert section, f"docs/content.md has no key table for {journey}"
        rows: dict[str, str] = {}
        for line in section.group(2).splitlines():
            row = re.fullmatch(r"\| `([^`]+)` \| (.*) \|", line)
            assert row, f"docs/content.md {journey}: malformed row {line!r}"
            rows[row.group(1)] = row.group(2).replace("\\|", "|")
        assert list(rows) == list(en), (
            f"docs/content.md {journey}: missing {[k for k in en if k not in rows]}, "
            f"extra {[k for k in rows if k not in en]} (or out of order)")
        assert {k: v for k, v in rows.items() if v != en[k]} == {}, f"docs/content.md {journey}: text differs"
        assert int(section.group(1)) == len(en), f"docs/content.md {journey}: wrong key count in the heading"


def test_files_are_tidy_json() -> None:
    for path in (CONTENT_DIR / "copy").rglob("*.json"):
        data = json.loads(path.read_text(encoding="utf-8"))
        assert all(isinstance(v, str) and v == v.strip() for v in data.values()), path


def test_a_broken_bundle_fails_loudly(tmp_path) -> None:  # type: ignore[no-untyped-def]
    (tmp_path / "copy" / "en").mkdir(parents=True)
    (tmp_path / "copy" / "en" / "signin.json").write_text('{"title": 3}')
    with pytest.raises(BundleError, match="flat JSON object"):
        CopyBundle.load(tmp_path)
    (tmp_path / "copy" / "en" / "signin.json").write_text('{"title": "x"}')
    (tmp_path / "copy" / "en" / "checkout.json").write_text("{}")
    with pytest.raises(BundleError, match="unknown journey"):
        CopyBundle.load(tmp_path)
