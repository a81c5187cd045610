from __future__ import annotations

import asyncio
import time
from typing import Any

import pytest

import bff.signup.relay as relay_module
from bff.errors import Unavailable
from bff.signup.events import AccountCreated
from bff.signup.notices import AccountNotice
from bff.signup.notices import dedupe_key as notice_dedupe_key
from bff.signup.okta_users import OktaUser, UserNotFound
from bff.signup.outbox import MemoryOutbox
from bff.signup.publisher import MemoryPublisher
from bff.signup.relay import Backoff, Relay


class Clock:
    def __init__(self) -> None:
        self.now = time.time() + 1  # the outbox stamps entries with the real clock

    def __call__(self) -> float:
        return self.now


class FakeOkta:
    def __init__(self, users: dict[str, dict[str, Any]], fail: Exception | None = None) -> None:
        self.users = users
        self.fail = fail
        self.calls = 0
        self.statuses: dict[str, str] = {}  # user id -> Okta status (ACTIVE when not listed)

    async def create_user(
        self, profile: Any, *, password: str | None = None, activate: bool = True
    ) -> OktaUser:
        raise NotImplementedError

    async def update_profile(self, user_id: str, profile: Any) -> OktaUser:
        raise NotImplementedError

    async def get_user(self, user_id: str) -> OktaUser:
        self.calls += 1
        if self.fail:
            raise self.fail
        if user_id not in self.users:
            raise UserNotFound("gone")
        return OktaUser(user_id, self.statuses.get(user_id, "ACTIVE"), self.users[user_id])


def event(user_id: str, source: str = "bff-signup") -> AccountCreated:
    return AccountCreated.new(
        user_id=user_id,
        login=f"{user_id}@example.com",
        email=None,
        first_name="A",
        last_name="B",
        org_id="acme",
        locale="en",
        source=source,  # type: ignore[arg-type]
    )


async def add(outbox: MemoryOutbox, e: AccountCreated, enrich: bool = False) -> None:
    assert await outbox.add(
        id=e.eventId,
        dedupe_key=f"AccountCreated:{e.userId}",
        kind=e.eventType,
        payload=e.to_json(),
        needs_enrichment=enrich,
    )


async def test_drain_publishes_and_marks_sent() -> None:
    outbox, publisher, clock = MemoryOutbox(), MemoryPublisher(), Clock()
    relay = Relay(outbox, publisher, None, clock=clock)
    for uid in ("00u1", "00u2", "00u3"):
        await add(outbox, event(uid))
    assert await relay.drain() == 3
    assert [m["userId"] for m, _ in publisher.messages] == ["00u1", "00u2", "00u3"]
    assert await outbox.counts() == {"pending": 0, "sent": 3, "dead": 0}
    assert await relay.drain() == 0


async def test_failures_back_off_exponentially_and_never_give_up(monkeypatch: pytest.MonkeyPatch) -> None:
    # Full jitter made "the last delays exceed 8 s" fail about once in 600 runs: the jitter
    # sits at its ceiling here, so the delays are exactly the capped exponential ceilings.
    monkeypatch.setattr(relay_module.random, "uniform", lambda low, high: high)
    outbox, clock = MemoryOutbox(), Clock()
    publisher = MemoryPublisher(fail=RuntimeError("down"))
    relay = Relay(outbox, publisher, None, clock=clock, backoff=Backoff(base=1.0, cap=60.0))
    e = event("00u1")
    await add(outbox, e)
    delays = []
    for _ in range(12):
        assert await relay.drain() == 0
        entry = await outbox.get(e.eventId)
        assert entry is not None and entry.status == "pending"
        delays.append(entry.next_attempt_at - clock.now)
        assert await relay.drain() == 0  # not due yet: nothing is attempted
        clock.now = entry.next_attempt_at
    assert delays == pytest.approx([2, 4, 8, 16, 32] + [60] * 7)  # grows, capped
    entry = await outbox.get(e.eventId)
    assert entry is not None and entry.attempts == 12 and "down" in (entry.last_error or "")
    publisher.fail = None
    assert await relay.drain() == 1


