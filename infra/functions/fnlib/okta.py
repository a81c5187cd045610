"""A small synchronous Okta Management API client for the Lambda functions (httpx).

Authentication, either:

- an API token: ``Authorization: SSWS <token>`` (:class:`SswsAuth`); or, preferred,
- an OAuth service app with ``private_key_jwt`` (:class:`PrivateKeyJwtAuth`): a client
  credentials grant at the ORG authorization server (``{org}/oauth2/v1/token``) with a
  ``client_assertion`` signed by the app's private key, scopes such as ``okta.users.manage``;
  the access token is cached until shortly before it expires and sent as ``Bearer``. (Apps
  that require DPoP are not supported: turn "Require DPoP" off for this service app.)

Wire facts relied on (Okta Management API): ``POST /api/v1/users/{id}`` with ``{"profile": ...}``
is a PARTIAL profile update (``PUT`` replaces it); lists are paginated by a ``Link: <...after=...>;
rel="next"`` header; every answer carries ``X-Rate-Limit-Reset`` (epoch seconds) and 429
``E0000047`` asks to wait until then; errors are ``{"errorCode","errorSummary","errorCauses"}``.

Error tree (messages carry Okta's code and summary, never a credential)::

    OktaError                   any refusal (``status``, ``error_code``, ``causes``)
    ├── OktaNotFound            404 E0000007
    ├── OktaInvalid             400 (E0000001 validation, E0000031 bad search ...)
    ├── OktaForbidden           403 (E0000006 permission, E0000038 wrong lifecycle state, E0000016)
    ├── OktaAuthError           401 / token endpoint refused the client
    └── OktaUnavailable         429 after waiting, 5xx, timeouts, connection errors (retry later)
"""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections.abc import Callable, Generator, Iterator, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, quote, urlsplit

import httpx
from joserfc import jwt
from joserfc.jwk import RSAKey

DEFAULT_SCOPES = ("okta.users.manage", "okta.groups.manage")


class OktaError(Exception):
    def __init__(self, message: str, *, status: int = 0, error_code: str | None = None,
                 causes: tuple[str, ...] = ()) -> None:
        super().__init__(message)
        self.status = status
        self.error_code = error_code
        self.causes = causes


class OktaNotFound(OktaError):
    pass


class OktaInvalid(OktaError):
    pass


class OktaForbidden(OktaError):
    pass


class OktaAuthError(OktaError):
    pass


class OktaUnavailable(OktaError):
    def __init__(self, message: str, *, retry_after: float | None = None, **kw: Any) -> None:
        super().__init__(message, **kw)
        self.retry_after = retry_after


# ------------------------------------------------------------------------------------ auth


class SswsAuth(httpx.Auth):
    def __init__(self, token: str) -> None:
        self._header = f"SSWS {token}"

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        request.headers["Authorization"] = self._header
        yield request


class PrivateKeyJwtAuth(httpx.Auth):
    """OAuth 2.0 client credentials with ``private_key_jwt`` against Okta's org authorization
    server; ``private_key`` is a PEM or a JWK (JSON) string, ``key_id`` its ``kid`` if the JWK
    has none. The token is fetched with the client's own (unauthenticated) transport."""

    requires_response_body = True

    def __init__(self, org_url: str, client_id: str, private_key: str, *, key_id: str | None = None,
                 scopes: tuple[str, ...] = DEFAULT_SCOPES, skew: float = 60.0,
                 clock: Callable[[], float] = time.time) -> None:
        self.token_url = f"{org_url.rstrip('/')}/oauth2/v1/token"
        self.client_id = client_id
        text = private_key.strip()
        material: str | dict[str, Any] = text if text.startswith("-----") else json.loads(text)
        self._key = RSAKey.import_key(material, parameters={"kid": key_id} if key_id else None)
        self.scopes = scopes
        self.skew = skew
        self.clock = clock
        self._token: tuple[str, float] | None = None
        self._lock = threading.Lock()

    def assertion(self) -> str:
        now = int(self.clock())
        claims = {"iss": self.client_id, "sub": self.client_id, "aud": self.token_url, "iat": now,
                  "exp": now + 300, "jti": str(uuid.uuid4())}
        header: dict[str, Any] = {"alg": "RS256"}
        if self._key.kid:
            header["kid"] = self._key.kid
        return jwt.encode(header, claims, self._key)

    def _token_request(self) -> httpx.Request:
        return httpx.Request("POST", self.token_url, data={
            "grant_type": "client_credentials",
            "scope": " ".join(self.scopes),
            "client_assertion_type": "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
            "client_assertion": self.assertion(),
        }, headers={"Accept": "application/json"})

    def _store(self, response: httpx.Response) -> str:
        if response.status_code != 200:
            try:
                error = response.json().get("error", "")
            except ValueError:
                error = ""
            raise OktaAuthError(f"Okta refused the service app's token request (HTTP {response.status_code} "
                                f"{error})".strip(), status=response.status_code)
        try:
            data = response.json()
            token, ttl = str(data["access_token"]), float(data.get("expires_in", 3600))
        except (ValueError, KeyError, TypeError) as exc:
            raise OktaAuthError("Okta answered the token request without an access token") from exc
        self._token = (token, self.clock() + max(0.0, ttl - self.skew))
        return token

    def sync_auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        with self._lock:
            cached = self._token
            if cached is None or self.clock() >= cached[1]:
                token_response = yield self._token_request()
                token_response.read()
                token = self._store(token_response)
            else:
                token = cached[0]
        request.headers["Authorization"] = f"Bearer {token}"
        response = yield request
        if response.status_code == 401:  # revoked or rotated: one fresh token, one retry
            with self._lock:
                self._token = None
                token_response = yield self._token_request()
                token_response.read()
                token = self._store(token_response)
            request.headers["Authorization"] = f"Bearer {token}"
            yield request


