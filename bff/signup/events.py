"""The ``AccountCreated`` event: its JSON schema, its SNS message attributes, and its id.

The event id is DERIVED from the Okta user id (UUIDv5), not random: whichever path reports a
new user first (the BFF's sign-up, or Okta's event hook for the same user, possibly on another
instance with its own outbox) produces the SAME ``eventId``, so subscribers that deduplicate
by ``eventId`` (Powertools idempotency) act exactly once per account, and every re-send of the
outbox relay is recognisably the same event.

    {
      "eventId":    "uuid (v5 of the Okta user id)",
      "eventType":  "AccountCreated",
      "eventVersion": 1,
      "occurredAt": "2025-01-31T12:34:56.789Z (UTC, RFC 3339)",
      "userId":     "00u...",
      "login":      "ada@example.com",
      "email":      "ada@example.com",            (left out when unknown)
      "firstName":  "Ada",                        (left out when unknown)
      "lastName":   "Lovelace",                   (left out when unknown)
      "orgId":      "acme" | null,
      "locale":     "fr-CA" (BCP 47; the BFF's default locale when the user has none),
      "source":     "bff-signup" | "okta-hook"
    }
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Mapping
from dataclasses import asdict, dataclass, replace
from datetime import UTC, datetime
from typing import Any, Literal

EVENT_TYPE = "AccountCreated"
EVENT_VERSION = 1
#: Namespace of the derived event ids (fixed forever: changing it would defeat deduplication).
EVENT_NAMESPACE = uuid.UUID("6f1c1d8e-5a0b-4b53-9d6e-0c2f4f2a7b11")

Source = Literal["bff-signup", "okta-hook"]


def dedupe_key(user_id: str) -> str:
    """The outbox key of a user's ``AccountCreated``: one per account, whichever path adds it."""
    return f"{EVENT_TYPE}:{user_id}"


def event_id_for(user_id: str) -> str:
    return str(uuid.uuid5(EVENT_NAMESPACE, f"{EVENT_TYPE}:{user_id}"))


def utc_now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def bcp47(locale: str | None) -> str | None:
    """Okta's ``locale`` attribute is ``fr_CA``; events and copy use ``fr-CA``."""
    return locale.replace("_", "-") if locale else None


#: What the subscribers accept as ``locale`` (infra/functions/fnlib/account_events.py).
_LOCALE_TAG = re.compile(r"^[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8})*$")


def profile_locale(value: str | None) -> str | None:
    """A language tag from an Okta profile, or None when it holds none the subscribers accept.
    ``preferredLanguage`` is free text in the Accept-Language format (``"en-GB, en;q=0.8"``),
    so its first entry is taken; anything else (``"English"``) is dropped rather than
    published, as the subscribers would refuse the whole event over it."""
    if not value:
        return None
    tag = bcp47(value.split(",", 1)[0].split(";", 1)[0].strip())
    return tag if tag and len(tag) <= 35 and _LOCALE_TAG.match(tag) else None


def profile_text(profile: Mapping[str, Any], name: str) -> str | None:
    """A non-empty string attribute of an Okta profile, else None."""
    value = profile.get(name)
    return value if isinstance(value, str) and value else None


@dataclass(frozen=True)
class AccountCreated:
    eventId: str
    occurredAt: str
    userId: str
    login: str
    email: str | None
    firstName: str | None
    lastName: str | None
    orgId: str | None
    locale: str | None
    source: Source
    eventType: str = EVENT_TYPE
    eventVersion: int = EVENT_VERSION

    @classmethod
    def new(cls, *, user_id: str, login: str, email: str | None, first_name: str | None,
            last_name: str | None, org_id: str | None, locale: str | None, source: Source,
            occurred_at: str | None = None) -> AccountCreated:
        return cls(eventId=event_id_for(user_id), occurredAt=occurred_at or utc_now_iso(), userId=user_id,
                   login=login, email=email, firstName=first_name, lastName=last_name, orgId=org_id,
                   locale=bcp47(locale), source=source)

    def with_profile(self, profile: Mapping[str, Any]) -> AccountCreated:
        """Fill the fields from an Okta user profile (used for events that came from the hook)."""

        def text(name: str) -> str | None:
            return profile_text(profile, name)

        return replace(
            self,
            login=text("login") or self.login,
            email=text("email") or self.email,
            firstName=text("firstName") or self.firstName,
            lastName=text("lastName") or self.lastName,
            orgId=text("orgId") or self.orgId,
            locale=profile_locale(text("locale")) or profile_locale(text("preferredLanguage")) or self.locale,
        )

    def to_json(self) -> dict[str, Any]:
        """The published document. Unknown optional values are left out rather than sent as
        null (subscribers apply their defaults), except ``orgId``, which is explicitly null for
        a user outside any organisation."""
        return {k: v for k, v in asdict(self).items() if v is not None or k == "orgId"}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> AccountCreated:
        """Rebuild an event from its JSON; ValueError when a required field is missing."""

        def required(name: str) -> str:
            value = data.get(name)
            if not isinstance(value, str) or not value:
                raise ValueError(f"AccountCreated.{name} is missing")
            return value

        def optional(name: str) -> str | None:
            value = data.get(name)
            return value if isinstance(value, str) and value else None

        source = data.get("source")
        if source not in ("bff-signup", "okta-hook"):
            raise ValueError("AccountCreated.source is invalid")
        return cls(eventId=required("eventId"), occurredAt=required("occurredAt"), userId=required("userId"),
                   login=optional("login") or "", email=optional("email"), firstName=optional("firstName"),
                   lastName=optional("lastName"), orgId=optional("orgId"), locale=optional("locale"),
                   source=source)

    def message_attributes(self) -> dict[str, str]:
        """SNS message attributes for subscription filter policies (empty values are not allowed
        by SNS, so an absent ``orgId`` is left out)."""
        attrs = {"eventType": self.eventType, "source": self.source}
        if self.orgId:
            attrs["orgId"] = self.orgId
        return attrs
