"""The copy of the emails: the ``email`` journey, from AEM publish first, then the bundled copy.

AEM (when ``AEM_URL`` is set): the persisted query
``GET {AEM_URL}/graphql/execute.json/{AEM_CONFIG}/ui-copy;journey=email;locale={aem_locale}``
(``fr-CA`` → ``fr_ca``, AEM's language-folder name)
answers ``{"data":{"uiCopyList":{"items":[{"journey","strings":{key: text}}]}}}`` (see
docs/content.md). Answers are cached per locale for ``ttl`` seconds in the warm Lambda; any AEM
failure falls back to the bundled copy (``content/copy/{locale}/email.json``, shipped inside
the function bundle as ``welcome_email/copy/`` or read from the repository checkout).

Per key the locale chain is walked ``fr-CA`` → ``fr`` → default (``en``), as the BFF does;
within one locale an AEM string beats a bundled one.
"""

from __future__ import annotations

import json
import logging
import re
import time
from collections.abc import Callable, Mapping, Sequence
from functools import lru_cache
from pathlib import Path
from typing import Protocol
from urllib.parse import quote

import httpx

from fnlib.names import env

log = logging.getLogger(__name__)

JOURNEY = "email"
_LOCALE = re.compile(r"^([A-Za-z]{2,3})(?:[-_]([A-Za-z]{2}|[0-9]{3}))?(?:[-_].*)?$")


class CopyMissing(Exception):
    """No source had the keys an email needs (retried; ends in the DLQ if it persists)."""


def normalise_locale(locale: str) -> str | None:
    """``fr_ca`` / ``FR-ca`` → ``fr-CA``; ``None`` when it is not a locale at all."""
    match = _LOCALE.match(locale.strip())
    if not match:
        return None
    language, region = match.group(1).lower(), match.group(2)
    return f"{language}-{region.upper()}" if region else language


def locale_chain(locale: str, default: str = "en") -> list[str]:
    """Most specific first: ``fr-CA`` → ``["fr-CA", "fr", "en"]``."""
    chain: list[str] = []
    norm = normalise_locale(locale)
    if norm:
        chain.append(norm)
        language = norm.split("-")[0]
        if language != norm:
            chain.append(language)
    if default not in chain:
        chain.append(default)
    return chain


class CopySource(Protocol):
    def strings(self, locale: str) -> Mapping[str, str] | None: ...


def _string_map(value: object) -> dict[str, str] | None:
    if not isinstance(value, dict):
        return None
    return {str(k): v for k, v in value.items() if isinstance(v, str)}


class BundledCopy:
    """``{dir}/{locale}/email.json`` from the first directory that has it."""

    def __init__(self, dirs: Sequence[Path]) -> None:
        self._dirs = tuple(dirs)

    def strings(self, locale: str) -> Mapping[str, str] | None:
        return _load_bundled(self._dirs, locale)


@lru_cache(maxsize=64)
def _load_bundled(dirs: tuple[Path, ...], locale: str) -> dict[str, str] | None:
    for base in dirs:
        path = base / locale / f"{JOURNEY}.json"
        if path.is_file():
            try:
                return _string_map(json.loads(path.read_text(encoding="utf-8")))
            except (OSError, ValueError):
                log.warning("bundled copy unreadable", extra={"path": str(path)})
    return None


class AemCopy:
    """The ``ui-copy`` persisted query on AEM publish, cached per locale for ``ttl`` seconds."""

    def __init__(self, url: str, config: str, *, http: httpx.Client, ttl: float = 300.0,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self._base = url.rstrip("/")
        self._config = config
        self._http = http
        self._ttl = ttl
        self._clock = clock
        self._cache: dict[str, tuple[float, dict[str, str] | None]] = {}

    def url_for(self, locale: str) -> str:
        # AEM language folders are lower-case with an underscore: fr-CA → fr_ca (docs/content.md).
        aem_locale = locale.replace("-", "_").lower()
        params = f"journey={quote(JOURNEY, safe='')};locale={quote(aem_locale, safe='')}"
        return f"{self._base}/graphql/execute.json/{quote(self._config, safe='')}/ui-copy;{params}"

    def strings(self, locale: str) -> Mapping[str, str] | None:
        now = self._clock()
        cached = self._cache.get(locale)
        if cached and cached[0] > now:
            return cached[1]
        strings = self._fetch(locale)
        self._cache[locale] = (now + self._ttl, strings)
        return strings

    def _fetch(self, locale: str) -> dict[str, str] | None:
        try:
            resp = self._http.get(self.url_for(locale), headers={"Accept": "application/json"})
            resp.raise_for_status()
            items = resp.json()["data"]["uiCopyList"]["items"]
        except (httpx.HTTPError, ValueError, KeyError, TypeError) as exc:
            log.warning("AEM copy unavailable, using the bundled copy",
                        extra={"locale": locale, "error": type(exc).__name__})
            return None
        for item in items if isinstance(items, list) else []:
            if isinstance(item, dict) and item.get("journey", JOURNEY) == JOURNEY:
                return _string_map(item.get("strings"))
        return None


class CopyResolver:
    """Merges the sources along the locale chain into one key → text map."""

    def __init__(self, sources: Sequence[CopySource], default_locale: str = "en") -> None:
        self._sources = tuple(sources)  # highest priority first
        self.default_locale = default_locale

    def resolve(self, locale: str, required: Sequence[str] = ()) -> tuple[dict[str, str], str]:
        """``(strings, served_locale)``: the most specific locale that had any copy is served."""
        chain = locale_chain(locale, self.default_locale)
        merged: dict[str, str] = {}
        served = self.default_locale
        for loc in reversed(chain):
            layer: dict[str, str] = {}
            for source in reversed(self._sources):
                layer.update(source.strings(loc) or {})
            if layer:
                served = loc
            merged.update(layer)
        missing = [key for key in required if not merged.get(key)]
        if missing:
            raise CopyMissing(f"email copy has no text for {', '.join(missing)} (locale {locale})")
        return merged, served


def resolver_from_env(bundled_dirs: tuple[Path, ...]) -> CopyResolver:
    """The subscriber functions' copy: AEM publish first when ``AEM_URL`` is set (``AEM_CONFIG``,
    default ``bff``), then the bundled copy in ``bundled_dirs``; ``DEFAULT_LOCALE`` (``en``)."""
    sources: list[CopySource] = []
    if env("AEM_URL", ""):
        sources.append(AemCopy(env("AEM_URL"), env("AEM_CONFIG", "bff"),
                               http=httpx.Client(timeout=httpx.Timeout(3.0, connect=2.0))))
    sources.append(BundledCopy(bundled_dirs))
    return CopyResolver(sources, default_locale=env("DEFAULT_LOCALE", "en"))
