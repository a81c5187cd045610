"""DynamoDB outbox (``BFF_OUTBOX=dynamodb://table``): the same contract as the SQLite outbox, for
several BFF instances (or the BFF on Lambda, whose local disk does not outlive the instance).

One table, partition key ``pk`` (S), two item types::

    e#{id}     the entry: dedupe_key, kind, payload (JSON), needs_enrichment, status, attempts,
               created_at, next_attempt_at, lease_until, sent_at, last_error; while pending also
               ``queue`` = "pending" (the sparse index below); ``ttl`` once sent or dead
    k#{key}    the dedupe key → id; ``ttl`` once its entry is sent

``add`` is one transaction of two conditional puts (``attribute_not_exists(pk)``), so the entry
and its dedupe key exist together or not at all. The sparse GSI ``pending_by_due`` (partition
``queue``, sort ``next_attempt_at``) lists due entries; a claim is a conditional update
(``lease_until < :now AND status = pending``), so two relays never hold one entry. Sent entries
and their keys carry ``ttl`` (DynamoDB deletes them lazily after :data:`KEEP_SENT`);
``purge_sent`` also deletes explicitly. boto3 is synchronous: every call runs in a worker thread.
"""

from __future__ import annotations

import asyncio
import json
import logging
import math
import time
from collections.abc import Callable
from decimal import Decimal
from typing import TYPE_CHECKING, Any, TypeVar

from botocore.exceptions import ClientError

from bff.dynamo import create_table
from bff.signup.outbox_entry import KEEP_SENT, OutboxEntry

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.client import DynamoDBClient
    from mypy_boto3_dynamodb.type_defs import AttributeValueTypeDef

log = logging.getLogger("bff.signup.outbox")

T = TypeVar("T")
Item = dict[str, "AttributeValueTypeDef"]

INDEX = "pending_by_due"
PENDING = "pending"


def _n(value: float) -> AttributeValueTypeDef:
    return {"N": format(Decimal(repr(float(value))), "f")}


def _s(value: str) -> AttributeValueTypeDef:
    return {"S": value}


def _num(item: Item, name: str) -> float | None:
    value = item.get(name)
    return float(value["N"]) if value and "N" in value else None


def _str(item: Item, name: str) -> str | None:
    value = item.get(name)
    return value["S"] if value and "S" in value else None


def _entry(item: Item) -> OutboxEntry:
    status = _str(item, "status") or "pending"
    return OutboxEntry(
        id=_str(item, "id") or "", dedupe_key=_str(item, "dedupe_key") or "", kind=_str(item, "kind") or "",
        payload=json.loads(_str(item, "payload") or "{}"),
        needs_enrichment=bool(item.get("needs_enrichment", {}).get("BOOL", False)),
        status=status,  # type: ignore[arg-type]
        attempts=int(_num(item, "attempts") or 0), created_at=_num(item, "created_at") or 0.0,
        next_attempt_at=_num(item, "next_attempt_at") or 0.0, sent_at=_num(item, "sent_at"),
        last_error=_str(item, "last_error"))


def _conditional_failed(exc: ClientError) -> bool:
    code = exc.response.get("Error", {}).get("Code")
    if code == "ConditionalCheckFailedException":
        return True
    if code == "TransactionCanceledException":
        reasons = exc.response.get("CancellationReasons", [])
        return any(r.get("Code") == "ConditionalCheckFailed" for r in reasons) or not reasons
    return False


