"""fnlib.okta: the shared bff.okta client, built from the functions' secret (httpx.MockTransport;
no I/O). The client itself is tested in tests/unit/okta/."""

from __future__ import annotations

import json
from collections.abc import Callable
from urllib.parse import parse_qs

import httpx
import pytest
from joserfc import jwt
from joserfc.jwk import RSAKey

from bff.okta import OktaClient, OktaRateLimited, PrivateKeyJwtAuth, SswsAuth
from fnlib.okta import SCOPES, okta_client

ORG = "https://acme.okta.example"
TOKEN = "00abcdefghijklmnopqrstuvwxyz0123456789ABCD"


def _http(handler: Callable[[httpx.Request], httpx.Response]) -> httpx.Client:
    return httpx.Client(transport=httpx.MockTransport(handler))


def test_an_api_token_secret_gives_an_ssws_client() -> None:
    seen: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request.headers["authorization"])
        return httpx.Response(200, json={"id": "00u1", "profile": {}})

    client = okta_client(ORG, {"OKTA_API_TOKEN": TOKEN}, http=_http(handler))
    assert isinstance(client, OktaClient) and isinstance(client.auth, SswsAuth)
    assert client.get_user("00u1")["id"] == "00u1"
    assert seen == [f"SSWS {TOKEN}"]
    assert TOKEN not in repr(client)


def test_a_service_app_secret_is_preferred_and_asks_for_the_functions_scopes() -> None:
    key = RSAKey.generate_key(2048, private=True)
    forms: list[dict[str, list[str]]] = []

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/oauth2/v1/token":
            forms.append(parse_qs(request.content.decode()))
            return httpx.Response(200, json={"access_token": "at-1", "expires_in": 3600})
        assert request.headers["authorization"] == "Bearer at-1"
        return httpx.Response(200, json={"id": "00u1", "profile": {}})

    secret = {"OKTA_API_TOKEN": TOKEN, "OKTA_CLIENT_ID": "0oafunctions",
              "OKTA_PRIVATE_KEY": key.as_pem(private=True).decode()}
    client = okta_client(ORG, secret, http=_http(handler))
    assert isinstance(client.auth, PrivateKeyJwtAuth)
    client.get_user("00u1")
    (form,) = forms
    assert form["scope"] == [" ".join(SCOPES)] == ["okta.users.manage okta.groups.manage"]
    claims = jwt.decode(form["client_assertion"][0], key).claims
    assert claims["iss"] == claims["sub"] == "0oafunctions"


@pytest.mark.parametrize("secret", [{}, {"OKTA_CLIENT_ID": "0oa1"}, {"OKTA_API_TOKEN": ""}])
def test_a_secret_without_credentials_is_a_value_error(secret: dict[str, str]) -> None:
    with pytest.raises(ValueError, match="no Okta credentials"):
        okta_client(ORG, secret, http=httpx.Client())


def test_an_unusable_key_is_a_value_error_naming_no_part_of_it() -> None:
    material = json.dumps({"kty": "RSA", "n": "not-a-key", "d": "SECRETPART"})
    with pytest.raises(ValueError) as info:
        okta_client(ORG, {"OKTA_CLIENT_ID": "0oa1", "OKTA_PRIVATE_KEY": material}, http=httpx.Client())
    assert "SECRETPART" not in str(info.value) and info.value.__cause__ is None


def test_a_distant_rate_limit_reset_is_not_waited_for() -> None:
    sent: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        sent.append(request)
        headers = {"X-Rate-Limit-Reset": "1000040", "Date": "Mon, 12 Jan 1970 13:46:40 GMT"}
        body = {"errorCode": "E0000047", "errorSummary": "rate limit"}
        return httpx.Response(429, json=body, headers=headers)

    client = okta_client(ORG, {"OKTA_API_TOKEN": TOKEN}, http=_http(handler))
    with pytest.raises(OktaRateLimited) as info:
        client.get_user("00u1")
    assert len(sent) == 1  # 40 s by Okta's clock: more than the functions wait, so no retry
    assert info.value.retry_after == pytest.approx(40.1)
