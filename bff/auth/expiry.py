"""Counting the sessions the store forgets at their deadline, so ``bff_sessions_ended_total``
has its ``idle`` and ``lifetime`` ends and not only the ones a request happens to meet.

Every store forgets a session record at its ``expires_at`` (the idle deadline, the absolute
lifetime or the refresh token's expiry, whichever comes first) without telling anyone: a
Redis TTL, a SQLite or DynamoDB row past its time. So each instance watches the deadlines of
the sessions it wrote (:meth:`ExpiryWatch.note`, from the session manager's create and every
write) and, a little after one passes (:meth:`ExpiryWatch.sweep`, every ``interval`` seconds),
asks the store:

- the record is still there: another instance extended it; watch its new deadline;
- it is gone: the session ended. An explicit end (logout, revocation, back-channel, replaced)
  has already written the tombstone ``ended:<id>`` (:meth:`ExpiryWatch.ended`, the stores'
  ``claim_once``) and was counted under its own reason; otherwise this instance claims the
  tombstone itself and counts ``lifetime`` (the deadline was the hard one) or ``idle``. The
  claim is the store's set-if-absent, so of several instances that watched one session exactly
  one counts it, and never on top of an explicit end.

Only while metrics are on (``bff.auth.component`` builds no watch otherwise). What it does not
see: the sessions of an instance that stopped before their deadline (its watch list is in
memory), and sessions ended by ``end_for`` (a back-channel logout naming only an IdP session,
whose ids the store does not return), which a watcher may count as idle as well. The watch
keeps at most ``max_watched`` sessions (``overflowed`` counts the ones it had to ignore).
"""

from __future__ import annotations

import asyncio
import heapq
import logging
import time
from collections.abc import Callable

from bff.errors import Unavailable
from bff.observability import metrics
from bff.sessions.store import SessionRecord, SessionStore

log = logging.getLogger("bff.auth")

TOMBSTONE = "ended:"


class ExpiryWatch:
    def __init__(self, store: SessionStore, *, tombstone_ttl: float,
                 hard_deadline_of: Callable[[SessionRecord], float | None],
                 interval: float = 15.0, grace: float = 5.0, max_watched: int = 200_000,
                 clock: Callable[[], float] = time.time) -> None:
        self.store = store
        self.hard_deadline_of = hard_deadline_of  # the manager's: decrypts the record
        self.tombstone_ttl = tombstone_ttl  # outlives any deadline: the absolute lifetime and more
        self.interval = interval
        self.grace = grace  # after the deadline: the store has surely forgotten by then
        self.max_watched = max_watched
        self.clock = clock
        self.overflowed = 0
        self._heap: list[tuple[float, str]] = []  # (when to check, id): about one per session
        #: id -> (deadline, hard deadline, when its heap entry is due). A write that slides the
        #: deadline later (every touch) pushes nothing: the due entry is moved when it comes up.
        self._watched: dict[str, tuple[float, float, float]] = {}

    def __len__(self) -> int:
        return len(self._watched)

    def note(self, session_id: str, deadline: float, hard_deadline: float) -> None:
        """The session was written with this deadline (replacing any earlier one)."""
        known = self._watched.get(session_id)
        if known is None and len(self._watched) >= self.max_watched:
            self.overflowed += 1
            return
        due = known[2] if known is not None and known[2] <= deadline else deadline
        if known is None or due != known[2]:  # new, or the deadline moved earlier
            heapq.heappush(self._heap, (due, session_id))
        self._watched[session_id] = (deadline, hard_deadline, due)

    async def ended(self, session_ids: list[str]) -> None:
        """The sessions were ended explicitly (and counted under that reason): tombstone them so
        no instance counts them again when their deadline passes."""
        for session_id in session_ids:
            self._watched.pop(session_id, None)
        try:
            await asyncio.gather(*(self.store.claim_once(TOMBSTONE + sid, self.tombstone_ttl)
                                   for sid in session_ids))
        except Unavailable:
            log.warning("could not mark ended sessions (store unavailable): they may count as expired")

    async def sweep(self) -> int:
        """Check every session whose deadline passed ``grace`` ago; returns how many it counted."""
        now = self.clock()
        counted = 0
        while self._heap and self._heap[0][0] + self.grace <= now:
            due, session_id = heapq.heappop(self._heap)
            known = self._watched.get(session_id)
            if known is None or known[2] != due:
                continue  # ended here, or an entry superseded by an earlier one
            deadline, hard, _ = known
            if deadline > due:  # written again since, with a later deadline: check it then
                self._watched[session_id] = (deadline, hard, deadline)
                heapq.heappush(self._heap, (deadline, session_id))
                continue
            del self._watched[session_id]
            try:
                record = await self.store.get(session_id)
                if record is not None:  # extended by another instance
                    self.note(session_id, record.expires_at, self.hard_deadline_of(record) or hard)
                    continue
                if not await self.store.claim_once(TOMBSTONE + session_id, self.tombstone_ttl):
                    continue  # ended explicitly, or counted by another instance
            except Unavailable:
                self.note(session_id, deadline, hard)  # checked again on the next sweep
                raise
            metrics.SESSIONS_ENDED.inc("lifetime" if deadline >= hard else "idle")
            counted += 1
        return counted

    async def run(self) -> None:
        """Sweep every ``interval`` seconds until cancelled; a store outage skips a sweep."""
        while True:
            await asyncio.sleep(self.interval)
            try:
                await self.sweep()
            except Unavailable:
                log.warning("session expiry sweep skipped (store unavailable)")
            except Exception:  # a bug must not end the watch for the process's lifetime
                log.exception("session expiry sweep failed")
