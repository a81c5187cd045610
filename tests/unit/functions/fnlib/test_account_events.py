"""The AccountCreated and AccountNotice models as Powertools SQS record models, on the real SQS
event sample."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from fnlib.account_events import AccountCreated, AccountCreatedRecord, AccountNotice, AccountNoticeRecord

SAMPLE = Path(__file__).resolve().parents[3] / "fixtures" / "aws" / "powertools_sqsEvent.json"


def event(**fields: Any) -> dict[str, Any]:
    body = {
        "eventId": "e-1",
        "eventType": "AccountCreated",
        "occurredAt": "2026-11-26T10:00:00.123Z",
        "userId": "00u1",
        "login": "ada@example.test",
        "firstName": "Ada",
        "lastName": "Lovelace",
        "orgId": "acme",
        "locale": "fr-CA",
        "source": "bff-signup",
    }
    body.update(fields)
    return body


def sqs_record(body: str) -> dict[str, Any]:
    record: dict[str, Any] = copy.deepcopy(json.loads(SAMPLE.read_text())["Records"][0])
    record["body"] = body
    return record


def test_parses_the_body_of_a_real_sqs_record() -> None:
    record = AccountCreatedRecord.model_validate(sqs_record(json.dumps(event())))
    assert isinstance(record.body, AccountCreated)
    assert record.body.eventId == "e-1" and record.body.email == "ada@example.test"
    assert record.body.occurredAt.year == 2026 and record.body.locale == "fr-CA"
    assert record.messageId == "059f36b4-87a3-44ab-83d2-661975830a7d"


def test_unknown_fields_are_ignored_and_optional_ones_default() -> None:
    body = event(newField={"x": 1})
    del body["orgId"], body["locale"], body["source"]
    parsed = AccountCreated.model_validate(body)
    assert parsed.orgId is None and parsed.locale == "en" and parsed.source == "unknown"


@pytest.mark.parametrize(
    "body",
    [
        "Test message.",
        "[]",
        json.dumps(event(eventType="AccountDeleted")),
        json.dumps(event(eventId="")),
        json.dumps(event(login="not-an-email")),
        json.dumps(event(locale="<script>")),
        json.dumps(event(firstName="x" * 101)),
        json.dumps({k: v for k, v in event().items() if k != "userId"}),
    ],
)
def test_poison_bodies_fail_validation(body: str) -> None:
    with pytest.raises(ValidationError):
        AccountCreatedRecord.model_validate(sqs_record(body))


def notice(**fields: Any) -> dict[str, Any]:
    body = {"eventId": "n-1", "eventType": "AccountLocked", "eventVersion": 1,
            "occurredAt": "2026-12-02T15:00:00.000Z", "oktaEventId": "okta-1", "userId": "00u1",
            "login": "hana@acme.test", "email": "hana@mail.test", "firstName": "Hana", "locale": "ja",
            "source": "okta-hook"}
    body.update(fields)
    return body


def test_a_notice_parses_from_a_real_sqs_record_and_ignores_unknown_fields() -> None:
    record = AccountNoticeRecord.model_validate(sqs_record(json.dumps(notice(somethingNew=1))))
    assert isinstance(record.body, AccountNotice)
    assert (record.body.eventType, record.body.recipient, record.body.locale) == (
        "AccountLocked", "hana@mail.test", "ja")
    bare = AccountNotice.model_validate({k: v for k, v in notice().items() if k not in ("email", "locale")})
    assert bare.recipient == "hana@acme.test" and bare.locale == "en"


@pytest.mark.parametrize("body", [
    json.dumps(notice(eventType="AccountCreated")),  # an AccountCreated on the notices' queue
    json.dumps(notice(eventVersion=2)),  # a version this code does not know: DLQ, not misread
    json.dumps(notice(oktaEventId="")),
    json.dumps(notice(login="not-an-address")),
    json.dumps(notice(email="nope")),
    json.dumps({k: v for k, v in notice().items() if k != "userId"}),
])
def test_notices_this_code_cannot_read_fail_validation(body: str) -> None:
    with pytest.raises(ValidationError):
        AccountNoticeRecord.model_validate(sqs_record(body))


def test_a_notice_is_not_an_account_created() -> None:
    with pytest.raises(ValidationError):
        AccountCreatedRecord.model_validate(sqs_record(json.dumps(notice())))