# ------------------------------------------------------------------------------------ client


@dataclass(frozen=True)
class Page:
    items: list[dict[str, Any]]
    after: str | None  # cursor of the next page, None on the last


def _next_cursor(response: httpx.Response) -> str | None:
    link = response.links.get("next")
    if not link or "url" not in link:
        return None
    values = parse_qs(urlsplit(link["url"]).query).get("after")
    return values[0] if values else None


class OktaClient:
    """The calls the functions make. ``http`` is a caller-owned ``httpx.Client`` (its timeouts
    apply); ``auth`` one of the classes above. A 429 is retried after ``X-Rate-Limit-Reset``
    when that is at most ``max_rate_wait`` seconds away (``rate_retries`` times), else
    :class:`OktaUnavailable` with ``retry_after``."""

    def __init__(self, org_url: str, *, auth: httpx.Auth, http: httpx.Client, max_rate_wait: float = 5.0,
                 rate_retries: int = 2, clock: Callable[[], float] = time.time,
                 sleep: Callable[[float], None] = time.sleep) -> None:
        self.base = org_url.rstrip("/")
        self.auth = auth
        self.http = http
        self.max_rate_wait = max_rate_wait
        self.rate_retries = rate_retries
        self.clock = clock
        self.sleep = sleep

    @classmethod
    def from_credentials(cls, org_url: str, *, http: httpx.Client, api_token: str | None = None,
                         client_id: str | None = None, private_key: str | None = None,
                         scopes: tuple[str, ...] = DEFAULT_SCOPES) -> OktaClient:
        """Service app (``client_id`` + ``private_key``) when given, else the SSWS ``api_token``."""
        if client_id and private_key:
            auth: httpx.Auth = PrivateKeyJwtAuth(org_url, client_id, private_key, scopes=scopes)
        elif api_token:
            auth = SswsAuth(api_token)
        else:
            raise OktaAuthError("no Okta credentials: an API token or a service app client id + private key")
        return cls(org_url, auth=auth, http=http)

    # -------------------------------------------------------------------------- plumbing

    def _request(self, method: str, path: str, *, params: Mapping[str, Any] | None = None,
                 payload: Any = None) -> httpx.Response:
        url = self.base + path
        attempt = 0
        while True:
            try:
                response = self.http.request(method, url, params=params, json=payload, auth=self.auth,
                                             headers={"Accept": "application/json"})
            except httpx.TimeoutException as exc:
                raise OktaUnavailable("Okta timed out") from exc
            except httpx.TransportError as exc:
                raise OktaUnavailable(f"Okta unreachable ({type(exc).__name__})") from exc
            if response.status_code == 429:
                wait = self._reset_in(response)
                if attempt < self.rate_retries and wait <= self.max_rate_wait:
                    attempt += 1
                    self.sleep(wait)
                    continue
                raise OktaUnavailable("Okta rate limit exceeded", retry_after=wait, status=429,
                                      error_code=self._code(response)[0])
            if response.status_code >= 400:
                raise self._error(response)
            return response

    def _reset_in(self, response: httpx.Response) -> float:
        try:
            reset = float(response.headers.get("X-Rate-Limit-Reset", ""))
        except ValueError:
            return 1.0
        return max(0.0, reset - self.clock()) + 0.1

    @staticmethod
    def _code(response: httpx.Response) -> tuple[str | None, str, tuple[str, ...]]:
        try:
            data = response.json()
        except ValueError:
            return None, "", ()
        if not isinstance(data, dict):
            return None, "", ()
        causes = tuple(str(c.get("errorSummary", ""))[:200] for c in data.get("errorCauses") or []
                       if isinstance(c, dict))
        return data.get("errorCode"), str(data.get("errorSummary", ""))[:200], causes

    def _error(self, response: httpx.Response) -> OktaError:
        code, summary, causes = self._code(response)
        status = response.status_code
        message = f"Okta answered HTTP {status} {code or ''}: {summary}".strip()
        kind: type[OktaError]
        if status == 404:
            kind = OktaNotFound
        elif status == 400:
            kind = OktaInvalid
        elif status == 403:
            kind = OktaForbidden
        elif status == 401:
            kind = OktaAuthError
        elif status >= 500:
            kind = OktaUnavailable
        else:
            kind = OktaError
        return kind(message, status=status, error_code=code, causes=causes)

    @staticmethod
    def _id(value: str) -> str:
        return quote(value, safe="")

    def _page(self, path: str, params: Mapping[str, Any]) -> Page:
        response = self._request("GET", path, params={k: v for k, v in params.items() if v is not None})
        items = response.json()
        if not isinstance(items, list):
            raise OktaError("Okta answered a list call without a list", status=response.status_code)
        return Page(items, _next_cursor(response))

    def _all(self, path: str, params: Mapping[str, Any], *, cap: int = 10_000) -> Iterator[dict[str, Any]]:
        after: str | None = None
        seen = 0
        while True:
            page = self._page(path, {**params, "after": after})
            for item in page.items:
                yield item
                seen += 1
                if seen >= cap:
                    return
            if not page.after:
                return
            after = page.after

    # -------------------------------------------------------------------------- users

    def get_user(self, user_id: str) -> dict[str, Any]:
        data: dict[str, Any] = self._request("GET", f"/api/v1/users/{self._id(user_id)}").json()
        return data

    def list_users(self, *, search: str | None = None, filter: str | None = None, q: str | None = None,
                   limit: int = 200, after: str | None = None) -> Page:
        return self._page("/api/v1/users", {"search": search, "filter": filter, "q": q, "limit": limit,
                                            "after": after})

    def update_profile(self, user_id: str, profile: Mapping[str, Any]) -> dict[str, Any]:
        """Partial update: only the given attributes change (``None`` clears one)."""
        data: dict[str, Any] = self._request("POST", f"/api/v1/users/{self._id(user_id)}",
                                             payload={"profile": dict(profile)}).json()
        return data

    def lifecycle(self, user_id: str, operation: str, *, send_email: bool = False) -> None:
        """``activate``/``reactivate``/``deactivate``/``suspend``/``unsuspend``."""
        params = {"sendEmail": "true" if send_email else "false"} if operation in {
            "activate", "reactivate", "deactivate"} else None
        self._request("POST", f"/api/v1/users/{self._id(user_id)}/lifecycle/{operation}", params=params)

    def user_groups(self, user_id: str) -> list[dict[str, Any]]:
        return list(self._all(f"/api/v1/users/{self._id(user_id)}/groups", {}))

    # -------------------------------------------------------------------------- groups

    def list_groups(self, *, search: str | None = None, q: str | None = None, limit: int = 200,
                    after: str | None = None) -> Page:
        return self._page("/api/v1/groups", {"search": search, "q": q, "limit": limit, "after": after})

    def all_groups(self, *, search: str | None = None) -> list[dict[str, Any]]:
        return list(self._all("/api/v1/groups", {"search": search, "limit": 200}))

    def get_group(self, group_id: str) -> dict[str, Any]:
        data: dict[str, Any] = self._request("GET", f"/api/v1/groups/{self._id(group_id)}").json()
        return data

    def group_users(self, group_id: str, *, limit: int = 200, after: str | None = None) -> Page:
        return self._page(f"/api/v1/groups/{self._id(group_id)}/users", {"limit": limit, "after": after})

    def all_group_users(self, group_id: str) -> list[dict[str, Any]]:
        return list(self._all(f"/api/v1/groups/{self._id(group_id)}/users", {"limit": 200}))

    def add_to_group(self, group_id: str, user_id: str) -> None:
        self._request("PUT", f"/api/v1/groups/{self._id(group_id)}/users/{self._id(user_id)}")

    def remove_from_group(self, group_id: str, user_id: str) -> None:
        self._request("DELETE", f"/api/v1/groups/{self._id(group_id)}/users/{self._id(user_id)}")
