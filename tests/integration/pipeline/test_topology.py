"""The topology on moto: what the SAM template declares, created identically and idempotently."""

from __future__ import annotations

import json
import uuid

from bff_dev.twins.aws.topology import NOTICE_TYPES, SUBSCRIBERS, TopologySpec, create_topology

#: Each queue's filter policy (written out: the topology must match the template, not itself).
POLICIES = {
    "welcome-email": {"eventType": ["AccountCreated"]},
    "account-validation": {"eventType": ["AccountCreated", "ProfileUpdated"]},
    "account-notices": {"eventType": ["AccountLocked", "PasswordChanged", "FactorAdded"]},
}


def test_resources_and_their_settings(moto_url: str) -> None:
    spec = TopologySpec(
        prefix=f"topo{uuid.uuid4().hex[:6]}-",
        visibility_timeout=7,
        max_receive_count=4,
        secrets={"COMPLIANCE_API_KEY": "k"},
    )
    topo = create_topology(moto_url, spec)
    again = create_topology(moto_url, spec)  # idempotent: same resources, no duplicate subscriptions
    assert again.topic_arn == topo.topic_arn and again.queues == topo.queues

    assert topo.topic_arn.endswith(f":{spec.prefix}account-events")
    assert set(topo.queues) == {s.queue for s in SUBSCRIBERS} == set(POLICIES)
    assert {s.function for s in SUBSCRIBERS} == {"welcome_email", "account_validation", "account_notices"}
    sqs, sns, ddb = topo.client("sqs"), topo.client("sns"), topo.client("dynamodb")
    subs = sns.list_subscriptions_by_topic(TopicArn=topo.topic_arn)["Subscriptions"]
    assert len(subs) == 3
    for pair in topo.queues.values():
        attrs = sqs.get_queue_attributes(QueueUrl=pair.url, AttributeNames=["All"])["Attributes"]
        assert attrs["VisibilityTimeout"] == "7"
        assert json.loads(attrs["RedrivePolicy"]) == {
            "deadLetterTargetArn": pair.dlq_arn,
            "maxReceiveCount": 4,
        }
        statement = json.loads(attrs["Policy"])["Statement"][0]
        assert (
            statement["Principal"] == {"Service": "sns.amazonaws.com"}
            and statement["Action"] == "sqs:SendMessage"
        )
        assert statement["Condition"] == {"ArnEquals": {"aws:SourceArn": topo.topic_arn}}
        assert pair.dlq_url.endswith(f"{spec.prefix}{pair.name}-dlq")
        sub_attrs = sns.get_subscription_attributes(SubscriptionArn=pair.subscription_arn)["Attributes"]
        assert sub_attrs["RawMessageDelivery"] == "true" and sub_attrs["Endpoint"] == pair.arn
        assert json.loads(sub_attrs["FilterPolicy"]) == POLICIES[pair.name]

    review = ddb.describe_table(TableName=topo.review_table)["Table"]
    assert {k["AttributeName"]: k["KeyType"] for k in review["KeySchema"]} == {
        "orgId": "HASH",
        "reviewId": "RANGE",
    }
    idem = ddb.describe_table(TableName=topo.idempotency_table)["Table"]
    assert {k["AttributeName"]: k["KeyType"] for k in idem["KeySchema"]} == {"id": "HASH"}
    ttl = ddb.describe_time_to_live(TableName=topo.idempotency_table)["TimeToLiveDescription"]
    assert ttl == {"TimeToLiveStatus": "ENABLED", "AttributeName": "expiration"}

    assert topo.sender in topo.client("ses").list_verified_email_addresses()["VerifiedEmailAddresses"]
    secret = topo.client("secretsmanager").get_secret_value(SecretId=topo.secret_arn)["SecretString"]
    assert json.loads(secret) == {"COMPLIANCE_API_KEY": "k"}


def test_fan_out_is_raw_with_attributes_and_filtered(moto_url: str) -> None:
    topo = create_topology(moto_url, TopologySpec(prefix=f"fan{uuid.uuid4().hex[:6]}-"))
    sns, sqs = topo.client("sns"), topo.client("sqs")
    body = json.dumps({"eventId": "e1", "eventType": "AccountCreated"})
    attrs = {
        "eventType": {"DataType": "String", "StringValue": "AccountCreated"},
        "orgId": {"DataType": "String", "StringValue": "acme"},
        "source": {"DataType": "String", "StringValue": "bff-signup"},
    }
    sns.publish(TopicArn=topo.topic_arn, Message=body, MessageAttributes=attrs)
    sns.publish(
        TopicArn=topo.topic_arn,
        Message='{"eventType": "AccountDeleted"}',
        MessageAttributes={"eventType": {"DataType": "String", "StringValue": "AccountDeleted"}},
    )
    sns.publish(TopicArn=topo.topic_arn, Message='{"no": "attributes"}')
    notices = {}
    for notice_type in NOTICE_TYPES:
        notices[notice_type] = json.dumps({"eventId": f"n-{notice_type}", "eventType": notice_type})
        sns.publish(TopicArn=topo.topic_arn, Message=notices[notice_type], MessageAttributes={
            "eventType": {"DataType": "String", "StringValue": notice_type},
            "source": {"DataType": "String", "StringValue": "okta-hook"}})
    got = sqs.receive_message(QueueUrl=topo.queues["account-notices"].url, MaxNumberOfMessages=10,
                              WaitTimeSeconds=1, MessageAttributeNames=["All"])["Messages"]
    # the notices' queue: the three notices, nothing else (no AccountCreated, no other type)
    assert sorted(m["Body"] for m in got) == sorted(notices.values())
    for pair in (topo.queues["welcome-email"], topo.queues["account-validation"]):
        got = sqs.receive_message(
            QueueUrl=pair.url, MaxNumberOfMessages=10, WaitTimeSeconds=1, MessageAttributeNames=["All"]
        )["Messages"]
        assert [m["Body"] for m in got] == [body]  # raw: no SNS envelope; other event types dropped
        assert {k: v["StringValue"] for k, v in got[0]["MessageAttributes"].items()} == {
            "eventType": "AccountCreated",
            "orgId": "acme",
            "source": "bff-signup",
        }


def test_profile_updates_reach_only_the_validation_queue(moto_url: str) -> None:
    topo = create_topology(moto_url, TopologySpec(prefix=f"pu{uuid.uuid4().hex[:6]}-"))
    sns, sqs = topo.client("sns"), topo.client("sqs")
    body = json.dumps({"eventId": "e2", "eventType": "ProfileUpdated"})
    sns.publish(TopicArn=topo.topic_arn, Message=body,
                MessageAttributes={"eventType": {"DataType": "String", "StringValue": "ProfileUpdated"}})
    got = {name: [m["Body"] for m in sqs.receive_message(QueueUrl=pair.url, MaxNumberOfMessages=10,
                                                          WaitTimeSeconds=1).get("Messages", [])]
           for name, pair in topo.queues.items()}
    assert got == {"welcome-email": [], "account-validation": [body], "account-notices": []}
