"""The client address (issue 12 §2): derived once, believed only from trusted hops; spoofed
headers from untrusted peers change nothing; under Mangum (API Gateway behind CloudFront) the
viewer's address counts, never CloudFront's edge."""

from __future__ import annotations

import ipaddress
import json
from typing import Any

import pytest
from mangum import Mangum
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Router
from starlette.types import Scope

from bff.config import ConfigError
from bff.http.client_ip import ClientAddress, client_ip, parse_viewer_address
from bff.http.edge import Edge
from tests.support.env import make_settings

SECRET = "cloudfront-origin-secret-0123456789abcdef"


def scope(peer: str | None, **headers: str) -> Scope:
    return {"type": "http", "client": (peer, 1234) if peer else None,
            "headers": [(k.replace("_", "-").lower().encode(), v.encode()) for k, v in headers.items()]}


def nets(*cidrs: str) -> list[ipaddress.IPv4Network | ipaddress.IPv6Network]:
    return [ipaddress.ip_network(c) for c in cidrs]


def test_by_default_nobody_is_believed() -> None:
    resolver = ClientAddress()
    spoof = scope("203.0.113.9", x_forwarded_for="6.6.6.6", cloudfront_viewer_address="6.6.6.6:1",
                  x_bff_origin_verify=SECRET)
    assert resolver.resolve(spoof) == "203.0.113.9"


def test_forwarded_for_is_believed_only_from_a_trusted_peer() -> None:
    resolver = ClientAddress(nets("10.0.0.0/8"))
    assert resolver.resolve(scope("203.0.113.9", x_forwarded_for="6.6.6.6")) == "203.0.113.9"
    assert resolver.resolve(scope("10.1.2.3", x_forwarded_for="6.6.6.6")) == "6.6.6.6"
    # the client prepends a fake address: only the hop the trusted proxy appended counts
    assert resolver.resolve(scope("10.1.2.3", x_forwarded_for="6.6.6.6, 198.51.100.7")) == "198.51.100.7"
    # two trusted hops, then the client
    assert resolver.resolve(scope("10.1.2.3", x_forwarded_for="1.1.1.1, 198.51.100.7, 10.9.9.9")) \
        == "198.51.100.7"
    # garbage stops the walk at the last trusted hop
    assert resolver.resolve(scope("10.1.2.3", x_forwarded_for="6.6.6.6, bogus")) == "10.1.2.3"
    assert resolver.resolve(scope("10.1.2.3")) == "10.1.2.3"


def test_several_forwarded_for_headers_are_one_chain() -> None:
    s = scope("10.1.2.3")
    s["headers"] = [(b"x-forwarded-for", b"6.6.6.6"), (b"x-forwarded-for", b"198.51.100.7")]
    assert ClientAddress(nets("10.0.0.0/8")).resolve(s) == "198.51.100.7"


def test_cloudfront_viewer_address_needs_the_origin_secret_or_a_trusted_peer() -> None:
    resolver = ClientAddress(cloudfront_secret=SECRET)
    viewer = "198.51.100.10:46532"
    assert resolver.resolve(scope("52.46.0.1", cloudfront_viewer_address=viewer,
                                  x_bff_origin_verify=SECRET)) == "198.51.100.10"
    # straight to the API Gateway URL with forged headers: the caller is who they are
    for forged in ({"cloudfront_viewer_address": viewer},
                   {"cloudfront_viewer_address": viewer, "x_bff_origin_verify": "wrong"},
                   {"cloudfront_viewer_address": viewer, "x_bff_origin_verify": SECRET[:-1]},
                   {"x_forwarded_for": "198.51.100.10", "x_bff_origin_verify": "nope"}):
        assert resolver.resolve(scope("203.0.113.9", **forged)) == "203.0.113.9", forged
    # through CloudFront, X-Forwarded-For (client-controlled in part) is never used
    assert resolver.resolve(scope("52.46.0.1", x_forwarded_for="6.6.6.6", x_bff_origin_verify=SECRET)) \
        == "52.46.0.1"
    # a trusted proxy in front may report the viewer header too
    trusted = ClientAddress(nets("10.0.0.0/8"))
    assert trusted.resolve(scope("10.0.0.1", cloudfront_viewer_address=viewer)) == "198.51.100.10"
    assert trusted.resolve(scope("203.0.113.1", cloudfront_viewer_address=viewer)) == "203.0.113.1"


