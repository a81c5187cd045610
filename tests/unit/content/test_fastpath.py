"""The hot path answered before the middleware stack: the same bytes and headers as the full
path, the request-id rule, and everything that is not a fresh cached hit left to the full path."""

from __future__ import annotations

from typing import Any

from tests.unit.content.conftest import Harness

URL = "/bff/content/signin?locale=fr-CA"


def counting(h: Harness) -> list[int]:
    calls = [0]
    service = h.area.service
    original = service.render

    async def render(*args: Any) -> Any:
        calls[0] += 1
        return await original(*args)

    service.render = render  # type: ignore[method-assign,assignment]
    return calls


def comparable(headers: Any) -> dict[str, str]:
    return {k: v for k, v in headers.items() if k != "x-request-id"}


async def test_same_response_as_the_full_path(h: Harness) -> None:
    calls = counting(h)
    await h.client.get(URL)  # source aem (full path)
    full = await h.client.get(URL)  # source cache (full path; makes the entry hot)
    fast = await h.client.get(URL)
    assert calls[0] == 2  # the third request never reached the endpoint
    assert fast.content == full.content and fast.json()["source"] == "cache"
    assert comparable(fast.headers) == comparable(full.headers)
    for name in (
        "content-security-policy",
        "x-content-type-options",
        "x-frame-options",
        "referrer-policy",
        "strict-transport-security",
        "cross-origin-opener-policy",
        "permissions-policy",
    ):
        assert name in fast.headers, name
    assert (
        len(fast.headers["x-request-id"]) == 32
        and fast.headers["x-request-id"] != full.headers["x-request-id"]
    )


async def test_request_id_rule(h: Harness) -> None:
    await h.client.get(URL)
    await h.client.get(URL)
    good = await h.client.get(URL, headers={"X-Request-Id": "trace-0123456789"})
    assert good.headers["x-request-id"] == "trace-0123456789"
    bad = await h.client.get(URL, headers={"X-Request-Id": "<script>alert(1)</script>"})
    assert (
        bad.headers["x-request-id"] != "<script>alert(1)</script>" and len(bad.headers["x-request-id"]) == 32
    )


async def test_304_on_the_fast_path(h: Harness) -> None:
    calls = counting(h)
    await h.client.get(URL)
    etag = (await h.client.get(URL)).headers["etag"]
    r = await h.client.get(URL, headers={"If-None-Match": etag})
    assert r.status_code == 304 and r.content == b"" and r.headers["etag"] == etag
    assert "content-security-policy" in r.headers and calls[0] == 2


async def test_what_the_fast_path_leaves_to_the_full_path(h: Harness) -> None:
    calls = counting(h)
    await h.client.get(URL)
    await h.client.get(URL)
    before = calls[0]
    loads = [0]
    original_load = h.sessions.load

    async def load(conn: Any) -> Any:
        loads[0] += 1
        return await original_load(conn)

    h.sessions.load = load  # type: ignore[method-assign]
    carol = h.author_cookie()
    r = await h.client.get(URL, headers={"Cookie": f"__Host-bff={carol}"})  # a session: maybe preview
    assert r.status_code == 200 and loads[0] == 1  # the full path looked at the session
    r = await h.client.get(URL, headers={"Cookie": "bff_locale=de"})  # no session cookie: fast
    assert r.status_code == 200 and loads[0] == 1
    r = await h.client.get("/bff/content/signin?locale=fr--CA")
    assert r.status_code == 400 and r.headers["content-type"] == "application/problem+json"
    r = await h.client.head(URL)
    assert r.status_code == 200
    h.area.service.evict("signin", "fr")  # an eviction makes the hot response obsolete at once
    r = await h.client.get(URL)
    assert r.json()["source"] == "aem" and calls[0] > before


async def test_hot_responses_expire_with_their_entries(h: Harness) -> None:
    await h.client.get(URL)
    await h.client.get(URL)
    h.clock.now += 61
    r = await h.client.get(URL)
    assert r.json()["source"] == "stale"


async def test_request_id_rule_with_a_repeated_header_matches_the_full_path(h: Harness) -> None:
    calls = counting(h)
    twice = [("X-Request-Id", "first-0123456789"), ("X-Request-Id", "second-0123456789")]
    full = await h.client.get(URL, headers=twice)  # full path (cold)
    await h.client.get(URL)  # full path: makes the entry hot
    fast = await h.client.get(URL, headers=twice)
    assert calls[0] == 2  # the third request was the fast path's
    assert full.headers["x-request-id"] == fast.headers["x-request-id"] == "first-0123456789"
