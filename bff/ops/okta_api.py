"""A small Okta Management API client for ``bff okta``: JSON in and out, pagination, rate limits.

* Authentication is one of the signup area's credentials (``SswsCredentials`` or
  ``PrivateKeyJwtCredentials`` with the admin scopes below); a 401 with OAuth drops the cached
  token and retries once.
* Lists follow ``Link: <...>; rel="next"``, but only to the org's own origin: the token is never
  sent anywhere else.
* 429 (E0000047) waits until ``X-Rate-Limit-Reset`` (bounded) and retries; reads are also
  retried on 5xx and connection errors. Writes are not retried on 5xx (Okta may have applied
  them): the next ``plan`` shows where things stand.
* Every write is recorded in :attr:`OktaAdminApi.writes` (method, path) for the report and tests.
* Errors become :class:`OktaApiError` with Okta's ``errorCode``/``errorSummary``/``errorCauses``;
  ``errorId`` is kept for Okta support. Nothing of the credential ever appears in a message.
"""

from __future__ import annotations

import asyncio
import email.utils
import time
from collections.abc import Awaitable, Callable, Mapping
from typing import Any
from urllib.parse import urlsplit

import httpx

from bff.errors import UpstreamError
from bff.signup.okta_users import Credentials, PrivateKeyJwtCredentials, SswsCredentials

#: What the OAuth service app needs (granted to it in Okta: Okta API Scopes tab).
ADMIN_SCOPES = (
    "okta.authorizationServers.manage", "okta.authorizationServers.read",
    "okta.apps.manage", "okta.apps.read",
    "okta.groups.manage", "okta.groups.read",
    "okta.trustedOrigins.manage", "okta.trustedOrigins.read",
    "okta.schemas.manage", "okta.schemas.read",
    "okta.eventHooks.manage", "okta.eventHooks.read",
)
MAX_PAGES = 200

Sleep = Callable[[float], Awaitable[None]]


class OktaApiError(Exception):
    def __init__(self, method: str, path: str, status: int, code: str | None, summary: str,
                 causes: list[str] | None = None, error_id: str | None = None) -> None:
        self.method, self.path, self.status = method, path, status
        self.code, self.summary, self.causes, self.error_id = code, summary, causes or [], error_id
        detail = f" ({'; '.join(self.causes)})" if self.causes else ""
        ref = f" [errorId {error_id}]" if error_id else ""
        text = f"{method} {path}: HTTP {status} {code or ''} {summary}{detail}{ref}"
        super().__init__(text.replace("  ", " "))


def credentials_for(org_url: str, *, api_token: str | None, client_id: str | None,
                    private_key: str | None) -> Credentials:
    if client_id and private_key:
        return PrivateKeyJwtCredentials(org_url, client_id, private_key, scopes=ADMIN_SCOPES)
    if api_token:
        return SswsCredentials(api_token)
    raise ValueError("an API token or a service app (client id + private key) is required")


