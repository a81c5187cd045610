"""Every Okta i18n key the sign-in can show has localized copy (``okta.<key>`` in the ``signin``
journey, bundled defaults in every locale): the keys of every real fixture and those the twin's
journeys produce; an unknown key falls back to ``okta.generic.<class>``."""

from __future__ import annotations

import json

from bff.settings import REPO_ROOT
from bff.signin.idx import parse_state
from bff.signin.steps import MESSAGE_CLASSES, to_step
from tests.unit.signin.samples import ALL, load

COPY = REPO_ROOT / "content" / "copy"
LOCALES = ("en", "fr", "de", "es", "ja")
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


def test_every_reachable_okta_key_has_copy_in_every_locale() -> None:
    wanted = _fixture_keys() | TWIN_KEYS
    assert "incorrectPassword" in wanted and "tooManyRequests" in wanted
    for locale in LOCALES:
        strings = json.loads((COPY / locale / "signin.json").read_text(encoding="utf-8"))
        missing = sorted(k for k in wanted if f"okta.{k}" not in strings)
        assert not missing, f"{locale}: no copy for {missing}"
        assert all(f"okta.generic.{cls}" in strings for cls in MESSAGE_CLASSES), locale
