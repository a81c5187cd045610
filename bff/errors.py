"""The BFF's error hierarchy, and its one mapping to HTTP.

Adapters convert library errors at their boundary (``raise Unavailable(...) from exc``);
:func:`response_for` (called by the app's one edge, :class:`bff.http.edge.Edge`, for every
path) turns every error into an RFC 9457 ``application/problem+json`` response. Nothing else
renders errors. Bodies carry a
stable ``code`` and a human ``title``/``detail``; never a stack trace, a token or an upstream's
internals.

    BFFError                      500 internal
    ├── ClientError               400 bad_request
    │   ├── BadRequest            400 bad_request
    │   ├── Unauthenticated       401 unauthenticated
    │   ├── Forbidden             403 forbidden
    │   │   ├── CSRFRejected      403 csrf
    │   │   └── InsufficientScope 403 insufficient_scope
    │   ├── NotFound              404 not_found
    │   ├── MethodNotAllowed      405 method_not_allowed
    │   ├── Conflict              409 conflict
    │   ├── Gone                  410 gone
    │   ├── PayloadTooLarge       413 payload_too_large
    │   ├── UnsupportedMediaType  415 unsupported_media_type
    │   ├── ValidationFailed      422 validation_failed  (+ ``errors``: [{field, code}])
    │   └── RateLimited           429 rate_limited       (+ ``Retry-After``)
    └── UpstreamError             502 bad_gateway
        ├── BadGateway            502 bad_gateway
        ├── Unavailable           503 unavailable
        └── GatewayTimeout        504 gateway_timeout
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response

from bff.http.responses import NO_STORE

log = logging.getLogger("bff.errors")

PROBLEM_JSON = "application/problem+json"
PROBLEM_TYPE_BASE = "https://bff.dev/problems/"


class BFFError(Exception):
    status: ClassVar[int] = 500
    code: ClassVar[str] = "internal"
    title: ClassVar[str] = "Internal error"

    def __init__(self, detail: str | None = None, *, code: str | None = None,
                 headers: Mapping[str, str] | None = None, **extra: Any) -> None:
        super().__init__(detail or self.title)
        self.detail = detail
        self.instance_code = code or self.code
        self.headers = dict(headers or {})
        self.extra = extra


class ClientError(BFFError):
    status = 400
    code = "bad_request"
    title = "Bad request"


class BadRequest(ClientError):
    pass


class Unauthenticated(ClientError):
    status = 401
    code = "unauthenticated"
    title = "Sign-in required"


class Forbidden(ClientError):
    status = 403
    code = "forbidden"
    title = "Forbidden"


class CSRFRejected(Forbidden):
    code = "csrf"
    title = "Cross-site request rejected"


class InsufficientScope(Forbidden):
    code = "insufficient_scope"
    title = "Missing scope or role"


class NotFound(ClientError):
    status = 404
    code = "not_found"
    title = "Not found"


class MethodNotAllowed(ClientError):
    status = 405
    code = "method_not_allowed"
    title = "Method not allowed"


class Conflict(ClientError):
    status = 409
    code = "conflict"
    title = "Conflict"


class Gone(ClientError):
    status = 410
    code = "gone"
    title = "No longer available"


class PayloadTooLarge(ClientError):
    status = 413
    code = "payload_too_large"
    title = "Request body too large"


class UnsupportedMediaType(ClientError):
    status = 415
    code = "unsupported_media_type"
    title = "Unsupported media type"


class ValidationFailed(ClientError):
    status = 422
    code = "validation_failed"
    title = "Validation failed"

    def __init__(self, errors: Sequence[Mapping[str, str]], detail: str | None = None) -> None:
        super().__init__(detail or "One or more fields are invalid", errors=[dict(e) for e in errors])


class RateLimited(ClientError):
    status = 429
    code = "rate_limited"
    title = "Too many requests"

    def __init__(self, retry_after: int, detail: str | None = None) -> None:
        super().__init__(detail, headers={"Retry-After": str(max(1, int(retry_after)))})


class UpstreamError(BFFError):
    status = 502
    code = "bad_gateway"
    title = "Upstream service failed"


class BadGateway(UpstreamError):
    pass


class Unavailable(UpstreamError):
    status = 503
    code = "unavailable"
    title = "Service temporarily unavailable"


class GatewayTimeout(UpstreamError):
    status = 504
    code = "gateway_timeout"
    title = "Upstream service timed out"


_HTTP_CODES: dict[int, tuple[str, str]] = {
    400: ("bad_request", "Bad request"),
    401: ("unauthenticated", "Sign-in required"),
    403: ("forbidden", "Forbidden"),
    404: ("not_found", "Not found"),
    405: ("method_not_allowed", "Method not allowed"),
    413: ("payload_too_large", "Request body too large"),
    415: ("unsupported_media_type", "Unsupported media type"),
    422: ("validation_failed", "Validation failed"),
    429: ("rate_limited", "Too many requests"),
    500: ("internal", "Internal error"),
}


def problem(status: int, code: str, title: str, detail: str | None = None, *,
            headers: Mapping[str, str] | None = None, **extra: Any) -> Response:
    """Build an ``application/problem+json`` response (the only place error bodies are drawn)."""
    body: dict[str, Any] = {"type": PROBLEM_TYPE_BASE + code, "title": title, "status": status, "code": code}
    if detail:
        body["detail"] = detail
    body.update(extra)
    hdrs = {**NO_STORE, **(headers or {})}
    return Response(json.dumps(body, separators=(",", ":")), status_code=status,
                    media_type=PROBLEM_JSON, headers=hdrs)


def error_response(exc: BFFError) -> Response:
    return problem(exc.status, exc.instance_code, exc.title, exc.detail, headers=exc.headers, **exc.extra)


def http_exception_response(exc: HTTPException) -> Response:
    """Starlette's own ``HTTPException`` (the router's 404 and 405) as a problem."""
    code, title = _HTTP_CODES.get(exc.status_code, ("error", "Error"))
    detail = exc.detail if isinstance(exc.detail, str) and exc.detail != title else None
    return problem(exc.status_code, code, title, detail, headers=exc.headers)


def response_for(exc: Exception, method: str, path: str) -> Response:
    """The one mapping of an exception to its HTTP answer, logged once.

    A :class:`BFFError` becomes its problem (logged when it is a 5xx), Starlette's
    ``HTTPException`` its status's problem, anything else a 500 ``internal`` problem logged
    with its traceback (the body never carries it). ``path`` is the route path, never the
    query string (it may hold a code or a token)."""
    if isinstance(exc, BFFError):
        if exc.status >= 500:
            log.warning("request failed: %s %s -> %s %s", method, path, exc.status, exc.instance_code)
        return error_response(exc)
    if isinstance(exc, HTTPException):
        return http_exception_response(exc)
    log.error("unhandled error on %s %s: %s", method, path, type(exc).__name__, exc_info=exc)
    return problem(500, "internal", "Internal error")


async def _handler(request: Request, exc: Exception) -> Response:
    return response_for(exc, request.method, request.url.path)


def install_error_handlers(app: Starlette) -> None:
    """For the standalone Starlette apps (the local twins); the BFF itself renders errors in
    its edge (:class:`bff.http.edge.Edge`), with the same :func:`response_for`."""
    app.add_exception_handler(BFFError, _handler)
    app.add_exception_handler(HTTPException, _handler)
    app.add_exception_handler(Exception, _handler)
