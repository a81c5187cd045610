from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from bff_dev.twins.okta import OktaTwin
from tests.integration.twins.okta.flows import API_TOKEN, CLIENT_ID, POST_LOGOUT, REDIRECT, SECRET
from tests.support.okta import running_okta_twin


@pytest.fixture
async def okta() -> AsyncIterator[OktaTwin]:
    async with running_okta_twin() as twin:
        twin.register_client(
            CLIENT_ID, secret=SECRET, redirect_uris=[REDIRECT], post_logout_redirect_uris=[POST_LOGOUT]
        )
        twin.add_api_token(API_TOKEN)
        yield twin


@pytest.fixture
async def http() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(timeout=10) as client:
        yield client
