"""The local SQS event source: long-poll a queue, invoke a handler with a real SQS event, delete
what succeeded.

This is what Lambda's SQS event source mapping does with ``FunctionResponseTypes:
[ReportBatchItemFailures]``: records named in ``batchItemFailures`` (or the whole batch, when
the handler raises or answers something malformed) are NOT deleted, so they become visible again
after the queue's visibility timeout and SQS's redrive policy moves them to the DLQ once they
were received ``maxReceiveCount`` times.

Each :class:`QueueWorker` runs in its own thread (the handlers are synchronous, like Lambda's
Python runtime); :class:`WorkerPool` starts and stops them together.
"""

from __future__ import annotations

import base64
import logging
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from bff_dev.twins.workers.functions import LambdaContext

log = logging.getLogger("bff_dev.twins.workers")

Handler = Callable[[dict[str, Any], Any], Any]


def sqs_record(message: Mapping[str, Any], *, queue_arn: str, region: str) -> dict[str, Any]:
    """One ``Records[]`` entry exactly as Lambda builds it from a ReceiveMessage result."""
    attributes = {k: str(v) for k, v in (message.get("Attributes") or {}).items()}
    message_attributes: dict[str, Any] = {}
    for name, value in (message.get("MessageAttributes") or {}).items():
        entry: dict[str, Any] = {"stringListValues": [], "binaryListValues": [],
                                 "dataType": value["DataType"]}
        if "StringValue" in value:
            entry["stringValue"] = value["StringValue"]
        if "BinaryValue" in value:
            raw = value["BinaryValue"]
            entry["binaryValue"] = base64.b64encode(raw).decode() if isinstance(raw, bytes) else raw
        message_attributes[name] = entry
    record: dict[str, Any] = {
        "messageId": message["MessageId"],
        "receiptHandle": message["ReceiptHandle"],
        "body": message["Body"],
        "attributes": attributes,
        "messageAttributes": message_attributes,
        "md5OfBody": message.get("MD5OfBody", ""),
        "eventSource": "aws:sqs",
        "eventSourceARN": queue_arn,
        "awsRegion": region,
    }
    if message.get("MD5OfMessageAttributes"):
        record["md5OfMessageAttributes"] = message["MD5OfMessageAttributes"]
    return record


def failed_ids(response: Any, batch_ids: set[str]) -> set[str]:
    """The records to leave on the queue, read as Lambda reads a partial batch response."""
    if response is None:
        return set()
    if not isinstance(response, dict):
        return set(batch_ids)
    failures = response.get("batchItemFailures")
    if failures is None:
        return set()
    if not isinstance(failures, list):
        return set(batch_ids)
    out: set[str] = set()
    for item in failures:
        ident = item.get("itemIdentifier") if isinstance(item, dict) else None
        if not isinstance(ident, str) or ident not in batch_ids:
            return set(batch_ids)  # Lambda: an invalid response fails the whole batch
        out.add(ident)
    return out


@dataclass
class WorkerStats:
    batches: int = 0
    received: int = 0
    succeeded: int = 0
    failed: int = 0
    handler_errors: int = 0  # invocations that raised (the whole batch stays)
    in_flight: int = 0


class QueueWorker:
    """Polls one queue and feeds its messages to one function handler."""

    def __init__(self, *, function_name: str, queue_url: str, queue_arn: str, region: str,
                 handler: Handler, sqs: Any, batch_size: int = 10, wait_seconds: int = 1,
                 timeout: float = 30.0) -> None:
        self.function_name = function_name
        self.queue_url = queue_url
        self.queue_arn = queue_arn
        self.region = region
        self.handler = handler
        self._sqs = sqs
        self.batch_size = batch_size
        self.wait_seconds = wait_seconds
        self.timeout = timeout
        self.stats = WorkerStats()
        self._lock = threading.Lock()

    def poll_once(self) -> int:
        """Receive one batch and process it; returns how many messages it received."""
        resp = self._sqs.receive_message(
            QueueUrl=self.queue_url, MaxNumberOfMessages=self.batch_size, WaitTimeSeconds=self.wait_seconds,
            AttributeNames=["All"], MessageAttributeNames=["All"],
        )
        messages = resp.get("Messages") or []
        if not messages:
            return 0
        with self._lock:
            self.stats.in_flight += len(messages)
        try:
            self._process(messages)
        finally:
            with self._lock:
                self.stats.in_flight -= len(messages)
        return len(messages)

    def _process(self, messages: list[dict[str, Any]]) -> None:
        records = [sqs_record(m, queue_arn=self.queue_arn, region=self.region) for m in messages]
        ids = {r["messageId"] for r in records}
        context = LambdaContext(self.function_name, timeout=self.timeout, region=self.region)
        try:
            response = self.handler({"Records": records}, context)
        except Exception:  # the invocation failed: Lambda retries the whole batch
            log.exception("%s: invocation failed; %d record(s) stay on the queue",
                          self.function_name, len(records))
            response = None
            failed = set(ids)
            with self._lock:
                self.stats.handler_errors += 1
        else:
            failed = failed_ids(response, ids)
        done = [r for r in records if r["messageId"] not in failed]
        for start in range(0, len(done), 10):
            chunk = done[start:start + 10]
            result = self._sqs.delete_message_batch(QueueUrl=self.queue_url, Entries=[
                {"Id": str(i), "ReceiptHandle": r["receiptHandle"]} for i, r in enumerate(chunk)])
            for failure in result.get("Failed") or []:
                log.warning("%s: could not delete a processed message: %s", self.function_name,
                            failure.get("Message"))
        with self._lock:
            self.stats.batches += 1
            self.stats.received += len(records)
            self.stats.succeeded += len(done)
            self.stats.failed += len(failed)

    def run(self, stop: threading.Event) -> None:
        while not stop.is_set():
            try:
                self.poll_once()
            except Exception:
                if stop.is_set():
                    return
                log.exception("%s: polling %s failed; retrying in 1 s", self.function_name, self.queue_url)
                stop.wait(1.0)


class WorkerPool:
    """One thread per :class:`QueueWorker`; ``stop()`` waits for the in-flight batches."""

    def __init__(self, workers: list[QueueWorker]) -> None:
        self.workers = workers
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []

    def by_function(self, name: str) -> QueueWorker:
        for worker in self.workers:
            if worker.function_name == name:
                return worker
        raise KeyError(name)

    @property
    def busy(self) -> bool:
        return any(w.stats.in_flight for w in self.workers)

    def start(self) -> None:
        for worker in self.workers:
            thread = threading.Thread(target=worker.run, args=(self._stop,), daemon=True,
                                      name=f"sqs-worker-{worker.function_name}")
            thread.start()
            self._threads.append(thread)

    def stop(self, timeout: float = 15.0) -> None:
        self._stop.set()
        deadline = time.monotonic() + timeout
        for thread in self._threads:
            thread.join(max(0.0, deadline - time.monotonic()))
        self._threads.clear()
