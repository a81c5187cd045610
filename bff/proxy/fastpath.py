"""``/api/*`` answered before the middleware stack and the router.

Every API call is proxied, so its per-request cost is the proxy's budget
(``benchmarks/bench_proxy.py``). The normal path would add, per request, two header-rewriting
middlewares (each wrapping ``send`` and scanning the upstream's headers once per security
header), the exception middleware and a walk over every area's routes before the ``/api`` mount.
This outermost pure-ASGI middleware gives ``/api`` and ``/api/*`` straight to the proxy, with
exactly what that stack would add:

- the request id by :class:`~bff.http.middleware.RequestContextMiddleware`'s rule (the client's
  well-formed ``X-Request-Id`` or a new one), in ``scope["state"]``, in the logging context and
  echoed on the response;
- the security headers *captured from* :class:`~bff.http.middleware.SecurityHeadersMiddleware`
  itself (not re-declared here), added where the response did not set its own;
- errors rendered by :func:`bff.errors.error_response`, the one mapping to problem+json (an
  unexpected exception becomes the same 500 problem as elsewhere, logged with its traceback).

Without a started proxy service (e.g. before the lifespan ran) the request goes down the normal
stack, where the ``/api`` mount answers.
"""

from __future__ import annotations

import logging

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from bff.errors import BFFError, error_response, problem
from bff.http.middleware import _REQUEST_ID_OK, security_headers
from bff.logs import request_id_var
from bff.proxy.headers import new_request_id
from bff.proxy.proxy import ClientGone, Proxy

log = logging.getLogger("bff.proxy")


class ProxyFastPath:
    def __init__(self, app: ASGIApp, *, https: bool) -> None:
        self.app = app
        self.https = https
        self._security: list[tuple[bytes, bytes]] | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not scope["path"].startswith("/api") or \
                (len(scope["path"]) > 4 and scope["path"][4] != "/"):
            await self.app(scope, receive, send)
            return
        services = getattr(scope["app"].state, "services", None)
        proxy: Proxy | None = services.areas.get("proxy") if services is not None else None
        if proxy is None:
            await self.app(scope, receive, send)
            return
        if self._security is None:
            self._security = security_headers(self.https)
        security = self._security

        rid = None
        for name, value in scope["headers"]:
            if name == b"x-request-id":
                candidate = value.decode("latin-1")
                rid = candidate if _REQUEST_ID_OK.match(candidate) else None
                break
        rid = rid or new_request_id()
        scope.setdefault("state", {})["request_id"] = rid
        rid_header = (b"x-request-id", rid.encode("latin-1"))
        started = False

        async def send_with_headers(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
                headers = list(message.get("headers", ()))
                present = {h[0] for h in headers}
                if b"x-request-id" in present:
                    headers = [h for h in headers if h[0] != b"x-request-id"]
                for header in security:
                    if header[0] not in present:
                        headers.append(header)
                headers.append(rid_header)
                message = {**message, "headers": headers}
            await send(message)

        token = request_id_var.set(rid)
        try:
            await proxy.handle(scope, receive, send_with_headers)
        except ClientGone:
            return
        except BFFError as exc:
            if started:
                raise
            if exc.status >= 500:
                log.warning("request failed: %s %s -> %s %s", scope["method"], scope["path"], exc.status,
                            exc.instance_code)
            await error_response(exc)(scope, receive, send_with_headers)
        except Exception as exc:
            if started:
                raise
            log.error("unhandled error on %s %s: %s", scope["method"], scope["path"], type(exc).__name__,
                      exc_info=exc)
            await problem(500, "internal", "Internal error")(scope, receive, send_with_headers)
        finally:
            request_id_var.reset(token)
