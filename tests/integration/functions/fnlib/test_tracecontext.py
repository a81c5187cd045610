"""The BFF's trace context from SNS publish to the subscriber function's record (moto in server
mode, raw delivery, an in-memory exporter): the ``sns publish`` span's ids arrive in the SQS
record's ``messageAttributes`` exactly as Lambda hands them over, fnlib.tracecontext reads them
back, and the function's subsegment and log lines name that trace."""

from __future__ import annotations

import contextlib
import io
from collections.abc import Iterator
from typing import Any

import pytest
from aws_lambda_powertools.utilities.parser.models import SqsRecordModel
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from bff.observability import tracing
from bff.settings import TelemetrySettings
from bff.signup.events import AccountCreated
from bff.signup.publisher import SnsPublisher
from bff_dev.twins.workers.runner import sqs_record
from fnlib import tracecontext
from tests.integration.signup.moto_topic import REGION, moto_topic


@pytest.fixture
def exporter() -> Iterator[InMemorySpanExporter]:
    exp = InMemorySpanExporter()
    tracing.start(TelemetrySettings(sampler="parentbased_always_on"), exporter=exp)
    yield exp
    tracing.stop()


def _event() -> AccountCreated:
    return AccountCreated.new(user_id="00u1", login="ada@example.com", email="ada@example.com",
                              first_name="Ada", last_name="Lovelace", org_id="acme", locale="en",
                              source="bff-signup")


def _records(moto: Any, expected: int) -> list[dict[str, Any]]:
    sqs = moto.client("sqs")
    arn = sqs.get_queue_attributes(QueueUrl=moto.queue_url,
                                   AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    out: list[dict[str, Any]] = []
    for _ in range(10):
        resp = sqs.receive_message(QueueUrl=moto.queue_url, MaxNumberOfMessages=10, WaitTimeSeconds=1,
                                   MessageAttributeNames=["All"], AttributeNames=["All"])
        out += [sqs_record(m, queue_arn=arn, region=REGION) for m in resp.get("Messages", [])]
        if len(out) >= expected:
            break
    return out


async def test_the_publish_span_reaches_the_subscriber_record(exporter: InMemorySpanExporter) -> None:
    with moto_topic(filter_policy={"eventType": ["AccountCreated"]}) as moto:
        publisher = SnsPublisher(moto.topic_arn, region=REGION, endpoint_url=moto.url)
        e = _event()
        with tracing.span("outbox.relay"):
            await publisher.publish(e.to_json(), e.message_attributes(), dedupe_id=e.eventId,
                                    group_id=e.userId)
        publisher.close()
        (record,) = _records(moto, 1)
    (span,) = [s for s in exporter.get_finished_spans() if s.name == "sns publish"]
    ctx = span.get_span_context()
    # the filter policy still routes on eventType; the trace context rides beside it
    assert set(record["messageAttributes"]) == {"eventType", "orgId", "source", "traceparent"}
    got = tracecontext.from_record(record["messageAttributes"])
    assert got == tracecontext.TraceContext(f"{ctx.trace_id:032x}", f"{ctx.span_id:016x}", True)
    # the parser model the functions receive reads the same
    model = SqsRecordModel.model_validate(record)
    assert tracecontext.from_record(model.messageAttributes) == got
    assert got.xray_trace_id == f"1-{got.trace_id[:8]}-{got.trace_id[8:]}"


async def test_tracing_off_sends_no_trace_attributes() -> None:
    with moto_topic() as moto:
        publisher = SnsPublisher(moto.topic_arn, region=REGION, endpoint_url=moto.url)
        e = _event()
        await publisher.publish(e.to_json(), e.message_attributes(), dedupe_id=e.eventId, group_id=e.userId)
        publisher.close()
        (record,) = _records(moto, 1)
    assert "traceparent" not in record["messageAttributes"]
    assert tracecontext.from_record(record["messageAttributes"]) is None


@pytest.mark.parametrize("value", [
    "", "01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
    "00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01",
    "00-00000000000000000000000000000000-00f067aa0ba902b7-01",
    "00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01",
    "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-extra",
    "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7",
])
def test_a_malformed_traceparent_is_ignored(value: str) -> None:
    assert tracecontext.parse(value) is None


class _Subsegment:
    def __init__(self) -> None:
        self.annotations: dict[str, str] = {}
        self.metadata: dict[str, str] = {}

    def put_annotation(self, key: str, value: str) -> None:
        self.annotations[key] = value

    def put_metadata(self, key: str, value: str) -> None:
        self.metadata[key] = value


class _Provider:
    def __init__(self) -> None:
        self.opened: list[tuple[str, _Subsegment]] = []

    @contextlib.contextmanager
    def in_subsegment(self, name: str) -> Iterator[_Subsegment]:
        sub = _Subsegment()
        self.opened.append((name, sub))
        yield sub


class _Tracer:
    def __init__(self) -> None:
        self.provider = _Provider()


def test_the_record_work_names_the_bff_trace() -> None:
    from aws_lambda_powertools import Logger

    # Its own stream and service name: Powertools keeps one stdlib logger per service, so a Logger
    # built earlier in the run (another function's tests) would own the handler and its stdout.
    stream = io.StringIO()
    logger = Logger(service="tracecontext-test", stream=stream)
    tracer = _Tracer()
    attributes = {"traceparent": {"stringValue": "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
                                  "dataType": "String"}}
    with tracecontext.continued(tracer, logger, attributes) as ctx:
        logger.info("inside")
    logger.info("after")
    assert ctx is not None and ctx.sampled
    ((name, sub),) = tracer.provider.opened
    assert name == "## AccountCreated"
    assert sub.annotations == {"bff_trace_id": "1-4bf92f35-77b34da6a3ce929d0e0e4736"}
    assert sub.metadata == {"bff_parent_span_id": "00f067aa0ba902b7"}
    inside, after = stream.getvalue().strip().splitlines()
    assert '"bff_trace_id":"4bf92f3577b34da6a3ce929d0e0e4736"' in inside
    assert "bff_trace_id" not in after
    with tracecontext.continued(tracer, logger, {}) as none:
        assert none is None
    assert len(tracer.provider.opened) == 1
