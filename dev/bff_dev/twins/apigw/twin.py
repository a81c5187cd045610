"""A local twin of an API Gateway HTTP API with a JWT authorizer and Lambda proxy
integrations (payload 2.0), plus the Lambda Invoke API, as one ASGI app.

HTTP API side (any path but the Lambda API's): match the route (``METHOD /path``, ``ANY``,
``{param}``, greedy ``{param+}``, ``$default``; most specific first), run the JWT authorizer
(:mod:`bff_dev.twins.apigw.authorizer`), build the payload 2.0 event exactly as the proxy's direct
transport does (:mod:`bff.proxy.apigw_event`), invoke the function in-process, map its answer.
API Gateway's own errors keep its wire shape: ``{"message":"Not Found"}`` 404,
``{"message":"Unauthorized"}`` 401 (+ ``www-authenticate``), ``{"message":"Forbidden"}`` 403,
``{"message":"Request Entity Too Large"}`` 413, ``{"message":"Internal Server Error"}`` 500
(function error or malformed response), ``{"message":"Service Unavailable"}`` 503 (integration
timeout). Every answer carries ``apigw-requestid``.

Tracing (when the BFF in the same process traces, e.g. ``bff dev`` with
``OTEL_TRACES_EXPORTER=console``): each HTTP API request is a SERVER span continuing its W3C
``traceparent``, each invoke one continuing its ``X-Amzn-Trace-Id``, as the real services'
X-Ray segments would; so a proxied request's trace shows the upstream's span as a child.

Lambda side: ``POST /2015-03-31/functions/{FunctionName}/invocations`` speaks the Invoke API
(``X-Amz-Invocation-Type`` RequestResponse/Event/DryRun, ``X-Amz-Function-Error: Unhandled``
with the runtime's error document, ``X-Amz-Executed-Version``, ``ResourceNotFoundException``
404, ``TooManyRequestsException`` 429, ``InvalidRequestContentException`` 400), so boto3 pointed
at the twin with ``endpoint_url`` runs unchanged. Signatures are not verified.
"""

from __future__ import annotations

import asyncio
import base64
import json
import re
import secrets
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote

import httpx
from opentelemetry import trace
from opentelemetry.trace import NonRecordingSpan, SpanContext, TraceFlags
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import Receive, Scope, Send

from bff.observability import tracing
from bff.proxy.apigw_event import MalformedLambdaResponse, build_http_api_event, map_response
from bff_dev.twins.apigw.authorizer import AuthorizerDenied, JwtAuthorizer
from bff_dev.twins.apigw.functions import FunctionTimeout, InvokeResult, LocalFunction

MAX_PAYLOAD = 10 * 1024 * 1024  # HTTP API request payload limit
MAX_INVOKE_PAYLOAD = 6 * 1024 * 1024  # synchronous invoke limit
_INVOKE_PATH = re.compile(r"^/2015-03-31/functions/(?P<name>[^/]+)/invocations$")
_ROUTE_PARAM = re.compile(r"{([A-Za-z0-9_.-]+)(\+?)}")


def amzn_parent(headers: list[tuple[bytes, bytes]]) -> tracing.Context | None:
    """The remote parent named by an ``X-Amzn-Trace-Id`` (``Root=1-<8>-<24>;Parent=<16>;Sampled=1``),
    as Lambda continues the caller's X-Ray trace; None without a usable one or with tracing off."""
    if not tracing.active():
        return None
    raw = next((v.decode("latin-1") for k, v in headers if k == b"x-amzn-trace-id"), "")
    fields = dict(part.split("=", 1) for part in raw.split(";") if "=" in part)
    root, parent = fields.get("Root", "").split("-"), fields.get("Parent", "")
    if len(root) != 3 or not re.fullmatch(r"[0-9a-f]{16}", parent) \
            or not re.fullmatch(r"[0-9a-f]{8}", root[1]) or not re.fullmatch(r"[0-9a-f]{24}", root[2]):
        return None
    context = SpanContext(int(root[1] + root[2], 16), int(parent, 16), is_remote=True,
                          trace_flags=TraceFlags(1 if fields.get("Sampled") == "1" else 0))
    return trace.set_span_in_context(NonRecordingSpan(context))


