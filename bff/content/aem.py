"""AEM headless delivery client: persisted GraphQL queries over HTTP GET.

URLs follow Adobe's encoding (``aem-headless-client-js``): the variable part
``;name=value;name2=value2`` is percent-encoded as a whole (``;`` → ``%3B``, ``=`` → ``%3D``,
``/`` → ``%2F``) and a literal ``;`` is appended, because the Dispatcher blocks or mangles
unencoded variables.

Failures are converted to the BFF's hierarchy at this boundary::

    GatewayTimeout  the call (or one attempt) exceeded the timeout        retried
    Unavailable     5xx, or the connection failed                         retried
    BadGateway      4xx (404 "No suitable endpoint found": query not
                    published), a body that is not JSON, a 200 body with
                    ``errors`` (AEM's default error style), a shape that
                    is not the expected model                             not retried

Retries use exponential backoff with jitter. A body with ``errors`` is never returned to the
caller, so it can never be cached as content.
"""

from __future__ import annotations

import asyncio
import json
import logging
import random
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol
from urllib.parse import quote

import httpx

from bff.errors import BadGateway, GatewayTimeout, Unavailable, UpstreamError
from bff.observability import outbound

log = logging.getLogger("bff.content.aem")

#: What JavaScript's ``encodeURIComponent`` leaves alone (Adobe's client uses it).
_URI_COMPONENT_SAFE = "-_.!~*'()"
MAX_BODY = 2 * 1024 * 1024
MAX_KEYS = 5000
MAX_VALUE = 20_000
QUERY = "ui-copy"


def persisted_query_path(config: str, query: str, variables: Mapping[str, str] | None = None) -> str:
    """``/graphql/execute.json/{config}/{query}`` plus the encoded variables, the way Adobe's
    clients build it (see ``tests/unit/content/test_aem.py`` for Adobe's own vectors)."""
    path = f"/graphql/execute.json/{quote(config, safe='-_.~')}/{quote(query, safe='-_.~/')}"
    if not variables:
        return path
    suffix = "".join(f";{name}={value}" for name, value in variables.items())
    return path + quote(suffix, safe=_URI_COMPONENT_SAFE) + ";"


@dataclass(frozen=True)
class Fragment:
    """One ``uiCopy`` content fragment as delivered."""

    path: str
    variation: str
    journey: str
    strings: Mapping[str, str]


def graphql_items(body: Any) -> list[Any]:
    """The items of any AEM GraphQL delivery shape: ``<model>List.items``,
    ``<model>ByPath.item`` and ``<model>Paginated.edges[].node``.

    Raises :class:`BadGateway` for a body carrying ``errors`` or an unknown shape.
    """
    if not isinstance(body, dict):
        raise BadGateway("AEM answered something that is not a GraphQL response", code="aem_bad_response")
    errors = body.get("errors")
    if errors:
        first = errors[0] if isinstance(errors, list) and errors else {}
        message = first.get("message") if isinstance(first, dict) else None
        log.warning("AEM query returned errors: %s", str(message)[:200])
        raise BadGateway("AEM reported a query error", code="aem_query_error")
    data = body.get("data")
    if not isinstance(data, dict) or len(data) != 1:
        raise BadGateway("AEM response has no single data root", code="aem_bad_response")
    (root_name, root), = data.items()
    if root is None:
        return []
    if not isinstance(root, dict):
        raise BadGateway("AEM response root is not an object", code="aem_bad_response")
    if root_name.endswith("List") and isinstance(root.get("items"), list):
        return list(root["items"])
    if root_name.endswith("ByPath") and "item" in root:
        return [] if root["item"] is None else [root["item"]]
    if root_name.endswith("Paginated") and isinstance(root.get("edges"), list):
        return [e["node"] for e in root["edges"] if isinstance(e, dict) and "node" in e]
    raise BadGateway("AEM response has an unknown shape", code="aem_bad_response")


