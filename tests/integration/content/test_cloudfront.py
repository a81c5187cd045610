"""A publish event invalidates the copy on CloudFront (boto3 against moto in server mode)."""

from __future__ import annotations

import datetime as dt
import json
import uuid
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from moto.server import ThreadedMotoServer

from bff_dev.serving import free_port
from bff_dev.twins.aem import AemTwin
from tests.integration.content.conftest import HOOK_SECRET, aem_env, bff
from tests.support.env import make_settings


def now_iso() -> str:
    """A CloudEvents ``time`` inside the hook's replay window."""
    return dt.datetime.now(dt.UTC).isoformat()


@pytest.fixture(scope="module")
def moto_url() -> Iterator[str]:
    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    yield f"http://127.0.0.1:{port}"
    server.stop()


@pytest.fixture(autouse=True)
def _fake_credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "test")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "test")


def distribution(cloudfront: Any) -> str:
    config = {
        "CallerReference": uuid.uuid4().hex,
        "Comment": "bff",
        "Enabled": True,
        "Origins": {
            "Quantity": 1,
            "Items": [
                {
                    "Id": "bff",
                    "DomainName": "bff.example.test",
                    "CustomOriginConfig": {
                        "HTTPPort": 80,
                        "HTTPSPort": 443,
                        "OriginProtocolPolicy": "https-only",
                    },
                }
            ],
        },
        "DefaultCacheBehavior": {
            "TargetOriginId": "bff",
            "ViewerProtocolPolicy": "redirect-to-https",
            "MinTTL": 0,
            "ForwardedValues": {"QueryString": True, "Cookies": {"Forward": "none"}},
            "TrustedSigners": {"Enabled": False, "Quantity": 0},
        },
    }
    return str(cloudfront.create_distribution(DistributionConfig=config)["Distribution"]["Id"])


async def test_publish_event_invalidates_the_journey_paths(aem: AemTwin, moto_url: str) -> None:
    cloudfront = boto3.client("cloudfront", region_name="us-east-1", endpoint_url=moto_url)
    dist = distribution(cloudfront)
    settings = make_settings(**aem_env(aem), BFF_CLOUDFRONT_DISTRIBUTION=dist, BFF_AWS_ENDPOINT_URL=moto_url)
    async with bff(settings) as client:
        batch = [
            {
                "specversion": "1.0",
                "time": now_iso(),
                "id": str(uuid.uuid4()),
                "source": "urn:test",
                "type": "aem.sites.contentFragment.published",
                "data": {"path": p},
            }
            for p in (
                "/content/dam/bff/en/ui-copy/signin",
                "/content/dam/bff/fr/ui-copy/signin",
                "/content/dam/bff/de/ui-copy/common",
            )
        ]
        r = await client.post(
            "/bff/hooks/aem",
            content=json.dumps(batch),
            headers={"X-Webhook-Secret": HOOK_SECRET, "Content-Type": "application/cloudevents-batch+json"},
        )
        assert r.status_code == 200, r.text
        invalidation_id = r.json()["cdnInvalidation"]
        assert invalidation_id
    found = cloudfront.get_invalidation(DistributionId=dist, Id=invalidation_id)["Invalidation"]
    assert sorted(found["InvalidationBatch"]["Paths"]["Items"]) == [
        "/bff/content/common*",
        "/bff/content/signin*",
    ]


async def test_cdn_failure_does_not_fail_the_eviction(aem: AemTwin, moto_url: str) -> None:
    settings = make_settings(
        **aem_env(aem), BFF_CLOUDFRONT_DISTRIBUTION="EDOESNOTEXIST", BFF_AWS_ENDPOINT_URL=moto_url
    )
    async with bff(settings) as client:
        e = {
            "specversion": "1.0",
            "time": now_iso(),
            "id": "x1",
            "source": "urn:test",
            "type": "aem.sites.contentFragment.published",
            "data": {"path": "/content/dam/bff/en/ui-copy/admin"},
        }
        r = await client.post(
            "/bff/hooks/aem",
            content=json.dumps(e),
            headers={"X-Webhook-Secret": HOOK_SECRET, "Content-Type": "application/json"},
        )
        assert r.status_code == 200
        assert (
            r.json()["evicted"] == [{"journey": "admin", "locale": "en"}]
            and r.json()["cdnInvalidation"] is None
        )
