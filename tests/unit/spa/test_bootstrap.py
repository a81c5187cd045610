"""The bootstrap block: escaping and content."""

from __future__ import annotations

import json

from bff.spa.bootstrap import build_bootstrap, locale_choices, script_json, text_direction
from tests.support.env import make_settings


def test_script_json_survives_every_html_breakout_and_round_trips() -> None:
    value = {"a": "</script><script>alert(1)</script>", "b": "<!--", "c": "]]>", "d": "'\"&",
             "e": "\u2028\u2029", "f": "</SCRIPT >"}
    text = str(script_json(value))
    for bad in ("<", ">", "&", "'", "\u2028", "\u2029"):
        assert bad not in text
    assert json.loads(text) == value


def test_locale_names_are_endonyms_with_direction() -> None:
    choices = {c["code"]: c for c in locale_choices(make_settings())}
    assert choices["ja"]["name"] == "日本語"
    assert choices["de"]["name"] == "Deutsch"
    assert choices["fr-CA"]["name"] == "Français (Canada)"
    assert text_direction("ar") == "rtl" and text_direction("fr-CA") == "ltr"
    assert text_direction("not a locale") == "ltr"


def test_bootstrap_carries_client_settings_but_no_secrets() -> None:
    settings = make_settings(BFF_CSRF_HEADER="X-Requested-By")
    boot = build_bootstrap(settings, locale="en", page="signup", copy={}, user=None)
    assert boot["settings"]["csrf"]["header"] == "X-Requested-By"
    assert boot["settings"]["signup"]["password"] == "none"
    text = json.dumps(boot)
    for secret in settings.secret_keys + (settings.okta.client_secret or "",):
        assert secret not in text


def test_bootstrap_tells_the_spa_the_sign_in_mode() -> None:
    assert build_bootstrap(make_settings(), locale="en", page="signin", copy={},
                           user=None)["settings"]["signinMode"] == "embedded"
    redirect = make_settings(BFF_SIGNIN_MODE="redirect")
    assert build_bootstrap(redirect, locale="en", page="signin", copy={},
                           user=None)["settings"]["signinMode"] == "redirect"
