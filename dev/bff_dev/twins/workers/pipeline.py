"""The whole account-created pipeline after SNS, on loopback, for ``bff dev`` and the tests.

    async with start_pipeline(okta_url=okta.base_url, okta_token=TOKEN) as p:
        p.publish(p.account_created(lastName="Review"))
        await p.wait_for(lambda: p.reviews())

:func:`start_aws` (moto + topology) and :func:`start_subscribers` (compliance and Marketo twins,
the functions loaded in-process with their Lambda environment, one SQS worker thread per
subscriber queue) are the two halves; the ``bff dev`` parts call them separately
(``bff_dev.twins.aws.dev`` first, ``bff_dev.twins.workers.dev`` last) and :func:`start_pipeline` chains
them for tests.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
import uuid
from collections.abc import AsyncIterator, Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from types import ModuleType
from typing import Any, TypeVar

from bff_dev.devmail import SentMail, fetch_sent_mail
from bff_dev.environment import DEV_COMPLIANCE_KEY
from bff_dev.serving import free_port, serve_asgi
from bff_dev.twins import compliance as compliance_twin
from bff_dev.twins import marketo as marketo_twin
from bff_dev.twins.aws.server import AwsTwin, start_aws
from bff_dev.twins.aws.topology import EVENT_TYPE, TopologySpec
from bff_dev.twins.marketo.app import DEV_CLIENT_SECRET as MARKETO_DEV_SECRET
from bff_dev.twins.workers.functions import lambda_runtime_env, load_function
from bff_dev.twins.workers.runner import QueueWorker, WorkerPool

T = TypeVar("T")

#: Lambda function names per package (the deployed ones carry the ``bff-{stage}-`` prefix).
FUNCTION_NAMES = {"welcome_email": "welcome-email", "account_validation": "account-validation",
                  "account_notices": "account-notices"}


@dataclass
class Subscribers:
    """The running consumers: twins they call, loaded functions, worker threads."""

    compliance: compliance_twin.ComplianceTwin
    compliance_url: str
    marketo: marketo_twin.MarketoTwin
    marketo_url: str
    functions: dict[str, ModuleType]  # package → its loaded ``app`` module
    env: dict[str, dict[str, str]]  # package → the Lambda environment it was loaded with
    workers: WorkerPool | None


def function_env(package: str, aws: AwsTwin, *, okta_url: str, compliance_url: str, marketo_url: str,
                 app_url: str | None = None, aem_url: str | None = None, aem_config: str = "bff",
                 compliance_timeout: float = 3.0, log_level: str = "INFO") -> dict[str, str]:
    """The environment the SAM template gives ``package``, pointed at the local twins."""
    topo = aws.topology
    name = topo.prefix + FUNCTION_NAMES[package]
    env = lambda_runtime_env(name, region=topo.region, endpoint_url=topo.endpoint_url)
    env.update(POWERTOOLS_SERVICE_NAME=FUNCTION_NAMES[package], POWERTOOLS_LOG_LEVEL=log_level,
               IDEMPOTENCY_TABLE=topo.idempotency_table)
    if package in ("welcome_email", "account_notices"):  # the two emails: SES, copy, links
        env["SES_SENDER"] = topo.sender
        if app_url:
            env["APP_URL"] = app_url
        if aem_url:
            env.update(AEM_URL=aem_url, AEM_CONFIG=aem_config)
    elif package == "account_validation":
        env.update(
            SECRETS_ARN=topo.secret_arn,
            REVIEW_TABLE=topo.review_table,
            OKTA_ORG_URL=okta_url,
            COMPLIANCE_API_URL=compliance_url,
            COMPLIANCE_TIMEOUT=str(compliance_timeout),
            MARKETO_IDENTITY_URL=f"{marketo_url}/identity",
            MARKETO_REST_URL=f"{marketo_url}/rest",
        )
    return env


async def start_subscribers(
    stack: contextlib.AsyncExitStack, aws: AwsTwin, *, okta_url: str, okta_token: str,
    compliance_port: int | None = None, marketo_port: int | None = None,
    compliance_key: str = DEV_COMPLIANCE_KEY, app_url: str | None = None, aem_url: str | None = None,
    aem_config: str = "bff", compliance_timeout: float = 3.0, run_workers: bool = True,
    wait_seconds: int = 1, log_level: str = "INFO",
) -> Subscribers:
    """Serve the compliance and Marketo twins, write the functions' secret, load the functions
    and (unless ``run_workers`` is False) start one worker thread per subscriber queue."""
    compliance_port = compliance_port or free_port()
    marketo_port = marketo_port or free_port()
    compliance = compliance_twin.ComplianceTwin(compliance_key)
    marketo = marketo_twin.MarketoTwin()
    await serve_asgi(stack, compliance_twin.create_app(compliance), compliance_port, name="compliance")
    await serve_asgi(stack, marketo_twin.create_app(marketo), marketo_port, name="marketo")
    compliance_url = f"http://127.0.0.1:{compliance_port}"
    marketo_url = f"http://127.0.0.1:{marketo_port}"

    topo = aws.topology
    secret = {"OKTA_API_TOKEN": okta_token, "COMPLIANCE_API_KEY": compliance_key,
              "MARKETO_CLIENT_ID": marketo.client_id, "MARKETO_CLIENT_SECRET": MARKETO_DEV_SECRET}
    await asyncio.to_thread(aws.client("secretsmanager").put_secret_value,
                            SecretId=topo.secret_arn, SecretString=json.dumps(secret))

    functions: dict[str, ModuleType] = {}
    envs: dict[str, dict[str, str]] = {}
    for pair in topo.queues.values():
        envs[pair.function] = function_env(
            pair.function, aws, okta_url=okta_url, compliance_url=compliance_url, marketo_url=marketo_url,
            app_url=app_url, aem_url=aem_url, aem_config=aem_config, compliance_timeout=compliance_timeout,
            log_level=log_level)
        functions[pair.function] = await asyncio.to_thread(load_function, pair.function, envs[pair.function])

    pool: WorkerPool | None = None
    if run_workers:
        pool = WorkerPool([
            QueueWorker(function_name=topo.prefix + FUNCTION_NAMES[pair.function], queue_url=pair.url,
                        queue_arn=pair.arn, region=topo.region, handler=functions[pair.function].handler,
                        sqs=aws.client("sqs"), wait_seconds=wait_seconds)
            for pair in topo.queues.values()
        ])
        pool.start()
        # The handlers call twins served on this event loop: stop them off-loop.
        stack.push_async_callback(asyncio.to_thread, pool.stop)
    return Subscribers(compliance=compliance, compliance_url=compliance_url, marketo=marketo,
                       marketo_url=marketo_url, functions=functions, env=envs, workers=pool)


@dataclass
class Pipeline:
    """Handles and helpers over a running pipeline (tests and ``ctx.info["pipeline"]``)."""

    aws: AwsTwin
    subscribers: Subscribers
    _clients: dict[str, Any] = field(default_factory=dict)

    @property
    def topology(self) -> Any:
        return self.aws.topology

    @property
    def compliance(self) -> compliance_twin.ComplianceTwin:
        return self.subscribers.compliance

    @property
    def marketo(self) -> marketo_twin.MarketoTwin:
        return self.subscribers.marketo

    def client(self, service: str) -> Any:
        if service not in self._clients:
            self._clients[service] = self.aws.client(service)
        return self._clients[service]

    # -------------------------------------------------------------------- publishing

    @staticmethod
    def account_created(**fields: Any) -> dict[str, Any]:
        """An AccountCreated document with fresh ids (override any field)."""
        event: dict[str, Any] = {
            "eventId": str(uuid.uuid4()), "eventType": EVENT_TYPE,
            "occurredAt": datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z"),
            "userId": "00u" + uuid.uuid4().hex[:17], "login": f"user-{uuid.uuid4().hex[:8]}@example.test",
            "firstName": "Ada", "lastName": "Lovelace", "orgId": "org-acme", "locale": "en",
            "source": "bff-signup",
        }
        event.update(fields)
        return event

    def publish(self, event: Mapping[str, Any] | str, *, attributes: Mapping[str, str] | None = None) -> str:
        """Publish as the BFF does: the JSON body plus eventType/orgId/source message attributes."""
        if isinstance(event, str):
            body, attrs = event, dict(attributes or {"eventType": EVENT_TYPE})
        else:
            body = json.dumps(event)
            attrs = {k: str(event[k]) for k in ("eventType", "orgId", "source") if event.get(k)}
            attrs.update(attributes or {})
        resp = self.client("sns").publish(
            TopicArn=self.topology.topic_arn, Message=body,
            MessageAttributes={k: {"DataType": "String", "StringValue": v} for k, v in attrs.items()})
        return str(resp["MessageId"])

    # -------------------------------------------------------------------- reading state

    async def sent_emails(self, to: str | None = None) -> list[SentMail]:
        mails = await fetch_sent_mail(self.aws.endpoint_url)
        return [m for m in mails if to is None or to.lower() in m.to.lower()]

    def queue_counts(self, queue: str, *, dlq: bool = False) -> dict[str, int]:
        pair = self.topology.queues[queue]
        attrs = self.client("sqs").get_queue_attributes(
            QueueUrl=pair.dlq_url if dlq else pair.url,
            AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
        )["Attributes"]
        return {"visible": int(attrs["ApproximateNumberOfMessages"]),
                "in_flight": int(attrs["ApproximateNumberOfMessagesNotVisible"])}

    def peek_dlq(self, queue: str) -> list[dict[str, Any]]:
        """The DLQ's messages (received with a zero visibility timeout: they stay)."""
        resp = self.client("sqs").receive_message(
            QueueUrl=self.topology.queues[queue].dlq_url, MaxNumberOfMessages=10, VisibilityTimeout=0,
            AttributeNames=["All"], MessageAttributeNames=["All"])
        return list(resp.get("Messages") or [])

    def reviews(self, org_id: str | None = None) -> list[dict[str, Any]]:
        table = self.client("dynamodb")
        if org_id is None:
            items = table.scan(TableName=self.topology.review_table)["Items"]
        else:
            items = table.query(TableName=self.topology.review_table, KeyConditionExpression="orgId = :o",
                                ExpressionAttributeValues={":o": {"S": org_id}})["Items"]
        from boto3.dynamodb.types import TypeDeserializer

        des = TypeDeserializer()
        return [{k: des.deserialize(v) for k, v in item.items()} for item in items]

    async def wait_for(self, probe: Callable[[], T], *, within: float = 20.0, interval: float = 0.1) -> T:
        """Poll ``probe`` (run off-loop) until it returns something truthy; its value."""
        deadline = time.monotonic() + within
        while True:
            value = await asyncio.to_thread(probe)
            if value:
                return value
            if time.monotonic() > deadline:
                raise TimeoutError(f"condition not met within {within} s")
            await asyncio.sleep(interval)

    async def wait_for_mail(self, to: str, *, count: int = 1, within: float = 20.0) -> list[SentMail]:
        deadline = time.monotonic() + within
        while True:
            mails = await self.sent_emails(to)
            if len(mails) >= count:
                return mails
            if time.monotonic() > deadline:
                raise TimeoutError(f"{count} email(s) to {to} not sent within {within} s (got {len(mails)})")
            await asyncio.sleep(0.1)

    async def settle(self, *, quiet: float = 0.5, within: float = 20.0) -> None:
        """Wait until the subscriber queues are empty and no worker holds a batch for ``quiet`` s."""
        deadline = time.monotonic() + within
        calm_since: float | None = None
        while True:
            busy = bool(self.subscribers.workers and self.subscribers.workers.busy)
            if not busy:
                counts = await asyncio.to_thread(
                    lambda: [self.queue_counts(q) for q in self.topology.queues])
                busy = any(c["visible"] or c["in_flight"] for c in counts)
            now = time.monotonic()
            if busy:
                calm_since = None
            elif calm_since is None:
                calm_since = now
            elif now - calm_since >= quiet:
                return
            if now > deadline:
                raise TimeoutError("the pipeline did not settle")
            await asyncio.sleep(0.1)


