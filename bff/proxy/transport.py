"""How a checked request reaches its upstream: over HTTP(S) with aiohttp, or by invoking a
Lambda function directly with an API Gateway payload 2.0 event.

Both sit behind :class:`Transport`; errors leave as the BFF's own: a timeout is
:class:`~bff.errors.GatewayTimeout` (504), a refused/broken connection or an unusable answer
:class:`~bff.errors.BadGateway` (502), Lambda throttling :class:`~bff.errors.Unavailable` (503).
Neither transport retries on its own: the proxy decides (one retry after a token refresh, for
idempotent methods only).

The HTTP transport uses one ``aiohttp.ClientSession`` per app (created in the lifespan, pool
``BFF_PROXY_POOL``): performance.md measured httpx's pool collapsing under concurrency, which
is fine for low-rate calls but not for this hot path. Bodies are streamed back as they arrive
and never decompressed (``Content-Encoding`` passes through untouched).
"""

from __future__ import annotations

import asyncio
import json
import logging
import threading
from collections.abc import Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, Protocol

import aiohttp
import botocore.exceptions
from yarl import URL

from bff.errors import BadGateway, GatewayTimeout, Unavailable
from bff.observability import tracing
from bff.proxy.apigw_event import MalformedLambdaResponse, build_http_api_event, map_response
from bff.proxy.headers import traced
from bff.proxy.policy import ApiRoute, Upstream

log = logging.getLogger("bff.proxy")


@dataclass(slots=True)
class OutboundRequest:
    """A request that passed every check, ready to go upstream (the token is added per attempt)."""

    method: str
    path: str  # percent-decoded (what the policy matched; what API Gateway puts in rawPath)
    raw_path: str  # as the client sent it (ASCII, percent-encoded)
    query: str  # raw query string, without "?"
    headers: list[tuple[str, str]]  # filtered and set by bff.proxy.headers, no Authorization
    body: bytes
    route: ApiRoute
    path_params: Mapping[str, str]
    client_ip: str
    request_id: str
    public_host: str  # the BFF's public host (no port): API Gateway's domainName for direct invokes
    protocol: str = "HTTP/1.1"


class UpstreamResponse(Protocol):
    status: int
    headers: list[tuple[bytes, bytes]]
    length: int | None  # the body's Content-Length when the upstream declared one

    async def read_chunk(self) -> bytes:
        """The next piece of the body, as much as has arrived (waiting for at least one byte);
        ``b""`` at its end. Raises UpstreamStreamError if it breaks off. (A plain coroutine rather
        than an async iterator: one call per chunk on the hot path.)"""
        ...

    async def aclose(self, *, complete: bool = False) -> None:
        """Release the response (``complete``: the body was read to the end; keep the connection)."""
        ...


class Transport(Protocol):
    async def send(self, request: OutboundRequest, token: str, claims: Mapping[str, Any]) -> UpstreamResponse:
        ...


class UpstreamStreamError(Exception):
    """The upstream failed after the response started; the client's response is cut short."""


# ---------------------------------------------------------------------------------------------
# HTTP(S)
# ---------------------------------------------------------------------------------------------


class ForwardedRequest(aiohttp.ClientRequest):
    """An aiohttp request carrying only the headers the proxy chose (bff.proxy.headers): none of
    aiohttp's defaults (``Accept: */*``, ``Accept-Encoding: gzip, deflate...``, its
    ``User-Agent``) is added, so the upstream sees what the client sent (a gzip the browser did
    not ask for could not be undone on the way back). Same effect as
    ``skip_auto_headers=("User-Agent", "Accept", "Accept-Encoding")``, which rebuilds a sorted
    multidict and copies the headers on every request. ``Host`` is set by ``update_host``/
    ``update_headers`` as usual; ``Content-Type`` defaults as before."""

    def update_auto_headers(self, skip_auto_headers: Iterable[str] | None) -> None:
        return None


