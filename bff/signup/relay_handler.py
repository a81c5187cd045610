"""AWS Lambda entry point of the scheduled outbox relay (``OutboxRelayFunction`` in
infra/template.yaml, every minute).

The BFF's own relay is a background task; on Lambda a function instance is frozen between
requests and may be discarded, so events it could not publish (SNS down at sign-up time) would
wait for the next request to that instance. This function runs one relay pass over the shared
(DynamoDB) outbox on a schedule instead: it publishes every due entry, completing hook entries
from Okta first, and stops claiming new batches 10 s before the invocation's time runs out.
Leases keep it from publishing an entry the BFF is publishing at the same moment.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

import httpx

from bff.logs import configure_logging
from bff.observability import metrics
from bff.settings import Settings, load_environment
from bff.signup.component import build_okta_auth
from bff.signup.okta_users import OktaManagementClient
from bff.signup.outbox import Outbox, open_outbox
from bff.signup.publisher import SnsPublisher
from bff.signup.relay import Relay

SAFETY_MARGIN_MS = 10_000

_settings: Settings | None = None
_outbox: Outbox | None = None
_publisher: SnsPublisher | None = None


def _resources() -> tuple[Settings, Outbox, SnsPublisher]:
    """Built once per execution environment (boto3 clients are reused across invocations)."""
    global _settings, _outbox, _publisher
    if _settings is None:
        settings = Settings.from_env(load_environment())
        configure_logging(settings.log_level)
        if settings.telemetry.metrics == "emf":
            metrics.enable("emf")
        if not settings.signup.account_topic_arn:
            raise RuntimeError("BFF_ACCOUNT_TOPIC_ARN is required by the outbox relay")
        _outbox = open_outbox(settings.signup.outbox, region=settings.aws.region,
                              endpoint_url=settings.aws.endpoint_url)
        _publisher = SnsPublisher(settings.signup.account_topic_arn, region=settings.aws.region,
                                  endpoint_url=settings.aws.endpoint_url)
        _settings = settings
    assert _outbox is not None and _publisher is not None
    return _settings, _outbox, _publisher


async def run_once(settings: Settings, outbox: Outbox, publisher: SnsPublisher, *,
                   deadline: float | None = None) -> dict[str, Any]:
    """One relay pass; returns what it did and what is left (for the function's log)."""
    async with httpx.AsyncClient(timeout=httpx.Timeout(settings.okta.http_timeout, connect=5.0),
                                 headers={"User-Agent": "bff-outbox-relay/0.1"}) as http:
        auth = build_okta_auth(settings)
        okta = OktaManagementClient(settings.signup.okta_org_url, http, auth) if auth else None
        relay = Relay(outbox, publisher, okta, default_locale=settings.content.default_locale)
        published = await relay.drain(deadline=deadline)
        await relay.report()  # the outbox gauges (BFF_METRICS=emf: printed by the handler)
    return {"published": published, "failed": relay.failures, "outbox": await outbox.counts()}


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    settings, outbox, publisher = _resources()
    deadline = None
    remaining = getattr(context, "get_remaining_time_in_millis", None)
    if callable(remaining):
        deadline = time.monotonic() + max(0, remaining() - SAFETY_MARGIN_MS) / 1000
    try:
        return asyncio.run(run_once(settings, outbox, publisher, deadline=deadline))
    finally:
        metrics.flush()
