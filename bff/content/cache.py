"""The fragment cache: fresh for a TTL, then stale-while-revalidate and stale-if-error, with
single-flight fetches.

One entry per ``(journey, locale, variation)`` (a :class:`Key`), holding what AEM answered: a
fragment, or "no fragment in this locale" (AEM has no locale fallback; that answer is content
too and is cached). Life of an entry, with ``ttl`` and ``stale_ttl`` from settings::

    age < ttl                 fresh: served as "cache"
    ttl <= age < ttl+stale    stale: served as "stale" while ONE background refresh runs;
                              if AEM fails, it keeps being served (stale-if-error)
    beyond                    dropped (cachetools.TTLCache); the key is cold again

A cold key is fetched once however many requests wait for it (single-flight); a waiter gives up
after ``wait_budget`` seconds and is served stale or bundled copy while the fetch carries on
and fills the cache. After a failed fetch a key is not retried for ``holdoff`` seconds, so an
AEM outage costs each key one slow request per hold-off, not one per user.

An eviction (publish webhook) marks entries *invalidated*: the next request re-fetches in the
foreground, but the old copy remains available if that fetch fails.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Literal, NamedTuple

import cachetools

from bff.content.aem import Fragment

log = logging.getLogger("bff.content.cache")

Source = Literal["aem", "cache", "stale", "bundled"]


class Key(NamedTuple):
    journey: str
    locale: str
    variation: str


@dataclass
class Entry:
    fragment: Fragment | None  # None: AEM has no fragment for this locale
    fetched_at: float
    serial: int  # unique per fetched value: lets callers memoise what they derive from it
    invalidated: bool = False


Fetch = Callable[[Key], Awaitable[Fragment | None]]

_serials = itertools.count(1)


class FragmentCache:
    def __init__(self, fetch: Fetch, *, ttl: float, stale_ttl: float, maxsize: int = 4096,
                 wait_budget: float = 3.0, holdoff: float = 5.0,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.fetch = fetch
        self.ttl = ttl
        self.stale_ttl = stale_ttl
        self.wait_budget = wait_budget
        self.holdoff = holdoff
        self.clock = clock
        self._entries: cachetools.TTLCache[Key, Entry] = cachetools.TTLCache(
            maxsize=maxsize, ttl=ttl + stale_ttl, timer=lambda: self.clock())  # clock replaceable (tests)
        self._inflight: dict[Key, asyncio.Task[Entry | None]] = {}
        # Keys whose last fetch failed, until when they are not retried. Bounded: entries expire
        # with the hold-off and the oldest go first when full, however many keys fail at once.
        self._failed_until: cachetools.TTLCache[Key, float] = cachetools.TTLCache(
            maxsize=maxsize, ttl=max(holdoff, 0.001), timer=lambda: self.clock())
        self._evicted_in_flight: set[Key] = set()
        self._tasks: set[asyncio.Task[Entry | None]] = set()
        self.fetches = 0  # fetches started (tests, metrics)
        self.generation = 0  # bumped by every eviction: responses derived before are outdated

    # -- reading -----------------------------------------------------------------------------

    def fresh(self, key: Key) -> Entry | None:
        """The entry when it is fresh (no await: the hot path)."""
        entry = self._entries.get(key)
        if entry is not None and not entry.invalidated and self.clock() - entry.fetched_at < self.ttl:
            return entry
        return None

    async def get(self, key: Key) -> tuple[Entry | None, Source]:
        """The entry to serve and where it came from; ``(None, "bundled")`` when AEM failed and
        nothing is cached (the caller serves the bundled copy)."""
        entry = self._entries.get(key)
        now = self.clock()
        if entry is not None and not entry.invalidated:
            if now - entry.fetched_at < self.ttl:
                return entry, "cache"
            if self._failed_until.get(key, 0.0) <= now:
                self._start(key)  # stale-while-revalidate: one background refresh
            return entry, "stale"
        if self._failed_until.get(key, 0.0) > now:
            return (entry, "stale") if entry is not None else (None, "bundled")
        task = self._start(key)
        try:
            async with asyncio.timeout(self.wait_budget):
                fetched = await asyncio.shield(task)
        except TimeoutError:
            fetched = None
        if fetched is not None:
            return fetched, "aem"
        # The fetch failed or is still running: stale-if-error, else bundled.
        entry = self._entries.get(key)
        return (entry, "stale") if entry is not None else (None, "bundled")

    # -- fetching ----------------------------------------------------------------------------

    def _start(self, key: Key) -> asyncio.Task[Entry | None]:
        task = self._inflight.get(key)
        if task is None:
            task = asyncio.get_running_loop().create_task(self._refresh(key), name=f"aem-fetch-{key}")
            self._inflight[key] = task
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
        return task

    async def _refresh(self, key: Key) -> Entry | None:
        """Fetch ``key`` and store it; None on failure (never raises: nobody may be awaiting)."""
        self.fetches += 1
        try:
            fragment = await self.fetch(key)
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            self._failed_until[key] = self.clock() + self.holdoff
            self._evicted_in_flight.discard(key)
            log.warning("AEM fetch %s/%s/%s failed: %s", key.journey, key.locale, key.variation,
                        getattr(exc, "instance_code", type(exc).__name__))
            return None
        finally:
            self._inflight.pop(key, None)
        self._failed_until.pop(key, None)
        # Evicted while this fetch was in flight: AEM may have answered with the copy from before
        # the publish. Keep it (it is the newest we have) but re-fetch on the next request.
        stale_already = key in self._evicted_in_flight
        self._evicted_in_flight.discard(key)
        entry = Entry(fragment=fragment, fetched_at=self.clock(), serial=next(_serials),
                      invalidated=stale_already)
        self._entries[key] = entry
        return entry

    # -- invalidation ------------------------------------------------------------------------

    def evict(self, journey: str | None = None, locale: str | None = None) -> int:
        """Mark the entries of ``journey`` (all when None) in ``locale`` (all when None) for
        re-fetch; their copy stays usable as stale-if-error. Returns how many were marked."""
        count = 0
        self.generation += 1
        for key in self._inflight:
            if (journey is None or key.journey == journey) and (locale is None or key.locale == locale):
                self._evicted_in_flight.add(key)
        for key, entry in list(self._entries.items()):
            if (journey is None or key.journey == journey) and (locale is None or key.locale == locale):
                entry.invalidated = True
                self._failed_until.pop(key, None)
                count += 1
        return count

    def __len__(self) -> int:
        return len(self._entries)

    async def aclose(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        for task in list(self._tasks):
            with contextlib.suppress(asyncio.CancelledError):
                await task