@dataclass(frozen=True)
class TwinRoute:
    route_key: str  # "ANY /api/admin/{proxy+}", "GET /pets/{id}", "$default"
    function: str
    scopes: tuple[str, ...] = ()  # authorization scopes (any one of them suffices)
    authorize: bool = True  # False: no authorizer on this route

    @property
    def method(self) -> str:
        return "ANY" if self.route_key == "$default" else self.route_key.split(" ", 1)[0]

    @property
    def path(self) -> str | None:
        return None if self.route_key == "$default" else self.route_key.split(" ", 1)[1]

    def regex(self) -> re.Pattern[str] | None:
        if self.path is None:
            return None
        out, idx = "^", 0
        for m in _ROUTE_PARAM.finditer(self.path):
            out += re.escape(self.path[idx:m.start()])
            out += f"(?P<{m[1]}>.+)" if m[2] else f"(?P<{m[1]}>[^/]+)"
            idx = m.end()
        return re.compile(out + re.escape(self.path[idx:]) + "$")

    def specificity(self) -> tuple[int, int, int]:
        """Sort key: literal routes before parameters, before greedy ones, before $default."""
        if self.path is None:
            return (3, 0, 0)
        greedy = "+}" in self.path
        params = len(_ROUTE_PARAM.findall(self.path))
        return (2 if greedy else 1 if params else 0, -len(self.path), 0 if self.method != "ANY" else 1)


@dataclass
class _Faults:
    throttle: int = 0
    delay: float = 0.0
    delay_times: int = 0