def _strings(value: Any) -> dict[str, str]:
    # A "JSON Object" field arrives as a JSON value; older AEM versions send it as a string.
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except (ValueError, RecursionError) as exc:  # RecursionError: nested too deep
            raise BadGateway("uiCopy.strings is not JSON", code="aem_bad_response") from exc
    if not isinstance(value, dict) or len(value) > MAX_KEYS:
        raise BadGateway("uiCopy.strings is not a JSON object", code="aem_bad_response")
    out: dict[str, str] = {}
    for key, text in value.items():
        if isinstance(text, str) and key and len(key) <= 200 and len(text) <= MAX_VALUE:
            out[key] = text
        else:
            log.warning("AEM uiCopy key %r skipped: value is not a string of sane size", str(key)[:80])
    return out


def parse_copy(body: Any, *, journey: str, expected_path: str | None = None) -> Fragment | None:
    """The ``uiCopy`` fragment of ``journey`` in a ``ui-copy`` response; None when AEM has no
    fragment (AEM has no locale fallback: an untranslated journey is an empty list)."""
    items = [i for i in graphql_items(body) if isinstance(i, dict)]
    matching = [i for i in items if i.get("journey") == journey]
    if not matching:
        if items:
            log.warning("AEM returned %d uiCopy items, none for journey %s", len(items), journey)
        return None
    chosen = next((i for i in matching if i.get("_path") == expected_path), matching[0])
    return Fragment(
        path=str(chosen.get("_path") or ""),
        variation=str(chosen.get("_variation") or "master"),
        journey=journey,
        strings=_strings(chosen.get("strings")),
    )


class TokenSource(Protocol):
    async def token(self) -> str: ...

    def invalidate(self) -> None: ...


class StaticToken:
    """A bearer token from configuration (AEM developer token or a long-lived technical token)."""

    def __init__(self, token: str) -> None:
        self._token = token

    async def token(self) -> str:
        return self._token

    def invalidate(self) -> None:
        return None