class OktaAdminApi:
    def __init__(self, org_url: str, http: httpx.AsyncClient, credentials: Credentials, *,
                 sleep: Sleep = asyncio.sleep, max_wait: float = 60.0, clock: Callable[[], float] = time.time,
                 retries: int = 3) -> None:
        self.org_url = org_url.rstrip("/")
        self._origin = urlsplit(self.org_url)
        self.http = http
        self.credentials = credentials
        self.sleep = sleep
        self.max_wait = max_wait
        self.clock = clock
        self.retries = retries
        self.writes: list[tuple[str, str]] = []
        self.reads = 0

    # -- public ---------------------------------------------------------------------------
    async def get(self, path: str, params: Mapping[str, str] | None = None) -> Any:
        return (await self._call("GET", path, params=params)).json()

    async def list(self, path: str, params: Mapping[str, str] | None = None) -> list[dict[str, Any]]:
        items: list[dict[str, Any]] = []
        url: str | None = self.org_url + path
        query: Mapping[str, str] | None = params
        for _ in range(MAX_PAGES):
            if url is None:
                return items
            response = await self._call("GET", url, params=query)
            page = response.json()
            if not isinstance(page, list):
                raise OktaApiError("GET", path, response.status_code, None, "expected a JSON array")
            items.extend(p for p in page if isinstance(p, dict))
            url, query = self._next(response), None
        raise OktaApiError("GET", path, 0, None, f"more than {MAX_PAGES} pages")

    async def post(self, path: str, body: Any = None, params: Mapping[str, str] | None = None) -> Any:
        response = await self._call("POST", path, json=body, params=params)
        return response.json() if response.content else None

    async def put(self, path: str, body: Any = None) -> Any:
        response = await self._call("PUT", path, json=body)
        return response.json() if response.content else None

    async def delete(self, path: str) -> None:
        await self._call("DELETE", path)

    # -- plumbing -------------------------------------------------------------------------
    def _next(self, response: httpx.Response) -> str | None:
        link = response.links.get("next", {}).get("url")
        if not link:
            return None
        parts = urlsplit(link)
        if (parts.scheme, parts.netloc) != (self._origin.scheme, self._origin.netloc):
            raise OktaApiError("GET", str(response.request.url.path), response.status_code, None,
                               f"refusing to follow a next link to another origin ({parts.netloc})")
        return link

    async def _call(self, method: str, path_or_url: str, *, json: Any = None,
                    params: Mapping[str, str] | None = None) -> httpx.Response:
        url = path_or_url if path_or_url.startswith(("http://", "https://")) else self.org_url + path_or_url
        path = urlsplit(url).path
        write = method != "GET"
        reauthenticated = False
        attempt = 0
        while True:
            attempt += 1
            try:
                auth = await self.credentials.authorization(self.http)
            except UpstreamError as exc:
                raise OktaApiError(method, path, 0, None, f"could not get an API token: {exc}") from exc
            headers = {"Authorization": auth, "Accept": "application/json"}
            try:
                response = await self.http.request(method, url, json=json, params=params, headers=headers)
            except httpx.HTTPError as exc:
                if not write and attempt <= self.retries:
                    await self.sleep(min(2.0 ** attempt, 10.0))
                    continue
                raise OktaApiError(method, path, 0, None, f"{type(exc).__name__}: Okta unreachable") from exc
            if write:
                self.writes.append((method, path))
            else:
                self.reads += 1
            if response.status_code == 429 and attempt <= self.retries:
                await self.sleep(self._reset_wait(response))
                continue
            if response.status_code == 401 and not reauthenticated and \
                    isinstance(self.credentials, PrivateKeyJwtCredentials):
                self.credentials.invalidate()
                reauthenticated = True
                continue
            if response.status_code >= 500 and not write and attempt <= self.retries:
                await self.sleep(min(2.0 ** attempt, 10.0))
                continue
            if response.status_code >= 400:
                raise self._error(method, path, response)
            return response

    def _reset_wait(self, response: httpx.Response) -> float:
        """Seconds until ``X-Rate-Limit-Reset`` (epoch seconds), measured against the server's
        ``Date`` when present (the operator's clock may be off), within [0.5, max_wait]."""
        reset = response.headers.get("x-rate-limit-reset", "")
        if not reset.isdigit():
            return 1.0
        now = self.clock()
        date = response.headers.get("date")
        if date:
            try:
                now = email.utils.parsedate_to_datetime(date).timestamp()
            except (TypeError, ValueError):
                pass
        return max(0.5, min(float(reset) - now + 1.0, self.max_wait))

    @staticmethod
    def _error(method: str, path: str, response: httpx.Response) -> OktaApiError:
        try:
            body = response.json()
        except ValueError:
            body = None
        if isinstance(body, dict) and "errorCode" in body:
            causes = [str(c.get("errorSummary")) for c in body.get("errorCauses") or []
                      if isinstance(c, dict)]
            return OktaApiError(method, path, response.status_code, str(body.get("errorCode")),
                                str(body.get("errorSummary", "")), causes, body.get("errorId"))
        return OktaApiError(method, path, response.status_code, None, response.reason_phrase or "error")
