from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import pytest

from bff.okta.events import MAX_EVENTS, EventHook, LogEvent, Party, parse_delivery


def raw(**overrides: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "uuid": "e1", "published": "2025-01-31T12:00:00.000Z", "eventType": "user.session.end",
        "outcome": {"result": "SUCCESS"},
        "actor": {"id": "00u1", "type": "User", "alternateId": "a@b.co"},
        "target": [{"id": "00u2", "type": "User", "alternateId": "c@d.co"},
                   {"id": "0oa1", "type": "AppInstance"}],
        "authenticationContext": {"externalSessionId": "102abcDEF_-"},
    }
    base.update(overrides)
    return base


def test_a_log_event_is_read_with_its_users_time_and_okta_session() -> None:
    (event,), received = parse_delivery({"data": {"events": [raw()]}})
    assert received == 1
    assert event.uuid == "e1" and event.event_type == "user.session.end" and event.succeeded
    assert event.published_at == 1738324800.0
    assert event.actor == Party("00u1", "User", "a@b.co")
    assert [t.id for t in event.users()] == ["00u2"]
    assert event.external_session_id == "102abcDEF_-"


@pytest.mark.parametrize(("field", "value", "check"), [
    ("published", "yesterday", lambda e: e.published == "" and e.published_at is None),
    ("published", "2025-01-31T12:00:00", lambda e: e.published_at == 1738324800.0),  # naive = UTC
    ("outcome", {"result": "FAILURE"}, lambda e: not e.succeeded),
    ("outcome", None, lambda e: e.succeeded),
    ("authenticationContext", {"externalSessionId": "x" * 200}, lambda e: e.external_session_id is None),
    ("authenticationContext", {"externalSessionId": "a b"}, lambda e: e.external_session_id is None),
    ("authenticationContext", "garbage", lambda e: e.external_session_id is None),
    ("target", [{"id": "../x", "type": "User"}, "x", {"id": 5}], lambda e: e.users() == ()),
    ("actor", {"id": "00u1"}, lambda e: e.actor is None),
])
def test_odd_fields_read_as_absent(field: str, value: Any, check: Any) -> None:
    (event,), _ = parse_delivery({"data": {"events": [raw(**{field: value})]}})
    assert check(event)


def test_events_of_another_shape_are_skipped_but_counted() -> None:
    events, received = parse_delivery({"data": {"events": [
        raw(), "x", raw(uuid=5), raw(uuid=""), raw(eventType="User.Session End"), raw(eventType=None), {}]}})
    assert received == 7 and [e.uuid for e in events] == ["e1"]


@pytest.mark.parametrize("body", [{}, {"data": []}, {"data": {"events": {}}},
                                  {"data": {"events": [{}] * (MAX_EVENTS + 1)}}])
def test_malformed_deliveries(body: dict[str, Any]) -> None:
    with pytest.raises(ValueError):
        parse_delivery(body)


async def test_the_hook_dispatches_each_type_to_its_handlers_in_order() -> None:
    seen: list[tuple[str, list[str]]] = []

    def handler(name: str) -> Any:
        async def handle(events: Sequence[LogEvent]) -> Mapping[str, int]:
            seen.append((name, [e.uuid for e in events]))
            return {"n": len(events), name: 1}
        return handle

    hook = EventHook()
    hook.on("user.account.lock", handler("sessions"))
    hook.on("user.account.lock", handler("locked"))  # a second subscriber of the same type
    hook.on("user.lifecycle.create", handler("created"))
    events, _ = parse_delivery({"data": {"events": [
        raw(uuid="a", eventType="user.account.lock"), raw(uuid="b", eventType="user.lifecycle.create"),
        raw(uuid="c", eventType="user.account.lock"), raw(uuid="d", eventType="user.lifecycle.activate")]}})
    counts = await hook.deliver(events)
    assert seen == [("sessions", ["a", "c"]), ("locked", ["a", "c"]), ("created", ["b"])]
    assert counts == {"n": 5, "sessions": 1, "locked": 1, "created": 1}
    assert hook.event_types == {"user.account.lock", "user.lifecycle.create"}
    assert await EventHook().deliver(events) == {}
    with pytest.raises(ValueError):
        hook.on("not an event", handler("x"))
