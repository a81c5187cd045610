"""Whose ``traceparent`` the BFF continues.

A client-chosen trace id would let anyone stitch their requests into someone else's trace, or
pick ids that collide in the tracing back-end; so an incoming ``traceparent`` is honoured only
when the direct peer is a trusted proxy (the load balancer, CloudFront's origin-facing tier, a
mesh side-car), and every other request starts a new trace. :func:`peer_is_trusted` is the ONE
place that decides; until the BFF's client-address handling (``BFF_TRUSTED_PROXIES``) is
merged it trusts loopback peers only (a side-car on the same host, the dev stack, tests).
"""

from __future__ import annotations

import functools
import ipaddress

from starlette.types import Scope

from bff.observability import tracing


def peer_is_trusted(scope: Scope) -> bool:
    """Whether the direct peer of this connection may set the trace context."""
    client = scope.get("client")
    if not client:
        return False
    return _trusted_address(client[0])


@functools.lru_cache(maxsize=1024)
def _trusted_address(host: str) -> bool:
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


_TRACEPARENT = b"traceparent"


def incoming(scope: Scope) -> tracing.Context | None:
    """The remote parent of this request's span: the ``traceparent`` of a trusted peer, or None."""
    headers = scope["headers"]
    if not any(name == _TRACEPARENT for name, _ in headers) or not peer_is_trusted(scope):
        return None
    return tracing.extract(headers)
