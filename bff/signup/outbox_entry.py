"""An entry of the AccountCreated outbox (:mod:`bff.signup.outbox`), as every back-end stores it.

Its own module because both the outbox's interface with its in-process back-ends and the
DynamoDB back-end (:mod:`bff.signup.outbox_dynamodb`) use it, and ``open_outbox`` imports the
latter: the entry sits below both, so neither imports the other back.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

Status = Literal["pending", "sent", "dead"]

#: How long sent entries (and so their dedupe keys) are kept.
KEEP_SENT = 30 * 24 * 3600


@dataclass(frozen=True)
class OutboxEntry:
    id: str  # the event id
    dedupe_key: str
    kind: str  # "AccountCreated"
    payload: dict[str, Any]
    needs_enrichment: bool  # hook events: fill the profile from Okta before publishing
    status: Status
    attempts: int
    created_at: float
    next_attempt_at: float
    sent_at: float | None = None
    last_error: str | None = None