async def test_hook_entries_are_enriched_from_okta_before_publishing() -> None:
    outbox, publisher, clock = MemoryOutbox(), MemoryPublisher(), Clock()
    okta = FakeOkta(
        {
            "00u9": {
                "firstName": "Grace",
                "lastName": "Hopper",
                "orgId": "navy",
                "locale": "en_US",
                "email": "g@example.com",
                "login": "g@example.com",
            }
        },
        fail=Unavailable("okta down"),
    )
    relay = Relay(outbox, publisher, okta, clock=clock)
    bare = AccountCreated.new(
        user_id="00u9",
        login="g@example.com",
        email=None,
        first_name=None,
        last_name=None,
        org_id=None,
        locale=None,
        source="okta-hook",
    )
    await add(outbox, bare, enrich=True)
    assert await relay.drain() == 0  # Okta unavailable: retried later like an SNS failure
    okta.fail = None
    clock.now += 1000
    assert await relay.drain() == 1
    message, attributes = publisher.messages[0]
    assert (message["firstName"], message["orgId"], message["locale"]) == ("Grace", "navy", "en-US")
    assert attributes["orgId"] == "navy"


async def test_enriched_payload_is_kept_when_only_the_publish_fails() -> None:
    outbox, clock = MemoryOutbox(), Clock()
    okta = FakeOkta({"00u9": {"firstName": "Grace", "lastName": "Hopper", "login": "g@example.com"}})
    publisher = MemoryPublisher(fail=RuntimeError("down"))
    relay = Relay(outbox, publisher, okta, clock=clock)
    bare = AccountCreated.new(
        user_id="00u9",
        login="g@example.com",
        email=None,
        first_name=None,
        last_name=None,
        org_id=None,
        locale=None,
        source="okta-hook",
    )
    await add(outbox, bare, enrich=True)
    await relay.drain()
    entry = await outbox.get(bare.eventId)
    assert entry is not None and not entry.needs_enrichment and entry.payload["firstName"] == "Grace"
    publisher.fail = None
    clock.now += 1000
    assert await relay.drain() == 1
    assert okta.calls == 1


async def test_deleted_users_and_malformed_entries_are_parked() -> None:
    outbox, publisher = MemoryOutbox(), MemoryPublisher()
    relay = Relay(outbox, publisher, FakeOkta({}))
    gone = event("00ugone", "okta-hook")
    await add(outbox, gone, enrich=True)
    await outbox.add(id="broken", dedupe_key="broken", kind="AccountCreated", payload={"nope": 1})
    assert await relay.drain() == 0
    assert await outbox.counts() == {"pending": 0, "sent": 0, "dead": 2}
    assert publisher.messages == []


async def test_background_task_wakes_on_kick_and_stops_cleanly() -> None:
    outbox, publisher = MemoryOutbox(), MemoryPublisher()
    relay = Relay(outbox, publisher, None, idle_poll=30.0)
    relay.start()
    await asyncio.sleep(0.01)
    await add(outbox, event("00u1"))
    relay.kick()
    async with asyncio.timeout(2):
        while not publisher.messages:  # noqa: ASYNC110
            await asyncio.sleep(0.005)
    await relay.stop()
    assert relay._task is None


async def test_without_a_topic_nothing_runs_and_events_wait() -> None:
    outbox = MemoryOutbox()
    relay = Relay(outbox, None, None)
    relay.start()
    await add(outbox, event("00u1"))
    relay.kick()
    await asyncio.sleep(0.02)
    assert (await outbox.counts())["pending"] == 1
    await relay.stop()


async def test_hook_users_without_a_locale_get_the_default() -> None:
    outbox, publisher = MemoryOutbox(), MemoryPublisher()
    okta = FakeOkta({"00u9": {"firstName": "Grace", "lastName": "Hopper", "login": "g@example.com"}})
    relay = Relay(outbox, publisher, okta, default_locale="en")
    bare = AccountCreated.new(
        user_id="00u9",
        login="g@example.com",
        email=None,
        first_name=None,
        last_name=None,
        org_id=None,
        locale=None,
        source="okta-hook",
    )
    await add(outbox, bare, enrich=True)
    assert await relay.drain() == 1
    assert publisher.messages[0][0]["locale"] == "en"


