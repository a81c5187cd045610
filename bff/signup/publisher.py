"""Publishing events to the account topic.

:class:`SnsPublisher` is the real adapter (boto3, run in a worker thread so the event loop never
blocks on the network); moto in server mode is its local twin (``BFF_AWS_ENDPOINT_URL``).
:class:`MemoryPublisher` records messages for unit tests. Both raise :class:`PublishFailed` on
any failure; the outbox relay retries. A publish is safe to repeat: subscribers deduplicate by
``eventId``.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

import botocore.exceptions

from bff.observability import outbound, tracing
from bff.signup import aws

if TYPE_CHECKING:
    from mypy_boto3_sns import SNSClient
    from mypy_boto3_sns.type_defs import MessageAttributeValueTypeDef


class PublishFailed(Exception):
    """The message was not accepted (network, throttling, permissions...): retry later."""


class EventPublisher(Protocol):
    async def publish(self, message: Mapping[str, Any], attributes: Mapping[str, str], *,
                      dedupe_id: str, group_id: str) -> str:
        """Publish ``message`` as JSON; returns the broker's message id."""
        ...


@dataclass
class MemoryPublisher:
    messages: list[tuple[dict[str, Any], dict[str, str]]] = field(default_factory=list)
    fail: Exception | None = None

    async def publish(self, message: Mapping[str, Any], attributes: Mapping[str, str], *,
                      dedupe_id: str, group_id: str) -> str:
        if self.fail is not None:
            raise PublishFailed(str(self.fail))
        self.messages.append((dict(message), dict(attributes)))
        return f"mem-{len(self.messages)}"


def _ok(message_id: str) -> int:
    return 200  # a refusal raised (its class is counted instead)


class SnsPublisher:
    """SNS ``Publish`` with message attributes (String) for subscription filter policies. For a
    FIFO topic (``.fifo``) the event id is the deduplication id and the user id the group.

    While tracing is on, the message also carries the ``sns publish`` span's W3C trace context
    as the attributes ``traceparent`` (and ``tracestate`` when there is one): SNS raw delivery
    copies message attributes to each SQS message, where the subscriber functions read it
    (``infra/functions/fnlib/tracecontext.py``). Filter policies name other attributes, so the
    extra two change no routing; the ten-attribute limit of raw delivery leaves room."""

    def __init__(self, topic_arn: str, *, region: str, endpoint_url: str | None = None,
                 timeout: float = 5.0) -> None:
        self.topic_arn = topic_arn
        self.fifo = topic_arn.endswith(".fifo")
        self._client: SNSClient = aws.client("sns", region=region, endpoint_url=endpoint_url, timeout=timeout)

    def _publish(self, body: str, attributes: Mapping[str, str], dedupe_id: str, group_id: str,
                 trace_context: Mapping[str, str]) -> str:
        attrs: dict[str, MessageAttributeValueTypeDef] = {
            k: {"DataType": "String", "StringValue": v}
            for k, v in {**attributes, **trace_context}.items() if v
        }
        extra: dict[str, str] = {}
        if self.fifo:
            extra = {"MessageDeduplicationId": dedupe_id, "MessageGroupId": group_id}
        result = self._client.publish(TopicArn=self.topic_arn, Message=body, MessageAttributes=attrs,
                                      **extra)
        return result["MessageId"]

    async def publish(self, message: Mapping[str, Any], attributes: Mapping[str, str], *,
                      dedupe_id: str, group_id: str) -> str:
        body = json.dumps(message, separators=(",", ":"), ensure_ascii=False)

        def send() -> Awaitable[str]:
            # Inside the ``sns publish`` span: its W3C context travels as message attributes
            # (raw delivery hands them to each queue), which the subscriber functions continue.
            carrier: dict[str, str] = {}
            tracing.headers(carrier)
            return asyncio.to_thread(self._publish, body, attributes, dedupe_id, group_id, carrier)

        try:
            return await outbound.call("sns", "publish", send, status=_ok)
        except (botocore.exceptions.BotoCoreError, botocore.exceptions.ClientError) as exc:
            raise PublishFailed(_describe(exc)) from exc

    def close(self) -> None:
        self._client.close()


def _describe(exc: Exception) -> str:
    if isinstance(exc, botocore.exceptions.ClientError):
        err = exc.response.get("Error", {})
        return f"{err.get('Code', 'ClientError')}: {err.get('Message', '')}"[:300]
    return f"{type(exc).__name__}"