class DynamoDBOutbox:
    def __init__(self, client: DynamoDBClient, table: str) -> None:
        self._client = client
        self.table = table
        self._scan_fallback = False

    async def _run(self, fn: Callable[[], T]) -> T:
        return await asyncio.to_thread(fn)

    async def add(self, *, id: str, dedupe_key: str, kind: str, payload: dict[str, Any],
                  needs_enrichment: bool = False) -> bool:
        now = time.time()
        entry: Item = {
            "pk": _s(f"e#{id}"), "id": _s(id), "dedupe_key": _s(dedupe_key), "kind": _s(kind),
            "payload": _s(json.dumps(payload, separators=(",", ":"))),
            "needs_enrichment": {"BOOL": needs_enrichment}, "status": _s("pending"), "attempts": _n(0),
            "created_at": _n(now), "next_attempt_at": _n(now), "lease_until": _n(0), "queue": _s(PENDING),
        }
        key: Item = {"pk": _s(f"k#{dedupe_key}"), "id": _s(id)}
        cond = "attribute_not_exists(pk)"

        def write() -> bool:
            try:
                self._client.transact_write_items(TransactItems=[
                    {"Put": {"TableName": self.table, "Item": entry, "ConditionExpression": cond}},
                    {"Put": {"TableName": self.table, "Item": key, "ConditionExpression": cond}},
                ])
            except ClientError as exc:
                if _conditional_failed(exc):
                    return False
                raise
            return True

        return await self._run(write)

    def _due(self, now: float, limit: int) -> list[Item]:
        """Due entries by the sparse index; by a filtered scan when the table lacks the index
        (a table defined elsewhere without it: slower, still correct, logged once)."""
        if not self._scan_fallback:
            try:
                resp = self._client.query(
                    TableName=self.table, IndexName=INDEX, Limit=limit,
                    KeyConditionExpression="#q = :pending AND next_attempt_at <= :now",
                    ExpressionAttributeNames={"#q": "queue"},
                    ExpressionAttributeValues={":pending": _s(PENDING), ":now": _n(now)})
                return resp.get("Items", [])
            except ClientError as exc:
                error = exc.response.get("Error", {})
                # DynamoDB: ValidationException "...does not have the specified index"; moto:
                # ResourceNotFoundException "Invalid index". A missing TABLE still raises.
                if "index" not in str(error.get("Message", "")).lower() or error.get("Code") not in {
                        "ValidationException", "ResourceNotFoundException"}:
                    raise
                log.warning("outbox table %s has no %s index; scanning for due entries instead", self.table,
                            INDEX)
                self._scan_fallback = True
        items = self._scan(FilterExpression="#q = :pending AND next_attempt_at <= :now",
                           ProjectionExpression="pk, next_attempt_at",
                           ExpressionAttributeNames={"#q": "queue"},
                           ExpressionAttributeValues={":pending": _s(PENDING), ":now": _n(now)})
        items.sort(key=lambda i: _num(i, "next_attempt_at") or 0.0)
        return items[:limit]

    async def claim_due(self, *, now: float, limit: int, lease: float) -> list[OutboxEntry]:
        def claim() -> list[OutboxEntry]:
            claimed: list[OutboxEntry] = []
            for item in self._due(now, limit):
                try:
                    updated = self._client.update_item(
                        TableName=self.table, Key={"pk": item["pk"]},
                        # next_attempt_at moves with the lease: a leased entry leaves the due
                        # range of the index, so it cannot fill another relay's `limit` with
                        # entries it may not claim (a crashed relay's entry is due again when
                        # its lease ends).
                        UpdateExpression="SET lease_until = :until, next_attempt_at = :until",
                        ConditionExpression="lease_until < :now AND #st = :pending",
                        ExpressionAttributeNames={"#st": "status"},
                        ExpressionAttributeValues={":until": _n(now + lease), ":now": _n(now),
                                                   ":pending": _s("pending")},
                        ReturnValues="ALL_NEW")
                except ClientError as exc:
                    if _conditional_failed(exc):
                        continue  # another relay holds it, or it was just sent
                    raise
                claimed.append(_entry(updated["Attributes"]))
            return claimed

        return await self._run(claim)

    async def mark_sent(self, id: str, *, now: float) -> None:
        def update() -> None:
            resp = self._client.update_item(
                TableName=self.table, Key={"pk": _s(f"e#{id}")},
                UpdateExpression="SET #st = :sent, sent_at = :now, lease_until = :zero, #ttl = :ttl "
                                 "REMOVE #q, last_error",
                ConditionExpression="attribute_exists(pk)",
                ExpressionAttributeNames={"#st": "status", "#q": "queue", "#ttl": "ttl"},
                ExpressionAttributeValues={":sent": _s("sent"), ":now": _n(now), ":zero": _n(0),
                                           ":ttl": {"N": str(math.ceil(now + KEEP_SENT))}},
                ReturnValues="ALL_NEW")
            key = _str(resp["Attributes"], "dedupe_key")
            if key:
                self._client.update_item(
                    TableName=self.table, Key={"pk": _s(f"k#{key}")}, UpdateExpression="SET #ttl = :ttl",
                    ExpressionAttributeNames={"#ttl": "ttl"},
                    ExpressionAttributeValues={":ttl": {"N": str(math.ceil(now + KEEP_SENT))}})

        try:
            await self._run(update)
        except ClientError as exc:
            if not _conditional_failed(exc):
                raise

    async def retry_later(self, id: str, *, next_attempt_at: float, error: str,
                          payload: dict[str, Any] | None = None,
                          needs_enrichment: bool | None = None) -> None:
        sets = ["attempts = attempts + :one", "next_attempt_at = :next", "last_error = :err",
                "lease_until = :zero"]
        values: Item = {":one": _n(1), ":next": _n(next_attempt_at), ":err": _s(error[:500] or "-"),
                        ":zero": _n(0)}
        if payload is not None:
            sets.append("payload = :payload")
            values[":payload"] = _s(json.dumps(payload, separators=(",", ":")))
        if needs_enrichment is not None:
            sets.append("needs_enrichment = :enrich")
            values[":enrich"] = {"BOOL": needs_enrichment}
        await self._update(id, "SET " + ", ".join(sets), values)

    async def mark_dead(self, id: str, *, error: str) -> None:
        await self._update(id, "SET #st = :dead, attempts = attempts + :one, last_error = :err, "
                               "lease_until = :zero REMOVE #q",
                           {":dead": _s("dead"), ":one": _n(1), ":err": _s(error[:500] or "-"),
                            ":zero": _n(0)},
                           names={"#st": "status", "#q": "queue"})

    async def _update(self, id: str, expression: str, values: Item,
                      names: dict[str, str] | None = None) -> None:
        def update() -> None:
            kwargs: dict[str, Any] = {"ExpressionAttributeNames": names} if names else {}
            try:
                self._client.update_item(TableName=self.table, Key={"pk": _s(f"e#{id}")},
                                         UpdateExpression=expression,
                                         ConditionExpression="attribute_exists(pk)",
                                         ExpressionAttributeValues=values, **kwargs)
            except ClientError as exc:
                if not _conditional_failed(exc):
                    raise

        await self._run(update)

    async def get(self, id: str) -> OutboxEntry | None:
        def read() -> OutboxEntry | None:
            item = self._client.get_item(TableName=self.table, Key={"pk": _s(f"e#{id}")},
                                         ConsistentRead=True).get("Item")
            return _entry(item) if item else None

        return await self._run(read)

    def _scan(self, **kwargs: Any) -> list[Item]:
        items: list[Item] = []
        start: Any = None
        while True:
            if start:
                kwargs["ExclusiveStartKey"] = start
            resp = self._client.scan(TableName=self.table, ConsistentRead=True, **kwargs)
            items.extend(resp.get("Items", []))
            start = resp.get("LastEvaluatedKey")
            if not start:
                return items

    async def counts(self) -> dict[str, int]:
        def count() -> dict[str, int]:
            out = {"pending": 0, "sent": 0, "dead": 0}
            for item in self._scan(FilterExpression="begins_with(pk, :e)", ProjectionExpression="#st",
                                   ExpressionAttributeNames={"#st": "status"},
                                   ExpressionAttributeValues={":e": _s("e#")}):
                status = _str(item, "status") or "pending"
                out[status] = out.get(status, 0) + 1
            return out

        return await self._run(count)

    async def next_due_at(self) -> float | None:
        def first() -> float | None:
            if self._scan_fallback:
                due = [_num(i, "next_attempt_at") or 0.0 for i in self._scan(
                    FilterExpression="#q = :pending", ProjectionExpression="next_attempt_at",
                    ExpressionAttributeNames={"#q": "queue"},
                    ExpressionAttributeValues={":pending": _s(PENDING)})]
                return min(due) if due else None
            resp = self._client.query(TableName=self.table, IndexName=INDEX, Limit=1,
                                      KeyConditionExpression="#q = :pending",
                                      ExpressionAttributeNames={"#q": "queue"},
                                      ExpressionAttributeValues={":pending": _s(PENDING)})
            items = resp.get("Items", [])
            return _num(items[0], "next_attempt_at") if items else None

        return await self._run(first)

    async def purge_sent(self, *, before: float) -> int:
        def purge() -> int:
            gone = self._scan(FilterExpression="begins_with(pk, :e) AND #st = :sent AND sent_at < :before",
                              ProjectionExpression="pk, dedupe_key",
                              ExpressionAttributeNames={"#st": "status"},
                              ExpressionAttributeValues={":e": _s("e#"), ":sent": _s("sent"),
                                                         ":before": _n(before)})
            for item in gone:
                self._client.delete_item(TableName=self.table, Key={"pk": item["pk"]})
                key = _str(item, "dedupe_key")
                if key:
                    self._client.delete_item(TableName=self.table, Key={"pk": _s(f"k#{key}")})
            return len(gone)

        return await self._run(purge)

    async def ping(self) -> bool:
        def check() -> bool:
            try:
                self._client.describe_table(TableName=self.table)
            except Exception:
                return False
            return True

        return await self._run(check)

    async def close(self) -> None:
        self._client.close()


def ensure_table(client: DynamoDBClient, name: str) -> None:
    """Create the outbox table if missing (on-demand, the sparse index, TTL on ``ttl``). For dev
    and tests; production tables come from infrastructure code (docs/signup.md)."""
    create_table(client, name, attributes={"queue": "S", "next_attempt_at": "N"}, indexes=[{
        "IndexName": INDEX,
        "KeySchema": [{"AttributeName": "queue", "KeyType": "HASH"},
                      {"AttributeName": "next_attempt_at", "KeyType": "RANGE"}],
        "Projection": {"ProjectionType": "KEYS_ONLY"},
    }], ttl_attribute="ttl")
