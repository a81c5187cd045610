"""SnsPublisher against moto in server mode: the message and its filterable attributes reach a
raw-delivery SQS subscription; an unreachable endpoint is a PublishFailed, never a hang."""

from __future__ import annotations

import time

import pytest

from bff.signup.events import AccountCreated
from bff.signup.publisher import PublishFailed, SnsPublisher
from bff_dev.serving import free_port
from tests.integration.signup.moto_topic import REGION, moto_topic


def event(org: str | None = "acme") -> AccountCreated:
    return AccountCreated.new(
        user_id="00u1",
        login="ada@example.com",
        email="ada@example.com",
        first_name="Zoë",
        last_name="Lovelace",
        org_id=org,
        locale="fr-CA",
        source="bff-signup",
    )


async def test_publish_reaches_a_filtered_raw_subscription() -> None:
    with moto_topic(filter_policy={"eventType": ["AccountCreated"]}) as moto:
        publisher = SnsPublisher(moto.topic_arn, region=REGION, endpoint_url=moto.url)
        e = event()
        message_id = await publisher.publish(
            e.to_json(), e.message_attributes(), dedupe_id=e.eventId, group_id=e.userId
        )
        assert message_id
        nobody = event(org=None)
        await publisher.publish(
            nobody.to_json(), nobody.message_attributes(), dedupe_id=nobody.eventId, group_id=nobody.userId
        )
        received = moto.receive(2)
        assert received[0]["body"] == e.to_json()
        assert received[0]["attributes"] == {
            "eventType": "AccountCreated",
            "orgId": "acme",
            "source": "bff-signup",
        }
        assert received[1]["attributes"] == {"eventType": "AccountCreated", "source": "bff-signup"}
        publisher.close()


async def test_a_filter_policy_on_another_type_receives_nothing() -> None:
    with moto_topic(filter_policy={"eventType": ["AccountDeleted"]}) as moto:
        publisher = SnsPublisher(moto.topic_arn, region=REGION, endpoint_url=moto.url)
        e = event()
        await publisher.publish(e.to_json(), e.message_attributes(), dedupe_id=e.eventId, group_id=e.userId)
        assert moto.receive(1, seconds=1.5) == []
        publisher.close()


async def test_unreachable_endpoint_fails_fast() -> None:
    publisher = SnsPublisher(
        "arn:aws:sns:eu-west-1:123456789012:nope",
        region=REGION,
        endpoint_url=f"http://127.0.0.1:{free_port()}",
        timeout=2,
    )
    e = event()
    started = time.monotonic()
    with pytest.raises(PublishFailed):
        await publisher.publish(e.to_json(), e.message_attributes(), dedupe_id=e.eventId, group_id=e.userId)
    assert time.monotonic() - started < 3
    publisher.close()


async def test_unknown_topic_is_a_publish_failure() -> None:
    with moto_topic() as moto:
        publisher = SnsPublisher(moto.topic_arn + "-missing", region=REGION, endpoint_url=moto.url)
        e = event()
        with pytest.raises(PublishFailed) as info:
            await publisher.publish(
                e.to_json(), e.message_attributes(), dedupe_id=e.eventId, group_id=e.userId
            )
        assert "NotFound" in str(info.value)
        publisher.close()
