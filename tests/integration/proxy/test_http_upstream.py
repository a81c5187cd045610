"""The proxy over real loopback HTTP: the BFF (uvicorn) in front of a recording upstream
(uvicorn). Every assertion about what the upstream got is made on what it actually received."""

from __future__ import annotations

import asyncio
import gzip
import re
from collections.abc import AsyncIterator
from pathlib import Path

import httpx

from bff_dev.serving import free_port
from tests.integration.proxy.conftest import ROUTES, Bff, RecordingUpstream, running_bff


async def test_every_rejection_leaves_the_upstream_untouched(bff: Bff, upstream: RecordingUpstream) -> None:
    c = bff.client
    assert (await c.get("/api/admin/users")).status_code == 401  # no session
    bff.sign_in()
    assert (await c.get("/api/nothing-here")).status_code == 404
    assert (await c.get("/api/admin/users", headers={"X-CSRF": ""})).status_code == 403
    assert (await c.patch("/api/admin/users/1", json={})).status_code == 405
    assert (await c.get("/api/admin/%2e%2e/internal")).status_code == 400
    bff.sign_in("plain", admin_role=None)
    response = await c.get("/api/admin/users")
    assert response.status_code == 403 and response.json()["requiredRoles"] == ["org_admin", "group_admin"]
    bff.sign_in("noscope", scopes=frozenset({"openid"}))
    response = await c.get("/api/admin/users")
    assert response.status_code == 403 and response.json()["missingScopes"] == ["admin"]
    assert upstream.seen == []


async def test_headers_stripped_and_set_on_the_wire(bff: Bff, upstream: RecordingUpstream) -> None:
    bff.sign_in()
    bff.client.cookies.set("other", "x")
    response = await bff.client.put(
        "/api/admin/users/00ubob/groups?x=1&y=a%20b",
        content=b'{"groups":["acme-sales"]}',
        headers={"Content-Type": "application/json", "Authorization": "Bearer client-token",
                 "X-Forwarded-For": "6.6.6.6", "X-Forwarded-Host": "evil.test", "Forwarded": "for=6.6.6.6",
                 "Connection": "X-Drop-Me", "X-Drop-Me": "1", "X-Keep": "kept",
                 "traceparent": "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"},
    )
    assert response.status_code == 200, response.text
    (seen,) = upstream.seen
    assert (seen.method, seen.raw_path) == ("PUT", "/api/admin/users/00ubob/groups")
    assert seen.query == "x=1&y=a%20b"
    assert seen.body == b'{"groups":["acme-sales"]}'
    assert seen.header("authorization") == ["Bearer at-test"]
    assert seen.header("cookie") == []
    assert seen.header("forwarded") == [] and seen.header("x-drop-me") == []
    # No BFF_TRUSTED_PROXIES: the client's X-Forwarded-For is a claim nobody vouches for; the
    # upstream gets the peer's address (issue 12 §2; the trusted case: test_trusted_proxy_...).
    assert seen.header("x-forwarded-for") == ["127.0.0.1"]
    assert seen.header("x-forwarded-host") == [bff.url.removeprefix("http://")]
    assert seen.header("x-forwarded-proto") == ["http"]
    assert seen.header("x-keep") == ["kept"]
    assert seen.header("content-length") == ["25"]
    (rid,) = seen.header("x-request-id")
    assert response.headers["x-request-id"] == rid
    (trace,) = seen.header("traceparent")
    assert re.fullmatch(r"00-4bf92f3577b34da6a3ce929d0e0e4736-[0-9a-f]{16}-01", trace)
    assert trace != "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
    # the response: the upstream's own headers, but never a cookie named like the session's
    assert response.headers["x-upstream"] == "yes"
    assert response.headers.get_list("set-cookie") == ["upstream-pref=1; Path=/api"]


async def test_responses_stream_without_buffering(bff: Bff, upstream: RecordingUpstream) -> None:
    bff.sign_in()
    async with bff.client.stream("GET", "/api/admin/stream") as response:
        assert response.status_code == 200
        chunks = response.aiter_raw()
        # The upstream holds back its second chunk until told to: the first one must already
        # have crossed the proxy.
        first = await asyncio.wait_for(chunks.__anext__(), timeout=5)
        assert first == b"first;"
        assert not upstream.release.is_set()
        upstream.release.set()
        rest = b"".join([chunk async for chunk in chunks])
    assert rest == b"second"


async def test_compressed_bodies_pass_through_untouched(bff: Bff, upstream: RecordingUpstream) -> None:
    bff.sign_in()
    response = await bff.client.get("/api/admin/gzip", headers={"Accept-Encoding": "gzip"})
    assert response.headers["content-encoding"] == "gzip"
    assert response.json() == {"zipped": True}  # httpx decoded the gzip the upstream wrote
    assert upstream.seen[0].header("accept-encoding") == ["gzip"]


async def test_no_accept_encoding_added_by_the_proxy(bff: Bff, upstream: RecordingUpstream) -> None:
    bff.sign_in()
    request = bff.client.build_request("GET", "/api/admin/users")
    del request.headers["accept-encoding"]
    await bff.client.send(request)
    assert upstream.seen[0].header("accept-encoding") == []