@contextlib.asynccontextmanager
async def start_pipeline(
    *, okta_url: str, okta_token: str, prefix: str | None = None, endpoint_url: str | None = None,
    moto_port: int | None = None, visibility_timeout: int = 1, max_receive_count: int = 3,
    compliance_port: int | None = None, marketo_port: int | None = None, app_url: str | None = None,
    aem_url: str | None = None, compliance_timeout: float = 2.0, run_workers: bool = True,
    log_level: str = "WARNING",
) -> AsyncIterator[Pipeline]:
    """moto (started on a free port unless ``endpoint_url`` is given) + topology (under a unique
    ``prefix`` unless given) + twins + functions + workers, all stopped on exit."""
    prefix = f"t{uuid.uuid4().hex[:8]}-" if prefix is None else prefix
    spec = TopologySpec(prefix=prefix, visibility_timeout=visibility_timeout,
                        max_receive_count=max_receive_count)
    async with contextlib.AsyncExitStack() as stack:
        aws = await start_aws(stack, port=None if endpoint_url else (moto_port or free_port()),
                              endpoint_url=endpoint_url, spec=spec)
        subscribers = await start_subscribers(
            stack, aws, okta_url=okta_url, okta_token=okta_token, compliance_port=compliance_port,
            marketo_port=marketo_port, app_url=app_url, aem_url=aem_url,
            compliance_timeout=compliance_timeout, run_workers=run_workers, log_level=log_level)
        yield Pipeline(aws, subscribers)
