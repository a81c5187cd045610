"""Merging the locale chain per key, and the precomputed response bodies."""

from __future__ import annotations

import json

from bff.content.service import merge
from tests.unit.content.conftest import Harness


def test_merge_per_key_with_fallbacks_and_missing() -> None:
    doc = merge(
        "signin",
        "fr-CA",
        "fr-CA",
        [
            ("fr-CA", {"email.label": "Courriel"}),
            ("fr", {"title": "Connexion", "email.label": "Adresse e-mail"}),
            ("en", {"title": "Sign in", "email.label": "Email", "submit": "Continue", "extra": "x"}),
        ],
        contract={"title": "", "email.label": "", "submit": "", "help.link": ""},
        source="cache",
        preview=False,
    )
    assert doc["strings"] == {
        "title": "Connexion",
        "email.label": "Courriel",
        "submit": "Continue",
        "extra": "x",
    }
    assert doc["fallbacks"] == {"title": "fr", "submit": "en", "extra": "en"}
    assert doc["missing"] == ["help.link"]
    assert list(doc["strings"]) == ["title", "email.label", "submit", "extra"]  # contract order
    assert (doc["journey"], doc["requested"], doc["locale"], doc["source"], doc["preview"]) == (
        "signin",
        "fr-CA",
        "fr-CA",
        "cache",
        False,
    )


async def test_hot_path_reuses_the_same_bytes(h: Harness) -> None:
    service = h.area.service
    first = await service.render("signin", "en", "en", "master")
    assert first.source == "aem"
    second = await service.render("signin", "en", "en", "master")
    assert second.source == "cache"
    assert service.render_fresh("signin", "en", "en", "master") is second
    assert json.loads(second.body)["source"] == "cache"


async def test_a_missing_default_fragment_is_replaced_by_the_bundle(h: Harness) -> None:
    h.twin.set_copy("publish", "en", "signup", None)
    h.twin.set_copy("publish", "fr", "signup", {"title": "Inscription AEM"})
    doc = json.loads((await h.area.service.render("signup", "fr", "fr", "master")).body)
    assert doc["strings"]["title"] == "Inscription AEM"
    assert doc["strings"]["submit"] == "Create account"  # from the bundled en
    assert doc["fallbacks"]["submit"] == "en" and doc["missing"] == []


async def test_authoring_gaps_are_reported_as_missing(h: Harness) -> None:
    strings = dict(h.area.service.bundle.strings("en", "profile") or {})
    del strings["saved"]
    h.twin.set_copy("publish", "en", "profile", strings)
    doc = json.loads((await h.area.service.render("profile", "de", "de", "master")).body)
    assert doc["strings"]["saved"] == "Ihr Profil wurde gespeichert."  # de has it
    h.twin.set_copy("publish", "de", "profile", None)
    h.area.service.evict("profile", None)
    doc = json.loads((await h.area.service.render("profile", "de", "de", "master")).body)
    assert doc["missing"] == ["saved"] and "saved" not in doc["strings"]
