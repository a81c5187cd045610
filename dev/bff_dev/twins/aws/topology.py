"""The account-created messaging topology, created on any AWS endpoint (moto in dev and tests).

It mirrors ``infra/template.yaml`` (logical names from ``fnlib.names``; deployed names carry a
``bff-{stage}-`` prefix, local ones a test-chosen ``prefix``, empty in ``bff dev``):

- SNS topic ``account-events``;
- per subscriber an SQS queue and its DLQ (``welcome-email`` + ``welcome-email-dlq``,
  ``account-validation`` + ``account-validation-dlq``, ``account-notices`` +
  ``account-notices-dlq``): redrive ``maxReceiveCount``, a visibility timeout, DLQ retention
  14 days, a queue policy letting only the topic send;
- per subscriber a RAW-delivery subscription with a filter policy on the ``eventType`` message
  attribute: ``["AccountCreated"]`` for the welcome email, ``["AccountCreated", "ProfileUpdated"]``
  for account validation (which keeps the Marketo lead in step), ``["AccountLocked",
  "PasswordChanged", "FactorAdded"]`` (the account notices) for ``account-notices``;
- DynamoDB ``manual-review`` (``orgId`` HASH, ``reviewId`` RANGE) and ``idempotency``
  (Powertools layout: ``id`` HASH, TTL attribute ``expiration``);
- the verified SES sender ``no-reply@acme.test``;
- the functions' JSON secret in Secrets Manager (``SECRETS_ARN`` of account_validation).

:func:`create_topology` is idempotent: on an endpoint that already has the resources it
reuses them (moto servers in one process share their state).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import boto3
from botocore.config import Config

from bff_dev.twins.workers.functions import ensure_functions_path

ensure_functions_path()
from fnlib import names  # noqa: E402  (infra/functions is not an installed package)

TOPIC = str(names.ACCOUNT_EVENTS_TOPIC)
EVENT_TYPE = str(names.ACCOUNT_CREATED)
REVIEW_TABLE = str(names.MANUAL_REVIEW_TABLE)
IDEMPOTENCY_TABLE = str(names.IDEMPOTENCY_TABLE)
SENDER = "no-reply@acme.test"
PROFILE_UPDATED = str(names.PROFILE_UPDATED)
NOTICE_TYPES: tuple[str, ...] = tuple(names.ACCOUNT_NOTICE_TYPES)
DLQ_RETENTION = 14 * 24 * 3600
#: The deployed values (infra/template.yaml); dev and tests may shorten the visibility timeout.
MAX_RECEIVE_COUNT = 5
VISIBILITY_TIMEOUT = 90
FAKE_CREDENTIALS = {"aws_access_key_id": "testing", "aws_secret_access_key": "testing"}


@dataclass(frozen=True)
class Subscriber:
    queue: str  # logical queue name
    function: str  # package under infra/functions
    event_types: tuple[str, ...] = (EVENT_TYPE,)  # what its subscription's filter policy admits

    @property
    def filter_policy(self) -> dict[str, list[str]]:
        return {"eventType": list(self.event_types)}


#: The subscribers of the topic, in one place: queue name ↔ Lambda function package.
SUBSCRIBERS: tuple[Subscriber, ...] = (
    Subscriber(str(names.WELCOME_EMAIL_QUEUE), "welcome_email"),
    Subscriber(str(names.ACCOUNT_VALIDATION_QUEUE), "account_validation", (EVENT_TYPE, PROFILE_UPDATED)),
    Subscriber(str(names.ACCOUNT_NOTICES_QUEUE), "account_notices", NOTICE_TYPES),
)


@dataclass(frozen=True)
class TopologySpec:
    prefix: str = ""
    region: str = "eu-west-1"
    max_receive_count: int = MAX_RECEIVE_COUNT
    visibility_timeout: int = VISIBILITY_TIMEOUT
    sender: str = SENDER
    secrets: Mapping[str, str] = field(default_factory=dict)  # the functions' JSON secret


@dataclass(frozen=True)
class QueuePair:
    name: str
    function: str
    url: str
    arn: str
    dlq_url: str
    dlq_arn: str
    subscription_arn: str


@dataclass(frozen=True)
class Topology:
    endpoint_url: str
    region: str
    prefix: str
    topic_arn: str
    queues: dict[str, QueuePair]  # by logical queue name
    review_table: str
    idempotency_table: str
    sender: str
    secret_arn: str
    max_receive_count: int
    visibility_timeout: int

    def client(self, service: str) -> Any:
        """A boto3 client for this endpoint (fake credentials; moto accepts any)."""
        return client(service, self.endpoint_url, self.region)


def client(service: str, endpoint_url: str, region: str) -> Any:
    return boto3.client(service, endpoint_url=endpoint_url, region_name=region,  # type: ignore[call-overload]
                        config=Config(retries={"max_attempts": 2, "mode": "standard"}),
                        **FAKE_CREDENTIALS)


def _queue(sqs: Any, name: str, attributes: dict[str, str]) -> tuple[str, str]:
    url = sqs.create_queue(QueueName=name)["QueueUrl"]
    sqs.set_queue_attributes(QueueUrl=url, Attributes=attributes)
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    return str(url), str(arn)


def _table(ddb: Any, name: str, keys: list[tuple[str, str]], ttl: str | None = None) -> None:
    try:
        ddb.create_table(
            TableName=name,
            AttributeDefinitions=[{"AttributeName": k, "AttributeType": "S"} for k, _ in keys],
            KeySchema=[{"AttributeName": k, "KeyType": t} for k, t in keys],
            BillingMode="PAY_PER_REQUEST",
        )
    except ddb.exceptions.ResourceInUseException:
        return
    ddb.get_waiter("table_exists").wait(TableName=name, WaiterConfig={"Delay": 1, "MaxAttempts": 10})
    if ttl:
        ddb.update_time_to_live(TableName=name,
                                TimeToLiveSpecification={"Enabled": True, "AttributeName": ttl})


def create_topology(endpoint_url: str, spec: TopologySpec | None = None) -> Topology:
    """Create (or find) every resource of the pipeline on ``endpoint_url``."""
    spec = spec or TopologySpec()
    p = spec.prefix
    sns = client("sns", endpoint_url, spec.region)
    sqs = client("sqs", endpoint_url, spec.region)
    ddb = client("dynamodb", endpoint_url, spec.region)

    topic_arn = str(sns.create_topic(Name=p + TOPIC)["TopicArn"])
    existing = {s["Endpoint"]: s["SubscriptionArn"]
                for s in sns.list_subscriptions_by_topic(TopicArn=topic_arn).get("Subscriptions", [])}

    queues: dict[str, QueuePair] = {}
    for sub in SUBSCRIBERS:
        dlq_url, dlq_arn = _queue(sqs, f"{p}{sub.queue}-dlq", {"MessageRetentionPeriod": str(DLQ_RETENTION)})
        url, arn = _queue(sqs, p + sub.queue, {
            "VisibilityTimeout": str(spec.visibility_timeout),
            "RedrivePolicy": json.dumps({"deadLetterTargetArn": dlq_arn,
                                         "maxReceiveCount": spec.max_receive_count}),
        })
        policy = {
            "Version": "2012-10-17",
            "Statement": [{
                "Sid": "AllowAccountEventsTopic", "Effect": "Allow",
                "Principal": {"Service": "sns.amazonaws.com"}, "Action": "sqs:SendMessage",
                "Resource": arn, "Condition": {"ArnEquals": {"aws:SourceArn": topic_arn}},
            }],
        }
        sqs.set_queue_attributes(QueueUrl=url, Attributes={"Policy": json.dumps(policy)})
        sub_arn = existing.get(arn)
        if sub_arn is None:
            sub_arn = sns.subscribe(
                TopicArn=topic_arn, Protocol="sqs", Endpoint=arn, ReturnSubscriptionArn=True,
                Attributes={"RawMessageDelivery": "true", "FilterPolicyScope": "MessageAttributes",
                            "FilterPolicy": json.dumps(sub.filter_policy)},
            )["SubscriptionArn"]
        queues[sub.queue] = QueuePair(sub.queue, sub.function, url, arn, dlq_url, dlq_arn, str(sub_arn))

    _table(ddb, p + REVIEW_TABLE, [("orgId", "HASH"), ("reviewId", "RANGE")])
    _table(ddb, p + IDEMPOTENCY_TABLE, [("id", "HASH")], ttl="expiration")

    ses = client("ses", endpoint_url, spec.region)
    ses.verify_email_identity(EmailAddress=spec.sender)

    sm = client("secretsmanager", endpoint_url, spec.region)
    secret_name = f"{p}functions"
    secret_value = json.dumps(dict(spec.secrets))
    try:
        secret_arn = sm.create_secret(Name=secret_name, SecretString=secret_value)["ARN"]
    except sm.exceptions.ResourceExistsException:
        secret_arn = sm.put_secret_value(SecretId=secret_name, SecretString=secret_value)["ARN"]

    return Topology(
        endpoint_url=endpoint_url, region=spec.region, prefix=p, topic_arn=topic_arn, queues=queues,
        review_table=p + REVIEW_TABLE, idempotency_table=p + IDEMPOTENCY_TABLE, sender=spec.sender,
        secret_arn=str(secret_arn), max_receive_count=spec.max_receive_count,
        visibility_timeout=spec.visibility_timeout,
    )
