"""Assembling a journey's copy for a locale: per-key fallback over the locale chain, and the
response body (bytes + strong ETag) precomputed once per combination of cache entries.

For ``fr-CA`` the chain is ``fr-CA`` → ``fr`` → ``en`` (the default). Each locale's strings
come from its cache entry (AEM), or from the bundled copy when AEM failed and nothing is
cached. A key is served from the first locale that has it; ``fallbacks`` names the locale of
every key not served from the requested one; ``missing`` lists keys of the contract (bundled
``en``) that no locale of the chain has (an authoring gap in AEM). When AEM has no fragment at
all for the default locale, the bundled default stands in (a journey never renders empty).

The hot path (all entries fresh, body already built) does no await, no JSON encoding and no
hashing: one dictionary look-up and a clock read.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import cachetools

from bff.content.aem import AemClient, Fragment
from bff.content.bundle import CopyBundle, Strings
from bff.content.cache import Entry, FragmentCache, Key, Source
from bff.content.locales import LocalePolicy, to_aem
from bff.errors import BFFError
from bff.observability import metrics

log = logging.getLogger("bff.content")

_SEVERITY: dict[str, int] = {"cache": 0, "aem": 1, "stale": 2, "bundled": 3}
_EMPTY: Mapping[str, str] = {}


@dataclass(frozen=True)
class Rendered:
    body: bytes
    etag: str
    source: Source
    preview: bool = False


def _etag(body: bytes) -> str:
    return '"' + hashlib.blake2b(body, digest_size=16).hexdigest() + '"'


def merge(journey: str, requested: str, locale: str, docs: Sequence[tuple[str, Strings]],
          contract: Strings | None, source: str, preview: bool) -> dict[str, Any]:
    """The response document: ``docs`` is the chain ``[(locale, strings), ...]`` best first."""
    strings: dict[str, str] = {}
    fallbacks: dict[str, str] = {}
    missing: list[str] = []
    # Contract order first (stable, readable output), then keys only AEM knows.
    keys = dict.fromkeys(contract or _EMPTY)
    for _, doc in docs:
        keys.update(dict.fromkeys(doc))
    for key in keys:
        for served_by, doc in docs:
            text = doc.get(key)
            if text is not None:
                strings[key] = text
                if served_by != locale:
                    fallbacks[key] = served_by
                break
        else:
            missing.append(key)
    return {"journey": journey, "requested": requested, "locale": locale, "strings": strings,
            "fallbacks": fallbacks, "missing": missing, "source": source, "preview": preview}


def encode(doc: Mapping[str, Any]) -> bytes:
    return json.dumps(doc, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


class ContentService:
    def __init__(self, *, bundle: CopyBundle, policy: LocalePolicy, cache: FragmentCache,
                 author: AemClient | None = None, memo_size: int = 2048) -> None:
        self.bundle = bundle
        self.policy = policy
        self.cache = cache
        self.author = author
        # (journey, requested, locale, variation, source) -> (the entries' ids, response)
        self._memo: cachetools.LRUCache[tuple[str, ...], tuple[tuple[Any, ...], Rendered]] = (
            cachetools.LRUCache(memo_size))
        # (journey, requested, locale, variation) -> (fresh until, cache generation, response)
        self._hot: dict[tuple[str, str, str, str], tuple[float, int, Rendered]] = {}
        self._hot_max = memo_size

    # -- published copy (shared cache) -------------------------------------------------------

    def render_fresh(self, journey: str, requested: str, locale: str, variation: str) -> Rendered | None:
        """The response when it was built from entries that are all still fresh: one dict
        look-up, a clock read and two comparisons (the hot path)."""
        hot = self._hot.get((journey, requested, locale, variation))
        if hot is not None and hot[1] == self.cache.generation and self.cache.clock() < hot[0]:
            metrics.CONTENT_CACHE.inc("hit")
            return hot[2]
        return None

    async def render(self, journey: str, requested: str, locale: str, variation: str) -> Rendered:
        hit = self.render_fresh(journey, requested, locale, variation)
        if hit is not None:
            return hit
        generation = self.cache.generation
        chain = self.policy.chain(locale)
        results = await asyncio.gather(*(self.cache.get(Key(journey, loc, variation)) for loc in chain))
        source: Source = "cache"
        ids: list[Any] = []
        docs: list[tuple[str, Strings]] = []
        for loc, (entry, src) in zip(chain, results, strict=True):
            if src == "bundled":
                metrics.CONTENT_FALLBACK.inc()
            if _SEVERITY[src] > _SEVERITY[source]:
                source = src
            strings, ident = self._strings_of(journey, loc, entry)
            ids.append(ident)
            if strings is not None:
                docs.append((loc, strings))
        # One rendering per request key, valid for the entries it was built from: a refetched
        # entry (a new serial) replaces the rendering instead of adding one beside it. (Keyed by
        # the entries' ids, the memo kept a rendering of every generation of every entry until
        # LRU eviction: ~12 KiB per refetch, 2,048 of them, the soak test's RSS growth.)
        memo_key = (journey, requested, locale, variation, source)
        built_from = tuple(ids)
        memo = self._memo.get(memo_key)
        if memo is not None and memo[0] == built_from:
            hit = memo[1]
        else:
            contract = self.bundle.strings(self.policy.default, journey)
            body = encode(merge(journey, requested, locale, docs, contract, source, False))
            hit = Rendered(body, _etag(body), source)
            self._memo[memo_key] = (built_from, hit)
        if source == "cache" and generation == self.cache.generation:
            # Every entry was fresh: serve these bytes until the first of them expires.
            deadline = min(entry.fetched_at for entry, _ in results if entry is not None) + self.cache.ttl
            if len(self._hot) >= self._hot_max:
                self._hot.clear()
            self._hot[(journey, requested, locale, variation)] = (deadline, generation, hit)
        return hit

    def _strings_of(self, journey: str, locale: str, entry: Entry | None) -> tuple[Strings | None, Any]:
        if entry is None:  # AEM failed, nothing cached
            return self.bundle.strings(locale, journey), ("bundled", locale)
        if entry.fragment is not None:
            return entry.fragment.strings, entry.serial
        if locale == self.policy.default:
            log.warning("AEM has no %s fragment for journey %s; serving the bundled copy", locale, journey)
            return self.bundle.strings(locale, journey), entry.serial
        return None, entry.serial

    # -- preview (author tier, no shared cache) ----------------------------------------------

    async def render_preview(self, journey: str, requested: str, locale: str, variation: str) -> Rendered:
        """Draft copy from the author tier for a content author; a locale the author tier
        cannot deliver falls back to the published path (cache, stale or bundled)."""
        chain = self.policy.chain(locale)
        source: Source = "aem"
        docs: list[tuple[str, Strings]] = []
        fetched = await asyncio.gather(*(self._author_fetch(journey, loc, variation) for loc in chain))
        for loc, result in zip(chain, fetched, strict=True):
            if isinstance(result, BFFError) or self.author is None:
                entry, src = await self.cache.get(Key(journey, loc, variation))
                if _SEVERITY[src] > _SEVERITY[source]:
                    source = src
                strings, _ = self._strings_of(journey, loc, entry)
            else:
                strings = result.strings if result is not None else (
                    self.bundle.strings(loc, journey) if loc == self.policy.default else None)
            if strings is not None:
                docs.append((loc, strings))
        contract = self.bundle.strings(self.policy.default, journey)
        body = encode(merge(journey, requested, locale, docs, contract, source, True))
        return Rendered(body, _etag(body), source, preview=True)

    async def _author_fetch(self, journey: str, locale: str, variation: str) -> Fragment | None | BFFError:
        if self.author is None:
            return None
        try:
            return await self.author.fetch_copy(journey, to_aem(locale), variation)
        except BFFError as exc:
            log.warning("AEM author fetch %s/%s failed: %s", journey, locale, exc.instance_code)
            return exc

    # -- invalidation ------------------------------------------------------------------------

    def evict(self, journey: str | None, locale: str | None) -> int:
        return self.cache.evict(journey, locale)
