"""The ``ProfileUpdated`` event: a user changed profile attributes (progressive profiling at a
sign-in, or the profile screen), announced on the account topic through the outbox so the
account-validation subscriber can bring the Marketo lead in step
(``infra/functions/account_validation``, ``fnlib.account_events.ProfileUpdated``).

It names the attributes, never their values: Okta's Universal Directory is the source of truth,
and the subscriber reads the current values from it, so an event that arrives late, twice or out
of order still leaves the lead right, and no profile value travels through SNS and SQS.

    {
      "eventId":      "uuid (random: every change is its own event)",
      "eventType":    "ProfileUpdated",
      "eventVersion": 1,
      "occurredAt":   "2026-12-02T10:00:00.000Z",
      "userId":       "00u...",
      "attributes":   ["company", "title"],
      "source":       "bff-profile" | "bff-signin"
    }
"""

from __future__ import annotations

import logging
import re
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass
from typing import Any, Literal, Protocol

from bff.signup.events import utc_now_iso
from bff.signup.outbox import Outbox

log = logging.getLogger("bff.signup.profile")

EVENT_TYPE = "ProfileUpdated"
EVENT_VERSION = 1
MAX_ATTRIBUTES = 32
_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_]{0,63}$")

Source = Literal["bff-profile", "bff-signin"]


def dedupe_key(event_id: str) -> str:
    return f"{EVENT_TYPE}:{event_id}"


@dataclass(frozen=True)
class ProfileUpdated:
    eventId: str
    occurredAt: str
    userId: str
    attributes: tuple[str, ...]
    source: Source
    eventType: str = EVENT_TYPE
    eventVersion: int = EVENT_VERSION

    @classmethod
    def new(cls, *, user_id: str, attributes: Iterable[str], source: Source) -> ProfileUpdated:
        names = tuple(sorted({a for a in attributes if _NAME.match(a)}))[:MAX_ATTRIBUTES]
        if not names:
            raise ValueError("ProfileUpdated needs at least one attribute")
        return cls(eventId=str(uuid.uuid4()), occurredAt=utc_now_iso(), userId=user_id,
                   attributes=names, source=source)

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["attributes"] = list(self.attributes)
        return data

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> ProfileUpdated:
        """Rebuild an event from its JSON; ValueError when it is not one."""
        if data.get("eventType") != EVENT_TYPE:
            raise ValueError("not a ProfileUpdated event")
        attributes = data.get("attributes")
        if (not isinstance(attributes, list) or not attributes or len(attributes) > MAX_ATTRIBUTES
                or not all(isinstance(a, str) and _NAME.match(a) for a in attributes)):
            raise ValueError("ProfileUpdated.attributes is invalid")
        source = data.get("source")
        if source not in ("bff-profile", "bff-signin"):
            raise ValueError("ProfileUpdated.source is invalid")
        values = {}
        for name in ("eventId", "occurredAt", "userId"):
            value = data.get(name)
            if not isinstance(value, str) or not value:
                raise ValueError(f"ProfileUpdated.{name} is missing")
            values[name] = value
        return cls(eventId=values["eventId"], occurredAt=values["occurredAt"], userId=values["userId"],
                   attributes=tuple(attributes), source=source)

    def message_attributes(self) -> dict[str, str]:
        """SNS message attributes (the subscriptions' filter policies read ``eventType``)."""
        return {"eventType": self.eventType, "source": self.source}


class Kicker(Protocol):
    def kick(self) -> None:
        """Wake the outbox relay (bff.signup.relay.Relay)."""


@dataclass
class ProfileAnnouncer:
    """Writes ``ProfileUpdated`` to the outbox once Okta has stored the attributes; the relay
    publishes it (nothing lost while SNS is down)."""

    outbox: Outbox
    relay: Kicker

    async def announce(self, user_id: str, attributes: Iterable[str], source: Source) -> bool:
        try:
            event = ProfileUpdated.new(user_id=user_id, attributes=attributes, source=source)
        except ValueError:
            return False  # nothing that names an attribute: nothing to announce
        try:
            await self.outbox.add(id=event.eventId, dedupe_key=dedupe_key(event.eventId),
                                  kind=event.eventType, payload=event.to_json(), needs_enrichment=False)
        except Exception:
            # Okta holds the values already; the lead catches up at the user's next change (or
            # at validation, when that has not run yet). Logged for the operator, never raised:
            # the user's update did succeed.
            log.error("outbox write failed for the profile update of user %s; the Marketo lead "
                      "misses it until the next one", user_id, exc_info=True)
            return False
        self.relay.kick()
        log.info("profile update of user %s announced (%d attribute(s), %s)", user_id,
                 len(event.attributes), source)
        return True
