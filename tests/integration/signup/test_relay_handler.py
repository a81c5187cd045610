"""The scheduled relay Lambda (bff.signup.relay_handler) against moto server: entries left
pending in the shared DynamoDB outbox are published; a table defined without the due index is
still served (by a scan)."""

from __future__ import annotations

import asyncio
import secrets
import time
from typing import Any

import pytest

from bff.signup import relay_handler
from bff.signup.events import AccountCreated
from bff.signup.outbox import open_outbox
from bff.signup.outbox_dynamodb import DynamoDBOutbox
from tests.integration.signup.moto_topic import REGION, moto_topic
from tests.support.env import base_env


class Context:
    def get_remaining_time_in_millis(self) -> int:
        return 60_000


def event(uid: str) -> AccountCreated:
    return AccountCreated.new(
        user_id=uid,
        login=f"{uid}@example.com",
        email=f"{uid}@example.com",
        first_name="A",
        last_name="B",
        org_id="acme",
        locale="en",
        source="bff-signup",
    )


async def test_the_scheduled_relay_publishes_what_is_pending(monkeypatch: pytest.MonkeyPatch) -> None:
    with moto_topic() as moto:
        table = f"outbox-{secrets.token_hex(4)}"
        env = base_env(
            BFF_OUTBOX=f"dynamodb://{table}",
            BFF_ACCOUNT_TOPIC_ARN=moto.topic_arn,
            BFF_AWS_ENDPOINT_URL=moto.url,
            BFF_AWS_REGION=REGION,
        )
        for name, value in env.items():
            monkeypatch.setenv(name, value)
        monkeypatch.setattr(relay_handler, "_settings", None)
        outbox = open_outbox(f"dynamodb://{table}", region=REGION, endpoint_url=moto.url)
        for uid in ("00ua", "00ub"):
            e = event(uid)
            assert await outbox.add(
                id=e.eventId, dedupe_key=f"AccountCreated:{uid}", kind=e.eventType, payload=e.to_json()
            )
        result: dict[str, Any] = await asyncio.to_thread(relay_handler.handler, {}, Context())
        assert result["published"] == 2 and result["outbox"]["pending"] == 0
        received = moto.receive(2)
        assert sorted(m["body"]["userId"] for m in received) == ["00ua", "00ub"]
        again = await asyncio.to_thread(relay_handler.handler, {}, Context())
        assert again["published"] == 0
        await outbox.close()


async def test_a_table_without_the_due_index_still_works() -> None:
    with moto_topic() as moto:
        client = moto.client("dynamodb")
        table = f"plain-{secrets.token_hex(4)}"
        client.create_table(
            TableName=table,
            BillingMode="PAY_PER_REQUEST",
            AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
            KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        )
        outbox = DynamoDBOutbox(client, table)
        for n in range(3):
            e = event(f"00u{n}")
            await outbox.add(id=e.eventId, dedupe_key=f"k{n}", kind=e.eventType, payload=e.to_json())

        claimed = await outbox.claim_due(now=time.time() + 1, limit=10, lease=30)
        assert len(claimed) == 3
        assert await outbox.claim_due(now=time.time() + 1, limit=10, lease=30) == []
        assert await outbox.next_due_at() is not None
