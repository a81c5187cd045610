"""Okta Management API client: create users, read them, partial profile updates.

:class:`OktaUsers` is the small interface the rest of the area uses; :class:`OktaManagementClient`
is the one adapter, and the local Okta twin (``dev/bff_dev/twins/okta``) speaks the same wire format,
so the same code runs against both. Calls go through the injected ``httpx.AsyncClient``.

Authentication (``Credentials``), in order of preference:

* :class:`PrivateKeyJwtCredentials`: an OAuth 2.0 service app. ``client_credentials`` at the
  ORG authorization server ``{org}/oauth2/v1/token`` with a ``private_key_jwt`` client assertion
  (joserfc; ``iss``=``sub``=client id, ``aud``=that token URL, 5 minutes), scopes
  ``okta.users.manage okta.users.read``. The access token is cached until 60 s before expiry,
  fetched single-flight, and dropped on a 401.
* :class:`SswsCredentials`: a legacy API token (``Authorization: SSWS ...``).

Errors are converted here, once, into the BFF hierarchy; nothing of Okta's error body
(``errorSummary``, ``errorCauses``, ``errorId``) reaches a client; ``errorId`` and
``errorCode`` are logged so support can correlate with Okta's System Log:

    taken login (E0000001, "already exists")    → LoginTaken (409, field error.email.taken)
    other E0000001 on a known field             → ValidationFailed (422, error.<field>.invalid/weak)
    429 (E0000047)                              → waits for X-Rate-Limit-Reset (bounded), retries;
                                                  then Unavailable (503 + Retry-After)
    404 on a user                               → UserNotFound
    timeout                                     → GatewayTimeout (504)
    connection refused / reset                  → Unavailable (503)
    anything else (401/403/5xx/garbage)         → BadGateway (502)
"""

from __future__ import annotations

import asyncio
import email.utils
import json
import logging
import secrets
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol
from urllib.parse import quote

import httpx
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from joserfc import jwt
from joserfc.jwk import ECKey, RSAKey, import_key

from bff.errors import (
    BadGateway,
    Conflict,
    GatewayTimeout,
    NotFound,
    Unavailable,
    UpstreamError,
    ValidationFailed,
)

log = logging.getLogger("bff.signup.okta")

MGMT_SCOPES = ("okta.users.manage", "okta.users.read")
TOKEN_SKEW = 60.0  # refresh the service token this long before it expires

Sleep = Callable[[float], Awaitable[None]]


class LoginTaken(Conflict):
    title = "Account already exists"

    def __init__(self) -> None:
        super().__init__("An account with this email already exists",
                         errors=[{"field": "email", "code": "error.email.taken"}])


class UserNotFound(NotFound):
    title = "User not found"


@dataclass(frozen=True)
class OktaUser:
    id: str
    status: str
    profile: dict[str, Any]


class OktaUsers(Protocol):
    async def create_user(self, profile: Mapping[str, Any], *, password: str | None = None,
                          activate: bool = True) -> OktaUser:
        """``POST /api/v1/users?activate=...``. Raises LoginTaken, ValidationFailed, UpstreamError."""
        ...

    async def get_user(self, user_id: str) -> OktaUser:
        """``GET /api/v1/users/{id}``. Raises UserNotFound, UpstreamError."""
        ...

    async def update_profile(self, user_id: str, profile: Mapping[str, Any]) -> OktaUser:
        """``POST /api/v1/users/{id}``: a PARTIAL profile update (``None`` clears an attribute)."""
        ...


# ---------------------------------------------------------------------------------------------
# Credentials
# ---------------------------------------------------------------------------------------------


class Credentials(Protocol):
    async def authorization(self, http: httpx.AsyncClient) -> str:
        """The ``Authorization`` header value for a Management API call."""
        ...

    def invalidate(self) -> None:
        """Forget a cached token (after a 401)."""
        ...


@dataclass
class SswsCredentials:
    token: str = field(repr=False)

    async def authorization(self, http: httpx.AsyncClient) -> str:
        return f"SSWS {self.token}"

    def invalidate(self) -> None:
        return None


def load_private_key(material: str) -> RSAKey | ECKey:
    """A PEM private key, or a private JWK as JSON (its ``kid`` is kept)."""
    text = material.strip()
    key: Any
    if text.startswith("{"):
        key = import_key(json.loads(text))
    else:
        pem = serialization.load_pem_private_key(text.encode(), password=None)
        key = import_key(text, "RSA" if isinstance(pem, rsa.RSAPrivateKey) else "EC")
    if not isinstance(key, RSAKey | ECKey) or not key.is_private:
        raise ValueError("BFF_OKTA_MGMT_PRIVATE_KEY must be an RSA or EC private key (PEM or JWK)")
    return key


