"""Whose ``traceparent`` the BFF continues.

A client-chosen trace id would let anyone stitch their requests into someone else's trace, or
pick ids that collide in the tracing back-end; so an incoming ``traceparent`` is honoured only
when the direct peer is a trusted proxy (the load balancer, CloudFront's origin-facing tier, a
mesh side-car), and every other request starts a new trace. :func:`peer_is_trusted` is the ONE
place that decides, and it asks the same resolver the client address comes from
(:class:`bff.http.client_ip.ClientAddress`, ``BFF_TRUSTED_PROXIES``, which the edge puts in
``scope["state"]["client_address"]``): the direct TCP peer must be one of the trusted proxies'
addresses. Unset (the default), nobody is. (``cloudfront`` alone trusts no peer address: the
origin secret proves CloudFront's hop, and CloudFront sends no traceparent of its own.) Without
an edge in front (a handler called on its own), only a loopback peer is trusted.
"""

from __future__ import annotations

import functools
import ipaddress

from starlette.types import Scope

from bff.http.client_ip import ClientAddress, parse_ip
from bff.observability import tracing


def peer_is_trusted(scope: Scope) -> bool:
    """Whether the direct peer of this connection may set the trace context."""
    client = scope.get("client")
    if not client or not isinstance(client[0], str):
        return False
    state = scope.get("state")
    resolver = state.get("client_address") if isinstance(state, dict) else None
    if isinstance(resolver, ClientAddress):
        address = parse_ip(client[0])
        return address is not None and resolver.trusts(address)
    return _loopback(client[0])


@functools.lru_cache(maxsize=1024)
def _loopback(host: str) -> bool:
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


_TRACEPARENT = b"traceparent"


def incoming(scope: Scope) -> tracing.Context | None:
    """The remote parent of this request's span: the ``traceparent`` of a trusted peer, or None."""
    headers = scope["headers"]
    for name, _ in headers:  # a loop, not any(<generator>): every request passes here
        if name == _TRACEPARENT:
            break
    else:
        return None
    return tracing.extract(headers) if peer_is_trusted(scope) else None
