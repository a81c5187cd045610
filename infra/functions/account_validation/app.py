"""Lambda entry point: ``account_validation.app.handler`` (SQS event source, partial batch failure).
``AccountCreated`` records are validated; ``ProfileUpdated`` records update the Marketo lead from
Okta's profile (validator.AccountValidator.sync_lead).

Environment (fnlib.names): ``SECRETS_ARN`` (JSON secret: ``OKTA_API_TOKEN`` or, preferred,
``OKTA_CLIENT_ID`` + ``OKTA_PRIVATE_KEY`` of a service app; ``COMPLIANCE_API_KEY``,
``MARKETO_CLIENT_ID``, ``MARKETO_CLIENT_SECRET``), ``IDEMPOTENCY_TABLE``, ``REVIEW_TABLE``,
``OKTA_ORG_URL``, ``COMPLIANCE_API_URL``, ``MARKETO_IDENTITY_URL``, ``MARKETO_REST_URL``;
optional ``COMPLIANCE_TIMEOUT`` (seconds, default 5) and ``IDEMPOTENCY_TTL_SECONDS`` (7 days).
"""

from __future__ import annotations

from typing import Any

import boto3
import httpx
from aws_lambda_powertools import Logger, Tracer
from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.idempotency import (
    DynamoDBPersistenceLayer,
    IdempotencyConfig,
    idempotent_function,
)
from aws_lambda_powertools.utilities.parameters import SecretsProvider
from aws_lambda_powertools.utilities.typing import LambdaContext

from account_validation.compliance import ComplianceClient
from account_validation.validator import AccountValidator
from fnlib import tracecontext
from fnlib.account_events import AccountCreated, AccountEventRecord, ProfileUpdated
from fnlib.marketo import MarketoClient
from fnlib.names import env
from fnlib.okta import okta_client
from fnlib.review import ReviewRepository

SECRET_MAX_AGE = 300
# Configuration is read once, at cold start (like the clients below).
SECRETS_ARN = env("SECRETS_ARN")
OKTA_ORG_URL = env("OKTA_ORG_URL")
COMPLIANCE_API_URL = env("COMPLIANCE_API_URL")
MARKETO_IDENTITY_URL = env("MARKETO_IDENTITY_URL")
MARKETO_REST_URL = env("MARKETO_REST_URL")

logger = Logger()
# X-Ray through Powertools' Tracer (the template's Tracing: Active): continues the caller's
# X-Amzn-Trace-Id (the BFF's upstream span on a direct invoke). Only AWS SDK calls are patched
# (an httpx/requests subsegment would record URLs with query strings), and neither responses nor
# error messages are captured (they can hold a user's details).
tracer = Tracer(patch_modules=["boto3"])
processor = BatchProcessor(event_type=EventType.SQS, model=AccountEventRecord)
persistence = DynamoDBPersistenceLayer(table_name=env("IDEMPOTENCY_TABLE"),
                                       boto3_client=boto3.client("dynamodb"))
idempotency = IdempotencyConfig(event_key_jmespath="eventId", raise_on_no_idempotency_key=True,
                                expires_after_seconds=int(env("IDEMPOTENCY_TTL_SECONDS", "604800")))
secrets = SecretsProvider(boto3_client=boto3.client("secretsmanager"))
reviews = ReviewRepository(boto3.resource("dynamodb").Table(env("REVIEW_TABLE")))
compliance_http = httpx.Client(timeout=httpx.Timeout(float(env("COMPLIANCE_TIMEOUT", "5")), connect=3.0))
http = httpx.Client(timeout=httpx.Timeout(10.0, connect=3.0), headers={"User-Agent": "account-validation"})

_current: dict[str, Any] = {}


def validator() -> AccountValidator:
    """The validator for the current secret (re-read every SECRET_MAX_AGE s; rotation-safe)."""
    secret = secrets.get(SECRETS_ARN, transform="json", max_age=SECRET_MAX_AGE)
    if not isinstance(secret, dict):
        raise ValueError("SECRETS_ARN must hold a JSON object")
    if _current.get("secret") != secret:
        _current["secret"] = secret
        _current["validator"] = AccountValidator(
            ComplianceClient(COMPLIANCE_API_URL, secret["COMPLIANCE_API_KEY"], http=compliance_http),
            okta_client(OKTA_ORG_URL, secret, http=http),
            MarketoClient(MARKETO_IDENTITY_URL, MARKETO_REST_URL, secret["MARKETO_CLIENT_ID"],
                          secret["MARKETO_CLIENT_SECRET"], http=http),
            reviews,
        )
    result: AccountValidator = _current["validator"]
    return result


@idempotent_function(data_keyword_argument="event", config=idempotency,  # type: ignore[untyped-decorator]
                     persistence_store=persistence)
def validate_account(event: AccountCreated) -> dict[str, Any]:
    outcome = validator().validate(event)
    logger.info("account validated", extra={"eventId": event.eventId, "userId": event.userId, **outcome})
    return outcome


@idempotent_function(data_keyword_argument="event", config=idempotency,  # type: ignore[untyped-decorator]
                     persistence_store=persistence)
def sync_lead(event: ProfileUpdated) -> dict[str, Any]:
    outcome = validator().sync_lead(event)
    logger.info("lead synchronised", extra={"eventId": event.eventId, "userId": event.userId, **outcome})
    return outcome


def record_handler(record: AccountEventRecord) -> dict[str, Any]:
    with tracecontext.continued(tracer, logger, record.messageAttributes,  # the BFF's trace
                                name=f"## {record.body.eventType}"):
        if isinstance(record.body, ProfileUpdated):
            return sync_lead(event=record.body)  # type: ignore[no-any-return]
        return validate_account(event=record.body)  # type: ignore[no-any-return]


@logger.inject_lambda_context
@tracer.capture_lambda_handler(capture_response=False, capture_error=False)
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    idempotency.register_lambda_context(context)
    return process_partial_response(event=event, record_handler=record_handler,  # type: ignore[return-value]
                                    processor=processor, context=context)