class ImsClientCredentials:
    """OAuth server-to-server credentials against Adobe IMS (``/ims/token/v3``); the access
    token is cached until shortly before expiry and fetched single-flight."""

    def __init__(self, http: httpx.AsyncClient, ims_url: str, client_id: str, client_secret: str, *,
                 scope: str = "openid,AdobeID,aem.fragments.management", timeout: float = 10.0,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.http = http
        self.url = ims_url.rstrip("/") + "/ims/token/v3"
        self.client_id = client_id
        self.client_secret = client_secret
        self.scope = scope
        self.timeout = timeout
        self.clock = clock
        self._token: str | None = None
        self._expires = 0.0
        self._lock = asyncio.Lock()

    def invalidate(self) -> None:
        self._token = None

    async def token(self) -> str:
        if self._token and self.clock() < self._expires:
            return self._token
        async with self._lock:
            if self._token and self.clock() < self._expires:
                return self._token
            try:
                resp = await self.http.post(self.url, data={
                    "grant_type": "client_credentials", "client_id": self.client_id,
                    "client_secret": self.client_secret, "scope": self.scope,
                }, timeout=self.timeout)
            except httpx.TimeoutException as exc:
                raise GatewayTimeout("Adobe IMS timed out", code="aem_auth_timeout") from exc
            except httpx.HTTPError as exc:
                raise Unavailable("Adobe IMS is unreachable", code="aem_auth_unavailable") from exc
            if resp.status_code != 200:
                raise BadGateway(f"Adobe IMS refused the client credentials ({resp.status_code})",
                                 code="aem_auth_failed")
            try:
                payload = resp.json()
                token = str(payload["access_token"])
                lifetime = float(payload.get("expires_in", 3600))
            except (ValueError, KeyError, TypeError) as exc:
                raise BadGateway("Adobe IMS answered an unreadable token response",
                                 code="aem_auth_failed") from exc
            self._token = token
            self._expires = self.clock() + max(0.0, lifetime - 60)
            return token


def _retryable(exc: UpstreamError) -> bool:
    return isinstance(exc, (GatewayTimeout, Unavailable))


def _ok(body: object) -> int:
    return 200  # any other answer raised (its class is counted instead)


class AemClient:
    """Executes persisted queries against one AEM tier (publish, preview or author).

    ``http`` is injected (created once in the lifespan). ``auth`` adds a bearer token (author
    tier); the token never leaves the server and is never logged.
    """

    def __init__(self, http: httpx.AsyncClient, base_url: str, config: str, *, site: str = "bff",
                 timeout: float = 3.0, retries: int = 2, backoff: float = 0.1,
                 auth: TokenSource | None = None, tier: str = "publish",
                 sleep: Callable[[float], Awaitable[None]] = asyncio.sleep) -> None:
        self.http = http
        self.base_url = base_url.rstrip("/")
        self.config = config
        self.site = site
        self.timeout = timeout
        self.retries = retries
        self.backoff = backoff
        self.auth = auth
        self.tier = tier
        self.sleep = sleep
        self.calls = 0  # attempts made (observability and tests)

    def fragment_path(self, aem_locale: str, journey: str) -> str:
        return f"/content/dam/{self.site}/{aem_locale}/ui-copy/{journey}"

    async def fetch_copy(self, journey: str, aem_locale: str,
                         variation: str | None = None) -> Fragment | None:
        variables = {"journey": journey, "locale": aem_locale}
        if variation and variation != "master":
            variables["variation"] = variation
        body = await outbound.call("aem", f"{self.tier} copy", lambda: self.execute(QUERY, variables),
                                   status=_ok)
        return parse_copy(body, journey=journey, expected_path=self.fragment_path(aem_locale, journey))

    async def execute(self, query: str, variables: Mapping[str, str]) -> Any:
        """GET a persisted query; the parsed JSON body (``errors`` bodies raise)."""
        url = self.base_url + persisted_query_path(self.config, query, variables)
        attempt = 0
        while True:
            try:
                body = await self._attempt(url)
                graphql_items(body)  # raises on ``errors`` and unknown shapes
                return body
            except UpstreamError as exc:
                if not _retryable(exc) or attempt >= self.retries:
                    raise
                delay = self.backoff * (2 ** attempt) * random.uniform(0.5, 1.0)  # noqa: S311
                log.info("AEM %s %s failed (%s), retry %d in %.2fs", self.tier, query, exc.instance_code,
                         attempt + 1, delay)
                attempt += 1
                await self.sleep(delay)

    async def _attempt(self, url: str) -> Any:
        self.calls += 1
        headers = {"Accept": "application/json"}
        if self.auth is not None:
            headers["Authorization"] = f"Bearer {await self.auth.token()}"
        try:
            async with asyncio.timeout(self.timeout):
                async with self.http.stream("GET", url, headers=headers, timeout=self.timeout,
                                            follow_redirects=False) as resp:
                    status = resp.status_code
                    if status >= 500:
                        raise Unavailable(f"AEM {self.tier} answered {status}", code="aem_unavailable")
                    if status == 401 and self.auth is not None:
                        self.auth.invalidate()
                        raise Unavailable(f"AEM {self.tier} rejected the credential", code="aem_unauthorized")
                    if status != 200:
                        raise BadGateway(f"AEM {self.tier} answered {status}", code="aem_bad_status")
                    chunks: list[bytes] = []
                    size = 0
                    async for chunk in resp.aiter_bytes():
                        size += len(chunk)
                        if size > MAX_BODY:
                            raise BadGateway("AEM response too large", code="aem_bad_response")
                        chunks.append(chunk)
        except TimeoutError as exc:
            raise GatewayTimeout(f"AEM {self.tier} timed out", code="aem_timeout") from exc
        except httpx.TimeoutException as exc:
            raise GatewayTimeout(f"AEM {self.tier} timed out", code="aem_timeout") from exc
        except httpx.HTTPError as exc:
            raise Unavailable(f"AEM {self.tier} is unreachable", code="aem_unreachable") from exc
        try:
            return json.loads(b"".join(chunks))
        except (ValueError, RecursionError) as exc:  # RecursionError: nested too deep
            raise BadGateway(f"AEM {self.tier} answered a body that is not JSON",
                             code="aem_bad_response") from exc
