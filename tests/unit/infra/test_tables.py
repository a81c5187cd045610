"""The template's DynamoDB tables are exactly the ones the stores create for themselves in dev
(``ensure_table``): same keys, attribute types, indexes (names, keys, projections) and TTL
attribute. A store that changes its layout fails here before it fails in production."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from cfnlint.decode import decode

from bff.sessions import dynamodb as sessions
from bff.signup import outbox_dynamodb as outbox

TEMPLATE = Path(__file__).resolve().parents[3] / "infra" / "template.yaml"


class RecordingClient:
    """Just enough of a DynamoDB client for ensure_table: records what it would create."""

    def __init__(self) -> None:
        self.table: dict[str, Any] = {}
        self.ttl: dict[str, Any] = {}

    def create_table(self, **kwargs: Any) -> None:
        self.table = kwargs

    def get_waiter(self, name: str) -> Any:
        return SimpleNamespace(wait=lambda **kwargs: None)

    def describe_time_to_live(self, TableName: str) -> dict[str, Any]:  # noqa: N803 (boto3's name)
        return {"TimeToLiveDescription": {"TimeToLiveStatus": "DISABLED"}}

    def update_time_to_live(self, TableName: str, TimeToLiveSpecification: dict[str, Any]) -> None:  # noqa: N803
        self.ttl = TimeToLiveSpecification


def _store_definition(ensure_table: Callable[[Any, str], None]) -> RecordingClient:
    client = RecordingClient()
    ensure_table(client, "t")
    return client


def _shape(
    attributes: list[dict[str, str]],
    keys: list[dict[str, str]],
    indexes: list[dict[str, Any]],
    ttl: str,
    billing: str,
) -> dict[str, Any]:
    return {
        "attributes": sorted((a["AttributeName"], a["AttributeType"]) for a in attributes),
        "keys": [(k["AttributeName"], k["KeyType"]) for k in keys],
        "indexes": sorted(
            (
                i["IndexName"],
                tuple((k["AttributeName"], k["KeyType"]) for k in i["KeySchema"]),
                i["Projection"]["ProjectionType"],
            )
            for i in indexes
        ),
        "ttl": ttl,
        "billing": billing,
    }


@pytest.fixture(scope="module")
def resources() -> dict[str, Any]:
    tpl, matches = decode(str(TEMPLATE))
    assert not matches and tpl is not None
    return dict(tpl["Resources"])


@pytest.mark.parametrize(
    ("logical_id", "ensure_table"),
    [
        ("SessionsTable", sessions.ensure_table),
        ("OutboxTable", outbox.ensure_table),
    ],
)
def test_the_template_table_is_the_stores_table(
    resources: dict[str, Any], logical_id: str, ensure_table: Callable[[Any, str], None]
) -> None:
    props = resources[logical_id]["Properties"]
    template = _shape(
        props["AttributeDefinitions"],
        props["KeySchema"],
        props.get("GlobalSecondaryIndexes", []),
        props["TimeToLiveSpecification"]["AttributeName"],
        props["BillingMode"],
    )
    assert props["TimeToLiveSpecification"]["Enabled"] is True
    store = _store_definition(ensure_table)
    expected = _shape(
        store.table["AttributeDefinitions"],
        store.table["KeySchema"],
        store.table.get("GlobalSecondaryIndexes", []),
        store.ttl["AttributeName"],
        store.table["BillingMode"],
    )
    assert template == expected


def test_the_sessions_table_uses_the_store_constants(resources: dict[str, Any]) -> None:
    props = resources["SessionsTable"]["Properties"]
    assert {i["IndexName"] for i in props["GlobalSecondaryIndexes"]} == {
        sessions.USER_INDEX,
        sessions.IDP_SID_INDEX,
    }
    assert props["TimeToLiveSpecification"]["AttributeName"] == sessions.TTL_ATTRIBUTE
    assert {i["IndexName"] for i in resources["OutboxTable"]["Properties"]["GlobalSecondaryIndexes"]} == {
        outbox.INDEX
    }


def test_tables_holding_user_data_survive_a_stack_deletion(resources: dict[str, Any]) -> None:
    for logical_id in ("SessionsTable", "OutboxTable", "ManualReviewTable"):
        assert resources[logical_id]["DeletionPolicy"] == "Retain"
        assert resources[logical_id]["Properties"]["SSESpecification"]["SSEEnabled"] is True
