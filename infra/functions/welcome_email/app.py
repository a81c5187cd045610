"""Lambda entry point: ``welcome_email.app.handler`` (SQS event source, partial batch failure).

Environment: ``SES_SENDER`` and ``IDEMPOTENCY_TABLE`` (required); ``AEM_URL``/``AEM_CONFIG``
(fetch the copy from AEM publish first), ``APP_URL`` (the call-to-action link),
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

from fnlib import tracecontext
from fnlib.account_events import AccountCreated, AccountCreatedRecord
from fnlib.names import env
from welcome_email.mailcopy import resolver_from_env
from welcome_email.mailer import WelcomeMailer
from welcome_email.render import Renderer

HERE = Path(__file__).resolve().parent
# Bundled copy: packaged next to the function, else the repository's content/ (a checkout).
COPY_DIRS = (HERE / "copy", HERE.parent.parent.parent / "content" / "copy")

logger = Logger()
# X-Ray through Powertools' Tracer (the template's Tracing: Active): continues the caller's
# X-Amzn-Trace-Id (the BFF's upstream span on a direct invoke). Only AWS SDK calls are patched
# (an httpx/requests subsegment would record URLs with query strings), and neither responses nor
# error messages are captured (they can hold a user's details).
tracer = Tracer(patch_modules=["boto3"])
processor = BatchProcessor(event_type=EventType.SQS, model=AccountCreatedRecord)
persistence = DynamoDBPersistenceLayer(table_name=env("IDEMPOTENCY_TABLE"),
                                       boto3_client=boto3.client("dynamodb"))
idempotency = IdempotencyConfig(event_key_jmespath="eventId", raise_on_no_idempotency_key=True,
                                expires_after_seconds=int(env("IDEMPOTENCY_TTL_SECONDS", "604800")))

mailer = WelcomeMailer(
    resolver_from_env(COPY_DIRS),
    Renderer(),
    boto3.client("sesv2"),
    env("SES_SENDER"),
    app_url=env("APP_URL", "") or None,
)


@idempotent_function(data_keyword_argument="event", config=idempotency,  # type: ignore[untyped-decorator]
                     persistence_store=persistence)
def send_welcome(event: AccountCreated) -> dict[str, str]:
    result = mailer.send(event)
    logger.info("welcome email sent", extra={"eventId": event.eventId, "userId": event.userId,
                                             "locale": result["locale"], "messageId": result["messageId"]})
    return result


def record_handler(record: AccountCreatedRecord) -> dict[str, str]:
    with tracecontext.continued(tracer, logger, record.messageAttributes):  # the BFF's trace
        return send_welcome(event=record.body)  # type: ignore[no-any-return]


@logger.inject_lambda_context
@tracer.capture_lambda_handler(capture_response=False, capture_error=False)
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    idempotency.register_lambda_context(context)
    return process_partial_response(event=event, record_handler=record_handler,  # type: ignore[return-value]
                                    processor=processor, context=context)
