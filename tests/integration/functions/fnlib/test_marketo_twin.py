"""Contract: fnlib.marketo.MarketoClient against the Marketo twin over loopback HTTP."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

import httpx
import pytest

from bff_dev.serving import free_port, serve_asgi
from bff_dev.twins.marketo import MarketoTwin, create_app
from bff_dev.twins.marketo.app import DEV_CLIENT_ID, DEV_CLIENT_SECRET
from fnlib.marketo import MarketoAuthError, MarketoClient, MarketoRecordError, MarketoRetryableError


@pytest.fixture
async def marketo() -> AsyncIterator[tuple[MarketoTwin, str]]:
    twin = MarketoTwin()
    port = free_port()
    async with contextlib.AsyncExitStack() as stack:
        await serve_asgi(stack, create_app(twin), port, name="marketo-twin")
        yield twin, f"http://127.0.0.1:{port}"


def client(base: str, secret: str = DEV_CLIENT_SECRET) -> MarketoClient:
    return MarketoClient(
        f"{base}/identity",
        f"{base}/rest",
        DEV_CLIENT_ID,
        secret,
        http=httpx.Client(timeout=5),
        backoff_base=0.05,
        backoff_cap=0.1,
    )


async def test_upsert_refresh_and_back_off(marketo: tuple[MarketoTwin, str]) -> None:
    twin, base = marketo
    c = client(base)
    lead_id = await asyncio.to_thread(
        c.upsert_lead, "ada@example.test", "Ada", "Lovelace", {"oktaUserId": "00u1"}
    )
    assert twin.lead_by_email("ada@example.test") == {**twin.lead_by_email("ada@example.test"), "id": lead_id}
    assert await asyncio.to_thread(c.upsert_lead, "ADA@example.test", "Ada", "Byron") == lead_id
    twin.expire_tokens()
    twin.inject("606", "615")
    assert await asyncio.to_thread(c.upsert_lead, "bob@example.test", "Bob", "B") != lead_id
    assert twin.stats.errors == {"602": 1, "606": 1, "615": 1}
    assert twin.stats.token_requests == 2 and (twin.stats.created, twin.stats.updated) == (2, 1)


async def test_persistent_limits_raise_retryable(marketo: tuple[MarketoTwin, str]) -> None:
    twin, base = marketo
    twin.inject("607", "607", "607", "607")
    with pytest.raises(MarketoRetryableError):
        await asyncio.to_thread(client(base).upsert_lead, "a@x.test", "A", "B")


async def test_unknown_field_is_a_skipped_record(marketo: tuple[MarketoTwin, str]) -> None:
    _, base = marketo
    with pytest.raises(MarketoRecordError) as info:
        await asyncio.to_thread(client(base).upsert_lead, "a@x.test", "A", "B", {"shoeSize": 44})
    assert info.value.codes == ("1006",)


async def test_bad_credentials(marketo: tuple[MarketoTwin, str]) -> None:
    _, base = marketo
    with pytest.raises(MarketoAuthError):
        await asyncio.to_thread(client(base, "wrong").upsert_lead, "a@x.test", "A", "B")
