"""The one tracing API of the BFF: OpenTelemetry spans, off by default.

Call sites use :func:`span` (a context manager yielding the span, or OpenTelemetry's
non-recording ``INVALID_SPAN`` when tracing is off, so ``sp.set_attribute`` needs no test) and
:func:`headers` / :func:`traceparent` for what goes to an upstream. Off, :func:`span` is one
global test and returns a shared no-op context manager: nothing of the SDK is imported, no
context variable is touched.

On (``OTEL_TRACES_EXPORTER=otlp|console``, :func:`start`), the SDK's ``TracerProvider`` is built
here, not installed as the global provider (tests start and stop it per app), with the
configured sampler and a batch processor in front of the OTLP/HTTP or console exporter. The
current span is kept in this module's own context variable (the SDK is given each parent
explicitly), and the root of a trace-id-ratio sampler is decided here by the SDK's rule, so a
dropped request costs one light non-recording span (see :func:`span`). Spans
never record exception events (a message could quote input): a failed span gets status ERROR
and ``error.type`` = the exception's class name. Every attribute passes
:func:`bff.observability.attributes.safe`.

Log lines carry the current ``trace_id``/``span_id`` (:func:`log_ids`, installed into
:mod:`bff.logs` by :func:`start`).
"""

from __future__ import annotations

import contextlib
import random
import sys
from collections.abc import Mapping, MutableMapping
from contextvars import ContextVar
from types import TracebackType
from typing import TYPE_CHECKING, Any

from opentelemetry import context as otel_context
from opentelemetry import trace
from opentelemetry.trace import INVALID_SPAN, NonRecordingSpan, Span, SpanKind, Status, StatusCode
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

from bff import logs
from bff.observability.attributes import AttributeValue, safe, safe_all

if TYPE_CHECKING:
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SpanExporter

    from bff.settings import TelemetrySettings

__all__ = ["SpanKind", "span", "headers", "traceparent", "note", "start", "stop", "active", "Context"]

Context = otel_context.Context

_tracer: trace.Tracer | None = None
#: The current span of this task: the BFF's own context variable, not OpenTelemetry's context
#: (whose API costs several calls per lookup, on every request's path). Nothing else in the
#: process reads OpenTelemetry's current context: the SDK is handed each span's parent
#: explicitly, and :func:`headers` injects from this variable.
_current: ContextVar[Span] = ContextVar("bff_current_span", default=INVALID_SPAN)
#: The parent of a root span: an empty context (not whatever OpenTelemetry's holds).
_ROOT = otel_context.Context()
_provider: TracerProvider | None = None
_propagator = TraceContextTextMapPropagator()


class _Noop:
    """The context manager :func:`span` returns while tracing is off (shared, stateless)."""

    __slots__ = ()

    def __enter__(self) -> Span:
        return INVALID_SPAN

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        return None


_NOOP = _Noop()


def active() -> bool:
    """Whether spans are being recorded (for call sites that would compute attributes)."""
    return _tracer is not None


def span(name: str, attributes: Mapping[str, AttributeValue] | None = None, *,
         kind: SpanKind = SpanKind.INTERNAL,
         parent: Context | None = None) -> contextlib.AbstractContextManager[Span]:
    """A span around the ``with`` block, current inside it (children nest, log lines carry
    its ids). ``parent``: an extracted remote context (the inbound request's).

    Inside a span the sampler dropped (a trace not sampled), children are dropped too without
    asking the SDK: every sampler the SDK ships decides the same for a trace's children
    (ParentBased follows the parent, TraceIdRatioBased the same trace id), so an unsampled
    request costs its one root span."""
    tracer = _tracer
    if tracer is None:
        return _NOOP
    if parent is None:
        current = _current.get()
        # (type tests, not get_span_context().is_valid / is_recording(): four calls fewer on
        # every span of every request. A current span the SDK dropped, or an _Unsampled root,
        # is a NonRecordingSpan; INVALID_SPAN, the one without ids, means no span is current.)
        if current is INVALID_SPAN:
            if _ids is not None:  # a root, and the root sampler decides on the trace id alone
                trace_id = _ids.generate_trace_id()
                if trace_id & _LOW_64 >= _root_bound:
                    return _Unsampled(trace_id)
                _ids.chosen = trace_id  # sampled: the SDK starts the span with this very id
        elif isinstance(current, NonRecordingSpan):
            return _NOOP
        else:
            parent = trace.set_span_in_context(current)  # a child of the current span
    return _Recording(tracer, name, safe_all(attributes), kind, parent)


_LOW_64 = (1 << 64) - 1
#: The root decision of a ``traceidratio`` sampler (bare or ``parentbased_``, or ``always_off``):
#: a trace is sampled iff the low 64 bits of its id are below this bound, the rule of the SDK's
#: ``TraceIdRatioBased``. Set by :func:`start` with :data:`_ids`, which stays None for other
#: samplers (their roots go to the SDK).
_root_bound = 0
_ids: _Ids | None = None


