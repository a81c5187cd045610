"""Telemetry of the BFF's own outgoing HTTP calls (Okta OIDC and IDX, the Okta Management API,
AEM): one CLIENT span per call, its latency in ``bff_upstream_request_duration_seconds`` and
failures in ``bff_upstream_errors_total``, and the W3C ``traceparent`` on the wire.

:func:`call` wraps one request at the client that makes it (which knows the peer and the
operation: ``okta token``, ``okta_idx identify``, ``aem copy``); :func:`instrument` adds the
request hook that writes the current span's ``traceparent`` into every request an
``httpx.AsyncClient`` sends (so retries and redirects carry it too). The span has no URL, path
or query attribute: a Management API path can hold a login, a query a code. The /api proxy's
upstream calls are timed in :mod:`bff.proxy.proxy` (same series, labelled by upstream name).
"""

from __future__ import annotations

import re
import time
from collections.abc import Awaitable, Callable
from typing import TypeVar

import httpx

from bff.observability import metrics, tracing

R = TypeVar("R")

_WORD = re.compile(r"^[a-z][A-Za-z]*$")


def path_template(path: str) -> str:
    """``/api/v1/users/00u1x/lifecycle/deactivate`` → ``/api/v1/users/{id}/lifecycle/deactivate``:
    the path's words kept, anything else (ids, logins, versions with digits other than v1) a
    placeholder; the query dropped."""
    path = path.split("?", 1)[0]
    return "/".join(seg if (not seg or _WORD.match(seg) or seg in {"v1", "v2"}) else "{id}"
                    for seg in path.split("/"))


async def call(peer: str, operation: str, send: Callable[[], Awaitable[R]],
               status: Callable[[R], int] | None = None) -> R:
    """``await send()`` inside a ``{peer} {operation}`` CLIENT span, timed (the status label is
    the response's ``status_code``, or ``status(result)``; a transport error counts under its
    class name and is re-raised)."""
    if not (tracing.active() or metrics.enabled()):
        return await send()
    began = time.perf_counter()
    with tracing.span(f"{peer} {operation}", {"bff.upstream": peer, "bff.operation": operation},
                      kind=tracing.SpanKind.CLIENT) as sp:
        try:
            result = await send()
        except Exception as exc:
            metrics.UPSTREAM_ERRORS.inc(peer, type(exc).__name__)
            metrics.UPSTREAM_SECONDS.observe(time.perf_counter() - began, peer, "error")
            raise
        code = status(result) if status is not None else getattr(result, "status_code", 0)
        sp.set_attribute("http.response.status_code", code)
        if code >= 500:
            tracing.fail(sp, str(code))
    metrics.UPSTREAM_SECONDS.observe(time.perf_counter() - began, peer, str(code))
    return result


async def _inject(request: httpx.Request) -> None:
    carrier: dict[str, str] = {}
    tracing.headers(carrier)
    for name, value in carrier.items():
        request.headers[name] = value


def instrument(client: httpx.AsyncClient) -> None:
    """Make ``client`` send the current span's ``traceparent`` (idempotent)."""
    hooks = client.event_hooks
    if _inject not in hooks.get("request", []):
        hooks.setdefault("request", []).append(_inject)
        client.event_hooks = hooks
