"""Every Okta i18n key the sign-in can show has localized copy (``okta.<key>`` in the ``signin``
journey, bundled defaults in every locale): the keys of every real fixture and every key the
twin's journeys can produce (read from the twin's source: each ``…message(text, key)`` call);
an unknown key falls back to ``okta.generic.<class>`` (spa-shell/assets/js/signinCopy.js).
The SPA's step screens also name authenticators and methods by key: those have copy too."""

from __future__ import annotations

import ast
import json

from bff.settings import REPO_ROOT
from bff.signin.idx import parse_state
from bff.signin.steps import MESSAGE_CLASSES, to_step
from tests.unit.signin.samples import ALL, load

COPY = REPO_ROOT / "content" / "copy"
TWIN = REPO_ROOT / "dev" / "bff_dev" / "twins" / "okta"
LOCALES = ("en", "fr", "de", "es", "ja")
#: fr-CA holds overrides only: its strings are fr's, then en's, per key (the BFF's fallback).
FALLBACK = {"fr-CA": ("fr-CA", "fr", "en")}
#: What the twin's journeys answer (dev/bff_dev/twins/okta/idx.py), beyond the fixtures' keys.
TWIN_KEYS = {"incorrectPassword", "api.authn.error.PASSCODE_INVALID", "errors.E0000004",
             "idx.session.expired", "security.access_denied", "model.validation.field.blank",
             "password.passwordRequirementsNotMet"} | {
    f"authfactor.webauthn.error.{reason}" for reason in (  # dev/bff_dev/twins/okta/webauthn.py
        "assertion_validation_failure", "clientdata_challenge_mismatch", "clientdata_origin_mismatch",
        "clientdata_message_type_mismatch", "clientdata_parsing_failed", "invalid_enrollment_request_data")}


def _fixture_keys() -> set[str]:
    keys: set[str] = set()
    for name in ALL:
        doc = load(name)
        if name.startswith("oauth2-"):  # OAuth answers, not IDX states
            continue
        step = to_step(parse_state(doc))
        keys |= {m["key"] for m in step["messages"] if isinstance(m, dict) and isinstance(m.get("key"), str)}
    return keys


def _twin_keys() -> set[str]:
    """The i18n key of every message the twin builds (``_message`` / ``idx_message``)."""
    keys: set[str] = set()
    for path in TWIN.glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text("utf-8"))):
            if not isinstance(node, ast.Call) or len(node.args) < 2:
                continue
            name = node.func.id if isinstance(node.func, ast.Name) else getattr(node.func, "attr", "")
            key = node.args[1]
            if name.endswith("message") and isinstance(key, ast.Constant) and isinstance(key.value, str):
                keys.add(key.value)
    return keys


def _strings(locale: str) -> dict[str, str]:
    merged: dict[str, str] = {}
    for loc in reversed(FALLBACK.get(locale, (locale, "en"))):
        path = COPY / loc / "signin.json"
        if path.exists():
            merged.update(json.loads(path.read_text(encoding="utf-8")))
    return merged


def test_the_twin_s_keys_are_found() -> None:
    found = _twin_keys()
    # The WebAuthn keys are built at run time (f"authfactor.webauthn.error.{reason}"): listed by hand.
    static = {k for k in TWIN_KEYS if not k.startswith("authfactor.webauthn.")}
    assert static <= found, "the twin's message calls changed shape: the scan misses keys"
    assert "oie.selfservice.unlock_user.success.message" in found


def test_every_reachable_okta_key_has_copy_in_every_locale() -> None:
    wanted = _fixture_keys() | _twin_keys() | TWIN_KEYS
    assert "incorrectPassword" in wanted and "tooManyRequests" in wanted
    for locale in (*LOCALES, "fr-CA"):
        strings = _strings(locale)
        missing = sorted(k for k in wanted if f"okta.{k}" not in strings)
        assert not missing, f"{locale}: no copy for {missing}"
        assert all(f"okta.generic.{cls}" in strings for cls in MESSAGE_CLASSES), locale


def test_the_step_screens_words_exist_in_every_locale() -> None:
    """Every signin key the English copy has, the other complete locales have too (the step
    screens' keys included: authenticators, methods, field codes, password rules)."""
    english = set(_strings("en"))
    for key in ("authenticator.okta_verify", "authenticator.other", "method.sms", "error.field.required",
                "password.rule.minLength", "step.unsupported.body", "idp.button"):
        assert key in english, key
    for locale in LOCALES[1:]:
        missing = sorted(english - set(json.loads((COPY / locale / "signin.json").read_text("utf-8"))))
        assert not missing, f"{locale}: no copy for {missing}"


def test_a_message_with_an_unknown_key_has_the_generic_sentence_of_its_class() -> None:
    """What signinCopy.js falls back to: never Okta's English text."""
    for locale in (*LOCALES, "fr-CA"):
        strings = _strings(locale)
        for cls in MESSAGE_CLASSES:
            assert strings[f"okta.generic.{cls}"].strip(), (locale, cls)
