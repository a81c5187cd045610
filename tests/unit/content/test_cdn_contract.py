"""What a shared cache (CloudFront) may assume about ``GET /bff/content/{journey}``: the answer
depends on the path plus exactly ``CACHE_KEY_QUERY``, ``CACHE_KEY_HEADERS`` and
``CACHE_KEY_COOKIES`` (the template's cache policy is checked against the same constants in
tests/unit/infra/test_content_cache.py); a session changes it only for a previewer, and then
it is ``private, no-store``, which CloudFront (MinTTL 0) never stores."""

from __future__ import annotations

import httpx

from bff.content.endpoints import CACHE_KEY_COOKIES, CACHE_KEY_HEADERS, CACHE_KEY_QUERY
from bff.content.locales import COOKIE_NAME
from tests.unit.content.conftest import Harness
from tests.unit.content.test_preview import cookie, enable

PUBLIC_CC = "public, max-age="


async def warm(h: Harness, url: str) -> httpx.Response:
    """The steady-state answer (the first one says ``"source": "aem"``, later ones ``"cache"``)."""
    await h.client.get(url)
    return await h.client.get(url)


def same_answer(a: httpx.Response, b: httpx.Response) -> bool:
    return (a.status_code, a.content, a.headers.get("etag"), a.headers.get("cache-control")) == (
        b.status_code, b.content, b.headers.get("etag"), b.headers.get("cache-control"))


def test_the_declared_key_is_what_the_endpoint_reads() -> None:
    assert CACHE_KEY_QUERY == ("locale", "variation", "preview")
    assert CACHE_KEY_HEADERS == ("Accept-Language",)
    assert CACHE_KEY_COOKIES == (COOKIE_NAME,) == ("bff_locale",)


async def test_inputs_outside_the_key_do_not_change_the_answer(h: Harness) -> None:
    base = await warm(h, "/bff/content/signin?locale=fr&variation=master")
    assert base.status_code == 200 and base.headers["cache-control"].startswith(PUBLIC_CC)
    noise = await h.client.get(
        "/bff/content/signin?locale=fr&variation=master&utm_source=mail&_=1700000000&journey=admin",
        headers={"User-Agent": "curl/8", "X-Forwarded-For": "203.0.113.9", "Origin": "https://evil.test",
                 "Referer": "https://elsewhere.test/", "Cookie": "other=1; theme=dark"})
    assert same_answer(base, noise)
    # With ?locale= the cookie and Accept-Language are ignored (a CDN may keep them in the key;
    # they must not make the answer differ).
    pinned = await h.client.get("/bff/content/signin?locale=fr&variation=master",
                                headers={"Accept-Language": "ja", "Cookie": f"{COOKIE_NAME}=de"})
    assert pinned.content == base.content and pinned.headers["etag"] == base.headers["etag"]


async def test_every_input_in_the_key_can_change_the_answer(h: Harness) -> None:
    en = await h.client.get("/bff/content/signin?locale=en")
    assert (await h.client.get("/bff/content/signin?locale=fr")).json()["locale"] == "fr"
    summer = {**en.json()["strings"], "title": "Sign in for summer"}
    h.twin.set_copy("publish", "en", "signin", summer, "summer")
    varied = await h.client.get("/bff/content/signin?locale=en&variation=summer")
    assert varied.json()["strings"]["title"] == "Sign in for summer" and varied.content != en.content
    by_cookie = await h.client.get("/bff/content/signin", headers={"Cookie": f"{COOKIE_NAME}=de"})
    assert by_cookie.json()["locale"] == "de"
    by_header = await h.client.get("/bff/content/signin", headers={"Accept-Language": "es;q=0.9, ja"})
    assert by_header.json()["locale"] == "ja"
    assert "Accept-Language" in by_header.headers["vary"]
    marked = await h.client.get("/bff/content/signin?locale=en&preview=1")
    assert marked.headers["cache-control"] == "private, no-store" and "etag" not in marked.headers


async def test_a_signed_in_user_gets_the_anonymous_answer(h: Harness) -> None:
    anonymous = await warm(h, "/bff/content/profile?locale=de")
    bob = await h.client.get("/bff/content/profile?locale=de", headers=cookie(h.user_cookie()))
    assert same_answer(anonymous, bob) and bob.headers["cache-control"].startswith(PUBLIC_CC)
    assert "set-cookie" not in bob.headers
    assert b"bob" not in bob.content and b"@" not in bob.content  # nothing about the user
    # An author with preview OFF is like anyone else.
    carol = h.author_cookie()
    assert same_answer(anonymous, await h.client.get("/bff/content/profile?locale=de", headers=cookie(carol)))


async def test_a_previewer_is_never_given_a_storable_answer(h: Harness) -> None:
    carol = h.author_cookie()
    await enable(h, carol)
    for url in ("/bff/content/signin?locale=en", "/bff/content/signin?locale=en&preview=1",
                "/bff/content/signin?locale=en&preview=1&variation=master"):
        r = await h.client.get(url, headers=cookie(carol))
        assert r.json()["preview"] is True
        assert r.headers["cache-control"] == "private, no-store", url
        assert "etag" not in r.headers and "set-cookie" not in r.headers
        # Revalidation cannot turn it into a shared 304 either.
        again = await h.client.get(url, headers={**cookie(carol), "If-None-Match": "*"})
        assert again.status_code == 200 and again.headers["cache-control"] == "private, no-store"
