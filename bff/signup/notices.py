"""The account notices: ``AccountLocked``, ``PasswordChanged`` and ``FactorAdded``, their JSON
schema, their SNS message attributes and their ids.

Each is announced from ONE Okta LogEvent on the event hook (``/bff/hooks/okta``):

================================  =================  ==========================================
Okta event type                   notice             the email it asks for
================================  =================  ==========================================
``user.account.lock``             ``AccountLocked``  "your account is locked" + the unlock link
``user.account.update_password``  ``PasswordChanged`` "your password was changed"
``user.mfa.factor.activate``      ``FactorAdded``    "a new sign-in method was added"
================================  =================  ==========================================

The event id is DERIVED from the Okta event's ``uuid`` (UUIDv5 of ``{eventType}:{uuid}``), and
``{eventType}:{uuid}`` is the outbox's dedupe key: a redelivered hook event (Okta delivers at
least once), on any instance, is the same notice, and the subscriber (Powertools idempotency on
``eventId``) sends one email per Okta event. Two lockouts are two Okta events, two emails.

    {
      "eventId":      "uuid (v5 of eventType + the Okta event uuid)",
      "eventType":    "AccountLocked" | "PasswordChanged" | "FactorAdded",
      "eventVersion": 1,
      "occurredAt":   "2025-01-31T12:34:56.789Z (the Okta event's published, UTC)",
      "oktaEventId":  "the Okta LogEvent uuid",
      "userId":       "00u...",
      "login":        "ada@example.com",
      "email":        "ada@example.com",             (left out when unknown)
      "firstName":    "Ada",                         (left out when unknown)
      "lastName":     "Lovelace",                    (left out when unknown)
      "locale":       "fr-CA" (BCP 47; the BFF's default locale when the user has none),
      "source":       "okta-hook"
    }

The hook writes only what the LogEvent carries (ids, login); the relay completes the entry from
the user's Okta profile (email, names, locale) before publishing (``needs_enrichment``), so the
hook answers well within Okta's 3 s. Version 1 is the first; a change a subscriber could
misread gets a new ``eventVersion`` (subscribers ignore unknown fields).
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import asdict, dataclass, replace
from typing import Any

from bff.signup.events import bcp47, profile_locale, profile_text, utc_now_iso

EVENT_VERSION = 1
#: Namespace of the derived notice ids (fixed forever: changing it would defeat deduplication).
NOTICE_NAMESPACE = uuid.UUID("0b8f7a52-3c1e-4d8a-b6f2-9a4e1c7d5e03")
SOURCE = "okta-hook"

LOCK_EVENT = "user.account.lock"
PASSWORD_EVENT = "user.account.update_password"  # noqa: S105 (an event type, not a password)
FACTOR_EVENT = "user.mfa.factor.activate"

#: Okta event type → the notice it becomes.
NOTICE_FOR: dict[str, str] = {
    LOCK_EVENT: "AccountLocked",
    PASSWORD_EVENT: "PasswordChanged",
    FACTOR_EVENT: "FactorAdded",
}
#: Every notice type (the outbox ``kind`` and the ``eventType`` message attribute).
NOTICE_TYPES = frozenset(NOTICE_FOR.values())


def dedupe_key(notice_type: str, okta_event_uuid: str) -> str:
    """The outbox key of a notice: one per Okta event, however often it is delivered."""
    return f"{notice_type}:{okta_event_uuid}"


def event_id_for(notice_type: str, okta_event_uuid: str) -> str:
    return str(uuid.uuid5(NOTICE_NAMESPACE, dedupe_key(notice_type, okta_event_uuid)))


@dataclass(frozen=True)
class AccountNotice:
    eventId: str
    eventType: str  # one of NOTICE_TYPES
    occurredAt: str
    oktaEventId: str
    userId: str
    login: str
    email: str | None
    firstName: str | None
    lastName: str | None
    locale: str | None
    source: str = SOURCE
    eventVersion: int = EVENT_VERSION

    @classmethod
    def new(cls, *, notice_type: str, okta_event_uuid: str, user_id: str, login: str,
            occurred_at: str | None = None) -> AccountNotice:
        if notice_type not in NOTICE_TYPES:
            raise ValueError(f"not an account notice: {notice_type!r}")
        return cls(eventId=event_id_for(notice_type, okta_event_uuid), eventType=notice_type,
                   occurredAt=occurred_at or utc_now_iso(), oktaEventId=okta_event_uuid, userId=user_id,
                   login=login, email=login or None, firstName=None, lastName=None, locale=None)

    def with_profile(self, profile: Mapping[str, Any]) -> AccountNotice:
        """Fill the fields from the user's Okta profile (the relay does, before publishing)."""

        def text(name: str) -> str | None:
            return profile_text(profile, name)

        return replace(
            self,
            login=text("login") or self.login,
            email=text("email") or self.email,
            firstName=text("firstName") or self.firstName,
            lastName=text("lastName") or self.lastName,
            locale=profile_locale(text("locale")) or profile_locale(text("preferredLanguage")) or self.locale,
        )

    def to_json(self) -> dict[str, Any]:
        """The published document; unknown optional values are left out."""
        return {k: v for k, v in asdict(self).items() if v is not None}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> AccountNotice:
        """Rebuild a notice from its JSON; ValueError when a required field is missing or the
        type or version is not one this code writes."""

        def required(name: str) -> str:
            value = data.get(name)
            if not isinstance(value, str) or not value:
                raise ValueError(f"AccountNotice.{name} is missing")
            return value

        def optional(name: str) -> str | None:
            value = data.get(name)
            return value if isinstance(value, str) and value else None

        notice_type = required("eventType")
        if notice_type not in NOTICE_TYPES:
            raise ValueError("AccountNotice.eventType is not a notice")
        if data.get("eventVersion", EVENT_VERSION) != EVENT_VERSION:
            raise ValueError("AccountNotice.eventVersion is not supported")
        return cls(eventId=required("eventId"), eventType=notice_type, occurredAt=required("occurredAt"),
                   oktaEventId=required("oktaEventId"), userId=required("userId"),
                   login=optional("login") or "", email=optional("email"), firstName=optional("firstName"),
                   lastName=optional("lastName"), locale=bcp47(optional("locale")),
                   source=optional("source") or SOURCE)

    def message_attributes(self) -> dict[str, str]:
        """SNS message attributes: the subscriptions' filter policies select on ``eventType``."""
        return {"eventType": self.eventType, "source": self.source}
