"""The client's address: derived ONCE per request, from a trusted source, used everywhere.

Everything that needs "who is calling" (the sign-up and sign-in rate limits, the log lines,
the ``X-Forwarded-For`` the proxy sends upstream and the sign-in client sends to Okta, the
``sourceIp`` of a Lambda event) reads :func:`client_ip` (``scope["state"]["client_ip"]``),
which the edge sets with :meth:`ClientAddress.resolve` before anything else runs. No other
code reads ``X-Forwarded-For``, ``CloudFront-Viewer-Address`` or ``scope["client"]`` for that.

``BFF_TRUSTED_PROXIES`` (:class:`~bff.settings.ClientAddressSettings`) says whom to believe:

- unset (the default): nobody. The TCP peer (``scope["client"]``) is the client; every
  forwarding header is ignored, whatever it claims.
- CIDRs (``10.0.0.0/8,192.0.2.7``): the load balancers / reverse proxies in front. When the
  peer is one of them, ``X-Forwarded-For`` is walked from the right, skipping every hop that
  is itself a trusted proxy; the first address that is not is the client (so a client cannot
  prepend a fake address: only hops appended by trusted proxies are believed). A malformed
  entry stops the walk at the last trusted hop. A peer outside the list: its headers are
  ignored, it is the client.
- ``cloudfront`` (may be combined with CIDRs): the deployment of ``infra/template.yaml``,
  CloudFront → API Gateway → Lambda (Mangum), where the peer the BFF sees is CloudFront's edge
  (``requestContext.http.sourceIp``), never the viewer. CloudFront adds
  ``CloudFront-Viewer-Address`` (``198.51.100.10:46532``, ``2001:db8::1:46532``: address and
  source port) when the origin request policy asks for it, and the distribution adds the secret
  origin header ``X-BFF-Origin-Verify`` (``BFF_CLOUDFRONT_ORIGIN_SECRET``) to every request it
  sends to the BFF. Only a request carrying that secret (compared in constant time) is from
  CloudFront: then the viewer address is the client. Anyone calling the API Gateway URL
  directly, whatever headers they forge, is their own peer address. CloudFront's edge ranges
  change weekly and are not bundled, so the secret, not the peer address, proves the hop.
  (A peer in the CIDR list may also send ``CloudFront-Viewer-Address``: a trusted proxy in
  front of CloudFront's origin is believed about it too.)

The origin secret never goes further: the proxy strips the header (``bff.proxy.headers``) and
the log filter would redact it.
"""

from __future__ import annotations

import hmac
import ipaddress
from collections.abc import Iterable
from functools import lru_cache
from typing import Any

from starlette.types import Scope

IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network
IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

VIEWER_HEADER = b"cloudfront-viewer-address"
ORIGIN_VERIFY_HEADER = b"x-bff-origin-verify"
_XFF = b"x-forwarded-for"
#: What is used when the server gives no peer at all (ASGI allows ``client: None``).
UNKNOWN = "0.0.0.0"  # noqa: S104 (an address value, not a bind)
#: Longest X-Forwarded-For walked (hops); longer chains are cut from the left.
MAX_HOPS = 20


def parse_ip(value: str) -> IPAddress | None:
    """An IP address (IPv6 zone ids and brackets refused), or None."""
    value = value.strip()
    if not value or len(value) > 45 or "%" in value:
        return None
    try:
        return ipaddress.ip_address(value)
    except ValueError:
        return None


def parse_viewer_address(value: str) -> IPAddress | None:
    """``CloudFront-Viewer-Address``: ``ip:port`` (IPv6 unbracketed, the port after the last
    colon)."""
    host, sep, port = value.strip().rpartition(":")
    if not sep or not port.isascii() or not port.isdigit() or len(port) > 5:
        return None
    return parse_ip(host.removeprefix("[").removesuffix("]"))


@lru_cache(maxsize=4096)
def _peer_text(text: str) -> str:
    """The canonical form of a peer address (the text itself when it is not an address, e.g. a
    test client's name), memoised: a server sees the same few peers (its load balancers) or a
    bounded working set of clients, and this runs on every request."""
    address = parse_ip(text)
    return _canonical(address) if address is not None else (text or UNKNOWN)


def _canonical(address: IPAddress) -> str:
    mapped = getattr(address, "ipv4_mapped", None)  # ::ffff:192.0.2.1 counts as 192.0.2.1
    return str(mapped if mapped is not None else address)


class ClientAddress:
    """Resolves the client address of a request (see the module docstring).

    ``networks``: the trusted proxies; ``cloudfront_secret``: the origin-verify value that proves
    a request came through CloudFront (None: ``cloudfront`` not configured)."""

    def __init__(self, networks: Iterable[IPNetwork] = (), *, cloudfront_secret: str | None = None) -> None:
        self.networks = tuple(networks)
        self._secret = cloudfront_secret.encode() if cloudfront_secret else None

    def trusts(self, address: IPAddress) -> bool:
        return any(address in network for network in self.networks if address.version == network.version)

    def resolve(self, scope: Scope) -> str:
        client = scope.get("client")
        peer_text = client[0] if client else None
        if not isinstance(peer_text, str):
            return UNKNOWN
        if not self.networks and self._secret is None:  # the default: nobody is believed
            return _peer_text(peer_text)
        peer = parse_ip(peer_text)
        if peer is None:
            return peer_text or UNKNOWN
        viewer = forwarded = verify = None
        for name, value in scope["headers"]:
            if name == VIEWER_HEADER:
                viewer = value
            elif name == _XFF:
                forwarded = value if forwarded is None else forwarded + b"," + value
            elif name == ORIGIN_VERIFY_HEADER:
                verify = value
        via_cloudfront = (self._secret is not None and verify is not None
                          and hmac.compare_digest(verify, self._secret))
        peer_trusted = self.trusts(peer)
        if viewer is not None and (via_cloudfront or peer_trusted):
            address = parse_viewer_address(viewer.decode("latin-1"))
            if address is not None:
                return _canonical(address)
        if via_cloudfront:
            return _canonical(peer)  # CloudFront without the viewer header: its edge is all we know
        if not peer_trusted or forwarded is None:
            return _canonical(peer)
        current = peer
        hops = forwarded.decode("latin-1").split(",")[-MAX_HOPS:]
        for hop in reversed(hops):
            address = parse_ip(hop)
            if address is None:
                break  # garbage: believe nothing further left
            current = address
            if not self.trusts(address):
                break
        return _canonical(current)


def client_ip(scope: Scope | Any) -> str:
    """The request's client address as the edge derived it (``scope`` or an HTTPConnection)."""
    raw: Scope = getattr(scope, "scope", scope)
    state = raw.get("state")
    if isinstance(state, dict):
        value = state.get("client_ip")
        if isinstance(value, str):
            return value
    client = raw.get("client")
    return client[0] if client and isinstance(client[0], str) else UNKNOWN
