"""Lambda entry point: ``account_notices.app.handler`` (SQS event source, partial batch failure).

The ``account-notices`` queue receives only the account notices (its subscription's filter
policy: ``eventType`` in AccountLocked, PasswordChanged, FactorAdded). One email per notice,
exactly once per ``eventId`` (Powertools idempotency; the id is derived from the Okta event
``uuid``, so a redelivered hook event is the same notice). An SES failure fails the record
(reported in ``batchItemFailures``), SQS redelivers it, and after the queue's
``maxReceiveCount`` it waits in the DLQ, where an alarm watches it: never lost silently.

Environment: ``SES_SENDER`` and ``IDEMPOTENCY_TABLE`` (required); ``AEM_URL``/``AEM_CONFIG``
(fetch the copy from AEM publish first), ``APP_URL`` (the unlock / sign-in links),
``DEFAULT_LOCALE`` (``en``), ``IDEMPOTENCY_TTL_SECONDS`` (default 7 days). See fnlib.names.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import boto3
from aws_lambda_powertools import Logger, Tracer
from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.idempotency import (
    DynamoDBPersistenceLayer,
    IdempotencyConfig,
    idempotent_function,
)
from aws_lambda_powertools.utilities.typing import LambdaContext

from account_notices.mailer import NoticeMailer
from fnlib import tracecontext
from fnlib.account_events import AccountNotice, AccountNoticeRecord
from fnlib.names import env
from welcome_email.mailcopy import resolver_from_env
from welcome_email.render import Renderer

HERE = Path(__file__).resolve().parent
# Bundled copy: the welcome email's (packaged as welcome_email/copy/), else the repository's content/.
COPY_DIRS = (HERE.parent / "welcome_email" / "copy", HERE.parent.parent.parent / "content" / "copy")

logger = Logger()
tracer = Tracer(patch_modules=["boto3"])  # as welcome_email: AWS SDK calls only, nothing captured
processor = BatchProcessor(event_type=EventType.SQS, model=AccountNoticeRecord)
persistence = DynamoDBPersistenceLayer(table_name=env("IDEMPOTENCY_TABLE"),
                                       boto3_client=boto3.client("dynamodb"))
idempotency = IdempotencyConfig(event_key_jmespath="eventId", raise_on_no_idempotency_key=True,
                                expires_after_seconds=int(env("IDEMPOTENCY_TTL_SECONDS", "604800")))

mailer = NoticeMailer(
    resolver_from_env(COPY_DIRS),
    Renderer(),
    boto3.client("sesv2"),
    env("SES_SENDER"),
    app_url=env("APP_URL", "") or None,
)


@idempotent_function(data_keyword_argument="notice", config=idempotency,  # type: ignore[untyped-decorator]
                     persistence_store=persistence)
def send_notice(notice: AccountNotice) -> dict[str, str]:
    result = mailer.send(notice)
    logger.info("account notice sent", extra={"eventId": notice.eventId, "eventType": notice.eventType,
                                              "userId": notice.userId, "locale": result["locale"],
                                              "messageId": result["messageId"]})
    return result


def record_handler(record: AccountNoticeRecord) -> dict[str, str]:
    with tracecontext.continued(tracer, logger, record.messageAttributes,  # the BFF's trace
                                name=f"## {record.body.eventType}"):
        return send_notice(notice=record.body)  # type: ignore[no-any-return]


@logger.inject_lambda_context
@tracer.capture_lambda_handler(capture_response=False, capture_error=False)
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    idempotency.register_lambda_context(context)
    return process_partial_response(event=event, record_handler=record_handler,  # type: ignore[return-value]
                                    processor=processor, context=context)
