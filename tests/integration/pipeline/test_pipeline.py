"""SNS → both AccountCreated queues (the account-notices queue filters them out) → workers →
the functions → SES / compliance / Okta / Marketo / DynamoDB, all over loopback (moto server,
the Okta twin, the compliance and Marketo twins)."""

from __future__ import annotations

import json

from bff_dev.twins.okta import OktaTwin
from bff_dev.twins.workers.pipeline import Pipeline
from bff_dev.twins.workers.runner import QueueWorker
from tests.integration.pipeline.fixtures import create_okta_user, event_for, profile_updates

WELCOME, VALIDATION = "welcome-email", "account-validation"


async def test_pass_path_email_okta_and_marketo(pipeline: Pipeline, okta: OktaTwin) -> None:
    user = await create_okta_user(okta, first="Jürgen", last="Lovelace")
    event = event_for(pipeline, user, locale="de")
    pipeline.publish(event)

    (mail,) = await pipeline.wait_for_mail(user["profile"]["email"])
    assert mail.subject == "Willkommen im Kundenportal, Jürgen"
    assert "Jürgen" in mail.text and '<html lang="de">' in mail.html and mail.sentAt
    lead = await pipeline.wait_for(lambda: pipeline.marketo.lead_by_email(user["profile"]["email"]))
    assert (lead["firstName"], lead["lastName"], lead["oktaUserId"]) == ("Jürgen", "Lovelace", user["id"])
    assert okta.directory.users[user["id"]].profile["complianceStatus"] == "passed"
    await pipeline.settle()
    assert pipeline.reviews("org-acme") == []
    for queue in (WELCOME, VALIDATION):
        assert pipeline.queue_counts(queue, dlq=True) == {"visible": 0, "in_flight": 0}
    assert [c.reference for c in pipeline.compliance.calls] == [user["id"]]


async def test_fail_path_files_a_review_and_still_welcomes(pipeline: Pipeline, okta: OktaTwin) -> None:
    user = await create_okta_user(okta, first="Bob", last="Review", org="org-globex")
    event = event_for(pipeline, user, locale="fr-CA")
    pipeline.publish(event)

    (review,) = await pipeline.wait_for(lambda: pipeline.reviews("org-globex"))
    assert review["reviewId"] == event["eventId"] and review["status"] == "pending"
    assert review["userId"] == user["id"] and review["login"] == user["profile"]["login"]
    assert review["reasons"][0]["code"] == "POSSIBLE_MATCH"
    await pipeline.wait_for(
        lambda: okta.directory.users[user["id"]].profile.get("complianceStatus") == "review"
    )
    (mail,) = await pipeline.wait_for_mail(user["profile"]["email"])
    assert mail.subject.startswith("Bienvenue")
    await pipeline.settle()
    assert pipeline.marketo.leads == []


def _split(workers: list[QueueWorker]) -> tuple[list[QueueWorker], QueueWorker]:
    """The AccountCreated subscribers' workers, and the account notices' one."""
    (notices,) = [w for w in workers if w.function_name.endswith("account-notices")]
    return [w for w in workers if w is not notices], notices


async def test_duplicate_delivery_changes_nothing_twice(pipeline: Pipeline, okta: OktaTwin) -> None:
    user = await create_okta_user(okta)
    event = event_for(pipeline, user)
    pipeline.publish(event)
    await pipeline.wait_for_mail(user["profile"]["email"])
    await pipeline.wait_for(lambda: pipeline.marketo.lead_by_email(user["profile"]["email"]))
    await pipeline.settle()
    pipeline.publish(event)  # at-least-once: the same event again (e.g. an outbox re-send)
    pipeline.publish(event)
    await pipeline.settle(quiet=1.0)

    assert len(await pipeline.sent_emails(user["profile"]["email"])) == 1
    assert len(pipeline.compliance.calls) == 1
    assert profile_updates(okta, user["id"]) == 1
    assert (pipeline.marketo.stats.created, pipeline.marketo.stats.updated) == (1, 0)
    workers = pipeline.subscribers.workers
    assert workers is not None
    created, notices = _split(workers.workers)
    assert all(w.stats.succeeded == 3 and w.stats.failed == 0 for w in created)
    assert notices.stats.received == 0  # its filter policy keeps AccountCreated off its queue


async def test_poison_message_lands_in_both_dlqs_after_max_receives(pipeline: Pipeline) -> None:
    pipeline.publish("this is not JSON", attributes={"eventType": "AccountCreated"})
    for queue in (WELCOME, VALIDATION):
        dead = await pipeline.wait_for(lambda q=queue: pipeline.peek_dlq(q), within=20)
        assert dead[0]["Body"] == "this is not JSON"
        assert int(dead[0]["Attributes"]["ApproximateReceiveCount"]) > pipeline.topology.max_receive_count
    workers = pipeline.subscribers.workers
    assert workers is not None
    created, notices = _split(workers.workers)
    for worker in created:
        assert worker.stats.failed == pipeline.topology.max_receive_count and worker.stats.succeeded == 0
    assert notices.stats.received == 0


async def test_compliance_5xx_is_retried_then_dead_lettered(pipeline: Pipeline, okta: OktaTwin) -> None:
    user = await create_okta_user(okta, last="Unavailable")  # the twin answers 503 for this name
    event = event_for(pipeline, user)
    pipeline.publish(event)

    (dead,) = await pipeline.wait_for(lambda: pipeline.peek_dlq(VALIDATION), within=20)
    assert json.loads(dead["Body"])["eventId"] == event["eventId"]
    statuses = [c.status for c in pipeline.compliance.calls]
    assert statuses == [503] * pipeline.topology.max_receive_count
    # a 5xx is not a verdict: no review, no Okta change, no lead; the welcome email is unaffected
    assert pipeline.reviews("org-acme") == []
    assert "complianceStatus" not in okta.directory.users[user["id"]].profile
    assert pipeline.marketo.leads == []
    assert len(await pipeline.wait_for_mail(user["profile"]["email"])) == 1
    assert pipeline.peek_dlq(WELCOME) == []


async def test_transient_compliance_failures_recover_on_redelivery(
    pipeline: Pipeline, okta: OktaTwin
) -> None:
    user = await create_okta_user(okta)
    pipeline.compliance.fail_next(1, 502)
    pipeline.compliance.delay_next(1, 2.0)  # beyond the 1 s client timeout: counts as unavailable
    pipeline.publish(event_for(pipeline, user))

    await pipeline.wait_for(lambda: pipeline.marketo.lead_by_email(user["profile"]["email"]), within=20)
    # 502, then the slow answer (recorded when the twin finally answers, after the client gave up), then pass
    await pipeline.wait_for(lambda: len(pipeline.compliance.calls) >= 3)
    assert len(pipeline.compliance.calls) == 3 and pipeline.compliance.calls[0].status == 502
    assert okta.directory.users[user["id"]].profile["complianceStatus"] == "passed"
    await pipeline.settle()
    assert pipeline.peek_dlq(VALIDATION) == []
