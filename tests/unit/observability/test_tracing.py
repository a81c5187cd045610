from __future__ import annotations

from collections.abc import Iterator

import pytest
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import INVALID_SPAN, StatusCode

from bff.observability import tracing
from bff.settings import TelemetrySettings


@pytest.fixture
def exporter() -> Iterator[InMemorySpanExporter]:
    exp = InMemorySpanExporter()
    tracing.start(TelemetrySettings(sampler="parentbased_always_on"), exporter=exp)
    yield exp
    tracing.stop()


def test_off_is_a_shared_no_op() -> None:
    assert not tracing.active()
    first, second = tracing.span("a"), tracing.span("b")
    assert first is second
    with first as sp:
        assert sp is INVALID_SPAN
    assert tracing.traceparent() is None and tracing.amzn_trace_id() is None
    carrier: dict[str, str] = {}
    tracing.headers(carrier)
    assert carrier == {}
    assert (
        tracing.extract([(b"traceparent", b"00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01")])
        is None
    )


def test_spans_nest_and_propagate(exporter: InMemorySpanExporter) -> None:
    with tracing.span("outer", {"k": "v"}):
        with tracing.span("inner") as inner:
            parent = tracing.traceparent()
            amzn = tracing.amzn_trace_id()
            carrier: dict[str, str] = {}
            tracing.headers(carrier)
    ctx = inner.get_span_context()
    trace_id = f"{ctx.trace_id:032x}"
    assert parent == carrier["traceparent"]
    assert parent is not None and parent.startswith(f"00-{trace_id}-{ctx.span_id:016x}-")
    assert int(parent[-2:], 16) & 1  # sampled
    assert amzn == f"Root=1-{trace_id[:8]}-{trace_id[8:]};Parent={ctx.span_id:016x};Sampled=1"
    (outer,) = [s for s in exporter.get_finished_spans() if s.name == "outer"]
    assert outer.attributes == {"k": "v"}


def test_a_failure_names_the_class_never_the_message(exporter: InMemorySpanExporter) -> None:
    with pytest.raises(ValueError), tracing.span("boom"):
        raise ValueError("secret detail alice@acme.test")
    (span,) = exporter.get_finished_spans()
    assert span.status.status_code == StatusCode.ERROR and span.status.description == "ValueError"
    assert span.attributes == {"error.type": "ValueError"} and not span.events


def test_attributes_are_scrubbed(exporter: InMemorySpanExporter) -> None:
    with tracing.span("s", {"who": "alice@acme.test"}) as sp:
        tracing.note(sp, "auth", "Bearer abc")
    (span,) = exporter.get_finished_spans()
    assert span.attributes == {"who": "[redacted]", "auth": "[redacted]"}


def test_extract_takes_a_well_formed_traceparent_only(exporter: InMemorySpanExporter) -> None:
    good = tracing.extract([(b"traceparent", b"00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01")])
    assert good is not None
    with tracing.span("child", parent=good) as sp:
        assert f"{sp.get_span_context().trace_id:032x}" == "4bf92f3577b34da6a3ce929d0e0e4736"
    assert tracing.extract([(b"traceparent", b"garbage")]) is None
    assert tracing.extract([]) is None


def test_sampler_always_off_records_nothing() -> None:
    exp = InMemorySpanExporter()
    tracing.start(TelemetrySettings(sampler="always_off"), exporter=exp)
    try:
        with tracing.span("x"):
            pass
    finally:
        tracing.stop()
    assert exp.get_finished_spans() == ()


@pytest.mark.parametrize("sampler", ["parentbased_traceidratio", "traceidratio"])
def test_ratio_sampling_keeps_whole_traces_at_the_ratio_by_the_sdk_rule(sampler: str) -> None:
    """Roots are decided by the BFF (no SDK call for a dropped one): the share kept is the
    ratio, a kept trace has every span, a dropped one none, and every decision is the SDK's
    TraceIdRatioBased rule on that trace id."""
    from opentelemetry.sdk.trace.sampling import TraceIdRatioBased

    exp = InMemorySpanExporter()
    tracing.start(TelemetrySettings(sampler=sampler, sampler_arg=0.25), exporter=exp)
    decided: dict[int, bool] = {}
    try:
        for _ in range(4000):
            with tracing.span("root", kind=tracing.SpanKind.SERVER) as root:
                with tracing.span("child") as child:
                    if root.is_recording():
                        assert child.get_span_context().trace_id == root.get_span_context().trace_id
                    else:  # dropped without asking the SDK
                        assert child is INVALID_SPAN
                decided[root.get_span_context().trace_id] = root.is_recording()
    finally:
        tracing.stop()
    assert len(decided) == 4000  # fresh trace ids
    kept = {tid for tid, recorded in decided.items() if recorded}
    assert 850 <= len(kept) <= 1150  # 1000 expected; a 5-sigma band
    rule = TraceIdRatioBased(0.25)
    assert all((tid & ((1 << 64) - 1) < rule.bound) == recorded for tid, recorded in decided.items())
    spans = exp.get_finished_spans()
    assert {s.context.trace_id for s in spans if s.name == "root"} == kept
    assert {s.context.trace_id for s in spans if s.name == "child"} == kept
    children = [s for s in spans if s.name == "child"]
    roots = {s.context.trace_id: s.context.span_id for s in spans if s.name == "root"}
    assert all(s.parent is not None and s.parent.span_id == roots[s.context.trace_id] for s in children)


def test_a_dropped_trace_still_has_ids_for_logs_and_upstreams() -> None:
    exp = InMemorySpanExporter()
    tracing.start(TelemetrySettings(sampler="parentbased_traceidratio", sampler_arg=0.0), exporter=exp)
    try:
        assert tracing.log_ids() == ("-", "-")
        with tracing.span("root") as root:
            ctx = root.get_span_context()
            assert ctx.is_valid and not root.is_recording()
            assert tracing.log_ids() == (f"{ctx.trace_id:032x}", f"{ctx.span_id:016x}")
            assert tracing.traceparent() == f"00-{ctx.trace_id:032x}-{ctx.span_id:016x}-00"
            carrier: dict[str, str] = {}
            tracing.headers(carrier)
            assert carrier["traceparent"] == tracing.traceparent()
            with tracing.span("child") as child:
                assert child is INVALID_SPAN or not child.is_recording()
                assert tracing.traceparent() == f"00-{ctx.trace_id:032x}-{ctx.span_id:016x}-00"
        assert tracing.log_ids() == ("-", "-") and tracing.traceparent() is None
    finally:
        tracing.stop()
    assert exp.get_finished_spans() == ()


def test_a_trusted_sampled_parent_is_followed_whatever_the_ratio() -> None:
    exp = InMemorySpanExporter()
    tracing.start(TelemetrySettings(sampler="parentbased_traceidratio", sampler_arg=0.0), exporter=exp)
    try:
        sampled = b"00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
        parent = tracing.extract([(b"traceparent", sampled)])
        with tracing.span("server", parent=parent), tracing.span("child"):
            pass
    finally:
        tracing.stop()
    assert sorted(s.name for s in exp.get_finished_spans()) == ["child", "server"]
