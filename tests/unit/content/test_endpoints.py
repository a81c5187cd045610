"""GET /bff/content/{journey}: shape, locale resolution, HTTP caching, and resilience when AEM
is down, slow, answers garbage or 200-with-errors (stale, then bundled; never a 500)."""

from __future__ import annotations

import asyncio
import json
import time

import pytest

from tests.unit.content.conftest import Harness, harness


async def test_shape_and_headers(h: Harness) -> None:
    r = await h.client.get("/bff/content/signin", params={"locale": "fr-CA"})
    assert r.status_code == 200
    assert r.headers["content-type"] == "application/json"
    doc = r.json()
    assert set(doc) == {
        "journey",
        "requested",
        "locale",
        "strings",
        "fallbacks",
        "missing",
        "source",
        "preview",
    }
    assert (doc["journey"], doc["requested"], doc["locale"], doc["source"]) == (
        "signin",
        "fr-CA",
        "fr-CA",
        "aem",
    )
    assert doc["strings"]["email.label"] == "Courriel professionnel"  # fr-CA override
    assert doc["strings"]["title"] == "Connexion" and doc["fallbacks"]["title"] == "fr"
    assert "email.label" not in doc["fallbacks"] and doc["missing"] == [] and doc["preview"] is False
    etag = r.headers["etag"]
    assert etag.startswith('"') and etag.endswith('"') and not etag.startswith("W/")
    assert (
        r.headers["cache-control"] == "public, max-age=60, stale-while-revalidate=86400, stale-if-error=86400"
    )
    assert r.headers["vary"] == "Cookie"


async def test_if_none_match_gives_304(h: Harness) -> None:
    await h.client.get("/bff/content/common?locale=de")
    r = await h.client.get("/bff/content/common?locale=de")
    assert r.json()["source"] == "cache"
    etag = r.headers["etag"]
    for header in (etag, f"W/{etag}", f'"nope", {etag}', "*"):
        nm = await h.client.get("/bff/content/common?locale=de", headers={"If-None-Match": header})
        assert nm.status_code == 304, header
        assert nm.content == b"" and nm.headers["etag"] == etag
        assert nm.headers["cache-control"].startswith("public, max-age=60")
    other = await h.client.get("/bff/content/common?locale=de", headers={"If-None-Match": '"other"'})
    assert other.status_code == 200 and other.headers["etag"] == etag


async def test_etag_changes_with_the_copy(h: Harness) -> None:
    await h.client.get("/bff/content/signin?locale=en")
    before = await h.client.get("/bff/content/signin?locale=en")
    h.twin.set_copy("publish", "en", "signin", {**before.json()["strings"], "title": "Hello"})
    h.clock.now += 61
    await h.client.get("/bff/content/signin?locale=en")  # stale; refresh in the background
    await asyncio.sleep(0.05)
    after = await h.client.get(
        "/bff/content/signin?locale=en", headers={"If-None-Match": before.headers["etag"]}
    )
    assert after.status_code == 200 and after.json()["strings"]["title"] == "Hello"
    assert after.headers["etag"] != before.headers["etag"]


async def test_locale_from_cookie_then_accept_language(h: Harness) -> None:
    r = await h.client.get(
        "/bff/content/common", headers={"Cookie": "bff_locale=ja", "Accept-Language": "de"}
    )
    assert r.json()["locale"] == "ja" and r.headers["vary"] == "Accept-Language, Cookie"
    r = await h.client.get("/bff/content/common", headers={"Accept-Language": "es-MX, en;q=0.5"})
    assert (r.json()["requested"], r.json()["locale"]) == ("es-MX", "es")
    assert r.json()["strings"]["status.loading"] == "Cargando…"
    r = await h.client.get("/bff/content/common")
    assert r.json()["locale"] == "en"


@pytest.mark.parametrize(
    ("path", "status", "code"),
    [
        ("/bff/content/checkout", 404, "unknown_journey"),
        ("/bff/content/..%2Fsignin", 404, "not_found"),
        ("/bff/content/signin?locale=fr--CA", 400, "invalid_locale"),
        ("/bff/content/signin?locale=" + "a" * 5000, 400, "invalid_locale"),
        ("/bff/content/signin?locale=%00", 400, "invalid_locale"),
        ("/bff/content/signin?variation=../../x", 400, "invalid_variation"),
        ("/bff/content/signin?variation=" + "v" * 65, 400, "invalid_variation"),
        ("/bff/content/signin?variation=summer%0A", 400, "invalid_variation"),
        ("/bff/content/signin?locale=fr%0A", 400, "invalid_locale"),
    ],
)
async def test_bad_requests_are_precise_problems(h: Harness, path: str, status: int, code: str) -> None:
    r = await h.client.get(path)
    assert r.status_code == status
    assert r.headers["content-type"] == "application/problem+json"
    assert r.json()["code"] == code


