"""account_notices.app.handler on real SQS events from moto, SES on moto, bundled copy.

The notices are published on the topic as the BFF's relay does (eventType as the message
attribute), so the queue's filter policy is part of what is tested.
"""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from bff_dev.twins.okta import OktaTwin
from bff_dev.twins.workers.functions import load_function
from bff_dev.twins.workers.pipeline import Pipeline, start_pipeline
from bff_dev.twins.workers.runner import QueueWorker
from tests.integration.pipeline.fixtures import OKTA_TOKEN, deliver, invoke

QUEUE = "account-notices"
APP = "https://portal.example.test"
COPY = Path(__file__).resolve().parents[4] / "content" / "copy"


@pytest.fixture
async def pipeline(moto_url: str, okta: OktaTwin) -> AsyncIterator[Pipeline]:
    async with start_pipeline(okta_url=okta.base_url, okta_token=OKTA_TOKEN, endpoint_url=moto_url,
                              app_url=APP, run_workers=False, visibility_timeout=1,
                              max_receive_count=3) as p:
        yield p


def notice(notice_type: str = "AccountLocked", **fields: Any) -> dict[str, Any]:
    okta_uuid = str(uuid.uuid4())
    doc: dict[str, Any] = {
        "eventId": str(uuid.uuid5(uuid.NAMESPACE_URL, f"{notice_type}:{okta_uuid}")),
        "eventType": notice_type, "eventVersion": 1,
        "occurredAt": datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z"),
        "oktaEventId": okta_uuid, "userId": "00u" + uuid.uuid4().hex[:17],
        "login": f"hana.{uuid.uuid4().hex[:8]}@acme.test", "firstName": "Hana", "lastName": "Sato",
        "locale": "en", "source": "okta-hook",
    }
    doc["email"] = doc["login"]
    doc.update(fields)
    return doc


def strings(locale: str) -> dict[str, str]:
    return json.loads((COPY / locale / "email.json").read_text())  # type: ignore[no-any-return]


async def test_the_lockout_notice_is_localized_and_links_to_the_unlock_journey(pipeline: Pipeline) -> None:
    locked = notice(locale="fr-CA")
    response = await invoke(pipeline, "account_notices", await deliver(pipeline, QUEUE, [locked]))
    assert response == {"batchItemFailures": []}
    (mail,) = await pipeline.sent_emails(locked["login"])
    assert mail.subject == strings("fr")["locked.subject"]
    assert f"{APP}/signin?unlock=1" in mail.text and f"{APP}/signin?unlock=1" in mail.html
    assert strings("fr-CA")["notice.footer"] in mail.text
    assert '<html lang="fr-CA">' in mail.html


@pytest.mark.parametrize(("notice_type", "kind"), [("PasswordChanged", "passwordChanged"),
                                                   ("FactorAdded", "factorAdded")])
async def test_the_other_notices(pipeline: Pipeline, notice_type: str, kind: str) -> None:
    doc = notice(notice_type, locale="ja")
    assert await invoke(pipeline, "account_notices", await deliver(pipeline, QUEUE, [doc])) == {
        "batchItemFailures": []}
    (mail,) = await pipeline.sent_emails(doc["login"])
    assert mail.subject == strings("ja")[f"{kind}.subject"]
    assert f"{APP}/signin" in mail.text and "unlock=1" not in mail.text


async def test_a_duplicate_notice_sends_one_email(pipeline: Pipeline) -> None:
    doc = notice()
    event = await deliver(pipeline, QUEUE, [doc, doc])  # in one batch
    assert await invoke(pipeline, "account_notices", event) == {"batchItemFailures": []}
    assert await invoke(pipeline, "account_notices", await deliver(pipeline, QUEUE, [doc])) == {
        "batchItemFailures": []}  # and redelivered later
    assert len(await pipeline.sent_emails(doc["login"])) == 1


async def test_notices_never_reach_the_welcome_queue_and_created_events_not_this_one(
        pipeline: Pipeline) -> None:
    doc = notice()
    created = pipeline.account_created()
    pipeline.publish(doc)
    pipeline.publish(created)
    await asyncio.sleep(0.5)
    sqs = pipeline.client("sqs")

    def bodies(queue: str) -> list[str]:
        resp = sqs.receive_message(QueueUrl=pipeline.topology.queues[queue].url, MaxNumberOfMessages=10,
                                   WaitTimeSeconds=1)
        return [m["Body"] for m in resp.get("Messages") or []]

    assert [json.loads(b)["eventType"] for b in await asyncio.to_thread(bodies, QUEUE)] == ["AccountLocked"]
    for queue in ("welcome-email", "account-validation"):
        assert [json.loads(b)["eventType"] for b in await asyncio.to_thread(bodies, queue)] == [
            "AccountCreated"]


async def test_ses_refusing_is_retried_then_dead_lettered_never_lost(pipeline: Pipeline) -> None:
    # SES on moto refuses a sender that is not a verified identity: the function as deployed
    # with a sender nobody verified (a real misconfiguration, or SES refusing for a while).
    unverified = f"nobody-{uuid.uuid4().hex[:6]}@acme.test"
    env = {**pipeline.subscribers.env["account_notices"], "SES_SENDER": unverified}
    refused = await asyncio.to_thread(load_function, "account_notices", env)
    pair = pipeline.topology.queues[QUEUE]
    worker = QueueWorker(function_name="account-notices", queue_url=pair.url, queue_arn=pair.arn,
                         region=pipeline.topology.region, handler=refused.handler, sqs=pipeline.client("sqs"))
    doc = notice()
    pipeline.publish(doc)
    receives = 0
    for _ in range(30):
        receives += await asyncio.to_thread(worker.poll_once)
        if pipeline.peek_dlq(QUEUE):
            break
    assert receives == pipeline.topology.max_receive_count  # each receive: SES refused, reported
    (dead,) = pipeline.peek_dlq(QUEUE)
    assert json.loads(dead["Body"])["eventId"] == doc["eventId"]  # parked whole, for a redrive
    assert await pipeline.sent_emails(doc["login"]) == []
    assert worker.stats.failed >= pipeline.topology.max_receive_count

    # SES accepts again (the deployed sender): the redriven notice is sent, once.
    sqs = pipeline.client("sqs")
    moved = await asyncio.to_thread(sqs.receive_message, QueueUrl=pair.dlq_url, MaxNumberOfMessages=1,
                                    MessageAttributeNames=["All"])
    (message,) = moved["Messages"]
    await asyncio.to_thread(sqs.send_message, QueueUrl=pair.url, MessageBody=message["Body"])
    await asyncio.to_thread(sqs.delete_message, QueueUrl=pair.dlq_url, ReceiptHandle=message["ReceiptHandle"])
    healthy = QueueWorker(function_name="account-notices", queue_url=pair.url, queue_arn=pair.arn,
                          region=pipeline.topology.region,
                          handler=pipeline.subscribers.functions["account_notices"].handler,
                          sqs=sqs)
    assert await asyncio.to_thread(healthy.poll_once) == 1
    assert len(await pipeline.sent_emails(doc["login"])) == 1


async def test_a_newer_version_is_dead_lettered_not_misread(pipeline: Pipeline) -> None:
    doc = notice(eventVersion=2)
    event = await deliver(pipeline, QUEUE, [doc])
    outcome = await invoke(pipeline, "account_notices", event)
    assert isinstance(outcome, Exception) and "All records failed" in str(outcome)
    assert await pipeline.sent_emails(doc["login"]) == []
