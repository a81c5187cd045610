"""DynamoDB session store (``dynamodb://table``), for several BFF instances on AWS.

One table, partition key ``pk`` (string), item types by prefix::

    session#{id}  user_id S, idp_sid S (absent when None), created_at N, expires_at N, ver N, data B
    tx#{key}      value B, expires_at N            one-use login transaction
    lock#{key}    token S, expires_at N            refresh lock
    once#{key}    expires_at N                     claim_once marker
    rl#{hash}     n N, expires_at N                rate-limit window (bff.signup.ratelimit_dynamodb)

Every item also has ``ttl`` (N, whole epoch seconds) for DynamoDB's TTL deletion. TTL is lazy
(items linger up to ~48 h), so ``expires_at`` (exact, fractional) is compared on every read and
inside every condition: an expired lock or session counts as absent. Two sparse global secondary
indexes (``by_user_id``, ``by_idp_sid``, KEYS_ONLY) serve ``delete_for``; ``by_user_id`` is also
the per-user index of ``sessions_of`` and ``end_sessions``: one ``Query`` for the keys, then one
strongly consistent ``BatchGetItem`` (100 keys a call) for the items, never a ``Scan``. GSIs are
eventually consistent, so a session created a split second before a back-channel logout or an
``end_sessions`` may escape it; DynamoDB keeps the GSI in step with every write and TTL deletion
itself, and the expired items these calls meet are deleted at once.

Atomicity comes from conditional writes: ``create`` and the lock/claim puts require
``attribute_not_exists(pk) OR expires_at <= :now``, ``replace`` requires ``ver = :expected``,
``take_transaction`` is ``DeleteItem`` with ``ReturnValues=ALL_OLD`` (one deleter gets the
item), ``release_lock`` deletes only when the token matches.

boto3 is synchronous: every call runs on a dedicated thread pool so the event loop never blocks.
:func:`ensure_table` creates the table (with TTL) for dev and tests; see docs/sessions.md for the
production definition.
"""

from __future__ import annotations

import asyncio
import functools
import math
import secrets
import time
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal
from typing import TYPE_CHECKING, Any, TypeVar

from botocore.exceptions import BotoCoreError, ClientError

from bff.dynamo import create_table
from bff.sessions.store import SessionExists, SessionRecord, StoreUnavailable, ends

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.client import DynamoDBClient
    from mypy_boto3_dynamodb.type_defs import AttributeValueTypeDef

__all__ = ["DynamoDBStore", "ensure_table", "USER_INDEX", "IDP_SID_INDEX", "TTL_ATTRIBUTE"]

T = TypeVar("T")
Item = dict[str, "AttributeValueTypeDef"]

USER_INDEX = "by_user_id"
IDP_SID_INDEX = "by_idp_sid"
TTL_ATTRIBUTE = "ttl"
_ABSENT_OR_EXPIRED = "attribute_not_exists(#pk) OR #exp <= :now"
_NAMES = {"#pk": "pk", "#exp": "expires_at"}


def _n(value: float) -> AttributeValueTypeDef:
    # Positional notation of the shortest repr: float(...) reads back the exact same value.
    return {"N": format(Decimal(repr(float(value))), "f")}


def _s(value: str) -> AttributeValueTypeDef:
    return {"S": value}


def _ttl(expires_at: float) -> AttributeValueTypeDef:
    return {"N": str(math.ceil(expires_at))}


def _check_ttl(ttl: float) -> None:
    if not ttl > 0:
        raise ValueError(f"ttl must be > 0 seconds, got {ttl!r}")


def _conditional_failed(exc: ClientError) -> bool:
    return exc.response.get("Error", {}).get("Code") == "ConditionalCheckFailedException"


def _expires(item: Mapping[str, Any]) -> float:
    return float(item["expires_at"]["N"])