async def test_only_active_users_are_announced() -> None:
    """Okta may log ``user.lifecycle.activate`` for a PROVISIONED user (address unverified): the
    relay reads the status when it completes the event and publishes nothing until ACTIVE."""
    outbox, publisher, clock = MemoryOutbox(), MemoryPublisher(), Clock()
    okta = FakeOkta({"00u7": {"firstName": "Ada", "login": "ada@example.com"},
                     "00u8": {"firstName": "Old", "login": "old@example.com"}})
    okta.statuses = {"00u7": "PROVISIONED", "00u8": "DEPROVISIONED"}
    relay = Relay(outbox, publisher, okta, clock=clock)
    pending, gone = event("00u7", "okta-hook"), event("00u8", "okta-hook")
    await add(outbox, pending, enrich=True)
    await add(outbox, gone, enrich=True)
    assert await relay.drain() == 0
    assert publisher.messages == []
    entry = await outbox.get(pending.eventId)
    assert entry is not None and entry.status == "pending" and entry.needs_enrichment
    assert "PROVISIONED" in (entry.last_error or "")
    dead = await outbox.get(gone.eventId)
    assert dead is not None and dead.status == "dead"
    for status in ("STAGED", "SUSPENDED"):  # still nothing, still pending
        okta.statuses["00u7"] = status
        clock.now = entry.next_attempt_at
        assert await relay.drain() == 0 and publisher.messages == []
        entry = await outbox.get(pending.eventId)
        assert entry is not None and entry.status == "pending"
    okta.statuses["00u7"] = "ACTIVE"  # the address is verified now
    clock.now = entry.next_attempt_at
    assert await relay.drain() == 1
    assert [m["userId"] for m, _ in publisher.messages] == ["00u7"]


async def add_notice(outbox: MemoryOutbox, n: AccountNotice) -> None:
    assert await outbox.add(id=n.eventId, dedupe_key=notice_dedupe_key(n.eventType, n.oktaEventId),
                            kind=n.eventType, payload=n.to_json(), needs_enrichment=True)


async def test_notices_are_completed_from_okta_whatever_the_users_status() -> None:
    outbox, publisher, clock = MemoryOutbox(), MemoryPublisher(), Clock()
    okta = FakeOkta({"00u7": {"firstName": "Hana", "lastName": "Sato", "locale": "ja",
                              "email": "hana@acme.test", "login": "hana@acme.test"},
                     "00u8": {"login": "x@acme.test", "email": "x@acme.test"}})
    okta.statuses["00u7"] = "LOCKED_OUT"  # the lockout notice's user is locked, of course
    relay = Relay(outbox, publisher, okta, clock=clock, default_locale="en")
    locked = AccountNotice.new(notice_type="AccountLocked", okta_event_uuid="ev1", user_id="00u7",
                               login="hana@acme.test")
    changed = AccountNotice.new(notice_type="PasswordChanged", okta_event_uuid="ev2", user_id="00u8",
                                login="x@acme.test")
    await add_notice(outbox, locked)
    await add_notice(outbox, changed)
    # the same Okta event again (a redelivery): the outbox refuses it
    assert not await outbox.add(id=locked.eventId, dedupe_key=notice_dedupe_key("AccountLocked", "ev1"),
                                kind="AccountLocked", payload=locked.to_json())
    assert await relay.drain() == 2
    by_type = {m["eventType"]: (m, a) for m, a in publisher.messages}
    message, attributes = by_type["AccountLocked"]
    assert (message["firstName"], message["locale"], message["eventVersion"]) == ("Hana", "ja", 1)
    assert attributes == {"eventType": "AccountLocked", "source": "okta-hook"}
    assert by_type["PasswordChanged"][0]["locale"] == "en"  # no locale at Okta: the default


async def test_notices_of_gone_or_deprovisioned_users_are_parked() -> None:
    outbox, publisher, clock = MemoryOutbox(), MemoryPublisher(), Clock()
    okta = FakeOkta({"00u5": {"login": "d@acme.test"}})
    okta.statuses["00u5"] = "DEPROVISIONED"
    relay = Relay(outbox, publisher, okta, clock=clock)
    for uid, okta_uuid in (("00u5", "ev5"), ("00u6", "ev6")):
        await add_notice(outbox, AccountNotice.new(notice_type="FactorAdded", okta_event_uuid=okta_uuid,
                                                   user_id=uid, login=f"{uid}@acme.test"))
    assert await relay.drain() == 0
    assert publisher.messages == []
    assert await outbox.counts() == {"pending": 0, "sent": 0, "dead": 2}