async def test_no_default_headers_of_the_http_client_are_added(bff: Bff, upstream: RecordingUpstream) -> None:
    bff.sign_in()
    request = bff.client.build_request("GET", "/api/admin/users")
    for name in ("accept", "accept-encoding", "user-agent"):
        del request.headers[name]
    await bff.client.send(request)
    (seen,) = upstream.seen
    assert seen.header("accept") == [] and seen.header("accept-encoding") == []
    assert seen.header("user-agent") == []  # not aiohttp's "Python/3.x aiohttp/..."
    assert seen.header("content-type") == [] and seen.header("content-length") == []  # a GET: no body
    assert seen.header("host") == [upstream.url.removeprefix("http://")]  # the upstream's own host
    # what the client did send still passes
    await bff.client.get("/api/admin/users", headers={"Accept": "application/json", "User-Agent": "spa/1"})
    assert upstream.seen[1].header("accept") == ["application/json"]
    assert upstream.seen[1].header("user-agent") == ["spa/1"]


async def test_upstream_timeout_is_504(bff: Bff, upstream: RecordingUpstream) -> None:
    bff.sign_in()
    response = await bff.client.get("/api/admin/slow")
    assert response.status_code == 504
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["code"] == "gateway_timeout"
    assert len(upstream.seen) == 1


async def test_upstream_down_is_502_and_post_is_not_retried(tmp_path: Path) -> None:
    dead = f"http://127.0.0.1:{free_port()}"
    async with running_bff(tmp_path, ROUTES.format(url=dead, timeout=2)) as bff:
        bff.sign_in()
        response = await bff.client.post("/api/admin/users", json={"a": 1})
        assert response.status_code == 502
        assert response.json()["code"] == "bad_gateway"
        assert "127.0.0.1" not in response.text  # no upstream internals in the problem


async def test_upstream_crash_mid_body_cuts_the_response(bff: Bff, upstream: RecordingUpstream) -> None:
    bff.sign_in()
    try:
        response = await bff.client.get("/api/admin/break")
    except httpx.HTTPError:
        return  # the connection was closed before the promised length: correct
    raise AssertionError(f"a cut body must not look complete: {response.status_code} {response.content!r}")


async def test_upstream_401_refreshes_and_retries_get(bff: Bff, upstream: RecordingUpstream) -> None:
    session = bff.sign_in()
    response = await bff.client.get("/api/admin/needs-fresh-token")
    assert response.status_code == 200 and response.json() == {"fresh": True}
    assert session.refreshes == 1
    assert [s.header("authorization") for s in upstream.seen] == [["Bearer at-test"], ["Bearer at-test-1"]]


async def test_upstream_401_on_post_is_relayed_not_retried(bff: Bff, upstream: RecordingUpstream) -> None:
    session = bff.sign_in()
    response = await bff.client.post("/api/admin/needs-fresh-token", json={})
    assert response.status_code == 401
    assert response.json() == {"message": "Unauthorized"}
    assert session.refreshes == 0 and len(upstream.seen) == 1


async def test_streamed_body_over_limit_is_413_before_the_upstream(tmp_path: Path,
                                                                   upstream: RecordingUpstream) -> None:
    async with running_bff(tmp_path, ROUTES.format(url=upstream.url, timeout=2),
                           BFF_PROXY_MAX_BODY="4096") as bff:
        bff.sign_in()

        async def chunks() -> AsyncIterator[bytes]:
            for _ in range(10):
                yield b"x" * 1024

        response = await bff.client.post("/api/admin/users", content=chunks())  # chunked, no length
        assert response.status_code == 413
        assert response.json()["code"] == "payload_too_large"
        response = await bff.client.post("/api/admin/users", content=b"x" * 5000)
        assert response.status_code == 413
        assert upstream.seen == []
        ok = await bff.client.post("/api/admin/users", content=gzip.compress(b"{}"))
        assert ok.status_code == 200 and len(upstream.seen) == 1


async def test_trusted_proxy_hops_decide_the_forwarded_address(tmp_path: Path,
                                                                upstream: RecordingUpstream) -> None:
    """BFF_TRUSTED_PROXIES=127.0.0.1: the loopback peer is a proxy whose X-Forwarded-For is
    believed, from the right, up to the first hop that is not itself trusted: a client cannot
    prepend its own address. CloudFront-Viewer-Address from a trusted peer counts; the origin
    secret and the viewer header never reach the upstream."""
    async with running_bff(tmp_path, ROUTES.format(url=upstream.url, timeout=1),
                           BFF_TRUSTED_PROXIES="127.0.0.1") as bff:
        bff.sign_in()
        for sent, expected in ((None, "127.0.0.1"), ("6.6.6.6", "6.6.6.6"),
                               ("1.1.1.1, 203.0.113.9", "203.0.113.9"),
                               ("203.0.113.9, 127.0.0.1", "203.0.113.9"), ("garbage", "127.0.0.1")):
            headers = {"X-Forwarded-For": sent} if sent else {}
            assert (await bff.client.get("/api/admin/users", headers=headers)).status_code == 200
            assert upstream.seen[-1].header("x-forwarded-for") == [expected], sent
        await bff.client.get("/api/admin/users", headers={
            "CloudFront-Viewer-Address": "198.51.100.10:46532", "X-BFF-Origin-Verify": "guess"})
        seen = upstream.seen[-1]
        assert seen.header("x-forwarded-for") == ["198.51.100.10"]
        assert seen.header("cloudfront-viewer-address") == [] and seen.header("x-bff-origin-verify") == []
