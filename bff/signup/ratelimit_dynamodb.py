"""The rate limiter on DynamoDB: the counts of every instance (every Lambda execution
environment) in the session store's table (``dynamodb://table``, ``infra/template.yaml``
``SessionsTable``), so a limit holds however many environments Lambda runs.

One item per key and window, beside the sessions (``bff.sessions.dynamodb``)::

    rl#{hashed key}   n N (the count), expires_at N (the window's end), ttl N

A hit is ONE atomic ``UpdateItem``: ``ADD n :one`` (DynamoDB's atomic counter) with
``SET expires_at = if_not_exists(expires_at, :end)``, conditional on the window still being
open (``attribute_not_exists(pk) OR expires_at > :now``). When the window has ended the
condition fails and a conditional ``PutItem`` starts the next one at 1 (conditional on the
window still being over, so two instances resetting at once count once each: the loser's put
fails and it ADDs to the winner's window). ``ttl`` lets DynamoDB delete the item some time
after its window (TTL is lazy: ``expires_at`` is what counts).

Keys are the same keyed hashes as every limiter's (:func:`~bff.signup.ratelimit.hashed_key`):
the table never holds an address or an email in clear. boto3 is synchronous: calls run on a
small thread pool.
"""

from __future__ import annotations

import asyncio
import math
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from botocore.exceptions import ClientError

from bff.signup.ratelimit import Decision, hashed_key

_ATTEMPTS = 4


def _conditional_failed(exc: ClientError) -> bool:
    return exc.response.get("Error", {}).get("Code") == "ConditionalCheckFailedException"


class DynamoDBRateLimiter:
    """Fixed windows shared through one DynamoDB table. ``client`` is a boto3 DynamoDB client."""

    def __init__(self, client: Any, table: str, salt: bytes, *, clock: Callable[[], float] = time.time,
                 max_workers: int = 4) -> None:
        self._db = client
        self.table = table
        self._salt = salt
        self._clock = clock
        self._executor = ThreadPoolExecutor(max_workers=max_workers, thread_name_prefix="bff-ratelimit")

    @classmethod
    def connect(cls, table: str, salt: bytes, *, region: str, endpoint_url: str | None = None,
                **client_kwargs: Any) -> DynamoDBRateLimiter:
        import boto3
        from botocore.config import Config

        config = Config(retries={"mode": "standard", "max_attempts": 2}, connect_timeout=2,
                        read_timeout=3, max_pool_connections=4)
        return cls(boto3.client("dynamodb", region_name=region, endpoint_url=endpoint_url, config=config,
                                **client_kwargs), table, salt)

    async def _run(self, fn: Callable[[], Any]) -> Any:
        return await asyncio.get_running_loop().run_in_executor(self._executor, fn)

    def _hit(self, pk: str, window: int) -> tuple[int, float]:
        for _ in range(_ATTEMPTS):
            now = self._clock()
            end = now + window
            try:
                result = self._db.update_item(
                    TableName=self.table, Key={"pk": {"S": pk}},
                    UpdateExpression="ADD #n :one SET #exp = if_not_exists(#exp, :end), "
                                     "#ttl = if_not_exists(#ttl, :ttl)",
                    ConditionExpression="attribute_not_exists(#pk) OR #exp > :now",
                    ExpressionAttributeNames={"#n": "n", "#exp": "expires_at", "#ttl": "ttl", "#pk": "pk"},
                    ExpressionAttributeValues={":one": {"N": "1"}, ":end": {"N": repr(end)},
                                               ":ttl": {"N": str(math.ceil(end) + 60)},
                                               ":now": {"N": repr(now)}},
                    ReturnValues="ALL_NEW")
                attrs = result["Attributes"]
                return int(attrs["n"]["N"]), float(attrs["expires_at"]["N"])
            except ClientError as exc:
                if not _conditional_failed(exc):
                    raise
            try:  # the window is over: start the next one, unless another instance just did
                self._db.put_item(
                    TableName=self.table,
                    Item={"pk": {"S": pk}, "n": {"N": "1"}, "expires_at": {"N": repr(end)},
                          "ttl": {"N": str(math.ceil(end) + 60)}},
                    ConditionExpression="attribute_not_exists(#pk) OR #exp <= :now",
                    ExpressionAttributeNames={"#pk": "pk", "#exp": "expires_at"},
                    ExpressionAttributeValues={":now": {"N": repr(now)}})
                return 1, end
            except ClientError as exc:
                if not _conditional_failed(exc):
                    raise
        raise RuntimeError("rate limit window kept changing")  # the fallback counts locally

    async def hit(self, bucket: str, key: str, *, limit: int, window: int) -> Decision:
        pk = "rl#" + hashed_key(self._salt, bucket, key, prefix="")
        count, reset_at = await self._run(lambda: self._hit(pk, window))
        return Decision(count <= limit, count, max(1, math.ceil(reset_at - self._clock())))

    async def close(self) -> None:
        self._executor.shutdown(wait=False, cancel_futures=True)