@dataclass
class ApiGatewayTwin:
    issuer: str
    functions: Sequence[LocalFunction]
    routes: Sequence[TwinRoute]
    audiences: Sequence[str] = ("api://default",)
    http: httpx.AsyncClient | None = None  # fetches the issuer's JWKS
    api_id: str = "localapi01"
    stage: str = "$default"
    account_id: str = "123456789012"
    events: list[tuple[str, dict[str, Any]]] = field(default_factory=list)  # (function, event) seen
    _faults: dict[str, _Faults] = field(default_factory=dict)
    _tasks: set[asyncio.Task[Any]] = field(default_factory=set)

    def __post_init__(self) -> None:
        self.by_name = {f.name: f for f in self.functions}
        unknown = [r.function for r in self.routes if r.function not in self.by_name]
        if unknown:
            raise ValueError(f"routes name unknown functions: {', '.join(unknown)}")
        self._own_http = self.http is None
        self._http = self.http or httpx.AsyncClient(timeout=5.0)
        self.authorizer = JwtAuthorizer(self.issuer, self.audiences, self._http)
        self._compiled = sorted(((r.specificity(), i, r, r.regex()) for i, r in enumerate(self.routes)),
                                key=lambda t: (t[0], t[1]))

    # ----------------------------------------------------------------------- test controls

    def throttle_next(self, function: str, times: int = 1) -> None:
        """The next ``times`` invokes of ``function`` answer TooManyRequestsException (429)."""
        self._faults.setdefault(function, _Faults()).throttle += times

    def delay_next(self, function: str, seconds: float, times: int = 1) -> None:
        """The next ``times`` invokes of ``function`` start ``seconds`` late."""
        faults = self._faults.setdefault(function, _Faults())
        faults.delay, faults.delay_times = seconds, times

    async def aclose(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        if self._own_http:
            await self._http.aclose()

    # ----------------------------------------------------------------------- ASGI

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            while True:
                message = await receive()
                if message["type"] == "lifespan.startup":
                    await send({"type": "lifespan.startup.complete"})
                elif message["type"] == "lifespan.shutdown":
                    await self.aclose()
                    await send({"type": "lifespan.shutdown.complete"})
                    return
        if scope["type"] != "http":
            return
        request = Request(scope, receive)
        invoke = _INVOKE_PATH.match(scope["path"])
        if invoke and scope["method"] == "POST":
            name = unquote(invoke["name"])
            short = name.rsplit(":function:", 1)[-1]  # an ARN or a plain name
            with tracing.span(f"lambda-twin invoke {short}", kind=tracing.SpanKind.SERVER,
                              parent=amzn_parent(scope["headers"])):
                response = await self._lambda_invoke(request, name)
        else:
            with tracing.span(f"apigw-twin {scope['method']}", kind=tracing.SpanKind.SERVER,
                              parent=tracing.extract(scope["headers"])) as sp:
                response = await self._http_api(request)
                sp.set_attribute("http.response.status_code", response.status_code)
        await response(scope, receive, send)

    # ----------------------------------------------------------------------- HTTP API

    def _match(self, method: str, path: str) -> tuple[TwinRoute, dict[str, str]] | None:
        for _, _, route, regex in self._compiled:
            if route.method not in {"ANY", method}:
                continue
            if regex is None:
                return route, {}
            m = regex.match(path)
            if m:
                return route, m.groupdict()
        return None

    async def _http_api(self, request: Request) -> Response:
        request_id = base64.b64encode(secrets.token_bytes(10)).decode()
        headers = {"apigw-requestid": request_id}

        def message(status: int, text: str, extra: dict[str, str] | None = None) -> Response:
            return Response(json.dumps({"message": text}, separators=(",", ":")), status_code=status,
                            media_type="application/json", headers={**headers, **(extra or {})})

        buffer = bytearray()
        async for chunk in request.stream():
            buffer += chunk
            if len(buffer) > MAX_PAYLOAD:
                return message(413, "Request Entity Too Large")
        body = bytes(buffer)
        path = request.scope["path"]
        found = self._match(request.method, path)
        if found is None:
            return message(404, "Not Found")
        route, params = found
        claims: dict[str, Any] | None = None
        if route.authorize:
            try:
                claims = await self.authorizer.authorize(request.headers.get("authorization"), route.scopes)
            except AuthorizerDenied as denied:
                text = "Forbidden" if denied.status == 403 else "Unauthorized"
                return message(denied.status, text, {"www-authenticate": denied.www_authenticate})
        host = (request.headers.get("host") or "localhost").rsplit(":", 1)[0]
        client = request.scope.get("client")
        event = build_http_api_event(
            method=request.method,
            path=path,
            raw_query=request.scope.get("query_string", b"").decode("latin-1"),
            headers=[(k.decode("latin-1"), v.decode("latin-1")) for k, v in request.scope["headers"]],
            body=body,
            route_key=route.route_key,
            path_parameters=params or None,
            claims=claims,
            source_ip=client[0] if client else "127.0.0.1",
            request_id=request_id,
            domain_name=host,
            api_id=self.api_id,
            account_id=self.account_id,
            stage=self.stage,
            protocol=f"HTTP/{request.scope.get('http_version', '1.1')}",
        )
        function = self.by_name[route.function]
        self.events.append((function.name, event))
        try:
            result = await function.invoke(event)
        except FunctionTimeout:
            return message(503, "Service Unavailable")
        if result.error:
            return message(500, "Internal Server Error")
        try:
            mapped = map_response(result.payload)
        except MalformedLambdaResponse:
            return message(500, "Internal Server Error")
        response = Response(mapped.body, status_code=mapped.status, headers=headers)
        for name, value in mapped.headers:
            response.headers.append(name, value)
        return response

    # ----------------------------------------------------------------------- Lambda Invoke API

    async def _lambda_invoke(self, request: Request, name: str) -> Response:
        def error(status: int, kind: str, text: str, extra: dict[str, str] | None = None) -> Response:
            return Response(json.dumps({"Type": "User", "message": text}), status_code=status,
                            media_type="application/json",
                            headers={"x-amzn-ErrorType": kind, "x-amzn-RequestId": secrets.token_hex(16),
                                     **(extra or {})})

        function_name = name
        if name.startswith("arn:"):
            parts = name.split(":")
            function_name = parts[6] if len(parts) >= 7 else ""
        else:
            function_name = name.split(":", 1)[0]
        function = self.by_name.get(function_name)
        if function is None:
            return error(404, "ResourceNotFoundException",
                         f"Function not found: arn:aws:lambda:eu-west-1:{self.account_id}:function:{name}")
        payload = await request.body()
        if len(payload) > MAX_INVOKE_PAYLOAD:
            return error(413, "RequestTooLargeException", "Request must be smaller than 6291456 bytes")
        try:
            event = json.loads(payload) if payload.strip() else {}
        except ValueError:
            return error(400, "InvalidRequestContentException", "Could not parse request body into json")
        faults = self._faults.get(function_name)
        if faults is not None and faults.throttle > 0:
            faults.throttle -= 1
            return error(429, "TooManyRequestsException", "Rate Exceeded.", {"Retry-After": "1"})
        kind = request.headers.get("x-amz-invocation-type", "RequestResponse")
        if kind == "DryRun":
            return Response(status_code=204)
        if faults is not None and faults.delay_times > 0:
            faults.delay_times -= 1
            await asyncio.sleep(faults.delay)
        self.events.append((function.name, event))
        if kind == "Event":
            task = asyncio.create_task(self._invoke_quietly(function, event))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
            return Response(status_code=202)
        try:
            result = await function.invoke(event)
        except FunctionTimeout:
            result = InvokeResult(json.dumps({
                "errorMessage": f"Task timed out after {function.timeout:.2f} seconds",
                "errorType": "Sandbox.Timedout"}).encode(), "Unhandled")
        out = Response(result.payload, status_code=200, media_type="application/json",
                       headers={"X-Amz-Executed-Version": "$LATEST",
                                "x-amzn-RequestId": result.request_id or secrets.token_hex(16)})
        if result.error:
            out.headers["X-Amz-Function-Error"] = result.error
        return out

    async def _invoke_quietly(self, function: LocalFunction, event: Any) -> None:
        try:
            await function.invoke(event)
        except FunctionTimeout:
            pass
