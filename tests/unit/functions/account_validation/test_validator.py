"""The validation decision with recording fakes: order of effects, retry safety, outcomes."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

import pytest

from account_validation.compliance import ComplianceUnavailable, Verdict
from account_validation.validator import LEAD_SOURCE, AccountValidator
from bff.okta import OktaNotFound
from fnlib.account_events import AccountCreated, AccountEventRecord, ProfileUpdated

NOW = datetime(2026, 11, 26, 10, 0, tzinfo=UTC)


class Recorder:
    def __init__(self) -> None:
        self.log: list[tuple[str, Any]] = []


class FakeCompliance:
    def __init__(self, rec: Recorder, outcome: Verdict | Exception) -> None:
        self.rec, self.outcome = rec, outcome

    def screen(self, reference: str, first_name: str, last_name: str) -> Verdict:
        self.rec.log.append(("screen", (reference, first_name, last_name)))
        if isinstance(self.outcome, Exception):
            raise self.outcome
        return self.outcome


class FakeOkta:
    def __init__(self, rec: Recorder, error: Exception | None = None,
                 profile: Mapping[str, Any] | None = None) -> None:
        self.rec, self.error = rec, error
        self.profile = dict(profile or {})

    def get_user(self, user_id: str) -> dict[str, Any]:
        self.rec.log.append(("okta-read", user_id))
        if self.error:
            raise self.error
        return {"id": user_id, "status": "ACTIVE", "profile": dict(self.profile)}

    def update_profile(self, user_id: str, profile: Mapping[str, Any]) -> dict[str, Any]:
        self.rec.log.append(("okta", (user_id, dict(profile))))
        if self.error:
            raise self.error
        self.profile.update(profile)
        return {"id": user_id, "status": "ACTIVE", "profile": dict(self.profile)}


class FakeLeads:
    def __init__(self, rec: Recorder) -> None:
        self.rec = rec

    def upsert_lead(
        self, email: str, first_name: str, last_name: str, extra: Mapping[str, Any] | None = None
    ) -> int:
        self.rec.log.append(("marketo", (email, first_name, last_name, dict(extra or {}))))
        return 1234


class FakeReviews:
    def __init__(self, rec: Recorder) -> None:
        self.rec = rec
        self.items: dict[tuple[str, str], dict[str, Any]] = {}

    def put(self, item: Mapping[str, Any]) -> bool:
        self.rec.log.append(("review", item["reviewId"]))
        key = (item["orgId"], item["reviewId"])
        if key in self.items:
            return False
        self.items[key] = dict(item)
        return True


def event(**fields: Any) -> AccountCreated:
    base: dict[str, Any] = {
        "eventId": "ev-1",
        "eventType": "AccountCreated",
        "occurredAt": NOW,
        "userId": "00u1",
        "login": "ada@example.test",
        "firstName": "Ada",
        "lastName": "Lovelace",
        "orgId": "acme",
        "locale": "fr",
        "source": "bff-signup",
    }
    base.update(fields)
    return AccountCreated.model_validate(base)


def build(
    verdict: Verdict | Exception, okta_error: Exception | None = None
) -> tuple[AccountValidator, Recorder, FakeReviews]:
    rec = Recorder()
    reviews = FakeReviews(rec)
    return (
        AccountValidator(FakeCompliance(rec, verdict), FakeOkta(rec, okta_error), FakeLeads(rec), reviews),
        rec,
        reviews,
    )


def test_pass_sets_okta_then_upserts_the_lead() -> None:
    v, rec, reviews = build(Verdict(True, "scr_1"))
    out = v.validate(event(), now=NOW)
    assert out == {"status": "passed", "leadId": 1234, "screeningId": "scr_1"}
    assert rec.log == [
        ("screen", ("00u1", "Ada", "Lovelace")),  # only the opaque id and the names leave
        ("okta", ("00u1", {"complianceStatus": "passed"})),
        (
            "marketo",
            ("ada@example.test", "Ada", "Lovelace", {"leadSource": LEAD_SOURCE, "oktaUserId": "00u1"}),
        ),
    ]
    assert reviews.items == {}


def test_the_lead_gets_the_profile_attributes_okta_already_holds() -> None:
    rec = Recorder()
    okta = FakeOkta(rec, profile={"email": "ada@example.test", "company": " Analytical Engines ",
                                  "title": "Engineer", "mobilePhone": "+44 20 7946 0000",
                                  "countryCode": "GB", "primaryPhone": "", "orgId": "acme",
                                  "adminRole": "org_admin"})
    v = AccountValidator(FakeCompliance(rec, Verdict(True, "scr_1")), okta, FakeLeads(rec),
                         FakeReviews(rec))
    v.validate(event(), now=NOW)
    ((_, (_, _, _, extra)),) = [entry for entry in rec.log if entry[0] == "marketo"]
    assert extra == {"company": "Analytical Engines", "title": "Engineer",
                     "mobilePhone": "+44 20 7946 0000", "country": "GB",
                     "leadSource": LEAD_SOURCE, "oktaUserId": "00u1"}  # unmapped/blank left out


def test_fail_marks_review_and_stores_one_pending_record() -> None:
    reasons = ({"code": "POSSIBLE_MATCH", "message": "m"},)
    v, rec, reviews = build(Verdict(False, "scr_2", reasons))
    out = v.validate(event(lastName="Review"), now=NOW)
    assert out == {"status": "review", "orgId": "acme", "reviewId": "ev-1", "screeningId": "scr_2"}
    assert [entry[0] for entry in rec.log] == ["screen", "okta", "review"]
    assert rec.log[1] == ("okta", ("00u1", {"complianceStatus": "review"}))
    item = reviews.items[("acme", "ev-1")]
    assert item["status"] == "pending" and item["userId"] == "00u1" and item["login"] == "ada@example.test"
    assert item["reasons"] == [{"code": "POSSIBLE_MATCH", "message": "m"}]
    assert item["createdAt"] == "2026-11-26T10:00:00Z" and item["locale"] == "fr"
    assert not any(entry[0] == "marketo" for entry in rec.log)
    # the same event again (a retry after a later failure) stores nothing new
    v.validate(event(lastName="Review"), now=NOW)
    assert len(reviews.items) == 1


def test_reviews_without_an_org_go_to_the_unassigned_queue() -> None:
    v, _, reviews = build(Verdict(False))
    v.validate(event(orgId=None), now=NOW)
    assert list(reviews.items) == [("unassigned", "ev-1")]


def test_unavailable_compliance_is_not_a_verdict_and_changes_nothing() -> None:
    v, rec, reviews = build(ComplianceUnavailable("503"))
    with pytest.raises(ComplianceUnavailable):
        v.validate(event())
    assert [entry[0] for entry in rec.log] == ["screen"] and reviews.items == {}


def test_deleted_user_is_skipped() -> None:
    v, rec, _ = build(Verdict(True), okta_error=OktaNotFound("Okta answered HTTP 404 E0000007", status=404))
    assert v.validate(event()) == {"status": "skipped", "reason": "user-not-found"}
    assert not any(entry[0] == "marketo" for entry in rec.log)


def test_other_okta_failures_propagate_for_a_retry() -> None:
    v, rec, _ = build(Verdict(True), okta_error=RuntimeError("okta 500"))
    with pytest.raises(RuntimeError):
        v.validate(event())
    assert not any(entry[0] == "marketo" for entry in rec.log)


# -- ProfileUpdated: the lead follows Okta's profile ---------------------------------------------

PASSED = {"email": "ada@example.test", "login": "ada@example.test", "firstName": "Ada",
          "lastName": "Lovelace", "complianceStatus": "passed", "company": "Engines Ltd",
          "title": "", "countryCode": "GB", "mobilePhone": "+44 20 7946 0000"}


def updated(*attributes: str) -> ProfileUpdated:
    return ProfileUpdated(eventId="ev-p", eventType="ProfileUpdated", occurredAt=NOW, userId="00u1",
                          attributes=attributes, source="bff-signin")


def sync(profile: Mapping[str, Any], *attributes: str, error: Exception | None = None
         ) -> tuple[dict[str, Any], Recorder]:
    rec = Recorder()
    v = AccountValidator(FakeCompliance(rec, Verdict(True)), FakeOkta(rec, error, profile), FakeLeads(rec),
                         FakeReviews(rec))
    return v.sync_lead(updated(*attributes)), rec


def test_a_validated_user_s_lead_gets_okta_s_current_values_for_the_named_attributes() -> None:
    out, rec = sync(PASSED, "company", "title", "countryCode")
    assert out == {"status": "updated", "leadId": 1234, "fields": ["company", "country", "title"]}
    assert rec.log == [
        ("okta-read", "00u1"),
        ("marketo", ("ada@example.test", "Ada", "Lovelace",
                     # title was emptied: cleared on the lead; mobilePhone was not named: untouched
                     {"company": "Engines Ltd", "title": None, "country": "GB", "oktaUserId": "00u1"})),
    ]
    assert not any(entry[0] == "screen" for entry in rec.log)  # no second compliance check


@pytest.mark.parametrize("status", [None, "review", "pending"])
def test_no_lead_before_the_account_passed(status: str | None) -> None:
    out, rec = sync({**PASSED, "complianceStatus": status}, "company")
    assert out == {"status": "skipped", "reason": "not-validated"}
    assert not any(entry[0] == "marketo" for entry in rec.log)


def test_unmapped_attributes_touch_nothing() -> None:
    out, rec = sync(PASSED, "preferredLanguage", "nickName")
    assert out == {"status": "skipped", "reason": "no-mapped-attribute"} and rec.log == []


def test_a_deleted_user_is_skipped_and_other_okta_failures_retry() -> None:
    out, _ = sync(PASSED, "company", error=OktaNotFound("gone", status=404))
    assert out == {"status": "skipped", "reason": "user-not-found"}
    with pytest.raises(RuntimeError):
        sync(PASSED, "company", error=RuntimeError("okta 500"))


def _record(body: dict[str, Any]) -> dict[str, Any]:
    import json
    return {"messageId": "m1", "receiptHandle": "r", "body": json.dumps(body),
            "attributes": {"ApproximateReceiveCount": "1", "SentTimestamp": "1",
                           "SenderId": "s", "ApproximateFirstReceiveTimestamp": "1"},
            "messageAttributes": {}, "md5OfBody": "x", "eventSource": "aws:sqs",
            "eventSourceARN": "arn:aws:sqs:eu-west-1:123456789012:q", "awsRegion": "eu-west-1"}


def test_the_record_model_dispatches_on_the_event_type() -> None:
    created = {"eventId": "e1", "eventType": "AccountCreated", "occurredAt": "2026-11-26T10:00:00Z",
               "userId": "00u1", "login": "ada@example.test"}
    profile = {"eventId": "e2", "eventType": "ProfileUpdated", "occurredAt": "2026-11-26T10:00:00Z",
               "userId": "00u1", "attributes": ["company"], "source": "bff-profile"}
    assert isinstance(AccountEventRecord.model_validate(_record(created)).body, AccountCreated)
    assert isinstance(AccountEventRecord.model_validate(_record(profile)).body, ProfileUpdated)
    from pydantic import ValidationError
    for bad in ({**profile, "attributes": []}, {**profile, "attributes": ["not a name!"]},
                {**profile, "eventType": "AccountDeleted"}, {**profile, "attributes": ["a"] * 33}):
        with pytest.raises(ValidationError):
            AccountEventRecord.model_validate(_record(bad))
