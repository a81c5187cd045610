"""The manual-review queue on DynamoDB, shared by the account-validation function (which files
reviews) and the admin API (which lists and decides them).

Table (``fnlib.names.MANUAL_REVIEW_TABLE``; ``REVIEW_TABLE`` names the deployed one): partition
key ``orgId``, sort key ``reviewId``; attributes ``userId, login, firstName, lastName, reason``
(or ``reasons``: a list of ``{code, message}`` from the compliance API), ``status``
(``pending|approved|rejected``), ``createdAt``, ``decidedAt``, ``decidedBy``, ``decidedById``
(the admin's Okta user id) and ``audit`` (a list, one entry per decision: ``{at, by, byId,
role, action}``: who, when, what); while a decision is being carried out also ``decision`` and
``decisionStartedAt``.

A decision happens ONCE and is never half-done: :meth:`ReviewRepository.claim` marks the review
as being decided (conditional on ``status = pending`` and no other live claim), the caller does
the side effects (Okta, Marketo: each idempotent), then :meth:`ReviewRepository.decide` writes
the outcome (conditional on the same claim). If the side effects fail the claim is released
(:meth:`release`) and the review stays pending; a claim abandoned by a crashed caller expires
after ``lease`` seconds. A concurrent, different decision meets :class:`ReviewConflict`.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from botocore.exceptions import ClientError

PENDING, APPROVED, REJECTED = "pending", "approved", "rejected"
STATUSES = (PENDING, APPROVED, REJECTED)
DECISIONS = (APPROVED, REJECTED)
DEFAULT_LEASE = 60


class ReviewConflict(Exception):
    """The review was already decided (or is being decided differently). ``review`` is its
    current state when known."""

    def __init__(self, message: str, review: Review | None = None) -> None:
        super().__init__(message)
        self.review = review


class BadCursor(ValueError):
    pass


def now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


@dataclass(frozen=True)
class Review:
    org_id: str
    review_id: str
    user_id: str
    login: str
    first_name: str
    last_name: str
    reason: str
    status: str
    created_at: str
    decided_at: str | None = None
    decided_by: str | None = None
    email: str | None = None
    reasons: tuple[dict[str, str], ...] = ()
    decision: str | None = None  # a decision in progress
    decided_by_id: str | None = None
    audit: tuple[dict[str, str], ...] = ()
    extra: Mapping[str, Any] = field(default_factory=dict)

    @classmethod
    def from_item(cls, item: Mapping[str, Any]) -> Review:
        reasons = tuple({str(k): str(v) for k, v in r.items()} for r in item.get("reasons") or []
                        if isinstance(r, Mapping))
        reason = item.get("reason")
        if not reason and reasons:
            reason = "; ".join(r.get("message") or r.get("code", "") for r in reasons)
        known = {"orgId", "reviewId", "userId", "login", "firstName", "lastName", "reason", "reasons",
                 "status", "createdAt", "decidedAt", "decidedBy", "email", "decision", "decisionStartedAt",
                 "decisionBy", "decidedById", "audit"}
        return cls(
            org_id=str(item["orgId"]),
            review_id=str(item["reviewId"]),
            user_id=str(item.get("userId", "")),
            login=str(item.get("login", "")),
            first_name=str(item.get("firstName", "")),
            last_name=str(item.get("lastName", "")),
            reason=str(reason or ""),
            status=str(item.get("status", PENDING)),
            created_at=str(item.get("createdAt", "")),
            decided_at=item.get("decidedAt"),
            decided_by=item.get("decidedBy"),
            email=item.get("email"),
            reasons=reasons,
            decision=item.get("decision"),
            decided_by_id=item.get("decidedById"),
            audit=tuple({str(k): str(v) for k, v in a.items()} for a in item.get("audit") or []
                        if isinstance(a, Mapping)),
            extra={k: v for k, v in item.items() if k not in known},
        )

    def to_item(self) -> dict[str, Any]:
        item: dict[str, Any] = {
            "orgId": self.org_id, "reviewId": self.review_id, "userId": self.user_id, "login": self.login,
            "firstName": self.first_name, "lastName": self.last_name, "reason": self.reason,
            "status": self.status, "createdAt": self.created_at,
        }
        optional = {"decidedAt": self.decided_at, "decidedBy": self.decided_by, "email": self.email,
                    "decidedById": self.decided_by_id}
        item.update({k: v for k, v in optional.items() if v is not None})
        if self.reasons:
            item["reasons"] = [dict(r) for r in self.reasons]
        if self.audit:
            item["audit"] = [dict(a) for a in self.audit]
        item.update(self.extra)
        return item

    def public(self) -> dict[str, Any]:
        """The JSON the admin API shows."""
        return {
            "reviewId": self.review_id, "orgId": self.org_id, "userId": self.user_id, "login": self.login,
            "email": self.email or self.login, "firstName": self.first_name, "lastName": self.last_name,
            "reason": self.reason, "reasons": [dict(r) for r in self.reasons], "status": self.status,
            "createdAt": self.created_at, "decidedAt": self.decided_at, "decidedBy": self.decided_by,
            "audit": [dict(a) for a in self.audit],
        }


def _conditional_failed(exc: ClientError) -> bool:
    return exc.response.get("Error", {}).get("Code") == "ConditionalCheckFailedException"


class ReviewRepository:
    """``table`` is a boto3 DynamoDB ``Table`` resource (created once per container)."""

    def __init__(self, table: Any, *, clock: Any = None) -> None:
        self.table = table
        self._clock = clock or (lambda: datetime.now(UTC))

    def _now(self) -> datetime:
        value: datetime = self._clock()
        return value

    def _iso(self, when: datetime | None = None) -> str:
        return (when or self._now()).isoformat(timespec="seconds").replace("+00:00", "Z")

    # -------------------------------------------------------------------------- filing

    def put(self, item: Mapping[str, Any] | Review) -> bool:
        """File a pending review. True when stored, False when ``(orgId, reviewId)`` already
        existed (a redelivered event never resets a review, decided or not)."""
        data = item.to_item() if isinstance(item, Review) else dict(item)
        data.setdefault("status", PENDING)
        data.setdefault("createdAt", self._iso())
        try:
            self.table.put_item(Item=data, ConditionExpression="attribute_not_exists(reviewId)")
        except ClientError as exc:
            if _conditional_failed(exc):
                return False
            raise
        return True

    # -------------------------------------------------------------------------- reading

    def get(self, org_id: str, review_id: str) -> Review | None:
        key = {"orgId": org_id, "reviewId": review_id}
        item = self.table.get_item(Key=key, ConsistentRead=True).get("Item")
        return Review.from_item(item) if item else None

    def list_by_org(self, org_id: str, *, status: str | None = None, limit: int = 50,
                    cursor: str | None = None) -> tuple[list[Review], str | None]:
        """One page of the org's reviews (oldest reviewId first); ``cursor`` continues a listing."""
        kwargs: dict[str, Any] = {
            "KeyConditionExpression": "orgId = :org",
            "ExpressionAttributeValues": {":org": org_id},
            "Limit": max(1, min(limit, 200)),
        }
        if status is not None:
            kwargs["FilterExpression"] = "#s = :status"
            kwargs["ExpressionAttributeNames"] = {"#s": "status"}
            kwargs["ExpressionAttributeValues"][":status"] = status
        if cursor:
            kwargs["ExclusiveStartKey"] = self._decode_cursor(cursor, org_id)
        wanted = kwargs["Limit"]
        out: list[Review] = []
        while True:
            page = self.table.query(**kwargs)
            out.extend(Review.from_item(i) for i in page.get("Items", []))
            last = page.get("LastEvaluatedKey")
            # A filter can leave a page short: keep reading until the page is full or done.
            if not last or len(out) >= wanted:
                break
            kwargs["ExclusiveStartKey"] = last
        if len(out) > wanted:
            out, last = out[:wanted], {"orgId": org_id, "reviewId": out[wanted - 1].review_id}
        return out, (self._encode_cursor(last) if last else None)

    @staticmethod
    def _encode_cursor(key: Mapping[str, Any]) -> str:
        raw = json.dumps({"o": key["orgId"], "r": key["reviewId"]}, separators=(",", ":")).encode()
        return base64.urlsafe_b64encode(raw).decode().rstrip("=")

    @staticmethod
    def _decode_cursor(cursor: str, org_id: str) -> dict[str, str]:
        try:
            data = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
            key = {"orgId": str(data["o"]), "reviewId": str(data["r"])}
        except (ValueError, KeyError, TypeError, binascii.Error):
            raise BadCursor("invalid cursor") from None
        if key["orgId"] != org_id:  # a cursor never crosses tenants
            raise BadCursor("invalid cursor")
        return key

    # -------------------------------------------------------------------------- deciding

    def claim(self, org_id: str, review_id: str, decision: str, by: str, *,
              lease: int = DEFAULT_LEASE) -> Review:
        """Mark the review as being decided ``decision`` by ``by``. Idempotent for the same
        decision (a retry after a failure); ReviewConflict when decided or claimed otherwise."""
        if decision not in DECISIONS:
            raise ValueError(f"decision must be one of {DECISIONS}")
        now = self._now()
        stale = self._iso(datetime.fromtimestamp(now.timestamp() - lease, UTC))
        try:
            result = self.table.update_item(
                Key={"orgId": org_id, "reviewId": review_id},
                UpdateExpression="SET #d = :d, decisionStartedAt = :now, decisionBy = :by",
                ConditionExpression=("attribute_exists(reviewId) AND #s = :pending AND "
                                     "(attribute_not_exists(#d) OR #d = :d OR decisionStartedAt < :stale)"),
                ExpressionAttributeNames={"#s": "status", "#d": "decision"},
                ExpressionAttributeValues={":d": decision, ":now": self._iso(now), ":by": by,
                                           ":pending": PENDING, ":stale": stale},
                ReturnValues="ALL_NEW",
            )
        except ClientError as exc:
            if _conditional_failed(exc):
                raise ReviewConflict("the review is already decided or being decided",
                                     self.get(org_id, review_id)) from None
            raise
        return Review.from_item(result["Attributes"])

    def release(self, org_id: str, review_id: str, decision: str) -> None:
        """Give up a claim after failed side effects (the review stays pending)."""
        try:
            self.table.update_item(
                Key={"orgId": org_id, "reviewId": review_id},
                UpdateExpression="REMOVE #d, decisionStartedAt, decisionBy",
                ConditionExpression="#s = :pending AND #d = :d",
                ExpressionAttributeNames={"#s": "status", "#d": "decision"},
                ExpressionAttributeValues={":pending": PENDING, ":d": decision},
            )
        except ClientError as exc:
            if not _conditional_failed(exc):
                raise

    def decide(self, org_id: str, review_id: str, decision: str, by: str, *, by_id: str | None = None,
               role: str | None = None) -> Review:
        """Record the outcome, once: only a pending review claimed for this decision changes.
        The audit entry (who: ``by``/``by_id``/``role``, when, what) is written in the same
        conditional update, so a decision never exists without it."""
        if decision not in DECISIONS:
            raise ValueError(f"decision must be one of {DECISIONS}")
        now = self._iso()
        entry = {"at": now, "by": by, "byId": by_id or "", "role": role or "", "action": decision}
        try:
            result = self.table.update_item(
                Key={"orgId": org_id, "reviewId": review_id},
                UpdateExpression=("SET #s = :d, decidedAt = :now, decidedBy = :by, decidedById = :byid, "
                                  "audit = list_append(if_not_exists(audit, :none), :entry) "
                                  "REMOVE #d, decisionStartedAt, decisionBy"),
                ConditionExpression="#s = :pending AND (attribute_not_exists(#d) OR #d = :d)",
                ExpressionAttributeNames={"#s": "status", "#d": "decision"},
                ExpressionAttributeValues={":d": decision, ":now": now, ":by": by, ":byid": by_id or "",
                                           ":pending": PENDING, ":none": [], ":entry": [entry]},
                ReturnValues="ALL_NEW",
            )
        except ClientError as exc:
            if _conditional_failed(exc):
                raise ReviewConflict("the review was already decided", self.get(org_id, review_id)) from None
            raise
        return Review.from_item(result["Attributes"])


def create_table(dynamodb: Any, name: str) -> None:
    """Create the table with its real key schema (tests and the local topology)."""
    dynamodb.create_table(
        TableName=name,
        BillingMode="PAY_PER_REQUEST",
        AttributeDefinitions=[{"AttributeName": "orgId", "AttributeType": "S"},
                              {"AttributeName": "reviewId", "AttributeType": "S"}],
        KeySchema=[{"AttributeName": "orgId", "KeyType": "HASH"},
                   {"AttributeName": "reviewId", "KeyType": "RANGE"}],
    )
