"""CloudFront invalidation of ``/bff/content/{journey}*`` after a publish (optional:
``BFF_CLOUDFRONT_DISTRIBUTION``). AEM does not purge any CDN on publish; without this, the CDN
serves the old copy until ``max-age`` runs out."""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Iterable
from typing import Any

import boto3

log = logging.getLogger("bff.content.cdn")


class CloudFrontInvalidator:
    def __init__(self, distribution_id: str, *, region: str, endpoint_url: str | None = None,
                 client: Any = None) -> None:
        self.distribution_id = distribution_id
        # boto3 clients are built once (lifespan) and are thread-safe for calls.
        self.client = client or boto3.client("cloudfront", region_name=region, endpoint_url=endpoint_url)

    @staticmethod
    def paths_for(journeys: Iterable[str]) -> list[str]:
        return sorted({f"/bff/content/{j}*" for j in journeys})

    async def invalidate(self, journeys: Iterable[str]) -> str | None:
        """Invalidate the copy of ``journeys``; the invalidation id, or None when it failed
        (logged: the CDN then serves the old copy at most for its max-age)."""
        paths = self.paths_for(journeys)
        if not paths:
            return None
        batch: Any = {"Paths": {"Quantity": len(paths), "Items": paths}, "CallerReference": uuid.uuid4().hex}
        try:
            resp = await asyncio.to_thread(
                lambda: self.client.create_invalidation(DistributionId=self.distribution_id,
                                                        InvalidationBatch=batch))
        except Exception as exc:  # botocore's errors share no useful base; never fail the webhook
            log.warning("CloudFront invalidation of %s failed: %s", paths, type(exc).__name__)
            return None
        invalidation_id = str(resp["Invalidation"]["Id"])
        log.info("CloudFront invalidation %s for %s", invalidation_id, paths)
        return invalidation_id
