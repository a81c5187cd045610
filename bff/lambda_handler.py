"""AWS Lambda entry point: the same ASGI app behind API Gateway (HTTP API, payload 2.0) through
Mangum. Configuration comes from the function's environment (``Settings.from_env``), built once
per execution environment; the lifespan runs on the first invocation.

Telemetry on Lambda: ``BFF_METRICS=emf`` (the template sets it) prints the invocation's metrics
as CloudWatch embedded metric format lines after each invocation, and batched spans are
exported before the environment freezes (``OTEL_TRACES_EXPORTER=otlp``, to a collector
extension or endpoint of the deployment's choice)."""

from __future__ import annotations

from typing import Any

from mangum import Mangum

from bff.app import create_app
from bff.observability import metrics, tracing
from bff.settings import Settings, load_environment

_handler: Mangum | None = None


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    global _handler
    if _handler is None:
        _handler = Mangum(create_app(Settings.from_env(load_environment())), lifespan="auto")
    try:
        return _handler(event, context)
    finally:
        metrics.flush()
        tracing.flush()
