"""bff.auth.expiry: the sessions the store forgets at their deadline are counted as ended
(idle / lifetime) exactly once, across instances, and never on top of an explicit end."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from prometheus_client import generate_latest

from bff.auth.expiry import ExpiryWatch
from bff.errors import Unavailable
from bff.observability import metrics
from bff.sessions.memory import MemoryStore
from bff.sessions.store import SessionRecord
from tests.unit.auth.test_sessions import Clock, World, request_with, world  # noqa: F401 (fixture)

HOUR = 3600.0


@pytest.fixture(autouse=True)
def prometheus() -> Iterator[object]:
    registry = metrics.enable("prometheus")
    yield registry
    metrics.disable()


def ended(registry: object) -> dict[str, float]:
    text = generate_latest(registry).decode()  # type: ignore[arg-type]
    out = {}
    for line in text.splitlines():
        if line.startswith("bff_sessions_ended_total{"):
            reason = line.split('reason="', 1)[1].split('"', 1)[0]
            out[reason] = float(line.rsplit(" ", 1)[1])
    return out


def record(session_id: str, expires_at: float, version: int = 1) -> SessionRecord:
    return SessionRecord(id=session_id, user_id="00u1", idp_sid=None, created_at=0.0,
                         expires_at=expires_at, version=version, data=b"sealed")


def watch_over(store: MemoryStore, clock: Clock, **kw: float) -> ExpiryWatch:
    return ExpiryWatch(store, tombstone_ttl=10 * HOUR, hard_deadline_of=lambda r: None, clock=clock,
                       **kw)  # type: ignore[arg-type]


async def watched_session(watchers: int = 1) -> tuple[Clock, MemoryStore, list[ExpiryWatch], float]:
    """A store holding session "s" (idle deadline in an hour, lifetime 8 h) that each of
    ``watchers`` watches, as the instance that wrote it would."""
    clock = Clock()
    store = MemoryStore(clock=clock)
    watches = [watch_over(store, clock) for _ in range(watchers)]
    t0 = clock.now
    await store.create(record("s", t0 + HOUR))
    for watch in watches:
        watch.note("s", t0 + HOUR, t0 + 8 * HOUR)
    return clock, store, watches, t0


async def test_an_idle_session_and_a_session_at_its_lifetime_are_counted_once(prometheus: object) -> None:
    clock = Clock()
    store = MemoryStore(clock=clock)
    watch = watch_over(store, clock)
    t0 = clock.now
    await store.create(record("idle", t0 + HOUR))
    watch.note("idle", t0 + HOUR, hard_deadline=t0 + 8 * HOUR)
    await store.create(record("old", t0 + 2 * HOUR))
    watch.note("old", t0 + 2 * HOUR, hard_deadline=t0 + 2 * HOUR)
    assert await watch.sweep() == 0  # nothing due yet
    clock.now = t0 + HOUR + 1  # past the deadline, not past the grace
    assert await watch.sweep() == 0
    clock.now = t0 + HOUR + 10
    assert await watch.sweep() == 1
    assert ended(prometheus) == {"idle": 1.0}
    clock.now = t0 + 3 * HOUR
    assert await watch.sweep() == 1
    assert await watch.sweep() == 0 and len(watch) == 0
    assert ended(prometheus) == {"idle": 1.0, "lifetime": 1.0}


async def test_a_session_written_again_is_watched_at_its_new_deadline() -> None:
    clock, store, (watch,), t0 = await watched_session()
    watch.note("s", t0 + 2 * HOUR, t0 + 8 * HOUR)  # touched here: the deadline slid
    await store.replace(record("s", t0 + 2 * HOUR, version=2), expected_version=1)
    clock.now = t0 + HOUR + 10
    assert await watch.sweep() == 0 and len(watch) == 1
    clock.now = t0 + 2 * HOUR + 10
    assert await watch.sweep() == 1


async def test_touches_do_not_grow_the_watch_and_an_earlier_deadline_is_kept() -> None:
    clock, store, (watch,), t0 = await watched_session()
    for minute in range(1, 500):  # a touch a minute: the deadline slides each time
        watch.note("s", t0 + HOUR + minute * 60, t0 + 9 * HOUR)
    assert len(watch._heap) == 1  # one entry, moved when it comes up
    watch.note("s", t0 + HOUR / 2, t0 + HOUR / 2)  # the refresh token now expires sooner
    await store.delete("s")  # and the store forgot it then
    clock.now = t0 + HOUR / 2 + 10
    assert await watch.sweep() == 1  # counted at the earlier deadline, not an hour late
    clock.now = t0 + 10 * HOUR
    assert await watch.sweep() == 0 and not watch._heap


async def test_a_session_another_instance_extended_is_not_counted_until_it_expires() -> None:
    clock, store, (watch,), t0 = await watched_session()
    await store.replace(record("s", t0 + 3 * HOUR, version=2), expected_version=1)  # elsewhere
    clock.now = t0 + HOUR + 10
    assert await watch.sweep() == 0 and len(watch) == 1  # still live: watched at its new deadline
    clock.now = t0 + 3 * HOUR + 10
    assert await watch.sweep() == 1


async def test_two_instances_count_one_expiry_once(prometheus: object) -> None:
    clock, _, (a, b), t0 = await watched_session(watchers=2)
    clock.now = t0 + HOUR + 10
    assert await a.sweep() + await b.sweep() == 1
    assert ended(prometheus) == {"idle": 1.0}


async def test_an_explicit_end_on_another_instance_is_not_counted_again() -> None:
    clock, store, (watcher, ender), t0 = await watched_session(watchers=2)
    await store.delete("s")
    await ender.ended(["s"])  # what SessionManager.end does (after counting its own reason)
    clock.now = t0 + HOUR + 10
    assert await watcher.sweep() == 0


async def test_a_store_outage_keeps_the_session_for_the_next_sweep() -> None:
    clock = Clock()

    class Flaky(MemoryStore):
        down = True

        async def get(self, session_id: str) -> SessionRecord | None:
            if self.down:
                raise Unavailable("store down")
            return await super().get(session_id)

    store = Flaky(clock=clock)
    watch = watch_over(store, clock)
    t0 = clock.now
    watch.note("s", t0 + HOUR, t0 + 8 * HOUR)
    clock.now = t0 + HOUR + 10
    with pytest.raises(Unavailable):
        await watch.sweep()
    assert len(watch) == 1
    store.down = False
    assert await watch.sweep() == 1


async def test_the_watch_is_bounded() -> None:
    clock = Clock()
    watch = watch_over(MemoryStore(clock=clock), clock, max_watched=2)
    for i in range(5):
        watch.note(f"s{i}", clock.now + HOUR, clock.now + HOUR)
    watch.note("s0", clock.now + 2 * HOUR, clock.now + 2 * HOUR)  # one already watched: kept
    assert len(watch) == 2 and watch.overflowed == 3


async def test_through_the_session_manager(world: World, prometheus: object) -> None:  # noqa: F811
    """Sign-ins and a logout through the manager: the logout counts as one, the sessions left
    to expire as idle, none twice."""
    m = world.manager()
    m.expiry = ExpiryWatch(world.store, tombstone_ttl=10 * HOUR, hard_deadline_of=m.hard_deadline_of,
                           clock=world.clock)
    kept, cookie = await world.login(m)
    gone, _ = await world.login(m)
    await m.end(gone.id)
    assert len(m.expiry) == 1
    world.clock.now += 3000  # a request before the idle deadline slides it (a write: noted again)
    assert await m.load(request_with(cookie)) is not None
    world.clock.now += 3600 + 10  # past the slid deadline (idle timeout 1 h)
    assert await m.expiry.sweep() == 1
    assert ended(prometheus) == {"logout": 1.0, "idle": 1.0}
    assert await m.load(request_with(cookie)) is None
    assert ended(prometheus) == {"logout": 1.0, "idle": 1.0}  # met afterwards: not counted again