def new_client_session(pool_size: int) -> aiohttp.ClientSession:
    """The proxy's one upstream client. Must be created inside the running loop (lifespan)."""
    connector = aiohttp.TCPConnector(limit=pool_size, limit_per_host=0, keepalive_timeout=30,
                                     ttl_dns_cache=60)
    return aiohttp.ClientSession(
        connector=connector,
        auto_decompress=False,  # pass Content-Encoding through untouched
        request_class=ForwardedRequest,  # no default headers of aiohttp's own
        cookie_jar=aiohttp.DummyCookieJar(),  # upstream cookies are never stored in the BFF
        timeout=aiohttp.ClientTimeout(total=None),
    )


class _AiohttpResponse:
    def __init__(self, response: aiohttp.ClientResponse) -> None:
        self._response = response
        self.status = response.status
        self.headers = list(response.raw_headers)
        self.length = response.content_length if response.method != "HEAD" else 0

    async def read_chunk(self) -> bytes:
        try:
            return await self._response.content.readany()  # whatever has arrived, any size
        except (TimeoutError, aiohttp.ClientError) as exc:
            raise UpstreamStreamError(type(exc).__name__) from exc

    async def aclose(self, *, complete: bool = False) -> None:
        if complete:
            self._response.release()
        else:
            self._response.close()


class HttpTransport:
    def __init__(self, upstream: Upstream, session: aiohttp.ClientSession) -> None:
        assert upstream.url is not None
        self.upstream = upstream
        self.base = upstream.url
        self.session = session
        self.timeout = aiohttp.ClientTimeout(total=None, sock_connect=upstream.timeout,
                                             sock_read=upstream.timeout)

    async def send(self, request: OutboundRequest, token: str, claims: Mapping[str, Any]) -> UpstreamResponse:
        target = self.base + request.raw_path + (f"?{request.query}" if request.query else "")
        headers = [*traced(request.headers), ("authorization", f"Bearer {token}")]
        try:
            response = await self.session.request(
                request.method, URL(target, encoded=True), headers=headers,
                data=request.body if request.body or request.method in {"POST", "PUT", "PATCH"} else None,
                allow_redirects=False, timeout=self.timeout,
            )
        except TimeoutError as exc:
            raise GatewayTimeout(f"The {self.upstream.name} API did not answer in time") from exc
        except aiohttp.ClientError as exc:
            log.warning("upstream %s unreachable: %s", self.upstream.name, type(exc).__name__)
            raise BadGateway(f"The {self.upstream.name} API could not be reached") from exc
        return _AiohttpResponse(response)


# ---------------------------------------------------------------------------------------------
# Direct Lambda invoke (API Gateway HTTP API payload 2.0)
# ---------------------------------------------------------------------------------------------


class _BufferedResponse:
    def __init__(self, status: int, headers: list[tuple[bytes, bytes]], body: bytes) -> None:
        self.status = status
        self.headers = headers
        self.length: int | None = len(body)
        self._body = body

    async def read_chunk(self) -> bytes:
        body, self._body = self._body, b""
        return body

    async def aclose(self, *, complete: bool = False) -> None:
        return None


def _encode_header(value: str) -> bytes:
    try:
        return value.encode("latin-1")
    except UnicodeEncodeError:
        return value.encode("utf-8")


#: The ``X-Amzn-Trace-Id`` of the invoke the current worker thread is making (tracing on).
_invoke_trace = threading.local()


def _add_trace_header(request: Any, **kwargs: Any) -> None:
    value = getattr(_invoke_trace, "value", None)
    if value:
        request.headers["X-Amzn-Trace-Id"] = value