class DynamoDBStore:
    """A :class:`~bff.sessions.store.SessionStore` on one DynamoDB table. ``client`` is a boto3
    DynamoDB client (thread-safe; its pool should allow ``max_workers`` connections)."""

    def __init__(self, client: DynamoDBClient, table: str, *, clock: Callable[[], float] = time.time,
                 max_workers: int = 10, owns_client: bool = False) -> None:
        self._db = client
        self._owns_client = owns_client
        self.table = table
        self._clock = clock
        self._executor = ThreadPoolExecutor(max_workers=max_workers, thread_name_prefix="bff-dynamodb")
        self._closed = False

    @classmethod
    def connect(cls, table: str, *, region: str, endpoint_url: str | None = None,
               clock: Callable[[], float] = time.time, max_workers: int = 10,
               **client_kwargs: Any) -> DynamoDBStore:
        """Build the boto3 client too (standard retries, short timeouts, a pool per worker)."""
        import boto3
        from botocore.config import Config

        config = Config(retries={"mode": "standard", "max_attempts": 3}, connect_timeout=2,
                        read_timeout=5, max_pool_connections=max_workers)
        client = boto3.client("dynamodb", region_name=region, endpoint_url=endpoint_url, config=config,
                              **client_kwargs)
        return cls(client, table, clock=clock, max_workers=max_workers, owns_client=True)

    # -- plumbing ----------------------------------------------------------------------------

    async def _run(self, fn: Callable[[], T]) -> T:
        if self._closed:
            raise StoreUnavailable("the session store is closed")
        loop = asyncio.get_running_loop()
        try:
            return await loop.run_in_executor(self._executor, fn)
        except ClientError as exc:
            if _conditional_failed(exc):
                raise
            code = exc.response.get("Error", {}).get("Code", "error")
            raise StoreUnavailable(f"DynamoDB session store {self.table}: {code}") from exc
        except BotoCoreError as exc:
            raise StoreUnavailable(f"DynamoDB session store {self.table}: {type(exc).__name__}") from exc

    async def _conditional(self, fn: Callable[[], object]) -> bool:
        """Run a conditional write; False when its condition failed."""
        try:
            await self._run(fn)
        except ClientError as exc:
            if _conditional_failed(exc):
                return False
            raise  # pragma: no cover (_run converts every other ClientError)
        return True

    def _key(self, kind: str, key: str) -> dict[str, AttributeValueTypeDef]:
        return {"pk": _s(f"{kind}#{key}")}

    # -- sessions ----------------------------------------------------------------------------

    async def get(self, session_id: str) -> SessionRecord | None:
        key = self._key("session", session_id)
        resp = await self._run(lambda: self._db.get_item(TableName=self.table, Key=key, ConsistentRead=True))
        item = resp.get("Item")
        if not item or _expires(item) <= self._clock():
            return None
        return SessionRecord(
            id=session_id, user_id=item["user_id"]["S"],
            idp_sid=item["idp_sid"]["S"] if "idp_sid" in item else None,
            created_at=float(item["created_at"]["N"]), expires_at=_expires(item),
            version=int(item["ver"]["N"]), data=bytes(item["data"]["B"]),
        )

    def _item(self, r: SessionRecord) -> Item:
        item: Item = {
            **self._key("session", r.id), "user_id": _s(r.user_id), "created_at": _n(r.created_at),
            "expires_at": _n(r.expires_at), TTL_ATTRIBUTE: _ttl(r.expires_at), "ver": {"N": str(r.version)},
            "data": {"B": r.data},
        }
        if r.idp_sid is not None:
            item["idp_sid"] = _s(r.idp_sid)
        return item

    async def create(self, record: SessionRecord) -> None:
        item, now = self._item(record), _n(self._clock())
        if not await self._conditional(lambda: self._db.put_item(
                TableName=self.table, Item=item, ConditionExpression=_ABSENT_OR_EXPIRED,
                ExpressionAttributeNames=_NAMES, ExpressionAttributeValues={":now": now})):
            raise SessionExists("a live session already has this id")

    async def replace(self, record: SessionRecord, *, expected_version: int) -> bool:
        if record.version != expected_version + 1:
            raise ValueError("record.version must be expected_version + 1")
        item, now = self._item(record), _n(self._clock())
        return await self._conditional(lambda: self._db.put_item(
            TableName=self.table, Item=item, ConditionExpression="#ver = :old AND #exp > :now",
            ExpressionAttributeNames={"#ver": "ver", "#exp": "expires_at"},
            ExpressionAttributeValues={":old": {"N": str(expected_version)}, ":now": now}))

    async def delete(self, session_id: str) -> None:
        key = self._key("session", session_id)
        await self._run(lambda: self._db.delete_item(TableName=self.table, Key=key))

    async def delete_for(self, *, user_id: str | None = None, idp_sid: str | None = None) -> int:
        if user_id is None and idp_sid is None:
            raise ValueError("delete_for needs user_id or idp_sid")
        keys: set[str] = set()
        if user_id is not None:
            keys |= await self._run(lambda: self._query_keys(USER_INDEX, "user_id", user_id))
        if idp_sid is not None:
            keys |= await self._run(lambda: self._query_keys(IDP_SID_INDEX, "idp_sid", idp_sid))
        now = self._clock()
        live = 0
        for pk in sorted(keys):
            old = await self._run(functools.partial(
                self._db.delete_item, TableName=self.table, Key={"pk": _s(pk)}, ReturnValues="ALL_OLD"))
            attributes = old.get("Attributes")
            if attributes and _expires(attributes) > now:
                live += 1
        return live

    def _query_keys(self, index: str, attribute: str, value: str) -> set[str]:
        keys: set[str] = set()
        paginator = self._db.get_paginator("query")
        for page in paginator.paginate(TableName=self.table, IndexName=index,
                                       KeyConditionExpression="#a = :v",
                                       ExpressionAttributeNames={"#a": attribute},
                                       ExpressionAttributeValues={":v": _s(value)}):
            keys.update(item["pk"]["S"] for item in page.get("Items", []))
        return keys

    def _session(self, item: Mapping[str, Any]) -> SessionRecord:
        return SessionRecord(
            id=str(item["pk"]["S"]).removeprefix("session#"), user_id=item["user_id"]["S"],
            idp_sid=item["idp_sid"]["S"] if "idp_sid" in item else None,
            created_at=float(item["created_at"]["N"]), expires_at=_expires(item),
            version=int(item["ver"]["N"]), data=bytes(item["data"]["B"]))

    def _batch_get(self, keys: list[str]) -> list[Mapping[str, Any]]:
        items: list[Mapping[str, Any]] = []
        for start in range(0, len(keys), 100):
            pending: Any = {self.table: {"Keys": [{"pk": _s(k)} for k in keys[start:start + 100]],
                                         "ConsistentRead": True}}
            for _ in range(10):  # unprocessed keys (throttling) are asked for again
                resp = self._db.batch_get_item(RequestItems=pending)
                items.extend(resp.get("Responses", {}).get(self.table, []))
                pending = resp.get("UnprocessedKeys") or {}
                if not pending:
                    break
            else:
                raise StoreUnavailable(f"DynamoDB session store {self.table}: reads kept being throttled")
        return items

    async def _of(self, user_id: str) -> tuple[list[SessionRecord], list[SessionRecord]]:
        """The user's (live, expired) sessions: one index query, one consistent batch read."""
        keys = await self._run(lambda: self._query_keys(USER_INDEX, "user_id", user_id))
        items = await self._run(lambda: self._batch_get(sorted(keys))) if keys else []
        now = self._clock()
        records = [self._session(i) for i in items if i.get("user_id", {}).get("S") == user_id]
        live = sorted((r for r in records if r.expires_at > now), key=lambda r: (r.created_at, r.id))
        return live, [r for r in records if r.expires_at <= now]

    async def _delete_session(self, record: SessionRecord, condition: str,
                              values: dict[str, AttributeValueTypeDef]) -> SessionRecord | None:
        """Delete one session item if ``condition`` still holds; the record deleted, or None."""
        key = self._key("session", record.id)
        try:
            old = await self._run(functools.partial(
                self._db.delete_item, TableName=self.table, Key=key, ConditionExpression=condition,
                ExpressionAttributeNames={"#u": "user_id", "#exp": "expires_at"},
                ExpressionAttributeValues={":u": _s(record.user_id), **values}, ReturnValues="ALL_OLD"))
        except ClientError as exc:
            if _conditional_failed(exc):
                return None  # changed meanwhile (expired, or already deleted): not ours to report
            raise  # pragma: no cover (_run converts every other ClientError)
        attributes = old.get("Attributes")
        return self._session(attributes) if attributes else None

    async def _forget_expired(self, expired: list[SessionRecord]) -> None:
        now = _n(self._clock())
        for record in expired:
            await self._delete_session(record, "#u = :u AND #exp <= :now", {":now": now})

    async def sessions_of(self, user_id: str) -> list[SessionRecord]:
        live, expired = await self._of(user_id)
        await self._forget_expired(expired)
        return live

    async def end_sessions(self, user_id: str, *, keep: str | None = None, idp_sid: str | None = None,
                           created_before: float | None = None) -> list[SessionRecord]:
        live, expired = await self._of(user_id)
        await self._forget_expired(expired)
        ended = []
        for record in live:
            if not ends(record, user_id, keep=keep, idp_sid=idp_sid, created_before=created_before):
                continue
            # The item as read is deleted only if it is still live and still this user's; a
            # refresh that rotated its tokens meanwhile is deleted all the same (the version is
            # not part of the condition) and its newest refresh token is what gets reported.
            old = await self._delete_session(record, "#u = :u AND #exp > :now",
                                             {":now": _n(self._clock())})
            if old is not None and (idp_sid is None or old.idp_sid == idp_sid):
                ended.append(old)
        return ended

    # -- one-use transactions, locks, claim_once --------------------------------------------

    async def put_transaction(self, key: str, value: bytes, ttl: float) -> None:
        _check_ttl(ttl)
        expires_at = self._clock() + ttl
        item: Item = {**self._key("tx", key), "value": {"B": bytes(value)}, "expires_at": _n(expires_at),
                      TTL_ATTRIBUTE: _ttl(expires_at)}
        await self._run(lambda: self._db.put_item(TableName=self.table, Item=item))

    async def take_transaction(self, key: str) -> bytes | None:
        pk = self._key("tx", key)
        resp = await self._run(lambda: self._db.delete_item(TableName=self.table, Key=pk,
                                                            ReturnValues="ALL_OLD"))
        old = resp.get("Attributes")
        if not old or _expires(old) <= self._clock():
            return None
        return bytes(old["value"]["B"])

    async def _claim(self, kind: str, key: str, ttl: float, extra: Item) -> bool:
        _check_ttl(ttl)
        now = self._clock()
        item: Item = {**self._key(kind, key), **extra, "expires_at": _n(now + ttl),
                      TTL_ATTRIBUTE: _ttl(now + ttl)}
        return await self._conditional(lambda: self._db.put_item(
            TableName=self.table, Item=item, ConditionExpression=_ABSENT_OR_EXPIRED,
            ExpressionAttributeNames=_NAMES, ExpressionAttributeValues={":now": _n(now)}))

    async def acquire_lock(self, key: str, ttl: float) -> str | None:
        token = secrets.token_urlsafe(16)
        return token if await self._claim("lock", key, ttl, {"token": _s(token)}) else None

    async def release_lock(self, key: str, token: str) -> None:
        pk = self._key("lock", key)
        await self._conditional(lambda: self._db.delete_item(
            TableName=self.table, Key=pk, ConditionExpression="#t = :t",
            ExpressionAttributeNames={"#t": "token"}, ExpressionAttributeValues={":t": _s(token)}))

    async def claim_once(self, key: str, ttl: float) -> bool:
        return await self._claim("once", key, ttl, {})

    async def ping(self) -> bool:
        """A strongly consistent read of a key that never exists (needs only GetItem)."""
        key = self._key("ping", "-")
        try:
            await self._run(lambda: self._db.get_item(TableName=self.table, Key=key, ConsistentRead=True))
        except StoreUnavailable:
            return False
        return True

    async def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        self._executor.shutdown(wait=True)
        if self._owns_client:
            self._db.close()


def ensure_table(client: DynamoDBClient, name: str) -> None:
    """Create the session table if it does not exist (on-demand billing, both GSIs), wait until
    it is active, and enable TTL on ``ttl``. Idempotent. For dev and tests; production tables
    come from infrastructure code with the same definition (docs/sessions.md)."""
    create_table(client, name, attributes={"user_id": "S", "idp_sid": "S"}, indexes=[
        {"IndexName": USER_INDEX, "KeySchema": [{"AttributeName": "user_id", "KeyType": "HASH"}],
         "Projection": {"ProjectionType": "KEYS_ONLY"}},
        {"IndexName": IDP_SID_INDEX, "KeySchema": [{"AttributeName": "idp_sid", "KeyType": "HASH"}],
         "Projection": {"ProjectionType": "KEYS_ONLY"}},
    ], ttl_attribute=TTL_ATTRIBUTE)