class _Ids:
    """The provider's id generator (random ids, as the SDK's ``RandomIdGenerator`` draws them),
    which can be told the next trace id: :func:`span` draws a root's trace id itself to decide
    sampling without the SDK, and hands the id of a sampled one to the SDK's ``start_span``
    (the same decision: same id, same rule). Only the event loop's thread starts root spans, so
    the hand-over cannot be interleaved."""

    __slots__ = ("chosen",)

    def __init__(self) -> None:
        self.chosen = 0

    @staticmethod
    def generate_span_id() -> int:
        span_id = _bits(64)
        while not span_id:
            span_id = _bits(64)
        return span_id

    @staticmethod
    def is_trace_id_random() -> bool:
        return True

    def generate_trace_id(self) -> int:
        chosen = self.chosen
        if chosen:
            self.chosen = 0
            return chosen
        trace_id = _bits(128)
        while not trace_id:
            trace_id = _bits(128)
        return trace_id


_bits = random.getrandbits


class _Unsampled(NonRecordingSpan):
    """The root span of a trace the sampler drops, and the context manager that makes it
    current: a non-recording span with fresh ids (log lines and the upstream's ``traceparent``,
    flags ``00``, still name the trace), so its children are dropped without asking the SDK.
    What the SDK's ``start_span`` builds for a dropped root, without the sampler call and the
    span machinery; its span context is built only when asked for (the proxy's traceparent
    reads the ids off the object)."""

    def __init__(self, trace_id: int) -> None:  # (NonRecordingSpan's __init__ not called)
        self.trace_id = trace_id
        self.span_id = _Ids.generate_span_id()
        self._built: trace.SpanContext | None = None

    def get_span_context(self) -> trace.SpanContext:
        if self._built is None:
            self._built = trace.SpanContext(self.trace_id, self.span_id, is_remote=False,
                                            trace_flags=_UNSAMPLED)
        return self._built

    def __repr__(self) -> str:
        return f"NonRecordingSpan({self.get_span_context()!r})"

    def __enter__(self) -> Span:
        self.token = _current.set(self)
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        _current.reset(self.token)


_UNSAMPLED = trace.TraceFlags(trace.TraceFlags.DEFAULT)


class _Recording:
    """Start the span and make it current on enter; end it (failed, on an exception) on exit.
    A class rather than the SDK's generator-based ``start_as_current_span``: this is on every
    request's path."""

    __slots__ = ("tracer", "name", "attributes", "kind", "parent", "span", "token")

    def __init__(self, tracer: trace.Tracer, name: str, attributes: dict[str, AttributeValue],
                 kind: SpanKind, parent: Context | None) -> None:
        self.tracer, self.name, self.attributes = tracer, name, attributes
        self.kind, self.parent = kind, parent

    def __enter__(self) -> Span:
        sp = self.tracer.start_span(self.name, context=_ROOT if self.parent is None else self.parent,
                                    kind=self.kind,
                                    attributes=self.attributes, record_exception=False,
                                    set_status_on_exception=False)
        self.span = sp
        self.token = _current.set(sp)
        return sp

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        try:
            if exc is not None:
                fail(self.span, exc)
        finally:
            _current.reset(self.token)
            self.span.end()


def fail(sp: Span, exc: BaseException | str) -> None:
    """Mark ``sp`` failed, naming the error's class (never its message)."""
    kind = exc if isinstance(exc, str) else type(exc).__name__
    sp.set_attribute("error.type", kind)
    sp.set_status(Status(StatusCode.ERROR, kind))


def note(sp: Span, key: str, value: AttributeValue) -> None:
    """Set one attribute on ``sp`` through the scrubber (a no-op on the non-recording span)."""
    if sp.is_recording():
        sp.set_attribute(key, safe(value))


def current() -> Span:
    return _current.get() if _tracer is not None else INVALID_SPAN


# -- propagation ------------------------------------------------------------------------------


def headers(carrier: MutableMapping[str, str]) -> None:
    """Add ``traceparent`` (and ``tracestate``) of the current span to ``carrier``; nothing when
    tracing is off or no span is current."""
    if _tracer is not None:
        current = _current.get()
        if current.get_span_context().is_valid:
            _propagator.inject(carrier, context=trace.set_span_in_context(current))


def traceparent() -> str | None:
    """The W3C ``traceparent`` naming the current span, or None (off, or no span). Formatted
    here rather than through the propagator's carrier (the same text: version ``00``, the ids in
    lower-case hex, the flags): the proxy asks for it on every request."""
    if _tracer is None:
        return None
    current = _current.get()
    if current is INVALID_SPAN:
        return None
    if type(current) is _Unsampled:
        return f"00-{current.trace_id:032x}-{current.span_id:016x}-00"
    # SpanContext is the tuple (trace_id, span_id, is_remote, trace_flags, ...): read by
    # position, not through its four properties
    trace_id, span_id, _, flags = current.get_span_context()[:4]
    return f"00-{trace_id:032x}-{span_id:016x}-{flags:02x}"


