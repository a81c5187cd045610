"""Fixtures: the Okta twin on loopback and the BFF in-process (httpx ASGITransport)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette

from bff.app import create_app
from bff.settings import Settings
from tests.support.env import make_settings
from tests.support.login import bff_client, register_bff_client
from tests.support.okta import running_okta_twin


@pytest.fixture
async def okta() -> AsyncIterator[Any]:
    async with running_okta_twin(refresh_leeway=0) as twin:  # any refresh-token reuse is fatal
        yield twin


@pytest.fixture
def settings(okta: Any) -> Settings:
    s = make_settings(BFF_OKTA_ISSUER=okta.issuer, BFF_OKTA_TIMEOUT="1")
    register_bff_client(okta, s)
    return s


@pytest.fixture
def app(settings: Settings) -> Starlette:
    return create_app(settings)


@pytest.fixture
async def client(app: Starlette) -> AsyncIterator[httpx.AsyncClient]:
    async with bff_client(app) as c:
        yield c
