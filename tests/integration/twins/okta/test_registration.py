"""Self-service registration on the twin's hosted page (/signin/register)."""

from __future__ import annotations

import asyncio
import json
import re
from urllib.parse import parse_qs, urlsplit

import httpx

from bff_dev.twins.okta import OktaTwin
from tests.integration.twins.okta.flows import Login, exchange, verified_claims
from tests.integration.twins.okta.receiver import receiver

FORM = {
    "email": "newbie@acme.test",
    "firstName": "New",
    "lastName": "Bie",
    "orgId": "acme",
    "password": "Welc0me-Aboard",
}


async def test_register_page_is_an_accessible_form(okta: OktaTwin, http: httpx.AsyncClient) -> None:
    page = await http.get(f"{okta.base_url}/signin/register")
    assert page.status_code == 200
    for field in ("email", "firstName", "lastName", "orgId", "password"):
        match = re.search(rf'<input[^>]*id="([^"]+)"[^>]*name="{field}"', page.text)
        assert match, field
        assert f'<label for="{match.group(1)}">' in page.text


async def test_register_creates_an_active_user_and_fires_the_hook(
    okta: OktaTwin, http: httpx.AsyncClient
) -> None:
    async with receiver() as hook:
        okta.register_event_hook(hook.url, auth_value="s3cret")
        done = await http.post(f"{okta.base_url}/signin/register", data=FORM)
        assert done.status_code == 200 and "Account created" in done.text
        async with asyncio.timeout(5):
            await okta.idle()
        user = okta.directory.user("newbie@acme.test")
        assert user is not None and user.status == "ACTIVE" and user.profile["orgId"] == "acme"
        (post,) = hook.posts
        event = json.loads(post.body)["data"]["events"][0]
        assert event["eventType"] == "user.lifecycle.create" and event["target"][0]["id"] == user.id


async def test_register_validation_errors_rerender_the_form(okta: OktaTwin, http: httpx.AsyncClient) -> None:
    weak = await http.post(f"{okta.base_url}/signin/register", data={**FORM, "password": "short"})
    assert weak.status_code == 400 and "Password requirements were not met" in weak.text
    assert 'value="newbie@acme.test"' in weak.text
    taken = await http.post(f"{okta.base_url}/signin/register", data={**FORM, "email": "bob@acme.test"})
    assert taken.status_code == 400 and "already exists" in taken.text
    hostile = await http.post(
        f"{okta.base_url}/signin/register",
        data={**FORM, "firstName": "<script>alert(1)</script>", "email": "x"},
    )
    assert hostile.status_code == 400 and "<script>alert(1)</script>" not in hostile.text
    assert okta.directory.user("newbie@acme.test") is None


async def test_register_from_sign_in_continues_the_authorization(
    okta: OktaTwin, http: httpx.AsyncClient
) -> None:
    login = Login(okta)
    page = await http.get(login.url)
    register_url = re.search(r'href="([^"]*signin/register[^"]*)"', page.text)
    assert register_url
    form_page = await http.get(register_url.group(1).replace("&amp;", "&"))
    token = re.search(r'name="stateToken" value="([^"]+)"', form_page.text)
    assert token
    back = await http.post(f"{okta.base_url}/signin/register", data={**FORM, "stateToken": token.group(1)})
    assert back.status_code == 302
    params = {k: v[0] for k, v in parse_qs(urlsplit(back.headers["location"]).query).items()}
    assert params["state"] == login.state
    tokens = (await exchange(http, okta, login, params["code"])).json()
    claims = await verified_claims(http, okta, tokens["id_token"])
    assert claims["email"] == "newbie@acme.test" and claims["orgId"] == "acme"