def amzn_trace_id() -> str | None:
    """The current span as an ``X-Amzn-Trace-Id`` (X-Ray's ``Root=1-<8>-<24>;Parent=;Sampled=``:
    the W3C trace id split the way the AWS X-Ray propagator does), or None."""
    if _tracer is None:
        return None
    ctx = _current.get().get_span_context()
    if not ctx.is_valid:
        return None
    trace_id = f"{ctx.trace_id:032x}"
    sampled = 1 if ctx.trace_flags.sampled else 0
    return f"Root=1-{trace_id[:8]}-{trace_id[8:]};Parent={ctx.span_id:016x};Sampled={sampled}"


class _AsgiGetter:
    """Reads W3C headers out of raw ASGI header pairs."""

    def get(self, carrier: list[tuple[bytes, bytes]], key: str) -> list[str] | None:
        name = key.encode("latin-1")
        values = [v.decode("latin-1") for k, v in carrier if k == name]
        return values or None

    def keys(self, carrier: list[tuple[bytes, bytes]]) -> list[str]:
        return [k.decode("latin-1") for k, _ in carrier]


_GETTER = _AsgiGetter()


def extract(raw_headers: list[tuple[bytes, bytes]]) -> Context | None:
    """The remote parent named by a well-formed ``traceparent`` in ``raw_headers``, or None.
    Whether to honour it is the caller's decision (:mod:`bff.observability.propagation`)."""
    if _tracer is None:
        return None
    ctx = _propagator.extract(raw_headers, getter=_GETTER)  # type: ignore[arg-type]
    if not trace.get_current_span(ctx).get_span_context().is_valid:
        return None
    return ctx


# -- logs -------------------------------------------------------------------------------------


def log_ids() -> tuple[str, str]:
    """``(trace_id, span_id)`` of the current span in hex, ``("-", "-")`` outside one."""
    ctx = _current.get().get_span_context()
    if not ctx.is_valid:
        return "-", "-"
    return f"{ctx.trace_id:032x}", f"{ctx.span_id:016x}"


# -- start / stop -----------------------------------------------------------------------------


def _sampler(settings: TelemetrySettings) -> Any:
    from opentelemetry.sdk.trace import sampling

    name = settings.sampler
    root: Any = sampling.ALWAYS_ON
    if name.endswith("always_off"):
        root = sampling.ALWAYS_OFF
    elif name.endswith("traceidratio"):
        root = sampling.TraceIdRatioBased(settings.sampler_arg)
    return sampling.ParentBased(root) if name.startswith("parentbased_") else root


def _resource(base: Resource) -> Resource:
    """``base`` with its hash computed once: the OTLP encoder groups every exported span by its
    resource, and the SDK's ``Resource.__hash__`` serialises the attributes to JSON each time
    (~10 us per request of three spans here). The attributes never change after start-up."""
    from opentelemetry.sdk.resources import Resource

    class _Fixed(Resource):
        def __init__(self, attributes: Any, schema_url: str | None) -> None:
            super().__init__(attributes, schema_url)
            self._hash = super().__hash__()

        def __hash__(self) -> int:
            return self._hash

        def __eq__(self, other: object) -> bool:
            return self is other or super().__eq__(other)

    return _Fixed(base.attributes, base.schema_url)


def start(settings: TelemetrySettings, *, exporter: SpanExporter | None = None) -> None:
    """Build the SDK's provider from ``settings`` (or around ``exporter``, exported span by span:
    tests pass an ``InMemorySpanExporter``) and make :func:`span` record. The SDK is imported
    here, only when tracing is on."""
    global _tracer, _provider
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor, SimpleSpanProcessor

    global _ids, _root_bound
    from opentelemetry.sdk.trace import sampling

    stop()
    sampler = _sampler(settings)
    ids = _Ids()
    provider = TracerProvider(resource=_resource(Resource.create({"service.name": settings.service_name})),
                              sampler=sampler, id_generator=ids)  # type: ignore[arg-type]
    # (ParentBased keeps its root sampler in a private attribute: without it, the SDK decides)
    root = getattr(sampler, "_root", None) if isinstance(sampler, sampling.ParentBased) else sampler
    if isinstance(root, sampling.TraceIdRatioBased):
        _ids, _root_bound = ids, root.bound
    elif root is sampling.ALWAYS_OFF:
        _ids, _root_bound = ids, 0
    if exporter is not None:
        provider.add_span_processor(SimpleSpanProcessor(exporter))
    elif settings.traces_exporter == "console":
        from opentelemetry.sdk.trace.export import ConsoleSpanExporter

        provider.add_span_processor(SimpleSpanProcessor(ConsoleSpanExporter(out=sys.stdout)))
    else:
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

        provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter(endpoint=settings.otlp_endpoint)))
    _provider = provider
    _tracer = provider.get_tracer("bff")
    logs.use_trace_ids(log_ids)


def flush(timeout_millis: int = 2000) -> None:
    """Export what is batched now (Lambda: before the execution environment freezes)."""
    if _provider is not None:
        _provider.force_flush(timeout_millis)


def stop() -> None:
    """Flush and shut the provider down; :func:`span` is a no-op again."""
    global _tracer, _provider, _ids
    provider, _provider, _tracer, _ids = _provider, None, None, None
    logs.use_trace_ids(None)
    if provider is not None:
        provider.shutdown()
