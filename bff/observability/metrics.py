"""The one metrics API of the BFF, and every series it exports.

Call sites record through the series declared at the bottom of this module::

    metrics.HTTP_REQUEST_SECONDS.observe(elapsed, route, method, status)
    metrics.TOKEN_REFRESHES.inc("ok")

Off (the default) every series has no back-end: a call is one attribute test. :func:`enable`
binds them all to one back-end:

* ``prometheus`` (the container deployment): a ``prometheus_client`` registry of its own, served
  as Prometheus text on the separate listener ``BFF_METRICS_ADDR`` (:mod:`.exposition`), never
  the public port;
* ``emf`` (the BFF on Lambda): values accumulate during an invocation and :func:`flush` prints
  them as CloudWatch embedded metric format documents (namespace ``BFF``), one per series and
  label set, which CloudWatch turns into metrics from the function's log stream.

Label values must come from bounded sets (route templates, upstream names, outcomes, status
codes), never from a raw path, a user or an email. As a net under that rule each series keeps
at most :data:`MAX_SERIES` label sets; later new ones are counted under ``other`` (and
:data:`OVERFLOW` says which series overflowed), so a flood of random paths cannot grow the
exposition. Values pass :func:`bff.observability.attributes.safe` as well.
"""

from __future__ import annotations

import json
import sys
import time
from bisect import bisect_left
from collections.abc import Callable, Sequence
from typing import Any, Protocol, TextIO

from bff.observability.attributes import safe

#: Label sets one series may hold before new ones collapse into ``other``.
MAX_SERIES = 500
#: Seconds buckets for request and upstream latency (5 ms .. 10 s).
LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
NAMESPACE = "BFF"


class _Child(Protocol):
    def record(self, value: float) -> None: ...


class Backend(Protocol):
    def child(self, metric: Metric, labels: tuple[str, ...]) -> _Child: ...


class Metric:
    """One series: a name, its help text, its label names, its kind."""

    kind = "untyped"

    def __init__(self, name: str, documentation: str, labels: Sequence[str] = (), *,
                 unit: str = "Count") -> None:
        self.name = name
        self.documentation = documentation
        self.labels = tuple(labels)
        self.unit = unit  # the CloudWatch unit (EMF)
        self._backend: Backend | None = None
        self._children: dict[tuple[str, ...], _Child] = {}
        _ALL.append(self)

    def _bind(self, backend: Backend | None) -> None:
        self._backend = backend
        self._children = {}

    def _child(self, labels: tuple[str, ...]) -> _Child | None:
        child = self._children.get(labels)
        if child is None:
            backend = self._backend
            if backend is None:
                return None
            if len(labels) != len(self.labels):
                raise ValueError(f"{self.name} takes labels {self.labels}, got {labels}")
            if len(self._children) >= MAX_SERIES:
                OVERFLOW.add(self.name)
                labels = ("other",) * len(self.labels)
                child = self._children.get(labels)
                if child is not None:
                    return child
            clean = tuple(str(safe(value)) for value in labels)
            child = backend.child(self, clean)
            self._children[labels] = child
        return child

    @property
    def series(self) -> int:
        """Label sets recorded so far (tests)."""
        return len(self._children)


class Counter(Metric):
    kind = "counter"

    def inc(self, *labels: str, amount: float = 1.0) -> None:
        if self._backend is not None:
            child = self._child(labels)
            if child is not None:
                child.record(amount)


class Histogram(Metric):
    kind = "histogram"

    def __init__(self, name: str, documentation: str, labels: Sequence[str] = (), *,
                 buckets: Sequence[float] = LATENCY_BUCKETS, unit: str = "Seconds") -> None:
        super().__init__(name, documentation, labels, unit=unit)
        self.buckets = tuple(buckets)

    def observe(self, value: float, *labels: str) -> None:
        if self._backend is not None:
            child = self._child(labels)
            if child is not None:
                child.record(value)


class Gauge(Metric):
    kind = "gauge"

    def set(self, value: float, *labels: str) -> None:
        if self._backend is not None:
            child = self._child(labels)
            if child is not None:
                child.record(value)


_ALL: list[Metric] = []
OVERFLOW: set[str] = set()


def enabled() -> bool:
    return _state.backend is not None


def all_series() -> tuple[Metric, ...]:
    return tuple(_ALL)


class _State:
    backend: Backend | None = None
    registry: Any = None  # the prometheus_client CollectorRegistry, when prometheus


_state = _State()


def enable(kind: str) -> Any:
    """Bind every series to a new ``prometheus`` registry (returned) or to the ``emf``
    accumulator. Replaces whatever was bound before."""
    backend: Backend
    if kind == "prometheus":
        backend = PrometheusBackend()
        _state.registry = backend.registry
    elif kind == "emf":
        backend = EmfBackend()
        _state.registry = None
    else:
        raise ValueError(f"unknown metrics back-end {kind!r}")
    _state.backend = backend
    OVERFLOW.clear()
    for metric in _ALL:
        metric._bind(backend)
        if isinstance(backend, PrometheusBackend):
            backend.declare(metric)  # listed (HELP/TYPE) from the first scrape, before any sample
    return _state.registry


