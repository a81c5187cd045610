"""Start-up and shut-down of telemetry from :class:`~bff.settings.TelemetrySettings`.

Called by the app's lifespan before any area is built (so start-up calls are traced too) and
undone when it ends: tracing (:func:`bff.observability.tracing.start`) when
``OTEL_TRACES_EXPORTER`` is ``otlp`` or ``console`` (or a test hands in an exporter), metrics
(:func:`bff.observability.metrics.enable`) when ``BFF_METRICS`` is ``prometheus`` (plus its
listener) or ``emf``.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from typing import TYPE_CHECKING

from bff.observability import metrics, tracing
from bff.observability.exposition import MetricsListener, serve_metrics
from bff.settings import TelemetrySettings

if TYPE_CHECKING:
    from opentelemetry.sdk.trace.export import SpanExporter


@dataclass
class Telemetry:
    """What is running: ``listener`` is the Prometheus listener, when there is one."""

    tracing: bool
    metrics: str
    listener: MetricsListener | None = None


def start(settings: TelemetrySettings, stack: contextlib.ExitStack | contextlib.AsyncExitStack, *,
          span_exporter: SpanExporter | None = None) -> Telemetry:
    traced = settings.tracing or span_exporter is not None
    if traced:
        tracing.start(settings, exporter=span_exporter)
        stack.callback(tracing.stop)
    listener = None
    if settings.metrics != "off":
        registry = metrics.enable(settings.metrics)
        stack.callback(metrics.disable)
        if settings.metrics == "emf":
            stack.callback(metrics.flush)  # runs first: Mangum ends the lifespan per invocation
        if settings.metrics == "prometheus":
            listener = serve_metrics(registry, settings.metrics_host, settings.metrics_port)
            stack.callback(listener.close)
    return Telemetry(tracing=traced, metrics=settings.metrics, listener=listener)
