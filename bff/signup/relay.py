"""The outbox relay: the background task that moves events from the outbox to SNS.

One per process, started by the component's lifespan and stopped cleanly with it. It wakes
when an entry is added (:meth:`Relay.kick`) or when the earliest retry is due, claims due
entries (with a lease, so processes sharing an outbox never publish one entry concurrently),
fills in the Okta profile for entries that came from the event hook, publishes, and marks the
entry sent. A failure schedules the next attempt with capped exponential backoff and full
jitter; entries are retried FOREVER (an outage of any length delays events, never drops them)
except the ones that can never succeed (the user no longer exists in Okta: ``dead``, logged).

The relay announces only ACTIVE users (issue 11: never an account whose email is unverified).
When it reads the profile of a hook entry, a user Okta reports as anything but ``ACTIVE`` is not
announced: ``DEPROVISIONED`` parks the entry as ``dead``; any other status (``PROVISIONED``,
``STAGED``, ``SUSPENDED`` ...) keeps it pending with the usual backoff, so it is announced once
the user is ACTIVE (e.g. a ``user.lifecycle.activate`` that Okta logged before the address was
verified). The hook handler (:meth:`bff.signup.service.SignupService.accept_created`) already
drops such events when it can read the status; this is the check at publish time.

Account notices (:mod:`bff.signup.notices`: ``AccountLocked``, ``PasswordChanged``,
``FactorAdded``; the entry's ``kind``) go the same way, completed from the profile with its
locale; they are about an existing account in whatever state (a locked user is ``LOCKED_OUT``), so
only a user who is gone (404) or ``DEPROVISIONED`` parks the notice as ``dead``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, replace

from bff.errors import BFFError
from bff.observability import metrics, tracing
from bff.signup.events import AccountCreated
from bff.signup.notices import NOTICE_TYPES, AccountNotice
from bff.signup.okta_users import OktaUsers, UserNotFound
from bff.signup.outbox import KEEP_SENT, Outbox, OutboxEntry
from bff.signup.profile_events import EVENT_TYPE as PROFILE_UPDATED
from bff.signup.profile_events import ProfileUpdated
from bff.signup.publisher import EventPublisher, PublishFailed

log = logging.getLogger("bff.signup.relay")


@dataclass
class Backoff:
    base: float = 1.0
    cap: float = 300.0

    def delay(self, attempts: int) -> float:
        """Full jitter between ``base`` and ``min(cap, base * 2**attempts)``."""
        ceiling = min(self.cap, self.base * (2 ** min(attempts, 30)))
        return random.uniform(min(self.base, ceiling), ceiling)  # noqa: S311 - jitter, not crypto


class NotActive(BFFError):
    """The user is not ACTIVE at Okta (yet): nothing is announced."""

    title = "User not active"


class Relay:
    def __init__(self, outbox: Outbox, publisher: EventPublisher | None, okta: OktaUsers | None, *,
                 backoff: Backoff | None = None, batch: int = 25, lease: float = 60.0, concurrency: int = 4,
                 idle_poll: float = 30.0, clock: Callable[[], float] = time.time,
                 default_locale: str | None = None) -> None:
        self.outbox = outbox
        self.publisher = publisher
        self.okta = okta
        self.backoff = backoff or Backoff()
        self.batch = batch
        self.concurrency = concurrency
        self.lease = lease
        self.idle_poll = idle_poll  # also picks up entries other processes added to a shared file
        self._clock = clock
        self.default_locale = default_locale  # for hook users whose Okta profile has no locale
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._stopping = False
        self._last_purge = 0.0
        self._last_gauge = float("-inf")
        self.published = 0
        self.failures = 0

    def kick(self) -> None:
        """Something was added: look at the outbox now."""
        self._wake.set()

    def start(self) -> None:
        if self.publisher is None:
            log.warning("no BFF_ACCOUNT_TOPIC_ARN: events (AccountCreated, the account notices) stay in "
                        "the outbox until one is set")
            return
        self._task = asyncio.create_task(self._run(), name="signup-outbox-relay")

    async def stop(self) -> None:
        self._stopping = True
        self._wake.set()
        if self._task is not None:
            try:
                await asyncio.wait_for(asyncio.shield(self._task), timeout=5)
            except (TimeoutError, asyncio.CancelledError):
                self._task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await self._task
            self._task = None

    async def _run(self) -> None:
        while not self._stopping:
            try:
                await self.drain()
                await self._maybe_purge()
                await self._gauge()
                next_due = await self.outbox.next_due_at()
            except Exception:  # the relay must outlive any single failure
                log.exception("outbox relay pass failed")
                next_due = self._clock() + self.backoff.base
            timeout = self.idle_poll if next_due is None else min(self.idle_poll,
                                                                  max(0.0, next_due - self._clock()))
            self._wake.clear()
            if self._stopping:
                break
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout=timeout)

    async def drain(self, *, deadline: float | None = None) -> int:
        """Publish everything due now (claiming no new batch after ``deadline``, a
        ``time.monotonic()`` value); returns how many entries were sent."""
        sent = 0
        # A few publishes in flight at once: each is a blocking boto3 call in a worker thread.
        limit = asyncio.Semaphore(self.concurrency)

        async def deliver(entry: OutboxEntry) -> bool:
            async with limit:
                return await self._deliver(entry)

        while not self._stopping and (deadline is None or time.monotonic() < deadline):
            entries = await self.outbox.claim_due(now=self._clock(), limit=self.batch, lease=self.lease)
            if not entries:
                break
            with tracing.span("outbox.relay", {"bff.outbox.batch": len(entries)}) as sp:
                delivered = sum(await asyncio.gather(*(deliver(e) for e in entries)))
                tracing.note(sp, "bff.outbox.sent", delivered)
            sent += delivered
            if len(entries) < self.batch:
                break
        return sent

    async def _deliver(self, entry: OutboxEntry) -> bool:
        assert self.publisher is not None
        payload = entry.payload
        event: AccountCreated | AccountNotice | ProfileUpdated
        try:
            if entry.kind == PROFILE_UPDATED:  # names attributes only: published as written
                event = ProfileUpdated.from_json(payload)
            elif entry.kind in NOTICE_TYPES:
                event = AccountNotice.from_json(payload)
                if entry.needs_enrichment:
                    event = await self._enrich_notice(event)
                    payload = event.to_json()
            else:
                event = AccountCreated.from_json(payload)
                if entry.needs_enrichment:
                    event = await self._enrich(entry, event)
                    payload = event.to_json()
            await self.publisher.publish(payload, event.message_attributes(), dedupe_id=event.eventId,
                                         group_id=event.userId)
        except UserNotFound:
            log.warning("outbox entry %s: user %s no longer exists in Okta; parked as dead",
                        entry.id, entry.payload.get("userId"))
            await self.outbox.mark_dead(entry.id, error="user not found in Okta")
            return False
        except NotActive as exc:
            if exc.detail == "DEPROVISIONED":
                log.warning("outbox entry %s: user %s is DEPROVISIONED; not announced, parked as dead",
                            entry.id, entry.payload.get("userId"))
                await self.outbox.mark_dead(entry.id, error="user DEPROVISIONED at Okta")
                return False
            delay = self.backoff.delay(entry.attempts + 1)
            log.warning("outbox entry %s: user %s is %s, not ACTIVE; not announced, next look in %.1fs",
                        entry.id, entry.payload.get("userId"), exc.detail, delay)
            await self.outbox.retry_later(entry.id, next_attempt_at=self._clock() + delay,
                                          error=f"user not ACTIVE at Okta ({exc.detail})")
            return False
        except (PublishFailed, BFFError) as exc:
            self.failures += 1
            delay = self.backoff.delay(entry.attempts + 1)
            log.warning("outbox entry %s not published (attempt %d): %s; next try in %.1fs",
                        entry.id, entry.attempts + 1, exc, delay)
            enriched = payload if payload is not entry.payload else None
            await self.outbox.retry_later(entry.id, next_attempt_at=self._clock() + delay, error=str(exc),
                                          payload=enriched, needs_enrichment=False if enriched else None)
            return False
        except (TypeError, KeyError, ValueError) as exc:
            log.error("outbox entry %s is malformed (%s); parked as dead", entry.id, type(exc).__name__)
            await self.outbox.mark_dead(entry.id, error=f"malformed: {type(exc).__name__}")
            return False
        await self.outbox.mark_sent(entry.id, now=self._clock())
        self.published += 1
        log.info("published %s %s (source %s)", event.eventType, event.eventId, event.source)
        return True

    async def _enrich(self, entry: OutboxEntry, event: AccountCreated) -> AccountCreated:
        if self.okta is None:
            raise PublishFailed("Okta Management API not configured: cannot read the new user's profile")
        user = await self.okta.get_user(event.userId)
        if user.status != "ACTIVE":
            raise NotActive(user.status[:40] or "unknown")
        enriched = event.with_profile(user.profile)
        if enriched.locale is None and self.default_locale:
            enriched = replace(enriched, locale=self.default_locale)
        return enriched

    async def _enrich_notice(self, event: AccountNotice) -> AccountNotice:
        if self.okta is None:
            raise PublishFailed("Okta Management API not configured: cannot read the user's profile")
        user = await self.okta.get_user(event.userId)
        if user.status == "DEPROVISIONED":
            raise NotActive(user.status)
        enriched = event.with_profile(user.profile)
        if enriched.locale is None and self.default_locale:
            enriched = replace(enriched, locale=self.default_locale)
        return enriched

    async def _gauge(self) -> None:
        """``bff_outbox_depth{state}`` and ``bff_outbox_oldest_pending_age_seconds``, at most
        once a minute (a DynamoDB outbox counts with a scan), while metrics are on."""
        if self._clock() - self._last_gauge >= 60:
            await self.report()

    async def report(self) -> None:
        """Set the outbox gauges now (while metrics are on)."""
        now = self._clock()
        if not metrics.enabled():
            return
        self._last_gauge = now
        counts = await self.outbox.counts()
        for state in ("pending", "dead"):
            metrics.OUTBOX_DEPTH.set(counts.get(state, 0), state)
        oldest = await self.outbox.oldest_pending_at()
        metrics.OUTBOX_OLDEST_AGE.set(max(0.0, now - oldest) if oldest is not None else 0.0)

    async def _maybe_purge(self) -> None:
        now = self._clock()
        if now - self._last_purge < 3600:
            return
        self._last_purge = now
        purged = await self.outbox.purge_sent(before=now - KEEP_SENT)
        if purged:
            log.info("purged %d sent outbox entries", purged)