@pytest.mark.parametrize(("value", "expected"), [
    ("198.51.100.10:46532", "198.51.100.10"),
    ("2001:db8::1:46532", "2001:db8::1"),
    ("[2001:db8::1]:443", "2001:db8::1"),
    ("198.51.100.10", None),
    ("198.51.100.10:", None),
    ("evil:80", None),
    ("fe80::1%eth0:80", None),
    ("198.51.100.10:999999", None),
])
def test_viewer_address_format(value: str, expected: str | None) -> None:
    parsed = parse_viewer_address(value)
    assert (str(parsed) if parsed else None) == expected


def test_ipv4_mapped_addresses_count_as_ipv4() -> None:
    assert ClientAddress().resolve(scope("::ffff:203.0.113.9")) == "203.0.113.9"


async def _echo(request: Request) -> JSONResponse:
    return JSONResponse({"ip": client_ip(request)})


def _app(resolver: ClientAddress) -> Edge:
    router = Router()
    router.add_route("/ip", _echo)
    return Edge(router, https=True, client_address=resolver)


def _event(headers: dict[str, str], source_ip: str = "130.176.1.1") -> dict[str, Any]:
    """An API Gateway HTTP API (payload 2.0) event as CloudFront's edge causes it."""
    return {
        "version": "2.0", "routeKey": "$default", "rawPath": "/ip", "rawQueryString": "",
        "headers": {"host": "abc.execute-api.eu-west-1.amazonaws.com", "x-forwarded-proto": "https",
                    **headers},
        "requestContext": {"accountId": "1", "apiId": "abc",
                           "domainName": "abc.execute-api.eu-west-1.amazonaws.com",
                           "http": {"method": "GET", "path": "/ip", "protocol": "HTTP/1.1",
                                    "sourceIp": source_ip, "userAgent": "x"},
                           "requestId": "r", "routeKey": "$default", "stage": "$default",
                           "time": "01/Jan/2025:00:00:00 +0000", "timeEpoch": 0},
        "isBase64Encoded": False,
    }


def test_under_mangum_the_viewer_address_counts_never_the_edge_ip() -> None:
    handler = Mangum(_app(make_settings(BFF_TRUSTED_PROXIES="cloudfront",
                                        BFF_CLOUDFRONT_ORIGIN_SECRET=SECRET).client_address.resolver()),
                     lifespan="off")
    through = handler(_event({"cloudfront-viewer-address": "198.51.100.10:46532",
                              "x-bff-origin-verify": SECRET,
                              "x-forwarded-for": "6.6.6.6, 130.176.1.1"}), None)
    assert json.loads(through["body"]) == {"ip": "198.51.100.10"}
    # the same headers sent to the API Gateway URL directly, without the distribution's secret
    direct = handler(_event({"cloudfront-viewer-address": "198.51.100.10:46532",
                             "x-forwarded-for": "198.51.100.10"}, source_ip="203.0.113.66"), None)
    assert json.loads(direct["body"]) == {"ip": "203.0.113.66"}


def test_settings_validate_trusted_proxies() -> None:
    s = make_settings(BFF_TRUSTED_PROXIES="10.0.0.0/8, 192.0.2.7 ,2001:db8::/32")
    assert s.client_address.trusted_proxies == ("10.0.0.0/8", "192.0.2.7/32", "2001:db8::/32")
    assert not s.client_address.cloudfront
    assert make_settings().client_address.trusted_proxies == ()
    with pytest.raises(ConfigError) as bad:
        make_settings(BFF_TRUSTED_PROXIES="10.0.0.0/33,example.com")
    assert sum("BFF_TRUSTED_PROXIES" in line for line in bad.value.lines) == 2
    with pytest.raises(ConfigError) as missing:
        make_settings(BFF_TRUSTED_PROXIES="cloudfront")
    assert any("BFF_CLOUDFRONT_ORIGIN_SECRET" in line for line in missing.value.lines)
    with pytest.raises(ConfigError):
        make_settings(BFF_TRUSTED_PROXIES="cloudfront", BFF_CLOUDFRONT_ORIGIN_SECRET="short")
    with pytest.raises(ConfigError):
        make_settings(BFF_TRUSTED_PROXIES="cloudfront",
                      BFF_CLOUDFRONT_ORIGIN_SECRET="dev-only-insecure-0123456789abcdef0123")
