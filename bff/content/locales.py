"""Which locale a request is served in, and the per-key fallback chain.

The served locale comes from (in order) the ``locale`` query parameter, the ``bff_locale``
cookie, ``Accept-Language`` (q-values honoured), then the default. Tags are read and matched
against the supported locales by :mod:`bff.http.negotiation` (exact match, then the language
alone: ``fr-BE`` → ``fr``). A malformed ``locale`` parameter is a 400; a malformed cookie or
header entry is ignored (the user cannot easily fix those). Copy is then looked up per key
along :meth:`LocalePolicy.chain`: ``fr-CA`` → ``fr`` → the default.

AEM language folders use ``fr_ca`` where the web uses ``fr-CA``: :func:`to_aem` and
:func:`from_aem` convert between the two.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass

from bff.errors import BadRequest
from bff.http.negotiation import (
    MAX_ACCEPT_LANGUAGE,
    language_tag,
    negotiate_language,
    parse_accept_language,
)

COOKIE_NAME = "bff_locale"


def to_aem(locale: str) -> str:
    """The AEM language-folder name of a locale: ``fr-CA`` → ``fr_ca``."""
    return locale.replace("-", "_").lower()


def from_aem(folder: str) -> str | None:
    """``fr_ca`` → ``fr-CA`` (None when the folder name is not a language tag)."""
    return language_tag(folder)


@dataclass(frozen=True)
class Resolved:
    requested: str  # what the client asked for (canonical form), or the default
    locale: str  # the supported locale served


class LocalePolicy:
    """Supported locales, the default, and negotiation. Results are memoised: the same few
    parameter values and headers arrive over and over."""

    def __init__(self, supported: Sequence[str], default: str) -> None:
        canon = [c for c in (language_tag(s) for s in supported) if c]
        default_c = language_tag(default) or "en"
        if default_c not in canon:
            canon.insert(0, default_c)
        self.supported: tuple[str, ...] = tuple(dict.fromkeys(canon))
        self.default = default_c
        self.negotiate = functools.lru_cache(maxsize=512)(self._negotiate)
        self.from_header = functools.lru_cache(maxsize=1024)(self._from_header)
        self.chain = functools.lru_cache(maxsize=64)(self._chain)

    def _negotiate(self, preferred: tuple[str, ...]) -> str | None:
        return negotiate_language(preferred, self.supported)

    def _from_header(self, header: str) -> Resolved | None:
        ranges = parse_accept_language(header)
        if not ranges:
            return None
        return Resolved(ranges[0], self.negotiate(tuple(ranges)) or self.default)

    def _chain(self, locale: str) -> tuple[str, ...]:
        """``fr-CA`` → (``fr-CA``, ``fr``, ``en``): the locale, its language if supported, the default."""
        out = [locale]
        lang = locale.split("-", 1)[0]
        if lang != locale and lang in self.supported:
            out.append(lang)
        out.append(self.default)
        return tuple(dict.fromkeys(out))

    def resolve(self, param: str | None, cookie: str | None, accept_language: str | None) -> Resolved:
        """Pick the served locale; raises :class:`BadRequest` for a malformed ``param``."""
        if param is not None:
            canon = language_tag(param)
            if canon is None:
                raise BadRequest("locale must be a language tag such as en, fr or fr-CA",
                                 code="invalid_locale")
            return Resolved(canon, self.negotiate((canon,)) or self.default)
        if cookie:
            canon = language_tag(cookie)
            if canon is not None:
                served = self.negotiate((canon,))
                if served is not None:
                    return Resolved(canon, served)
        # A longer header is ignored, and never reaches the memo.
        if accept_language and len(accept_language) <= MAX_ACCEPT_LANGUAGE:
            found = self.from_header(accept_language)
            if found is not None:
                return found
        return Resolved(self.default, self.default)
