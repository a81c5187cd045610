"""The AEM twin speaks AEM's wire format (the same parser reads it as reads the real fixtures)."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator

import httpx
import pytest

from bff.content.aem import parse_copy, persisted_query_path
from bff_dev.twins.aem import AemTwin, Webhook

TOKEN = "twin-author-token-0123456789"


@pytest.fixture
async def twin() -> AsyncIterator[tuple[AemTwin, httpx.AsyncClient]]:
    t = AemTwin(author_token=TOKEN)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=t.app), base_url="http://aem") as c:
        yield t, c


async def test_encoded_and_unencoded_forms(twin: tuple[AemTwin, httpx.AsyncClient]) -> None:
    t, c = twin
    encoded = persisted_query_path("bff", "ui-copy", {"journey": "signin", "locale": "fr_ca"})
    r1 = await c.get(encoded)
    r2 = await c.get("/graphql/execute.json/bff/ui-copy;journey=signin;locale=fr_ca")
    assert r1.status_code == r2.status_code == 200
    assert r1.json() == r2.json()
    item = r1.json()["data"]["uiCopyList"]["items"][0]
    assert set(item) == {"_path", "_variation", "journey", "strings"}
    assert item["_path"] == "/content/dam/bff/fr_ca/ui-copy/signin" and item["_variation"] == "master"
    fragment = parse_copy(r1.json(), journey="signin", expected_path=item["_path"])
    assert fragment is not None and fragment.strings["email.label"] == "Courriel professionnel"
    assert [call.variables for call in t.calls] == [{"journey": "signin", "locale": "fr_ca"}] * 2


async def test_aem_cache_headers(twin: tuple[AemTwin, httpx.AsyncClient]) -> None:
    _, c = twin
    r = await c.get(persisted_query_path("bff", "ui-copy", {"journey": "common", "locale": "en"}))
    assert r.headers["cache-control"] == "max-age=60"
    assert (
        r.headers["surrogate-control"] == "max-age=7200, stale-while-revalidate=86400, stale-if-error=86400"
    )
    assert r.headers["content-type"].startswith("application/json")


async def test_aem_error_behaviour(twin: tuple[AemTwin, httpx.AsyncClient]) -> None:
    _, c = twin
    missing = await c.get(persisted_query_path("bff", "ui-copy", {"journey": "signin"}))
    assert missing.status_code == 200
    error = missing.json()["errors"][0]
    assert "locale" in error["message"] and error["extensions"]["classification"] == "ValidationError"
    for path in ("/graphql/execute.json/bff/no-such-query", "/graphql/execute.json/wknd/ui-copy;journey=x"):
        r = await c.get(path)
        assert r.status_code == 404 and r.text == "No suitable endpoint found"
    empty = await c.get(persisted_query_path("bff", "ui-copy", {"journey": "signin", "locale": "pt_br"}))
    assert empty.json() == {"data": {"uiCopyList": {"items": []}}}  # AEM has no locale fallback
    bad = await c.get("/graphql/execute.json/bff/ui-copy;journey")
    assert bad.status_code == 400


async def test_author_tier_needs_the_token_and_serves_drafts(twin: tuple[AemTwin, httpx.AsyncClient]) -> None:
    t, c = twin
    path = "/author" + persisted_query_path("bff", "ui-copy", {"journey": "signin", "locale": "en"})
    assert (await c.get(path)).status_code == 401
    assert (await c.get(path, headers={"Authorization": "Bearer wrong"})).status_code == 401
    r = await c.get(path, headers={"Authorization": f"Bearer {TOKEN}"})
    strings = r.json()["data"]["uiCopyList"]["items"][0]["strings"]
    assert strings["title"] == "Welcome back" and strings["submit"] == "Continue"
    assert r.headers["surrogate-control"].startswith("max-age=60,")
    published = await c.get(persisted_query_path("bff", "ui-copy", {"journey": "signin", "locale": "en"}))
    assert published.json()["data"]["uiCopyList"]["items"][0]["strings"]["title"] == "Sign in"
    assert t.count("author") == 3 and t.count("publish") == 1


async def test_knobs(twin: tuple[AemTwin, httpx.AsyncClient]) -> None:
    t, c = twin
    path = persisted_query_path("bff", "ui-copy", {"journey": "signin", "locale": "en"})
    t.knobs["publish"].mode = "down"
    assert (await c.get(path)).status_code == 503
    t.knobs["publish"].mode = "garbage"
    r = await c.get(path)
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/html")
    t.knobs["publish"].mode = "errors"
    assert "errors" in (await c.get(path)).json()
    t.knobs["publish"].mode = "ok"
    t.knobs["publish"].fail_next = 1
    assert [(await c.get(path)).status_code for _ in range(2)] == [503, 200]


async def test_http_control_and_editing_sends_a_cloudevent() -> None:
    received: list[httpx.Request] = []

    async def hook(request: httpx.Request) -> httpx.Response:
        received.append(request)
        return httpx.Response(200, json={})

    t = AemTwin(
        author_token=TOKEN,
        webhook=Webhook("http://bff/bff/hooks/aem", "s3cret"),
        http=httpx.AsyncClient(transport=httpx.MockTransport(hook)),
    )
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=t.app), base_url="http://aem") as c:
        r = await c.post("/__twin/state", json={"tier": "author", "mode": "down", "delay": 0.0})
        assert r.json()["knobs"]["author"]["mode"] == "down"
        assert (await c.post("/__twin/state", json={"mode": "broken"})).status_code == 400
        r = await c.patch("/__twin/fragments/publish/de/signin", json={"title": "Hallo"})
        assert r.status_code == 200
        path = persisted_query_path("bff", "ui-copy", {"journey": "signin", "locale": "de"})
        strings = (await c.get(path)).json()["data"]["uiCopyList"]["items"][0]["strings"]
        assert strings["title"] == "Hallo" and strings["submit"] == "Weiter"  # PATCH merges
        event = json.loads(received[0].content)
        assert received[0].headers["x-webhook-secret"] == "s3cret"
        assert received[0].headers["content-type"] == "application/cloudevents+json"
        assert event["type"] == "aem.sites.contentFragment.published" and event["specversion"] == "1.0"
        assert event["data"]["path"] == "/content/dam/bff/de/ui-copy/signin"
        await c.put("/__twin/fragments/author/de/signin", json={"title": "Entwurf"})
        assert json.loads(received[1].content)["type"] == "aem.sites.contentFragment.modified"
        assert (await c.put("/__twin/fragments/publish/de/checkout", json={})).status_code == 404
        assert (await c.put("/__twin/fragments/publish/de/signin", json={"a": 1})).status_code == 400
        assert (await c.post("/__twin/reset")).status_code == 204
        assert t.knobs["author"].mode == "ok" and not t.calls


async def test_list_json(twin: tuple[AemTwin, httpx.AsyncClient]) -> None:
    _, c = twin
    listed = (await c.get("/graphql/list.json/bff")).json()
    assert listed[0]["configurationName"] == "bff"
    assert listed[0]["queries"][0]["path"]["shortForm"] == "/bff/ui-copy"
    assert "uiCopyList" in listed[0]["queries"][0]["data"]["query"]
