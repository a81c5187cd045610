"""Credentials for the Okta Management API, as ``httpx.Auth`` flows (sync and async alike).

Two kinds, in order of preference:

* :class:`PrivateKeyJwtAuth`: an OAuth 2.0 service app. A ``client_credentials`` grant at the
  ORG authorization server, ``{org}/oauth2/v1/token`` (custom authorization servers cannot
  issue Management API scopes), authenticated with a ``private_key_jwt`` client assertion:
  ``iss`` = ``sub`` = the client id, ``aud`` = that token URL, a fresh ``jti``, five minutes of
  life (Okta accepts at most an hour). The assertion is signed by authlib's RFC 7523 signer
  (:func:`authlib.oauth2.rfc7523.private_key_jwt_sign`, the one behind the ``PrivateKeyJWT``
  client auth that :mod:`bff.auth.oidc` uses) over a joserfc key: RS256 for RSA keys, ES256
  for EC keys, the key's ``kid`` in the header. The access token (an hour, by Okta's default)
  is cached until ``skew`` seconds before it expires; concurrent requests that find no usable
  token wait for ONE token request (a ``threading.Lock`` in sync clients, an ``asyncio.Lock``
  in async ones). A 401 from the API (the token was revoked, or the app's grants changed)
  drops the token and retries the request once with a new one. Apps that require DPoP are not
  supported: turn "Require DPoP" off for the service app.
* :class:`SswsAuth`: a legacy API token, ``Authorization: SSWS <token>``; it acts with the
  rights of the admin who created it, and expires after 30 days unused.

Both are ordinary ``httpx.Auth`` objects, passed per request (``client.send(request,
auth=...)``) so a shared ``httpx.Client``/``AsyncClient`` never holds a credential. Sync and
async clients run the same generator (:meth:`PrivateKeyJwtAuth._flow`: attach the token, send,
on a 401 renew and send once more); ``sync_auth_flow``/``async_auth_flow`` only wrap it with the
lock around the first token request and read the bodies, as httpx's own drivers do.

The token request goes through the caller's client as part of the flow, with the API
request's timeouts and ``User-Agent``. Its refusal raises from the flow: OktaAuthError
(``invalid_client``, ``invalid_scope`` ...), OktaRateLimited, OktaServerError.

Secrets stay out of sight: neither class's ``repr`` shows the token, the key or the access
token, and no error carries them (:mod:`bff.okta.errors`).
"""

from __future__ import annotations

import asyncio
import json
import threading
import time
from collections.abc import AsyncGenerator, Callable, Generator, Sequence
from typing import Any

import httpx
from authlib.oauth2.rfc7523 import private_key_jwt_sign
from joserfc.jwk import ECKey, JWKRegistry, RSAKey

from bff.okta.errors import OktaProtocolError, token_error
from bff.okta.retry import DEFAULT_WAIT, reset_wait

TOKEN_PATH = "/oauth2/v1/token"  # noqa: S105 - a path, not a secret
ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
ASSERTION_LIFETIME = 300  # seconds; Okta refuses assertions that live longer than an hour
TOKEN_SKEW = 60.0  # renew the access token this long before it expires
MAX_TOKEN_LIFETIME = 24 * 3600.0  # an expires_in beyond this is not believed


def load_private_key(material: str | RSAKey | ECKey, *, key_id: str | None = None) -> RSAKey | ECKey:
    """A private key from a PEM (RSA or EC) or a private JWK as JSON; ``key_id`` becomes its
    ``kid`` when the material has none. Raises ValueError (naming no part of the key)."""
    if isinstance(material, RSAKey | ECKey):
        key: Any = material
    else:
        parameters: Any = {"kid": key_id} if key_id else None
        text = material.strip()
        try:
            if text.startswith("{"):
                data = json.loads(text)
                if key_id and isinstance(data, dict):
                    data.setdefault("kid", key_id)
                key = JWKRegistry.import_key(data)
            else:
                try:
                    key = RSAKey.import_key(text, parameters=parameters)
                except Exception:  # noqa: BLE001 - not RSA: try EC before giving up
                    key = ECKey.import_key(text, parameters=parameters)
        except Exception as exc:  # noqa: BLE001
            # ``from None``: a parser's error can carry the input (JSONDecodeError.doc is the text).
            raise ValueError(f"not a PEM or JWK private key ({type(exc).__name__})") from None
    if not isinstance(key, RSAKey | ECKey) or not key.is_private:
        raise ValueError("not an RSA or EC PRIVATE key")
    return key


class SswsAuth(httpx.Auth):
    """``Authorization: SSWS <api token>``."""

    def __init__(self, token: str) -> None:
        if not token:
            raise ValueError("an SSWS API token must not be empty")
        self._header = f"SSWS {token}"

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        request.headers["Authorization"] = self._header
        yield request

    def __repr__(self) -> str:
        return "SswsAuth(token=<redacted>)"


