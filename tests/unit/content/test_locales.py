from __future__ import annotations

import pytest

from bff.content.locales import LocalePolicy, Resolved, from_aem, to_aem
from bff.errors import BadRequest

POLICY = LocalePolicy(("en", "fr", "fr-CA", "de", "es", "ja"), "en")


def test_aem_folder_names() -> None:
    assert to_aem("fr-CA") == "fr_ca"
    assert from_aem("fr_ca") == "fr-CA"
    assert from_aem("fr_ca_x") is None
    assert to_aem("en") == "en"


def test_resolution_order_param_cookie_header_default() -> None:
    assert POLICY.resolve("de", "fr", "ja") == Resolved("de", "de")
    assert POLICY.resolve(None, "fr", "ja") == Resolved("fr", "fr")
    assert POLICY.resolve(None, None, "ja, en;q=0.5") == Resolved("ja", "ja")
    assert POLICY.resolve(None, None, None) == Resolved("en", "en")
    # A malformed cookie is ignored (the user can't easily fix it); the header decides.
    assert POLICY.resolve(None, "%%%", "es") == Resolved("es", "es")
    # A well-formed but unsupported cookie falls through to the header too.
    assert POLICY.resolve(None, "pt-BR", "de") == Resolved("de", "de")


def test_negotiation_via_babel() -> None:
    assert POLICY.resolve("fr-BE", None, None) == Resolved("fr-BE", "fr")
    assert POLICY.resolve("fr_ca", None, None) == Resolved("fr-CA", "fr-CA")
    assert POLICY.resolve("pt-BR", None, None) == Resolved("pt-BR", "en")
    # q-values decide between supported languages; region-only matches fall back to the language.
    assert POLICY.resolve(None, None, "pt-PT, de-AT;q=0.8, fr;q=0.5") == Resolved("pt-PT", "de")
    assert POLICY.resolve(None, None, "pt-PT") == Resolved("pt-PT", "en")


def test_malformed_param_is_a_400() -> None:
    with pytest.raises(BadRequest) as err:
        POLICY.resolve("fr--CA", None, None)
    assert err.value.instance_code == "invalid_locale"


def test_chain() -> None:
    assert POLICY.chain("fr-CA") == ("fr-CA", "fr", "en")
    assert POLICY.chain("fr") == ("fr", "en")
    assert POLICY.chain("en") == ("en",)
    assert LocalePolicy(("en", "es-419"), "en").chain("es-419") == ("es-419", "en")


def test_default_is_always_supported() -> None:
    policy = LocalePolicy(("fr", "de"), "en")
    assert policy.supported[0] == "en"
    assert policy.resolve("it", None, None).locale == "en"
