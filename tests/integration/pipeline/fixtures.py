"""Fixtures shared by the pipeline and function integration tests (imported by their conftests).

One moto server per test session (moto's state is process-wide anyway); each test gets its own
topology under a unique name prefix, the Okta twin over loopback, and unique recipients.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx
import pytest

from bff_dev.serving import free_port
from bff_dev.twins.aws.server import MotoServer
from bff_dev.twins.okta import OktaTwin
from bff_dev.twins.workers.functions import LambdaContext
from bff_dev.twins.workers.pipeline import Pipeline, start_pipeline
from bff_dev.twins.workers.runner import sqs_record
from tests.support.okta import running_okta_twin

OKTA_TOKEN = "test-okta-api-token-0123456789"


@pytest.fixture(scope="session")
def moto_url() -> Iterator[str]:
    server = MotoServer(free_port())
    server.start()
    yield server.url
    server.stop()


@pytest.fixture
async def okta() -> AsyncIterator[OktaTwin]:
    async with running_okta_twin() as twin:
        twin.add_api_token(OKTA_TOKEN)
        yield twin


@pytest.fixture
async def pipeline(moto_url: str, okta: OktaTwin) -> AsyncIterator[Pipeline]:
    async with start_pipeline(
        okta_url=okta.base_url,
        okta_token=OKTA_TOKEN,
        endpoint_url=moto_url,
        visibility_timeout=1,
        max_receive_count=3,
        compliance_timeout=1.0,
    ) as p:
        yield p


async def create_okta_user(
    okta: OktaTwin, *, first: str = "Ada", last: str = "Lovelace", org: str = "org-acme"
) -> dict[str, Any]:
    """A new user through the twin's Management API (as the BFF's sign-up does)."""
    email = f"{first.lower()}.{uuid.uuid4().hex[:8]}@example.test"
    async with httpx.AsyncClient() as http:
        resp = await http.post(
            f"{okta.base_url}/api/v1/users",
            params={"activate": "false"},
            headers={"Authorization": f"SSWS {OKTA_TOKEN}"},
            json={
                "profile": {
                    "login": email,
                    "email": email,
                    "firstName": first,
                    "lastName": last,
                    "orgId": org,
                }
            },
        )
    assert resp.status_code == 200, resp.text
    user: dict[str, Any] = resp.json()
    return user


def event_for(pipeline: Pipeline, user: dict[str, Any], **fields: Any) -> dict[str, Any]:
    p = user["profile"]
    return pipeline.account_created(
        userId=user["id"],
        login=p["login"],
        firstName=p["firstName"],
        lastName=p["lastName"],
        orgId=p["orgId"],
        **fields,
    )


def profile_updates(okta: OktaTwin, user_id: str) -> int:
    """How many ``POST /api/v1/users/{id}`` (profile updates) the Okta twin received for the user."""
    return okta.counters.get(f"http:POST /api/v1/users/{user_id}", 0)


async def deliver(pipeline: Pipeline, queue: str, bodies: list[str | dict[str, Any]]) -> dict[str, Any]:
    """Publish ``bodies`` on the topic, receive them from ``queue`` as the event source would and
    build the Lambda event (records in the order SQS returned them)."""
    for body in bodies:
        if isinstance(body, dict):
            pipeline.publish(body)
        else:
            pipeline.publish(body, attributes={"eventType": "AccountCreated"})
    pair = pipeline.topology.queues[queue]
    messages: list[dict[str, Any]] = []
    sqs = pipeline.client("sqs")
    while len(messages) < len(bodies):
        resp = await asyncio.to_thread(
            sqs.receive_message,
            QueueUrl=pair.url,
            MaxNumberOfMessages=10,
            WaitTimeSeconds=1,
            AttributeNames=["All"],
            MessageAttributeNames=["All"],
        )
        messages.extend(resp.get("Messages") or [])
    return {"Records": [sqs_record(m, queue_arn=pair.arn, region=pipeline.topology.region) for m in messages]}


async def invoke(pipeline: Pipeline, package: str, event: dict[str, Any]) -> Any:
    """Run the function's handler off-loop (it calls twins served on this loop); the exception
    it raised, if any, is returned instead of raised (Lambda: the whole batch failed)."""
    handler = pipeline.subscribers.functions[package].handler
    try:
        return await asyncio.to_thread(handler, event, LambdaContext(package))
    except Exception as exc:  # noqa: BLE001 - returned for the test to inspect
        return exc


class Browser:
    """The SPA's calls to ``/bff/signin`` with the browser's cookies. The ``__Host-`` cookies are
    Secure, which httpx's jar keeps from plain-http loopback; a browser treats localhost as
    secure, so they are carried here by hand."""

    def __init__(self, client: httpx.AsyncClient) -> None:
        self.client = client
        self.cookies: dict[str, str] = {}

    async def get(self, path: str) -> httpx.Response:
        cookie = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        return await self.client.get(path, headers={"Cookie": cookie} if cookie else {})

    async def post(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        cookie = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        headers = {"X-CSRF": "1", "Cookie": cookie} if cookie else {"X-CSRF": "1"}
        r = await self.client.post(path, json=body, headers=headers)
        for header in r.headers.get_list("set-cookie"):
            name, _, rest = header.partition("=")
            self.cookies[name.strip()] = rest.split(";", 1)[0]
        return r.json()  # type: ignore[no-any-return]