class PrivateKeyJwtCredentials:
    """OAuth 2.0 client credentials with ``private_key_jwt`` at the org authorization server."""

    def __init__(self, org_url: str, client_id: str, private_key: str, *,
                 scopes: tuple[str, ...] = MGMT_SCOPES, clock: Callable[[], float] = time.time) -> None:
        self.token_url = f"{org_url.rstrip('/')}/oauth2/v1/token"
        self.client_id = client_id
        self.scopes = scopes
        self._key = load_private_key(private_key)
        self._alg = "RS256" if isinstance(self._key, RSAKey) else "ES256"
        self._clock = clock
        self._token: str | None = None
        self._expires_at = 0.0
        self._lock = asyncio.Lock()
        self.fetches = 0

    def assertion(self) -> str:
        now = int(self._clock())
        header: dict[str, Any] = {"alg": self._alg}
        if self._key.kid:
            header["kid"] = self._key.kid
        claims = {"iss": self.client_id, "sub": self.client_id, "aud": self.token_url,
                  "iat": now, "exp": now + 300, "jti": secrets.token_urlsafe(24)}
        return jwt.encode(header, claims, self._key, algorithms=[self._alg])

    async def authorization(self, http: httpx.AsyncClient) -> str:
        if self._token and self._clock() < self._expires_at - TOKEN_SKEW:
            return f"Bearer {self._token}"
        async with self._lock:
            if self._token and self._clock() < self._expires_at - TOKEN_SKEW:
                return f"Bearer {self._token}"
            self._token, self._expires_at = await self._fetch(http)
            return f"Bearer {self._token}"

    async def _fetch(self, http: httpx.AsyncClient) -> tuple[str, float]:
        form = {
            "grant_type": "client_credentials",
            "scope": " ".join(self.scopes),
            "client_assertion_type": "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
            "client_assertion": self.assertion(),
        }
        self.fetches += 1
        try:
            resp = await http.post(self.token_url, data=form, headers={"Accept": "application/json"})
        except httpx.TimeoutException as exc:
            raise GatewayTimeout("The identity provider did not answer in time") from exc
        except httpx.HTTPError as exc:
            raise Unavailable("The identity provider is unreachable") from exc
        body = _json(resp)
        if resp.status_code == 429:
            raise Unavailable("The identity provider is busy", headers={"Retry-After": "5"})
        token = body.get("access_token") if isinstance(body, dict) else None
        if resp.status_code != 200 or not isinstance(token, str) or not token:
            error = body.get("error") if isinstance(body, dict) else None
            log.error("okta service token request failed: status=%s error=%s", resp.status_code, error)
            raise BadGateway("The identity provider refused the service credentials")
        expires_in = body.get("expires_in", 3600)
        lifetime = float(expires_in) if isinstance(expires_in, int | float) else 3600.0
        return token, self._clock() + lifetime

    def invalidate(self) -> None:
        self._token = None
        self._expires_at = 0.0


# ---------------------------------------------------------------------------------------------
# The client
# ---------------------------------------------------------------------------------------------


def _json(resp: httpx.Response) -> Any:
    try:
        return resp.json()
    except ValueError:
        return None


_FIELD_REASONS = {"login": "email", "email": "email", "firstName": "firstName", "lastName": "lastName",
                  "password": "password"}


def _validation_errors(body: Any) -> list[dict[str, str]] | LoginTaken | None:
    """Map an E0000001 body to field errors (or LoginTaken); None when it names no known field."""
    causes = body.get("errorCauses") if isinstance(body, dict) else None
    errors: list[dict[str, str]] = []
    for cause in causes if isinstance(causes, list) else []:
        summary = cause.get("errorSummary") if isinstance(cause, dict) else None
        if not isinstance(summary, str):
            continue
        name, _, message = summary.partition(":")
        name = name.strip()
        # Okta reports password policy failures as "password: Password requirements were not
        # met..." and sometimes without a field prefix at all.
        if name == "password" or "password requirements" in summary.lower():
            errors.append({"field": "password", "code": "error.password.weak"})
            continue
        target = _FIELD_REASONS.get(name)
        if target is None:
            continue
        if target == "email" and "already exists" in message:
            return LoginTaken()
        errors.append({"field": target, "code": f"error.{target}.invalid"})
    unique = list({(e["field"], e["code"]): e for e in errors}.values())
    return unique or None


@dataclass
class RetryPolicy:
    """How long a request may wait for Okta's rate limit to reset before answering 503."""

    attempts: int = 3  # total tries on 429
    max_wait: float = 2.0  # never wait longer than this for one reset
    default_wait: float = 1.0  # when X-Rate-Limit-Reset is missing or unreadable


