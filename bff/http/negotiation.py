"""Reading the request headers that decide what is sent back: ``Content-Type`` (what the
client sent), ``Accept-Language`` (which language) and ``If-None-Match`` (whether to send a
body at all). Defined once; every endpoint, the pre-routing fast paths included, uses these.

Pure functions of header values (``str``, as Starlette decodes them: latin-1), no I/O, cheap
enough for the hot path. None of them raises: a malformed header reads as absent or as no
match, and the caller decides whether that is a 4xx (a ``Content-Type`` it cannot take is a
415; a junk ``Accept-Language`` entry is skipped, the user cannot easily fix it).

Languages are a BCP 47 subset, canonicalised (``FR_ca`` → ``fr-CA``): language (2-3
letters), optional script (4 letters), optional region (2 letters or 3 digits); ``_`` is
accepted as a separator (AEM folders, POSIX habits). Matching a preference against the
supported languages is Babel's :func:`babel.negotiate_locale`: an exact match, then the
language alone (``fr-BE`` → ``fr``).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

from babel import negotiate_locale

# --------------------------------------------------------------------------------------------
# Content-Type
# --------------------------------------------------------------------------------------------


def media_type(content_type: str | None) -> str:
    """The media type of a ``Content-Type`` value, lower-cased and without parameters:
    ``"Application/JSON; charset=utf-8"`` → ``"application/json"``; absent → ``""``."""
    if not content_type:
        return ""
    return content_type.split(";", 1)[0].strip().lower()


def is_json(media: str) -> bool:
    """``application/json``, or a structured ``application/*+json`` type (RFC 6839), given a
    :func:`media_type` result."""
    return media == "application/json" or (media.startswith("application/") and media.endswith("+json"))


# --------------------------------------------------------------------------------------------
# Accept-Language
# --------------------------------------------------------------------------------------------

_TAG = re.compile(
    r"(?P<lang>[A-Za-z]{2,3})(?:[-_](?P<script>[A-Za-z]{4}))?(?:[-_](?P<region>[A-Za-z]{2}|[0-9]{3}))?"
)
#: A longer ``Accept-Language`` is ignored (and never memoised by callers): browsers send a few
#: dozen bytes.
MAX_ACCEPT_LANGUAGE = 512
_MAX_LANGUAGES = 16


def language_tag(tag: str) -> str | None:
    """``FR_ca`` → ``fr-CA``; None when ``tag`` is not a well-formed language tag (of the
    subset above: no variants, extensions or private use)."""
    if len(tag) > 16:
        return None
    m = _TAG.fullmatch(tag)  # not match(): "$" would let a trailing newline through
    if m is None:
        return None
    parts = [m["lang"].lower()]
    if m["script"]:
        parts.append(m["script"].title())
    if m["region"]:
        parts.append(m["region"].upper())
    return "-".join(parts)


def parse_accept_language(header: str | None) -> list[str]:
    """The language ranges of an ``Accept-Language`` header, best first, as canonical tags:
    q-values honoured (ties keep header order), ``q=0``, ``*``, malformed entries and entries
    with parameters other than ``q`` dropped; only the first 16 entries are read, and a header
    longer than :data:`MAX_ACCEPT_LANGUAGE` reads as absent."""
    if not header or len(header) > MAX_ACCEPT_LANGUAGE:
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
            if not 0.0 <= q <= 1.0:  # also drops "nan"
                continue
        if q <= 0.0 or tag == "*":
            continue
        canon = language_tag(tag)
        if canon is not None:
            ranked.append((-q, index, canon))
    ranked.sort()
    return [tag for _, _, tag in ranked]


def negotiate_language(preferred: Iterable[str], supported: Sequence[str]) -> str | None:
    """The first of ``preferred`` (best first) that ``supported`` serves, exactly or by its
    language alone (``fr-BE`` → ``fr``), spelled as in ``supported``; None when none is.

    Babel's :func:`~babel.negotiate_locale` without its alias table, so ``en`` never turns
    into an ``en-US`` that happens to be supported (what is served is what was asked for, or
    its language). Not ``babel.Locale.negotiate``: that builds a CLDR ``Locale`` (and refuses
    tags CLDR lacks) where only the tag is needed."""
    found = negotiate_locale(preferred, supported, sep="-", aliases={})
    if found is None:
        return None
    lowered = found.lower()
    return next((s for s in supported if s.lower() == lowered), None)


# --------------------------------------------------------------------------------------------
# If-None-Match
# --------------------------------------------------------------------------------------------


def if_none_match_hits(header: str | None, etag: str) -> bool:
    """Whether an ``If-None-Match`` header matches ``etag`` (quoted, strong), so the answer is
    304: ``*``, or any listed entity tag equal to it under the weak comparison RFC 9110
    §13.1.2 prescribes for this header (a ``W/`` prefix is ignored). Absent or empty → False.

    Entity tags are split on commas: the BFF's own tags are hex digests, never containing one."""
    if not header:
        return False
    if header.strip() == "*":
        return True
    for candidate in header.split(","):
        candidate = candidate.strip()
        if candidate.startswith("W/"):
            candidate = candidate[2:]
        if candidate == etag:
            return True
    return False
