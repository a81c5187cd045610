"""The local SQS event source: Lambda's record shape and its partial-batch-failure semantics."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from bff_dev.twins.workers.runner import QueueWorker, failed_ids, sqs_record

FIXTURE = Path(__file__).resolve().parents[3] / "fixtures" / "aws" / "powertools_sqsEvent.json"
SAMPLE = json.loads(FIXTURE.read_text())
ARN = "arn:aws:sqs:eu-west-1:123456789012:welcome-email"


def received(i: int, *, attributes: bool = True) -> dict[str, Any]:
    msg: dict[str, Any] = {
        "MessageId": f"m-{i}",
        "ReceiptHandle": f"rh-{i}",
        "MD5OfBody": "md5",
        "Body": json.dumps({"n": i}),
        "Attributes": {
            "SenderId": "AIDA",
            "SentTimestamp": "1545082649183",
            "ApproximateReceiveCount": "2",
            "ApproximateFirstReceiveTimestamp": "1545082649185",
        },
    }
    if attributes:
        msg["MessageAttributes"] = {
            "eventType": {"StringValue": "AccountCreated", "DataType": "String"},
            "blob": {"BinaryValue": b"\x00\x01", "DataType": "Binary"},
        }
        msg["MD5OfMessageAttributes"] = "md5attrs"
    return msg


def test_record_has_the_shape_of_the_real_sample() -> None:
    record = sqs_record(received(1, attributes=False), queue_arn=ARN, region="eu-west-1")
    assert set(record) == set(SAMPLE["Records"][1])
    assert set(record["attributes"]) == set(SAMPLE["Records"][1]["attributes"])
    assert record["eventSource"] == "aws:sqs" and record["eventSourceARN"] == ARN
    assert record["attributes"]["ApproximateReceiveCount"] == "2"


def test_message_attributes_use_lambdas_camel_case_entries() -> None:
    record = sqs_record(received(1), queue_arn=ARN, region="eu-west-1")
    assert record["messageAttributes"]["eventType"] == {
        "stringValue": "AccountCreated",
        "stringListValues": [],
        "binaryListValues": [],
        "dataType": "String",
    }
    assert record["messageAttributes"]["blob"]["binaryValue"] == "AAE="
    assert record["md5OfMessageAttributes"] == "md5attrs"
    sample_attr = SAMPLE["Records"][0]["messageAttributes"]["testAttr"]
    assert set(record["messageAttributes"]["blob"]) <= set(sample_attr) | {
        "stringListValues",
        "binaryListValues",
    }


@pytest.mark.parametrize(
    ("response", "failed"),
    [
        ({"batchItemFailures": []}, set()),
        ({"batchItemFailures": [{"itemIdentifier": "a"}]}, {"a"}),
        (None, set()),
        ({}, set()),
        ({"batchItemFailures": [{"itemIdentifier": "zzz"}]}, {"a", "b"}),  # unknown id: whole batch
        ({"batchItemFailures": [{"nope": "a"}]}, {"a", "b"}),
        ({"batchItemFailures": "a"}, {"a", "b"}),
        ("garbage", {"a", "b"}),
    ],
)
def test_failed_ids_reads_responses_like_lambda(response: Any, failed: set[str]) -> None:
    assert failed_ids(response, {"a", "b"}) == failed


class FakeSqs:
    def __init__(self, messages: list[dict[str, Any]]) -> None:
        self.messages = messages
        self.deleted: list[str] = []
        self.receives: list[dict[str, Any]] = []

    def receive_message(self, **kw: Any) -> dict[str, Any]:
        self.receives.append(kw)
        batch, self.messages = (
            self.messages[: kw["MaxNumberOfMessages"]],
            self.messages[kw["MaxNumberOfMessages"] :],
        )
        return {"Messages": batch} if batch else {}

    def delete_message_batch(self, QueueUrl: str, Entries: list[dict[str, str]]) -> dict[str, Any]:  # noqa: N803
        assert len(Entries) <= 10
        self.deleted.extend(e["ReceiptHandle"] for e in Entries)
        return {"Successful": [{"Id": e["Id"]} for e in Entries]}


def worker(sqs: FakeSqs, handler: Any) -> QueueWorker:
    return QueueWorker(
        function_name="fn",
        queue_url="http://q",
        queue_arn=ARN,
        region="eu-west-1",
        handler=handler,
        sqs=sqs,
        batch_size=10,
        wait_seconds=1,
    )


def test_deletes_only_what_succeeded_and_passes_a_lambda_context() -> None:
    sqs = FakeSqs([received(i) for i in range(3)])
    contexts: list[Any] = []

    def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
        contexts.append(context)
        assert [r["messageId"] for r in event["Records"]] == ["m-0", "m-1", "m-2"]
        return {"batchItemFailures": [{"itemIdentifier": "m-1"}]}

    w = worker(sqs, handler)
    assert w.poll_once() == 3
    assert sqs.deleted == ["rh-0", "rh-2"]
    assert sqs.receives[0]["AttributeNames"] == ["All"] and sqs.receives[0]["MessageAttributeNames"] == [
        "All"
    ]
    assert sqs.receives[0]["WaitTimeSeconds"] == 1
    ctx = contexts[0]
    assert ctx.function_name == "fn" and 0 < ctx.get_remaining_time_in_millis() <= 30_000
    assert ctx.invoked_function_arn.endswith(":function:fn") and ctx.aws_request_id
    assert (w.stats.received, w.stats.succeeded, w.stats.failed, w.stats.in_flight) == (3, 2, 1, 0)
    assert w.poll_once() == 0


def test_a_raising_invocation_leaves_the_whole_batch() -> None:
    sqs = FakeSqs([received(i) for i in range(2)])

    def handler(event: dict[str, Any], context: Any) -> Any:
        raise RuntimeError("All records failed processing")

    w = worker(sqs, handler)
    w.poll_once()
    assert sqs.deleted == [] and w.stats.handler_errors == 1 and w.stats.failed == 2


def test_deletes_in_chunks_of_ten() -> None:
    sqs = FakeSqs([received(i) for i in range(10)])
    w = worker(sqs, lambda event, context: {"batchItemFailures": []})
    w.poll_once()
    assert len(sqs.deleted) == 10