async def test_hostile_headers_do_not_hurt(h: Harness) -> None:
    r = await h.client.get(
        "/bff/content/common",
        headers={
            "Cookie": "bff_locale=<script>",
            "Accept-Language": ";;;q=,,," * 200,
            "If-None-Match": "x" * 4000,
        },
    )
    assert r.status_code == 200 and r.json()["locale"] == "en"


async def test_post_is_not_allowed(h: Harness) -> None:
    r = await h.client.post("/bff/content/signin")
    assert r.status_code == 405


async def test_variation_is_part_of_the_cache_key(h: Harness) -> None:
    strings = dict(h.area.service.bundle.strings("en", "signin") or {})
    h.twin.set_copy("publish", "en", "signin", {**strings, "title": "Summer sign-in"}, variation="summer")
    summer = await h.client.get("/bff/content/signin?locale=en&variation=summer")
    master = await h.client.get("/bff/content/signin?locale=en")
    assert summer.json()["strings"]["title"] == "Summer sign-in"
    assert master.json()["strings"]["title"] == "Sign in"
    assert h.twin.count("publish", variation="summer") == 1


async def test_single_flight_through_the_endpoint(h: Harness) -> None:
    h.twin.knobs["publish"].delay = 0.05
    responses = await asyncio.gather(*(h.client.get("/bff/content/admin?locale=en") for _ in range(100)))
    assert {r.status_code for r in responses} == {200}
    assert {r.json()["source"] for r in responses} == {"aem"}
    assert h.twin.count("publish", journey="admin") == 1


# -- resilience --------------------------------------------------------------------------------


@pytest.mark.parametrize("mode", ["down", "garbage", "errors"])
async def test_aem_failing_cold_serves_bundled_never_500(h: Harness, mode: str) -> None:
    h.twin.knobs["publish"].mode = mode
    r = await h.client.get("/bff/content/signup?locale=de")
    assert r.status_code == 200
    doc = r.json()
    assert doc["source"] == "bundled" and doc["strings"]["title"] == "Konto erstellen"
    assert r.headers["cache-control"] == "public, max-age=10, stale-if-error=86400"


async def test_aem_failing_after_a_fetch_serves_stale(h: Harness) -> None:
    first = await h.client.get("/bff/content/signup?locale=de")
    assert first.json()["source"] == "aem"
    h.twin.knobs["publish"].mode = "down"
    h.clock.now += 61
    for _ in range(3):
        r = await h.client.get("/bff/content/signup?locale=de")
        assert r.status_code == 200 and r.json()["source"] == "stale"
        assert r.json()["strings"] == first.json()["strings"]
        await asyncio.sleep(0.01)
    h.clock.now += 86_400  # past stale-if-error: bundled
    r = await h.client.get("/bff/content/signup?locale=de")
    assert r.json()["source"] == "bundled"


async def test_slow_aem_is_bounded_by_the_timeout() -> None:
    async with harness(BFF_AEM_TIMEOUT="0.1") as h:
        h.twin.knobs["publish"].delay = 1.0
        started = time.monotonic()
        r = await h.client.get("/bff/content/profile?locale=ja")
        assert time.monotonic() - started < 0.6
        assert r.status_code == 200 and r.json()["source"] == "bundled"
        assert r.json()["strings"]["save"] == "保存"


async def test_200_with_errors_is_never_cached(h: Harness) -> None:
    h.twin.knobs["publish"].mode = "errors"
    assert (await h.client.get("/bff/content/email?locale=en")).json()["source"] == "bundled"
    h.twin.knobs["publish"].mode = "ok"
    h.clock.now += 6  # past the failure hold-off
    r = await h.client.get("/bff/content/email?locale=en")
    assert r.json()["source"] == "aem"  # fetched again: the errors body was not kept
    assert h.twin.count("publish", journey="email") == 2  # errors (not retried), then success


async def test_retry_recovers_a_transient_503(h: Harness) -> None:
    h.twin.knobs["publish"].fail_next = 1
    r = await h.client.get("/bff/content/common?locale=en")
    assert r.json()["source"] == "aem"
    assert [c.status for c in h.twin.calls] == [503, 200]


async def test_partial_failure_marks_the_response_degraded(h: Harness) -> None:
    await h.client.get("/bff/content/signin?locale=en")  # en cached
    h.twin.knobs["publish"].mode = "down"
    r = await h.client.get("/bff/content/signin?locale=fr")
    doc = r.json()
    assert doc["source"] == "bundled" and doc["strings"]["title"] == "Connexion"


async def test_missing_translation_falls_back_per_key(h: Harness) -> None:
    h.twin.set_copy("publish", "es", "admin", None)  # AEM: an empty items list for es
    doc = (await h.client.get("/bff/content/admin?locale=es")).json()
    assert doc["source"] == "aem" and doc["locale"] == "es"
    assert doc["strings"]["title"] == "Administration" and set(doc["fallbacks"].values()) == {"en"}


async def test_readyz_still_green_with_aem_down(h: Harness) -> None:
    h.twin.knobs["publish"].mode = "down"
    r = await h.client.get("/bff/content/common")
    assert r.status_code == 200
    body = json.loads(r.content)
    assert body["source"] == "bundled"
