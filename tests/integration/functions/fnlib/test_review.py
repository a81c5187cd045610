"""fnlib.review against DynamoDB (moto server over loopback): filing, listing, decide-once."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest

from bff_dev.serving import free_port
from bff_dev.twins.aws.server import MotoServer
from fnlib.review import BadCursor, Review, ReviewConflict, ReviewRepository, create_table


@pytest.fixture(scope="module")
def dynamodb() -> Iterator[Any]:
    server = MotoServer(free_port())
    server.start()
    yield boto3.resource("dynamodb", endpoint_url=server.url, region_name="eu-west-1",
                         aws_access_key_id="testing", aws_secret_access_key="testing")
    server.stop()


@pytest.fixture
def repo(dynamodb: Any) -> ReviewRepository:
    name = f"manual-review-{uuid.uuid4().hex[:8]}"
    create_table(dynamodb.meta.client, name)
    return ReviewRepository(dynamodb.Table(name))


def _item(org: str = "acme", review_id: str = "evt-1", user: str = "00ubob",
          **extra: Any) -> dict[str, Any]:
    return {"orgId": org, "reviewId": review_id, "userId": user, "login": f"{user}@acme.test",
            "firstName": "Bob", "lastName": "Review", "status": "pending",
            "createdAt": "2026-11-26T10:00:00Z", **extra}


def test_put_is_idempotent_and_never_resets_a_decision(repo: ReviewRepository) -> None:
    assert repo.put(_item(reasons=[{"code": "NAME", "message": "name match"}]))
    assert not repo.put(_item())
    repo.claim("acme", "evt-1", "approved", "alice@acme.test")
    repo.decide("acme", "evt-1", "approved", "alice@acme.test")
    assert not repo.put(_item())  # a redelivered event
    stored = repo.get("acme", "evt-1")
    assert stored is not None and stored.status == "approved" and stored.reason == "name match"


def test_review_dataclass_round_trip(repo: ReviewRepository) -> None:
    review = Review(org_id="acme", review_id="r1", user_id="00u1", login="a@acme.test", first_name="A",
                    last_name="B", reason="why", status="pending", created_at="2026-11-26T10:00:00Z")
    assert repo.put(review)
    assert repo.get("acme", "r1") == review
    assert repo.get("globex", "r1") is None


def test_list_is_per_org_filtered_and_paged(repo: ReviewRepository) -> None:
    for i in range(7):
        repo.put(_item(review_id=f"evt-{i}", user=f"00u{i}"))
    repo.put(_item(org="globex", review_id="evt-g"))
    for i in (1, 3, 5):
        repo.claim("acme", f"evt-{i}", "rejected", "alice")
        repo.decide("acme", f"evt-{i}", "rejected", "alice")
    pending, cursor = repo.list_by_org("acme", status="pending", limit=2)
    ids = [r.review_id for r in pending]
    while cursor:
        page, cursor = repo.list_by_org("acme", status="pending", limit=2, cursor=cursor)
        ids += [r.review_id for r in page]
    assert ids == ["evt-0", "evt-2", "evt-4", "evt-6"]
    everything, _ = repo.list_by_org("acme", limit=100)
    assert len(everything) == 7
    assert [r.review_id for r in repo.list_by_org("globex")[0]] == ["evt-g"]


def test_a_cursor_never_crosses_orgs(repo: ReviewRepository) -> None:
    for i in range(3):
        repo.put(_item(review_id=f"evt-{i}"))
    _, cursor = repo.list_by_org("acme", limit=1)
    assert cursor
    with pytest.raises(BadCursor):
        repo.list_by_org("globex", cursor=cursor)
    with pytest.raises(BadCursor):
        repo.list_by_org("acme", cursor="not-a-cursor")


def test_decision_happens_once(repo: ReviewRepository) -> None:
    repo.put(_item())
    repo.claim("acme", "evt-1", "approved", "alice")
    with pytest.raises(ReviewConflict):  # someone else, another decision, while it is in progress
        repo.claim("acme", "evt-1", "rejected", "gina")
    repo.claim("acme", "evt-1", "approved", "alice")  # a retry of the same decision is fine
    decided = repo.decide("acme", "evt-1", "approved", "alice")
    assert (decided.status, decided.decided_by, decided.decision) == ("approved", "alice", None)
    assert decided.decided_at
    with pytest.raises(ReviewConflict) as info:
        repo.claim("acme", "evt-1", "approved", "alice")
    assert info.value.review is not None and info.value.review.status == "approved"
    with pytest.raises(ReviewConflict):
        repo.decide("acme", "evt-1", "rejected", "gina")
    assert repo.get("acme", "evt-1").status == "approved"  # type: ignore[union-attr]


def test_decide_refuses_a_review_claimed_for_the_other_decision(repo: ReviewRepository) -> None:
    repo.put(_item())
    repo.claim("acme", "evt-1", "rejected", "gina")
    with pytest.raises(ReviewConflict):
        repo.decide("acme", "evt-1", "approved", "alice")


def test_release_keeps_it_pending_for_another_try(repo: ReviewRepository) -> None:
    repo.put(_item())
    repo.claim("acme", "evt-1", "approved", "alice")
    repo.release("acme", "evt-1", "approved")
    stored = repo.get("acme", "evt-1")
    assert stored is not None and stored.status == "pending" and stored.decision is None
    repo.claim("acme", "evt-1", "rejected", "gina")  # now anyone may decide


def test_an_abandoned_claim_expires(dynamodb: Any) -> None:
    name = f"manual-review-{uuid.uuid4().hex[:8]}"
    create_table(dynamodb.meta.client, name)
    now = [datetime(2026, 11, 26, 10, 0, tzinfo=UTC)]
    repo = ReviewRepository(dynamodb.Table(name), clock=lambda: now[0])
    repo.put(_item())
    repo.claim("acme", "evt-1", "approved", "alice")  # ... and the caller crashed
    with pytest.raises(ReviewConflict):
        repo.claim("acme", "evt-1", "rejected", "gina")
    now[0] += timedelta(seconds=61)
    repo.claim("acme", "evt-1", "rejected", "gina")
    assert repo.decide("acme", "evt-1", "rejected", "gina").status == "rejected"


def test_unknown_review_cannot_be_claimed(repo: ReviewRepository) -> None:
    with pytest.raises(ReviewConflict):
        repo.claim("acme", "nope", "approved", "alice")
    assert repo.get("acme", "nope") is None  # the conditional update created nothing