def disable() -> None:
    _state.backend = None
    _state.registry = None
    for metric in _ALL:
        metric._bind(None)


def registry() -> Any:
    """The Prometheus registry while ``prometheus`` is enabled, else None."""
    return _state.registry


def flush(stream: TextIO | None = None) -> int:
    """EMF only: print what accumulated since the last flush (one JSON line per series and
    label set, to stdout by default) and reset; returns the number of documents."""
    backend = _state.backend
    if isinstance(backend, EmfBackend):
        return backend.flush(stream or sys.stdout)
    return 0


class Timer:
    """``with Timer() as t: ...`` then ``t.elapsed`` (seconds, monotonic)."""

    __slots__ = ("began", "elapsed")

    def __enter__(self) -> Timer:
        self.began = time.perf_counter()
        self.elapsed = 0.0
        return self

    def __exit__(self, *exc: object) -> None:
        self.elapsed = time.perf_counter() - self.began


# -- back-ends --------------------------------------------------------------------------------


class _Total:
    """A counter's or gauge's value. Plain attributes, no lock: every series is recorded on the
    event loop's thread (the only writer); the scrape thread only reads."""

    __slots__ = ("value", "replace")

    def __init__(self, replace: bool) -> None:
        self.value = 0.0
        self.replace = replace

    def record(self, value: float) -> None:
        if self.replace:
            self.value = value
        else:
            self.value += value


class _Buckets:
    """A histogram's per-bucket counts (not cumulative; the last one is +Inf) and sum."""

    __slots__ = ("bounds", "counts", "sum")

    def __init__(self, bounds: tuple[float, ...]) -> None:
        self.bounds = bounds
        self.counts = [0] * (len(bounds) + 1)
        self.sum = 0.0

    def record(self, value: float) -> None:
        self.counts[bisect_left(self.bounds, value)] += 1  # the first bound >= value ("le")
        self.sum += value


class PrometheusBackend:
    """Every series in plain per-label-set accumulators, exposed through ``prometheus_client``'s
    custom-collector interface (its registry, text format and process/platform collectors).

    Not ``prometheus_client``'s own Counter/Histogram: each of their observations takes a lock
    per value touched (a histogram's sum and its bucket), which the BFF does not need (one
    writer thread, above) and which cost several microseconds per request on the hot path. A
    scrape running while a request records may see a bucket one observation ahead of the sum,
    as with any lock-free client; counts never go backwards."""

    def __init__(self) -> None:
        import prometheus_client
        from prometheus_client import CollectorRegistry

        self.registry = CollectorRegistry(auto_describe=True)
        prometheus_client.ProcessCollector(registry=self.registry)
        prometheus_client.PlatformCollector(registry=self.registry)
        self._declared: dict[str, tuple[Metric, dict[tuple[str, ...], Any]]] = {}
        self.registry.register(_Collector(self._declared))

    def declare(self, metric: Metric) -> None:
        self._declared.setdefault(metric.name, (metric, {}))

    def child(self, metric: Metric, labels: tuple[str, ...]) -> _Child:
        self.declare(metric)
        children = self._declared[metric.name][1]
        existing = children.get(labels)  # two raw label sets the scrubber made one
        if existing is not None:
            return existing  # type: ignore[no-any-return]
        made: _Total | _Buckets
        if isinstance(metric, Histogram):
            made = _Buckets(metric.buckets)
        else:
            made = _Total(replace=isinstance(metric, Gauge))
        children[labels] = made
        return made


class _Collector:
    """The custom collector: one metric family per declared series, read at scrape time."""

    def __init__(self, declared: dict[str, tuple[Metric, dict[tuple[str, ...], Any]]]) -> None:
        self._declared = declared

    def describe(self) -> list[Any]:
        return list(self.collect())

    def collect(self) -> list[Any]:
        from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, HistogramMetricFamily

        families: list[Any] = []
        for metric, children in list(self._declared.values()):
            labels = list(metric.labels)
            items = list(children.items())  # a snapshot: the loop may add label sets meanwhile
            if isinstance(metric, Histogram):
                family: Any = HistogramMetricFamily(metric.name, metric.documentation, labels=labels)
                for label_values, buckets in items:
                    counts, running, cumulative = list(buckets.counts), 0, []
                    for bound, count in zip((*metric.buckets, float("inf")), counts, strict=True):
                        running += count
                        cumulative.append((_le(bound), running))
                    family.add_metric(list(label_values), cumulative, buckets.sum)
            elif isinstance(metric, Gauge):
                family = GaugeMetricFamily(metric.name, metric.documentation, labels=labels)
                for label_values, total in items:
                    family.add_metric(list(label_values), total.value)
            else:
                family = CounterMetricFamily(metric.name.removesuffix("_total"), metric.documentation,
                                             labels=labels)
                for label_values, total in items:
                    family.add_metric(list(label_values), total.value)
            families.append(family)
        return families


