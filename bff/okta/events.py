"""Okta event hook deliveries: the LogEvents they carry, and their dispatch by event type.

A delivery is ``{"eventType": "com.okta.event_hook", ..., "data": {"events": [LogEvent, ...]}}``
(at least once, possibly out of order, batched; answered within 3 s). :func:`parse_delivery`
reads the events into :class:`LogEvent` (only the fields the BFF uses, each checked for type
and size; an event of another shape is skipped, a delivery of another shape is a ValueError),
and :class:`EventHook` hands each event type's events to the handlers registered for it::

    hook = EventHook()
    hook.on("user.lifecycle.create", signup.accept_created)      # bff.signup
    hook.on("user.lifecycle.deactivate", end_sessions)           # bff.auth.revocation
    counts = await hook.deliver(events)                          # {"accepted": 1, ...}

Handlers take the events of their type (in delivery order) and return counters for the answer;
an event type nobody registered for is ignored. Handlers of one type run one after the other, in
registration order; a handler that raises fails the delivery (Okta retries it once), so a
handler must be idempotent (events are delivered at least once anyway).

Standard library only, like the rest of :mod:`bff.okta`.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

MAX_EVENTS = 500
_ID = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
_EVENT_TYPE = re.compile(r"^[a-z0-9_.]{1,100}$")
_SESSION_ID = re.compile(r"^[A-Za-z0-9_.:-]{1,128}$")


@dataclass(frozen=True)
class Party:
    """An actor or target of a LogEvent (``type`` ``User``, ``AppInstance``, ...)."""

    id: str
    type: str
    alternate_id: str  # a user's login; "" when absent


@dataclass(frozen=True)
class LogEvent:
    uuid: str
    event_type: str
    published: str  # as Okta wrote it (ISO 8601, UTC); "" when absent or unreadable
    published_at: float | None  # the same instant in epoch seconds; None when unreadable
    succeeded: bool  # outcome.result is SUCCESS (or absent)
    actor: Party | None
    targets: tuple[Party, ...]
    #: authenticationContext.externalSessionId: the Okta session (the ID token's ``sid``)
    external_session_id: str | None

    def users(self) -> tuple[Party, ...]:
        """The ``User`` targets."""
        return tuple(t for t in self.targets if t.type == "User")


Handler = Callable[[Sequence[LogEvent]], Awaitable[Mapping[str, int]]]


def _party(value: Any) -> Party | None:
    if not isinstance(value, dict):
        return None
    pid, ptype, alternate = value.get("id"), value.get("type"), value.get("alternateId")
    if not isinstance(pid, str) or not _ID.match(pid) or not isinstance(ptype, str) or len(ptype) > 64:
        return None
    return Party(pid, ptype, alternate if isinstance(alternate, str) and len(alternate) <= 256 else "")


def _published(value: Any) -> tuple[str, float | None]:
    if isinstance(value, str) and len(value) <= 40:
        try:
            when = datetime.fromisoformat(value.replace("Z", "+00:00"))
            return value, (when if when.tzinfo else when.replace(tzinfo=UTC)).timestamp()
        except ValueError:
            pass
    return "", None


def _event(value: Any) -> LogEvent | None:
    if not isinstance(value, dict):
        return None
    uuid, event_type = value.get("uuid"), value.get("eventType")
    if not isinstance(uuid, str) or not 0 < len(uuid) <= 64:
        return None
    if not isinstance(event_type, str) or not _EVENT_TYPE.match(event_type):
        return None
    outcome = value.get("outcome")
    result = outcome.get("result") if isinstance(outcome, dict) else None
    raw_targets = value.get("target")
    targets = tuple(p for p in map(_party, raw_targets[:50]) if p is not None) \
        if isinstance(raw_targets, list) else ()
    context = value.get("authenticationContext")
    external = context.get("externalSessionId") if isinstance(context, dict) else None
    published, published_at = _published(value.get("published"))
    return LogEvent(
        uuid=uuid, event_type=event_type, published=published, published_at=published_at,
        succeeded=result in (None, "SUCCESS"), actor=_party(value.get("actor")), targets=targets,
        external_session_id=external if isinstance(external, str) and _SESSION_ID.match(external) else None)


def parse_delivery(body: Mapping[str, Any]) -> tuple[list[LogEvent], int]:
    """The well-formed events of one delivery, and how many events it held in all. ValueError
    when ``data.events`` is not a list of at most :data:`MAX_EVENTS`."""
    data = body.get("data")
    events = data.get("events") if isinstance(data, dict) else None
    if not isinstance(events, list):
        raise ValueError("Expected data.events to be a list")
    if len(events) > MAX_EVENTS:
        raise ValueError(f"At most {MAX_EVENTS} events per delivery")
    return [e for e in map(_event, events) if e is not None], len(events)


class EventHook:
    """Event type → its handlers (see the module docstring)."""

    def __init__(self) -> None:
        self._handlers: dict[str, list[Handler]] = {}

    def on(self, event_type: str, handler: Handler) -> None:
        if not _EVENT_TYPE.match(event_type):
            raise ValueError(f"not an Okta event type: {event_type!r}")
        self._handlers.setdefault(event_type, []).append(handler)

    @property
    def event_types(self) -> frozenset[str]:
        """Every event type some handler subscribed to (what the Okta hook should deliver)."""
        return frozenset(self._handlers)

    async def deliver(self, events: Sequence[LogEvent]) -> dict[str, int]:
        """Run the handlers of each event type present; their counters, summed."""
        by_type: dict[str, list[LogEvent]] = {}
        for event in events:
            if event.event_type in self._handlers:
                by_type.setdefault(event.event_type, []).append(event)
        counts: dict[str, int] = {}
        for event_type, batch in by_type.items():
            for handler in self._handlers[event_type]:
                for name, value in (await handler(batch)).items():
                    counts[name] = counts.get(name, 0) + value
        return counts
