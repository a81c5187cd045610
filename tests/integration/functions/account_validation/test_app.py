"""account_validation.app.handler on real SQS events: compliance twin, Okta twin Management API,
Marketo twin, DynamoDB review table and idempotency on moto, secrets from Secrets Manager."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from bff_dev.twins.okta import OktaTwin
from bff_dev.twins.workers.pipeline import Pipeline, start_pipeline
from tests.integration.pipeline.fixtures import (
    OKTA_TOKEN,
    create_okta_user,
    deliver,
    event_for,
    invoke,
    profile_updates,
)

QUEUE = "account-validation"
OK: dict[str, Any] = {"batchItemFailures": []}


@pytest.fixture
async def pipeline(moto_url: str, okta: OktaTwin) -> AsyncIterator[Pipeline]:
    async with start_pipeline(
        okta_url=okta.base_url,
        okta_token=OKTA_TOKEN,
        endpoint_url=moto_url,
        compliance_timeout=1.0,
        run_workers=False,
    ) as p:
        yield p


async def run(pipeline: Pipeline, *events: dict[str, Any] | str) -> Any:
    return await invoke(pipeline, "account_validation", await deliver(pipeline, QUEUE, list(events)))


async def test_pass(pipeline: Pipeline, okta: OktaTwin) -> None:
    user = await create_okta_user(okta)
    assert await run(pipeline, event_for(pipeline, user)) == OK
    assert okta.directory.users[user["id"]].profile["complianceStatus"] == "passed"
    lead = pipeline.marketo.lead_by_email(user["profile"]["email"])
    assert lead is not None and lead["leadSource"] == "Customer Portal registration"
    assert pipeline.marketo.stats.token_requests == 1


async def test_marketo_601_gets_a_new_token_and_retries(pipeline: Pipeline, okta: OktaTwin) -> None:
    first, second = await create_okta_user(okta), await create_okta_user(okta)
    assert await run(pipeline, event_for(pipeline, first)) == OK  # caches a token
    pipeline.marketo.revoke_tokens()  # the cached token is now invalid: 601
    assert await run(pipeline, event_for(pipeline, second)) == OK
    stats = pipeline.marketo.stats
    assert stats.errors == {"601": 1} and stats.token_requests == 2 and stats.created == 2


async def test_marketo_602_expired_token(pipeline: Pipeline, okta: OktaTwin) -> None:
    first, second = await create_okta_user(okta), await create_okta_user(okta)
    await run(pipeline, event_for(pipeline, first))
    pipeline.marketo.expire_tokens()
    assert await run(pipeline, event_for(pipeline, second)) == OK
    assert pipeline.marketo.stats.errors == {"602": 1} and pipeline.marketo.lead_by_email(
        second["profile"]["email"]
    )


async def test_marketo_606_backs_off_then_succeeds(pipeline: Pipeline, okta: OktaTwin) -> None:
    user = await create_okta_user(okta)
    pipeline.marketo.inject("606")
    started = time.monotonic()
    assert await run(pipeline, event_for(pipeline, user)) == OK
    assert time.monotonic() - started >= 0.5  # one back-off of 0.5-1 s
    assert pipeline.marketo.stats.errors == {"606": 1} and pipeline.marketo.stats.created == 1


async def test_marketo_skipped_record_fails_the_record(pipeline: Pipeline, okta: OktaTwin) -> None:
    good, bad = await create_okta_user(okta), await create_okta_user(okta)
    pipeline.marketo.skip(bad["profile"]["email"], "1005", "Lead already exists")
    event = await deliver(pipeline, QUEUE, [event_for(pipeline, good), event_for(pipeline, bad)])
    bad_id = next(r["messageId"] for r in event["Records"] if bad["id"] in r["body"])
    assert await invoke(pipeline, "account_validation", event) == {
        "batchItemFailures": [{"itemIdentifier": bad_id}]
    }
    assert pipeline.marketo.lead_by_email(good["profile"]["email"]) is not None


async def test_compliance_outage_fails_the_record_without_side_effects(
    pipeline: Pipeline, okta: OktaTwin
) -> None:
    user = await create_okta_user(okta)
    event = event_for(pipeline, user)
    pipeline.compliance.fail_next(1, 500)
    outcome = await run(pipeline, event)
    assert isinstance(outcome, Exception)  # the only record failed: Lambda retries the batch
    assert (
        profile_updates(okta, user["id"]) == 0 and pipeline.marketo.leads == [] and pipeline.reviews() == []
    )
    # the failure left no idempotency record behind: the redelivery does the work
    assert await run(pipeline, event) == OK
    assert okta.directory.users[user["id"]].profile["complianceStatus"] == "passed"


async def test_compliance_timeout_is_not_a_fail(pipeline: Pipeline, okta: OktaTwin) -> None:
    user = await create_okta_user(okta, last="Slow")
    pipeline.compliance.slow_seconds = 1.5
    outcome = await run(pipeline, event_for(pipeline, user))
    assert isinstance(outcome, Exception)
    assert pipeline.reviews() == [] and "complianceStatus" not in okta.directory.users[user["id"]].profile


async def test_okta_outage_is_retried_later(pipeline: Pipeline, okta: OktaTwin) -> None:
    user = await create_okta_user(okta)
    event = event_for(pipeline, user)
    okta.fail_next(f"/api/v1/users/{user['id']}", 503)
    assert isinstance(await run(pipeline, event), Exception)
    assert pipeline.marketo.leads == []
    assert await run(pipeline, event) == OK
    assert pipeline.marketo.lead_by_email(user["profile"]["email"]) is not None


async def test_deleted_user_is_skipped(pipeline: Pipeline, okta: OktaTwin) -> None:
    user = await create_okta_user(okta)
    async with httpx.AsyncClient() as http:
        headers = {"Authorization": f"SSWS {OKTA_TOKEN}"}
        for _ in range(2):  # deactivate, then delete
            resp = await http.delete(f"{okta.base_url}/api/v1/users/{user['id']}", headers=headers)
            assert resp.status_code == 204
    assert await run(pipeline, event_for(pipeline, user)) == OK
    assert pipeline.marketo.leads == []


async def test_fail_then_duplicate_files_one_review(pipeline: Pipeline, okta: OktaTwin) -> None:
    user = await create_okta_user(okta, last="Denied", org="org-initech")
    event = event_for(pipeline, user)
    assert await run(pipeline, event, event) == OK
    assert await run(pipeline, event) == OK
    (review,) = pipeline.reviews("org-initech")
    assert review["reasons"] == [
        {"code": "DENIED_PARTY", "message": "The name matches an entry of a denied-party list."}
    ]
    assert len(pipeline.compliance.calls) == 1 and profile_updates(okta, user["id"]) == 1
    assert okta.directory.users[user["id"]].profile["complianceStatus"] == "review"


async def test_poison_record_fails_alone(pipeline: Pipeline, okta: OktaTwin) -> None:
    user = await create_okta_user(okta)
    event = await deliver(pipeline, QUEUE, [event_for(pipeline, user), '{"eventType": "AccountCreated"}'])
    poison = next(r["messageId"] for r in event["Records"] if user["id"] not in r["body"])
    assert await invoke(pipeline, "account_validation", event) == {
        "batchItemFailures": [{"itemIdentifier": poison}]
    }


async def test_a_profile_update_after_the_pass_reaches_the_lead(pipeline: Pipeline, okta: OktaTwin) -> None:
    user = await create_okta_user(okta)
    assert await run(pipeline, event_for(pipeline, user)) == OK  # passes: the lead exists
    email = user["profile"]["email"]
    lead = pipeline.marketo.lead_by_email(email)
    assert lead is not None and not lead.get("company")
    profile = okta.directory.users[user["id"]].profile
    profile.update({"company": "Difference Engines", "title": "Analyst", "countryCode": "GB"})
    update = {"eventId": f"pu-{user['id']}", "eventType": "ProfileUpdated",
              "occurredAt": "2026-12-02T10:00:00Z", "userId": user["id"],
              "attributes": ["company", "title", "countryCode"], "source": "bff-signin"}
    assert await run(pipeline, update) == OK
    lead = pipeline.marketo.lead_by_email(email)
    assert lead is not None
    assert (lead["company"], lead["title"], lead["country"]) == ("Difference Engines", "Analyst", "GB")
    assert lead["leadSource"] == "Customer Portal registration"  # the rest of the lead kept
    # the same event again (SQS redelivery): idempotent, Marketo not called again
    created = pipeline.marketo.stats.updated
    assert await run(pipeline, update) == OK
    assert pipeline.marketo.stats.updated == created


async def test_a_profile_update_before_validation_leaves_no_lead(pipeline: Pipeline, okta: OktaTwin) -> None:
    user = await create_okta_user(okta)
    okta.directory.users[user["id"]].profile["company"] = "Early Corp"
    update = {"eventId": f"pu-{user['id']}", "eventType": "ProfileUpdated",
              "occurredAt": "2026-12-02T10:00:00Z", "userId": user["id"], "attributes": ["company"]}
    assert await run(pipeline, update) == OK
    assert pipeline.marketo.lead_by_email(user["profile"]["email"]) is None
    assert await run(pipeline, event_for(pipeline, user)) == OK  # the pass creates it, with the company
    lead = pipeline.marketo.lead_by_email(user["profile"]["email"])
    assert lead is not None and lead["company"] == "Early Corp"
