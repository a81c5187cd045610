"""Relying-party helpers for the twin's integration tests (a login transaction, code exchange,
refresh, token verification against the published JWKS)."""

from __future__ import annotations

import base64
import json
import secrets
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import httpx
from authlib.oauth2.rfc7636 import create_s256_code_challenge
from joserfc import jwt
from joserfc.jwk import KeySet

from bff_dev.twins.okta import OktaTwin
from tests.support.okta import browser_sign_in

CLIENT_ID = "0oatestclient0000001"
SECRET = "test-client-secret-0123456789"
REDIRECT = "https://app.example.test/bff/callback"
POST_LOGOUT = "https://app.example.test/"
API_TOKEN = "00-test-api-token-0123456789"


class Login:
    """One login transaction of a relying party (state, nonce, PKCE verifier)."""

    def __init__(
        self,
        okta: OktaTwin,
        *,
        scope: str = "openid profile email offline_access",
        client_id: str = CLIENT_ID,
        redirect_uri: str = REDIRECT,
        **extra: str,
    ) -> None:
        self.okta = okta
        self.state = secrets.token_urlsafe(16)
        self.nonce = secrets.token_urlsafe(16)
        self.verifier = secrets.token_urlsafe(48)
        self.client_id = client_id
        self.redirect_uri = redirect_uri
        self.params = {
            "client_id": client_id,
            "response_type": "code",
            "scope": scope,
            "redirect_uri": redirect_uri,
            "state": self.state,
            "nonce": self.nonce,
            "code_challenge": create_s256_code_challenge(self.verifier),
            "code_challenge_method": "S256",
            **extra,
        }
        self.params = {k: v for k, v in self.params.items() if v is not None}

    @property
    def url(self) -> str:
        return f"{self.okta.issuer}/v1/authorize?{urlencode(self.params)}"


def callback_params(response: httpx.Response) -> dict[str, str]:
    assert response.status_code == 302, (response.status_code, response.text[:300])
    location = response.headers["location"]
    assert location.startswith(REDIRECT) or "?" in location
    return {k: v[0] for k, v in parse_qs(urlsplit(location).query).items()}


async def sign_in(
    http: httpx.AsyncClient, okta: OktaTwin, username: str = "alice@acme.test", **kwargs: Any
) -> tuple[Login, dict[str, str]]:
    login = Login(okta, **kwargs)
    response = await browser_sign_in(http, login.url, username=username)
    return login, callback_params(response)


async def exchange(
    http: httpx.AsyncClient, okta: OktaTwin, login: Login, code: str, **overrides: str
) -> httpx.Response:
    form = {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": login.redirect_uri,
        "code_verifier": login.verifier,
        **overrides,
    }
    return await http.post(f"{okta.issuer}/v1/token", data=form, auth=(CLIENT_ID, SECRET))


async def tokens_for(
    http: httpx.AsyncClient, okta: OktaTwin, username: str = "alice@acme.test", **kwargs: Any
) -> dict[str, Any]:
    login, params = await sign_in(http, okta, username, **kwargs)
    response = await exchange(http, okta, login, params["code"])
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def refresh(
    http: httpx.AsyncClient, okta: OktaTwin, refresh_token: str, **extra: str
) -> httpx.Response:
    return await http.post(
        f"{okta.issuer}/v1/token",
        auth=(CLIENT_ID, SECRET),
        data={"grant_type": "refresh_token", "refresh_token": refresh_token, **extra},
    )


async def verified_claims(http: httpx.AsyncClient, okta: OktaTwin, token: str) -> dict[str, Any]:
    """Verify a token's RS256 signature against the twin's published JWKS, as a relying party."""
    jwks = (await http.get(f"{okta.issuer}/v1/keys")).json()
    decoded = jwt.decode(token, KeySet.import_key_set(jwks), algorithms=["RS256"])
    return dict(decoded.claims)


def header(token: str) -> dict[str, Any]:
    segment = token.split(".")[0]
    return dict(json.loads(base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4))))