class OktaManagementClient:
    def __init__(self, org_url: str, http: httpx.AsyncClient, credentials: Credentials, *,
                 retry: RetryPolicy | None = None, sleep: Sleep = asyncio.sleep,
                 clock: Callable[[], float] = time.time) -> None:
        self.org_url = org_url.rstrip("/")
        self.http = http
        self.credentials = credentials
        self.retry = retry or RetryPolicy()
        self._sleep = sleep
        self._clock = clock

    # -- public API ----------------------------------------------------------------------------

    async def create_user(self, profile: Mapping[str, Any], *, password: str | None = None,
                          activate: bool = True) -> OktaUser:
        body: dict[str, Any] = {"profile": dict(profile)}
        if password is not None:
            body["credentials"] = {"password": {"value": password}}
        resp = await self._call("POST", "/api/v1/users", params={"activate": str(activate).lower()},
                                json_body=body, op="create user")
        if resp.status_code in {200, 201}:
            return self._user(resp)
        payload = _json(resp)
        if resp.status_code == 400 and isinstance(payload, dict) and payload.get("errorCode") == "E0000001":
            mapped = _validation_errors(payload)
            if isinstance(mapped, LoginTaken):
                raise mapped
            if mapped:
                raise ValidationFailed(mapped)
        raise self._failure(resp, payload, "create user")

    async def get_user(self, user_id: str) -> OktaUser:
        resp = await self._call("GET", f"/api/v1/users/{quote(user_id, safe='')}", op="get user")
        if resp.status_code == 200:
            return self._user(resp)
        if resp.status_code == 404:
            raise UserNotFound("No such user")
        raise self._failure(resp, _json(resp), "get user")

    async def update_profile(self, user_id: str, profile: Mapping[str, Any]) -> OktaUser:
        resp = await self._call("POST", f"/api/v1/users/{quote(user_id, safe='')}",
                                json_body={"profile": dict(profile)}, op="update profile")
        if resp.status_code == 200:
            return self._user(resp)
        if resp.status_code == 404:
            raise UserNotFound("No such user")
        payload = _json(resp)
        if resp.status_code == 400 and isinstance(payload, dict) and payload.get("errorCode") == "E0000001":
            mapped = _validation_errors(payload)
            if mapped and not isinstance(mapped, LoginTaken):
                raise ValidationFailed(mapped)
        raise self._failure(resp, payload, "update profile")

    # -- plumbing ------------------------------------------------------------------------------

    def _user(self, resp: httpx.Response) -> OktaUser:
        body = _json(resp)
        if not isinstance(body, dict) or not isinstance(body.get("id"), str) \
                or not isinstance(body.get("profile"), dict):
            log.error("okta answered %s with an unexpected body", resp.status_code)
            raise BadGateway("Unexpected answer from the identity provider")
        return OktaUser(id=body["id"], status=str(body.get("status", "")), profile=body["profile"])

    def _failure(self, resp: httpx.Response, payload: Any, op: str) -> UpstreamError:
        code = payload.get("errorCode") if isinstance(payload, dict) else None
        error_id = payload.get("errorId") if isinstance(payload, dict) else None
        log.error("okta %s failed: status=%s errorCode=%s errorId=%s", op, resp.status_code, code, error_id)
        return BadGateway("The identity provider could not complete the request")

    def _reset_wait(self, resp: httpx.Response) -> float:
        """Seconds until the rate-limit window resets, by Okta's own clock when it sent one."""
        reset = resp.headers.get("x-rate-limit-reset")
        try:
            reset_at = float(reset) if reset is not None else None
        except ValueError:
            reset_at = None
        if reset_at is None:
            return self.retry.default_wait
        now = self._clock()
        date = resp.headers.get("date")
        if date:
            try:
                now = email.utils.parsedate_to_datetime(date).timestamp()
            except (TypeError, ValueError):
                pass
        return max(0.0, reset_at - now)

    async def _call(self, method: str, path: str, *, params: Mapping[str, str] | None = None,
                    json_body: Any = None, op: str) -> httpx.Response:
        url = self.org_url + path
        reauthenticated = False
        attempt = 0
        while True:
            attempt += 1
            headers = {"Accept": "application/json",
                       "Authorization": await self.credentials.authorization(self.http)}
            try:
                resp = await self.http.request(method, url, params=params, json=json_body, headers=headers)
            except httpx.TimeoutException as exc:
                log.error("okta %s timed out", op)
                raise GatewayTimeout("The identity provider did not answer in time") from exc
            except httpx.HTTPError as exc:
                log.error("okta %s unreachable: %s", op, type(exc).__name__)
                raise Unavailable("The identity provider is unreachable") from exc
            if resp.status_code == 401 and not reauthenticated:
                # A revoked or expired service token: fetch a new one once (SSWS: no-op, then 502).
                reauthenticated = True
                self.credentials.invalidate()
                if not isinstance(self.credentials, SswsCredentials):
                    continue
            if resp.status_code != 429:
                return resp
            wait = self._reset_wait(resp)
            if attempt >= self.retry.attempts or wait > self.retry.max_wait:
                log.warning("okta %s rate limited; giving up after %d attempt(s), reset in %.1fs",
                            op, attempt, wait)
                raise Unavailable("The identity provider is busy; try again shortly",
                                  headers={"Retry-After": str(max(1, int(wait + 0.999)))})
            log.info("okta %s rate limited; retrying in %.2fs", op, wait)
            await self._sleep(wait + 0.05)