def _le(bound: float) -> str:
    return "+Inf" if bound == float("inf") else repr(float(bound))


class _EmfChild:
    __slots__ = ("metric", "labels", "values", "kind")

    def __init__(self, metric: Metric, labels: tuple[str, ...]) -> None:
        self.metric = metric
        self.labels = labels
        self.kind = metric.kind
        self.values: list[float] = []

    def record(self, value: float) -> None:
        if self.kind == "counter":
            if self.values:
                self.values[0] += value
            else:
                self.values.append(value)
        elif self.kind == "gauge":
            self.values[:] = [value]
        else:
            self.values.append(value)


class EmfBackend:
    """CloudWatch embedded metric format: one document per series and label set and flush;
    label names are the dimensions (histograms: up to 100 raw values per document, EMF's limit)."""

    def __init__(self, clock: Callable[[], float] = time.time) -> None:
        self._children: list[_EmfChild] = []
        self._clock = clock

    def child(self, metric: Metric, labels: tuple[str, ...]) -> _Child:
        made = _EmfChild(metric, labels)
        self._children.append(made)
        return made

    def flush(self, stream: TextIO) -> int:
        stamp = int(self._clock() * 1000)
        written = 0
        for child in self._children:
            values, child.values = child.values, []
            for start in range(0, len(values), 100):
                chunk = values[start:start + 100]
                metric = child.metric
                doc: dict[str, Any] = {
                    "_aws": {"Timestamp": stamp, "CloudWatchMetrics": [{
                        "Namespace": NAMESPACE,
                        # by every label, and (for the alarms and dashboard totals) by none
                        "Dimensions": [list(metric.labels), []] if metric.labels else [[]],
                        "Metrics": [{"Name": metric.name, "Unit": metric.unit}],
                    }]},
                    **dict(zip(metric.labels, child.labels, strict=True)),
                    metric.name: chunk if len(chunk) > 1 else chunk[0],
                }
                stream.write(json.dumps(doc, separators=(",", ":")) + "\n")
                written += 1
        stream.flush()
        return written


# -- the series -------------------------------------------------------------------------------
# Keep docs/operations.md ("Metrics") in step with this list.

HTTP_REQUEST_SECONDS = Histogram(
    "bff_http_request_duration_seconds",
    "Inbound requests by route template, method and status (its _count is the request count)",
    ("route", "method", "status"))
UPSTREAM_SECONDS = Histogram(
    "bff_upstream_request_duration_seconds",
    "Calls to an upstream (the /api upstreams by name, okta, okta_idx, okta_management, aem, sns)",
    ("upstream", "status"))
UPSTREAM_ERRORS = Counter(
    "bff_upstream_errors_total",
    "Upstream calls that failed without a usable answer (timeout, unreachable, bad response)",
    ("upstream", "kind"))
TOKEN_REFRESHES = Counter(
    "bff_token_refreshes_total",
    "Access-token refreshes: ok, failed, coalesced (served by another request's), waited "
    "(served by another instance's after waiting on its lock)", ("outcome",))
SESSION_STORE_SECONDS = Histogram(
    "bff_session_store_duration_seconds", "Session store operations", ("operation",))
SESSION_STORE_ERRORS = Counter(
    "bff_session_store_errors_total", "Session store operations that failed", ("operation",))
SESSIONS_CREATED = Counter("bff_sessions_created_total", "Sessions created (sign-ins completed)")
SESSIONS_ENDED = Counter(
    "bff_sessions_ended_total",
    "Sessions ended, by reason: logout, idle, lifetime, revoked, back-channel", ("reason",))
SIGNIN_STEPS = Counter(
    "bff_signin_steps_total", "Embedded sign-in steps by remediation and outcome (never by user)",
    ("remediation", "outcome"))
SIGNUPS = Counter("bff_signups_total", "Sign-ups by outcome", ("outcome",))
ACCOUNT_NOTICES = Counter(
    "bff_account_notices_total", "Account notices written to the outbox, by notice type", ("type",))
RATE_LIMITED = Counter(
    "bff_rate_limit_rejections_total", "Requests refused by a rate limit", ("limiter",))
CONTENT_CACHE = Counter(
    "bff_content_cache_total", "AEM copy lookups by cache outcome: hit, stale, miss, coalesced, error",
    ("outcome",))
CONTENT_FALLBACK = Counter(
    "bff_content_fallback_total", "Copy served from the bundled fallback because AEM failed")
OUTBOX_DEPTH = Gauge("bff_outbox_depth", "Outbox entries not yet sent, by state", ("state",))
OUTBOX_OLDEST_AGE = Gauge(
    "bff_outbox_oldest_pending_age_seconds", "Age of the oldest unsent outbox entry", unit="Seconds")
WEBHOOK_EVENTS = Counter(
    "bff_webhook_events_total", "Webhook events (Okta event hook, AEM webhook) accepted or rejected",
    ("hook", "outcome", "reason"))
