"""Which locale a request is served in, and the per-key fallback chain.

The served locale comes from (in order) the ``locale`` query parameter, the ``bff_locale``
cookie, ``Accept-Language`` (q-values honoured), then the default. Each candidate is matched
against the supported locales with Babel's :func:`babel.negotiate_locale` (exact match, then
the language alone: ``fr-BE`` → ``fr``). A malformed ``locale`` parameter is a 400; a malformed
cookie or header entry is ignored (the user cannot easily fix those).

AEM language folders use ``fr_ca`` where the web uses ``fr-CA``: :func:`to_aem` and
:func:`from_aem` convert between the two.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Sequence
from dataclasses import dataclass

from babel import negotiate_locale

from bff.errors import BadRequest

#: BCP 47 subset: language (2-3 letters), optional script (4 letters), optional region
#: (2 letters or 3 digits). ``_`` is accepted as a separator (AEM folders, POSIX habits).
_TAG = re.compile(
    r"^(?P<lang>[A-Za-z]{2,3})(?:[-_](?P<script>[A-Za-z]{4}))?(?:[-_](?P<region>[A-Za-z]{2}|[0-9]{3}))?$"
)
_MAX_HEADER = 512
_MAX_LANGUAGES = 16

COOKIE_NAME = "bff_locale"


def canonical(tag: str) -> str | None:
    """``FR_ca`` → ``fr-CA``; None when ``tag`` is not a well-formed language tag."""
    if len(tag) > 16:
        return None
    m = _TAG.match(tag)
    if m is None:
        return None
    parts = [m["lang"].lower()]
    if m["script"]:
        parts.append(m["script"].title())
    if m["region"]:
        parts.append(m["region"].upper())
    return "-".join(parts)


def to_aem(locale: str) -> str:
    """The AEM language-folder name of a locale: ``fr-CA`` → ``fr_ca``."""
    return locale.replace("-", "_").lower()


def from_aem(folder: str) -> str | None:
    """``fr_ca`` → ``fr-CA`` (None when the folder name is not a language tag)."""
    return canonical(folder)


def parse_accept_language(header: str) -> list[str]:
    """Language ranges of an ``Accept-Language`` header, best first (q-values honoured,
    ``q=0`` and malformed entries dropped, ties kept in header order)."""
    if not header or len(header) > _MAX_HEADER:
        return []
    ranked: list[tuple[float, int, str]] = []
    for index, item in enumerate(header.split(",")[:_MAX_LANGUAGES]):
        tag, _, params = item.strip().partition(";")
        tag = tag.strip()
        q = 1.0
        params = params.strip()
        if params:
            name, _, value = params.partition("=")
            if name.strip().lower() != "q":
                continue
            try:
                q = float(value.strip())
            except ValueError:
                continue
            if not 0.0 <= q <= 1.0:
                continue
        if q <= 0.0 or tag == "*":
            continue
        canon = canonical(tag)
        if canon is not None:
            ranked.append((-q, index, canon))
    ranked.sort()
    return [tag for _, _, tag in ranked]


@dataclass(frozen=True)
class Resolved:
    requested: str  # what the client asked for (canonical form), or the default
    locale: str  # the supported locale served


class LocalePolicy:
    """Supported locales, the default, and negotiation. Results are memoised: the same few
    parameter values and headers arrive over and over."""

    def __init__(self, supported: Sequence[str], default: str) -> None:
        canon = [c for c in (canonical(s) for s in supported) if c]
        default_c = canonical(default) or "en"
        if default_c not in canon:
            canon.insert(0, default_c)
        self.supported: tuple[str, ...] = tuple(dict.fromkeys(canon))
        self.default = default_c
        self._by_lower = {s.lower(): s for s in self.supported}
        self.negotiate = functools.lru_cache(maxsize=512)(self._negotiate)
        self.from_header = functools.lru_cache(maxsize=1024)(self._from_header)
        self.chain = functools.lru_cache(maxsize=64)(self._chain)

    def _negotiate(self, preferred: tuple[str, ...]) -> str | None:
        found = negotiate_locale(preferred, self.supported, sep="-", aliases={})
        return None if found is None else self._by_lower.get(found.lower())

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
            canon = canonical(param)
            if canon is None:
                raise BadRequest("locale must be a language tag such as en, fr or fr-CA",
                                 code="invalid_locale")
            return Resolved(canon, self.negotiate((canon,)) or self.default)
        if cookie:
            canon = canonical(cookie)
            if canon is not None:
                served = self.negotiate((canon,))
                if served is not None:
                    return Resolved(canon, served)
        if accept_language and len(accept_language) <= _MAX_HEADER:  # longer ones: ignored, not memoised
            found = self.from_header(accept_language)
            if found is not None:
                return found
        return Resolved(self.default, self.default)
