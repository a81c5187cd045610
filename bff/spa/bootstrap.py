"""The bootstrap block: what the SPA's first paint needs, embedded in the HTML so it needs no
extra round trip: the locale, the copy of the first screen (``common`` plus the screen's
journey, in the same JSON shape ``GET /bff/content/{journey}`` answers), the signed-in user
(``Principal.public_view()``, never a token) and the few settings the screens mirror.

It sits in ``<script type="application/json" id="bootstrap">``: the browser never executes
it, but the HTML parser still ends the element at the first ``</script``, so the JSON is
written with ``<``, ``>``, ``&`` and ``'`` as ``\\u`` escapes (:func:`script_json`). Copy comes
from AEM and names come from Okta profiles: both are attacker-influenced text.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from typing import Any, Protocol

from babel import Locale, UnknownLocaleError
from markupsafe import Markup

from bff.settings import Settings
from bff.signup.forms import describe_signup

log = logging.getLogger("bff.spa")

_SCRIPT_ESCAPES = {
    ord("<"): "\\u003c",
    ord(">"): "\\u003e",
    ord("&"): "\\u0026",
    ord("'"): "\\u0027",
    0x2028: "\\u2028",
    0x2029: "\\u2029",
}


def script_json(value: Any) -> Markup:
    """JSON safe to place verbatim inside a ``<script>`` element (and valid ``JSON.parse`` input)."""
    text = json.dumps(value, ensure_ascii=False, separators=(",", ":"), sort_keys=True)
    return Markup(text.translate(_SCRIPT_ESCAPES))  # noqa: S704 - escaped just above


class CopySource(Protocol):
    async def __call__(self, journey: str, requested: str, locale: str, *, preview: bool,
                       variation: str) -> Mapping[str, Any] | None:
        """The ``/bff/content/{journey}`` body for the negotiated ``locale`` (``requested`` is
        what the browser asked for), or None when unavailable."""
        ...


def locale_choices(settings: Settings) -> list[dict[str, str]]:
    """Each configured locale with its name in its own language (the switcher's labels)."""
    out = []
    for code in settings.content.locales:
        try:
            loc = Locale.parse(code, sep="-")
            name = loc.get_display_name(loc) or code
            name = name[:1].upper() + name[1:]
        except (ValueError, UnknownLocaleError):
            name = code
        out.append({"code": code, "name": name, "dir": text_direction(code)})
    return out


def text_direction(locale: str) -> str:
    try:
        return "rtl" if Locale.parse(locale, sep="-").text_direction == "rtl" else "ltr"
    except (ValueError, UnknownLocaleError):
        return "ltr"


def client_settings(settings: Settings) -> dict[str, Any]:
    """Settings the screens mirror (CSRF header, sign-up form shape, profile fields).

    ``signupForm`` is exactly what ``GET /bff/signup`` answers, so the sign-up screen renders
    and validates without a round trip. ``signinMode`` (``BFF_SIGNIN_MODE``) picks the sign-in
    screens: ``embedded`` (the SPA's own step screens on ``/bff/signin``) or ``redirect``
    (a button to ``/bff/login``)."""
    return {
        "csrf": {"header": settings.session.csrf_header, "value": settings.session.csrf_value},
        "idpDiscovery": bool(settings.okta.idp_discovery),
        "signinMode": settings.signin.mode,
        "signup": {"password": settings.signup.password_mode, "org": settings.signup.org_mode},
        "profileFields": list(settings.signup.profile_fields),
        "previewGroup": settings.content.preview_group,
        "adminGroups": list(settings.okta.admin_groups),
        "defaultLocale": settings.content.default_locale,
        "signupForm": describe_signup(settings.signup, settings.content.locales),
    }


def build_bootstrap(settings: Settings, *, locale: str, page: str, copy: Mapping[str, Any],
                    user: Mapping[str, Any] | None, assets: Mapping[str, str] | None = None,
                    static: bool = False, client: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """``client``: :func:`client_settings` computed once (it only depends on ``settings``)."""
    return {
        "v": 1,
        "static": static,
        "locale": locale,
        "dir": text_direction(locale),
        "locales": locale_choices(settings),
        "page": page,
        "copy": dict(copy),
        "user": dict(user) if user is not None else None,
        "settings": dict(client) if client is not None else client_settings(settings),
        "assets": dict(assets or {}),  # non-module assets by logical name (images)
    }
