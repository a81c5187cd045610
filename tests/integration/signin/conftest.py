"""Fixtures: the Okta twin (with its IDX API) on loopback, the BFF in-process over
``httpx.ASGITransport``, and helpers that play the SPA against ``/bff/signin``."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette

from bff.app import create_app
from bff.settings import Settings
from bff_dev.twins.okta import OktaTwin
from tests.support.env import make_settings
from tests.support.login import bff_client, register_bff_client
from tests.support.okta import running_okta_twin

CSRF = {"X-CSRF": "1"}


def register_embedded_client(okta: OktaTwin, settings: Settings) -> Any:
    return register_bff_client(okta, settings, grant_types=("authorization_code", "refresh_token",
                                                            "interaction_code"))


@pytest.fixture
async def okta() -> AsyncIterator[OktaTwin]:
    async with running_okta_twin() as twin:
        yield twin


@pytest.fixture
def env() -> dict[str, str]:
    return {}


@pytest.fixture
def settings(okta: OktaTwin, env: dict[str, str]) -> Settings:
    s = make_settings(BFF_OKTA_ISSUER=okta.issuer, BFF_OKTA_TIMEOUT="2", **env)
    register_embedded_client(okta, s)
    return s


@pytest.fixture
def app(settings: Settings) -> Starlette:
    return create_app(settings)


@pytest.fixture
async def client(app: Starlette) -> AsyncIterator[httpx.AsyncClient]:
    async with bff_client(app) as c:
        yield c


async def start(client: httpx.AsyncClient, **body: Any) -> httpx.Response:
    return await client.post("/bff/signin", json={"returnTo": "/home", **body}, headers=CSRF)


async def submit(client: httpx.AsyncClient, remediation: str, values: dict[str, Any],
                 headers: dict[str, str] | None = None) -> httpx.Response:
    return await client.post(f"/bff/signin/{remediation}", json=values, headers={**CSRF, **(headers or {})})


def email_code(okta: OktaTwin, to: str) -> str:
    mails = [m for m in okta.idx.outbox if m["to"] == to]
    assert mails, f"no email sent to {to}"
    return mails[-1]["code"]