class PrivateKeyJwtAuth(httpx.Auth):
    """An OAuth 2.0 service app: client credentials with ``private_key_jwt`` at the org server.

    ``private_key`` is a PEM or JWK (JSON) string or a joserfc key; ``key_id`` its ``kid`` when
    the material has none (Okta picks the app's public key by it when the app has several).
    ``scopes`` are the Okta API scopes to ask for (each granted to the app in Okta: "Okta API
    Scopes"). ``clock`` (epoch seconds) is injectable for tests."""

    requires_response_body = True

    def __init__(self, org_url: str, client_id: str, private_key: str | RSAKey | ECKey, *,
                 scopes: Sequence[str], key_id: str | None = None, skew: float = TOKEN_SKEW,
                 clock: Callable[[], float] = time.time) -> None:
        if not client_id:
            raise ValueError("the service app's client id must not be empty")
        if not scopes:
            raise ValueError("a service app needs at least one Okta API scope")
        self.token_url = f"{org_url.rstrip('/')}{TOKEN_PATH}"
        self.client_id = client_id
        self.scopes = tuple(scopes)
        self.skew = skew
        self._key = load_private_key(private_key, key_id=key_id)
        self._alg = "RS256" if isinstance(self._key, RSAKey) else "ES256"
        self._clock = clock
        self._token: str | None = None
        self._expires_at = 0.0  # already less the skew
        self._thread_lock = threading.Lock()
        self._async_lock = asyncio.Lock()
        self.fetches = 0  # token requests sent (tests, metrics)

    def __repr__(self) -> str:
        return f"PrivateKeyJwtAuth(client_id={self.client_id!r}, scopes={' '.join(self.scopes)!r})"

    # -- the assertion and the token ---------------------------------------------------------

    def assertion(self) -> str:
        """A fresh client assertion (a new ``jti`` each time: Okta refuses a replay)."""
        header = {"kid": self._key.kid} if self._key.kid else None
        signed: str = private_key_jwt_sign(self._key, client_id=self.client_id, token_endpoint=self.token_url,
                                           alg=self._alg, header=header, issued_at=int(self._clock()),
                                           expires_in=ASSERTION_LIFETIME)
        return signed

    def _usable_token(self) -> str | None:
        if self._token is not None and self._clock() < self._expires_at:
            return self._token
        return None

    def _token_request(self, request: httpx.Request) -> httpx.Request:
        headers = {"Accept": "application/json"}
        if "user-agent" in request.headers:
            headers["User-Agent"] = request.headers["user-agent"]
        extensions = {"timeout": request.extensions["timeout"]} if "timeout" in request.extensions else {}
        self.fetches += 1
        return httpx.Request("POST", self.token_url, headers=headers, extensions=extensions, data={
            "grant_type": "client_credentials",
            "scope": " ".join(self.scopes),
            "client_assertion_type": ASSERTION_TYPE,
            "client_assertion": self.assertion(),
        })

    def _store(self, response: httpx.Response) -> str:
        """Keep the token of a token response; raise the refusal otherwise."""
        if response.status_code != 200:
            wait = reset_wait(response.headers, self._clock) if response.status_code == 429 else None
            raise token_error("POST", TOKEN_PATH, response,
                              retry_after=DEFAULT_WAIT if wait is None else wait)
        try:
            body = response.json()
        except ValueError:
            body = None
        token = body.get("access_token") if isinstance(body, dict) else None
        if not isinstance(token, str) or not token:
            raise OktaProtocolError("the token response holds no access token", method="POST",
                                    path=TOKEN_PATH, status=response.status_code)
        expires_in = body.get("expires_in") if isinstance(body, dict) else None
        lifetime = float(expires_in) if isinstance(expires_in, int | float) and \
            not isinstance(expires_in, bool) else 3600.0
        lifetime = min(max(lifetime, 0.0), MAX_TOKEN_LIFETIME)
        # Renewed ``skew`` early; a token shorter-lived than that is used for the request at hand only.
        self._token, self._expires_at = token, self._clock() + lifetime - self.skew
        return token

    def _forget(self, token: str) -> None:
        if self._token == token:  # another request may already hold a newer one
            self._token, self._expires_at = None, 0.0

    # -- the flow (one generator for sync and async clients) -----------------------------------

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        yield from self._flow(request, self._usable_token())

    def _flow(self, request: httpx.Request,
              token: str | None) -> Generator[httpx.Request, httpx.Response, None]:
        if token is None:
            token = self._store((yield self._token_request(request)))
        request.headers["Authorization"] = f"Bearer {token}"
        response = yield request
        if response.status_code == 401:
            self._forget(token)
            token = self._store((yield self._token_request(request)))
            request.headers["Authorization"] = f"Bearer {token}"
            yield request

    def sync_auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        token = self._usable_token()
        if token is None:
            with self._thread_lock:  # single-flight: the others find the token this one stores
                token = self._usable_token()
                if token is None:
                    response = yield self._token_request(request)
                    response.read()
                    token = self._store(response)
        flow = self._flow(request, token)
        outgoing = next(flow)
        while True:
            response = yield outgoing
            response.read()
            try:
                outgoing = flow.send(response)
            except StopIteration:
                return

    async def async_auth_flow(self, request: httpx.Request) -> AsyncGenerator[httpx.Request, httpx.Response]:
        token = self._usable_token()
        if token is None:
            async with self._async_lock:  # single-flight: the others find the token this one stores
                token = self._usable_token()
                if token is None:
                    response = yield self._token_request(request)
                    await response.aread()
                    token = self._store(response)
        flow = self._flow(request, token)
        outgoing = next(flow)
        while True:
            response = yield outgoing
            await response.aread()
            try:
                outgoing = flow.send(response)
            except StopIteration:
                return


def management_auth(org_url: str, *, api_token: str | None, client_id: str | None, private_key: str | None,
                    scopes: Sequence[str]) -> httpx.Auth:
    """The service app when ``client_id`` and ``private_key`` are both given, else the SSWS
    ``api_token``. Raises ValueError when neither is configured or the key is unusable."""
    if client_id and private_key:
        return PrivateKeyJwtAuth(org_url, client_id, private_key, scopes=scopes)
    if api_token:
        return SswsAuth(api_token)
    raise ValueError("no Okta credentials: an API token, or a service app's client id and private key")


__all__ = ["ASSERTION_TYPE", "PrivateKeyJwtAuth", "SswsAuth", "load_private_key", "management_auth"]
