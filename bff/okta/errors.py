"""The errors of the Okta Management API client, drawn once.

    OktaError                   every failure of a call: ``method``, ``path``, ``summary``
    ├── OktaApiError            Okta answered an error status: ``status``, ``code`` (errorCode),
    │   │                       ``causes`` (errorCauses[].errorSummary), ``error_id`` (errorId)
    │   ├── OktaInvalid         400: E0000001 validation (``causes`` name the fields), E0000003
    │   │                       unreadable body, E0000031 bad search expression
    │   ├── OktaAuthError       401: E0000011 bad or revoked credential; or the org authorization
    │   │                       server refused the service app's token request (``code`` is the
    │   │                       OAuth ``error``, e.g. invalid_client)
    │   ├── OktaForbidden       403: E0000006 permission or missing OAuth scope, E0000038 wrong
    │   │                       lifecycle state, E0000016 ...
    │   ├── OktaNotFound        404: E0000007
    │   ├── OktaRateLimited     429: E0000047, once the retry policy stops waiting
    │   │                       (``retry_after``: seconds until the bucket resets, clamped)
    │   └── OktaServerError     5xx, after the retries an idempotent call gets
    ├── OktaTransportError      no answer: connection refused or reset, DNS, TLS (``__cause__`` is
    │   │                       httpx's error)
    │   └── OktaTimeout         no answer in time
    └── OktaProtocolError       an answer that breaks the contract: not JSON, a list call answered
                                without a list, a ``next`` link to another origin, too many pages

``retryable`` is true for OktaRateLimited, OktaServerError and OktaTransportError (and so
OktaTimeout): the same call may succeed later.

``str(error)`` is one line for an operator, e.g. ``GET /api/v1/users/00u1: HTTP 404 E0000007
Not found: Resource not found: 00u1 (User) [errorId oae...]``. It is built only from the method,
the path (never the query string: it may hold a search over people's names) and what Okta said
about the error; no request header, token, key or client assertion is ever put into an error.
Okta's texts are cut to :data:`MAX_TEXT` characters and :data:`MAX_CAUSES` causes.

:func:`api_error` and :func:`token_error` read an error response into this tree; converting
httpx's own exceptions happens in :mod:`bff.okta.core` (``raise ... from exc``).
"""

from __future__ import annotations

from typing import Any, ClassVar

import httpx

MAX_TEXT = 200
MAX_CAUSES = 20


class OktaError(Exception):
    """A failed Management API call (see the module docstring for the tree)."""

    retryable: ClassVar[bool] = False

    def __init__(self, summary: str, *, method: str = "", path: str = "", status: int = 0,
                 code: str | None = None, causes: tuple[str, ...] = (), error_id: str | None = None) -> None:
        self.summary = summary
        self.method = method
        self.path = path
        self.status = status
        self.code = code
        self.causes = causes
        self.error_id = error_id
        super().__init__(self._message())

    def _message(self) -> str:
        parts = [f"{self.method} {self.path}:".strip()] if self.method or self.path else []
        if self.status:
            parts.append(f"HTTP {self.status}")
        if self.code:
            parts.append(self.code)
        parts.append(self.summary)
        if self.causes:
            parts.append(f"({'; '.join(self.causes)})")
        if self.error_id:
            parts.append(f"[errorId {self.error_id}]")
        return " ".join(p for p in parts if p)


class OktaApiError(OktaError):
    """Okta answered with an error status."""


class OktaInvalid(OktaApiError):
    pass


class OktaAuthError(OktaApiError):
    pass


class OktaForbidden(OktaApiError):
    pass


class OktaNotFound(OktaApiError):
    pass


class OktaRateLimited(OktaApiError):
    retryable = True

    def __init__(self, summary: str, *, retry_after: float, **kw: Any) -> None:
        self.retry_after = retry_after
        super().__init__(summary, **kw)


class OktaServerError(OktaApiError):
    retryable = True


class OktaTransportError(OktaError):
    retryable = True


class OktaTimeout(OktaTransportError):
    pass


class OktaProtocolError(OktaError):
    pass


_BY_STATUS: dict[int, type[OktaApiError]] = {
    400: OktaInvalid, 401: OktaAuthError, 403: OktaForbidden, 404: OktaNotFound,
}


def _text(value: Any) -> str:
    return str(value)[:MAX_TEXT] if value is not None else ""


def _body(response: httpx.Response) -> Any:
    try:
        return response.json()
    except ValueError:  # not JSON, or not UTF-8
        return None


def api_error(method: str, path: str, response: httpx.Response, *,
              retry_after: float = 0.0) -> OktaApiError:
    """The error for a Management API answer with status >= 400 (``retry_after`` for a 429).

    Okta's body is ``{"errorCode", "errorSummary", "errorLink", "errorId", "errorCauses":
    [{"errorSummary"}]}``; anything else (an HTML page from a proxy) keeps only the status."""
    body = _body(response)
    fields: dict[str, Any] = {"method": method, "path": path, "status": response.status_code}
    summary = response.reason_phrase or "error"
    if isinstance(body, dict) and "errorCode" in body:
        causes = body.get("errorCauses")
        fields.update(
            code=_text(body.get("errorCode")) or None,
            causes=tuple(_text(c.get("errorSummary")) for c in causes[:MAX_CAUSES] if isinstance(c, dict))
            if isinstance(causes, list) else (),
            error_id=_text(body.get("errorId")) or None,
        )
        summary = _text(body.get("errorSummary")) or summary
    status = response.status_code
    if status == 429:
        return OktaRateLimited(summary, retry_after=retry_after, **fields)
    if status >= 500:
        return OktaServerError(summary, **fields)
    return _BY_STATUS.get(status, OktaApiError)(summary, **fields)


def token_error(method: str, path: str, response: httpx.Response, *,
                retry_after: float = 0.0) -> OktaApiError:
    """The error for a refused token request: OAuth's ``{"error", "error_description"}``.

    The description is Okta's wording (``The client_assertion signature is invalid.``): it
    never echoes the assertion, and it is what an operator needs to fix the service app."""
    body = _body(response)
    status = response.status_code
    error = _text(body.get("error")) if isinstance(body, dict) else ""
    description = _text(body.get("error_description")) if isinstance(body, dict) else ""
    summary = description or response.reason_phrase or "token request refused"
    fields: dict[str, Any] = {"method": method, "path": path, "status": status, "code": error or None}
    if status == 429:
        return OktaRateLimited(summary, retry_after=retry_after, **fields)
    if status >= 500:
        return OktaServerError(summary, **fields)
    return OktaAuthError(f"the service app's token request was refused: {summary}", **fields)


__all__ = [
    "OktaApiError", "OktaAuthError", "OktaError", "OktaForbidden", "OktaInvalid", "OktaNotFound",
    "OktaProtocolError", "OktaRateLimited", "OktaServerError", "OktaTimeout", "OktaTransportError",
    "api_error", "token_error",
]
