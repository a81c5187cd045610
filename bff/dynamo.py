"""Creating a DynamoDB table the way the BFF's stores need it (dev and tests; production
tables come from infra/template.yaml, and tests/unit/infra checks the two agree)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, Literal

from botocore.exceptions import ClientError

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient


def create_table(client: DynamoDBClient, name: str, *, attributes: dict[str, Literal["S", "N", "B"]],
                 indexes: Sequence[dict[str, Any]], ttl_attribute: str) -> None:
    """Create ``name`` if missing (on-demand billing, partition key ``pk``, server-side
    encryption, the given global secondary ``indexes``), wait until it is active, then enable
    TTL on ``ttl_attribute``. Idempotent: a table that already exists is only waited for."""
    definitions: list[Any] = [{"AttributeName": "pk", "AttributeType": "S"}]
    definitions += [{"AttributeName": a, "AttributeType": t} for a, t in attributes.items()]
    try:
        client.create_table(
            TableName=name,
            BillingMode="PAY_PER_REQUEST",
            AttributeDefinitions=definitions,
            KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
            GlobalSecondaryIndexes=list(indexes),  # type: ignore[arg-type]
            SSESpecification={"Enabled": True},
        )
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") != "ResourceInUseException":
            raise
    client.get_waiter("table_exists").wait(TableName=name, WaiterConfig={"Delay": 1, "MaxAttempts": 60})
    ttl = client.describe_time_to_live(TableName=name).get("TimeToLiveDescription", {})
    if ttl.get("TimeToLiveStatus") not in {"ENABLED", "ENABLING"}:
        client.update_time_to_live(TableName=name, TimeToLiveSpecification={
            "Enabled": True, "AttributeName": ttl_attribute})