class LambdaTransport:
    """Invokes the function with boto3 (``RequestResponse``) on a worker thread, so the event
    loop never blocks; the client is created once, without SDK retries (an invoke is not
    idempotent in general). With tracing on, the invoke carries the upstream span as
    ``X-Amzn-Trace-Id`` (what Lambda and X-Ray continue; Powertools' Tracer in the function
    reads it) and the event's headers carry it and the W3C ``traceparent``, as API Gateway's would."""

    def __init__(self, upstream: Upstream, client: Any, executor: ThreadPoolExecutor, *,
                 api_id: str = "bff-direct") -> None:
        assert upstream.lambda_arn is not None
        self.upstream = upstream
        self.client = client
        self.executor = executor
        self.api_id = api_id
        events = getattr(getattr(client, "meta", None), "events", None)
        if events is not None:
            events.register("before-sign.lambda.Invoke", _add_trace_header,
                            unique_id="bff-x-amzn-trace-id")

    def route_key(self, request: OutboundRequest) -> str:
        methods = request.route.methods - {"HEAD"}
        method = next(iter(methods)) if len(methods) == 1 else "ANY"
        return f"{method} {request.route.route_key_path}"

    def event(self, request: OutboundRequest, token: str, claims: Mapping[str, Any]) -> dict[str, Any]:
        headers = traced(request.headers)
        amzn = tracing.amzn_trace_id()
        if amzn is not None:
            headers = [*headers, ("x-amzn-trace-id", amzn)]
        return build_http_api_event(
            method=request.method,
            path=request.path,
            raw_query=request.query,
            headers=[*headers, ("authorization", f"Bearer {token}")],
            body=request.body,
            route_key=self.route_key(request),
            path_parameters=request.path_params or None,
            claims=claims,
            source_ip=request.client_ip,
            request_id=request.request_id,
            domain_name=request.public_host,
            api_id=self.api_id,
            account_id=self.upstream.account_id or "",
            protocol=request.protocol,
        )

    def _invoke(self, payload: bytes, trace_header: str | None = None) -> tuple[str | None, bytes]:
        _invoke_trace.value = trace_header
        try:
            result = self.client.invoke(FunctionName=self.upstream.lambda_arn,
                                        InvocationType="RequestResponse", Payload=payload)
        finally:
            _invoke_trace.value = None
        return result.get("FunctionError"), result["Payload"].read()

    async def send(self, request: OutboundRequest, token: str, claims: Mapping[str, Any]) -> UpstreamResponse:
        payload = json.dumps(self.event(request, token, claims), separators=(",", ":")).encode()
        name = self.upstream.name
        loop = asyncio.get_running_loop()
        try:
            function_error, raw = await asyncio.wait_for(
                loop.run_in_executor(self.executor, self._invoke, payload, tracing.amzn_trace_id()),
                timeout=self.upstream.timeout + 5,  # the SDK's read timeout fires first
            )
        except (TimeoutError, botocore.exceptions.ReadTimeoutError,
                botocore.exceptions.ConnectTimeoutError) as exc:
            raise GatewayTimeout(f"The {name} API did not answer in time") from exc
        except botocore.exceptions.ClientError as exc:
            code = exc.response.get("Error", {}).get("Code", "")
            log.warning("lambda invoke of upstream %s failed: %s", name, code)
            if code in {"TooManyRequestsException", "EC2ThrottledException", "ServiceException",
                        "ResourceNotReadyException"}:
                raise Unavailable(f"The {name} API is busy; try again shortly",
                                  headers={"Retry-After": "1"}) from exc
            raise BadGateway(f"The {name} API could not be invoked") from exc
        except (botocore.exceptions.BotoCoreError, OSError) as exc:
            log.warning("lambda invoke of upstream %s failed: %s", name, type(exc).__name__)
            raise BadGateway(f"The {name} API could not be reached") from exc
        if function_error:
            log.warning("lambda upstream %s raised (%s)", name, function_error)
            raise BadGateway(f"The {name} API failed")
        try:
            mapped = map_response(raw)
        except MalformedLambdaResponse as exc:
            log.warning("lambda upstream %s returned a malformed response: %s", name, exc)
            raise BadGateway(f"The {name} API returned an invalid response") from exc
        headers = [(k.encode("latin-1"), _encode_header(v)) for k, v in mapped.headers]
        if mapped.body or mapped.status not in {204, 304}:
            headers.append((b"content-length", str(len(mapped.body)).encode()))
        return _BufferedResponse(mapped.status, headers, mapped.body)
