"""A moto server on a free loopback port with the account topic and a raw-delivery SQS
subscription, to assert on what the BFF published (and to take SNS down and bring it back)."""

from __future__ import annotations

import contextlib
import json
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import boto3
from moto.server import ThreadedMotoServer

from bff_dev.serving import free_port

REGION = "eu-west-1"
CREDS = {"aws_access_key_id": "testing", "aws_secret_access_key": "testing"}


@dataclass
class MotoTopic:
    port: int
    server: ThreadedMotoServer
    topic_arn: str
    queue_url: str

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def client(self, service: str) -> Any:
        return boto3.client(service, region_name=REGION, endpoint_url=self.url, **CREDS)  # type: ignore[call-overload]

    def stop(self) -> None:
        """SNS goes down: the port refuses connections (moto's state stays in this process)."""
        self.server.stop()

    def restart(self) -> None:
        self.server = ThreadedMotoServer(ip_address="127.0.0.1", port=self.port, verbose=False)
        self.server.start()

    def receive(self, expected: int, seconds: float = 10.0) -> list[dict[str, Any]]:
        """Messages on the queue (body parsed, attributes flattened), waiting for ``expected``."""
        sqs = self.client("sqs")
        out: list[dict[str, Any]] = []
        deadline = time.monotonic() + seconds
        while len(out) < expected and time.monotonic() < deadline:
            resp = sqs.receive_message(
                QueueUrl=self.queue_url,
                MaxNumberOfMessages=10,
                WaitTimeSeconds=1,
                MessageAttributeNames=["All"],
            )
            for m in resp.get("Messages", []):
                attrs = {k: v["StringValue"] for k, v in m.get("MessageAttributes", {}).items()}
                out.append({"body": json.loads(m["Body"]), "attributes": attrs})
                sqs.delete_message(QueueUrl=self.queue_url, ReceiptHandle=m["ReceiptHandle"])
        return out


@contextlib.contextmanager
def moto_topic(filter_policy: dict[str, list[str]] | None = None) -> Iterator[MotoTopic]:
    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    try:
        url = f"http://127.0.0.1:{port}"
        sns = boto3.client("sns", region_name=REGION, endpoint_url=url, **CREDS)  # type: ignore[call-overload]
        sqs = boto3.client("sqs", region_name=REGION, endpoint_url=url, **CREDS)  # type: ignore[call-overload]
        name = f"account-events-{port}"
        topic_arn = sns.create_topic(Name=name)["TopicArn"]
        queue_url = sqs.create_queue(QueueName=f"{name}-probe")["QueueUrl"]
        queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"][
            "QueueArn"
        ]
        attributes = {"RawMessageDelivery": "true"}
        if filter_policy:
            attributes["FilterPolicy"] = json.dumps(filter_policy)
        sns.subscribe(TopicArn=topic_arn, Protocol="sqs", Endpoint=queue_arn, Attributes=attributes)
        holder = MotoTopic(port, server, topic_arn, queue_url)
        yield holder
    finally:
        with contextlib.suppress(Exception):
            holder.server.stop()
