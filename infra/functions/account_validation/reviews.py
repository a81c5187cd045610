"""The manual-review queue in DynamoDB (table ``manual-review``: ``orgId`` HASH, ``reviewId`` RANGE).

A put is conditional on the item not existing: a retried or duplicated event never resets a
review an admin already decided.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


class DynamoReviewQueue:
    def __init__(self, table: Any) -> None:  # a boto3 ``dynamodb`` Table resource
        self._table = table

    def put(self, item: Mapping[str, Any]) -> bool:
        """True when stored, False when this review already existed."""
        try:
            self._table.put_item(
                Item=dict(item),
                ConditionExpression="attribute_not_exists(orgId) AND attribute_not_exists(reviewId)")
        except self._table.meta.client.exceptions.ConditionalCheckFailedException:
            return False
        return True
