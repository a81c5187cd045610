"""POST /bff/hooks/aem: challenge, authentication (shared secret, Adobe I/O signatures),
CloudEvents parsing, de-duplication on source + id, eviction."""

from __future__ import annotations

import base64
import datetime as dt
import json
import uuid
from typing import Any

import httpx
import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from bff.content.bus import LocalBus
from bff.content.hooks import SignatureVerifier, parse_events, parse_fragment_path
from bff.errors import BadRequest, UnsupportedMediaType
from tests.unit.content.conftest import HOOK_SECRET, Harness, harness

KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)
PEM = KEY.public_key().public_bytes(
    serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
)
KEY_PATH = "/prod/keys/pub-key-abc123.pem"


def event(
    path: str = "/content/dam/bff/en/ui-copy/signin", kind: str = "published", **over: Any
) -> dict[str, Any]:
    base = {
        "specversion": "1.0",
        "id": str(uuid.uuid4()),
        "source": "acct:aem-p1-e2@AdobeOrg",
        "type": f"aem.sites.contentFragment.{kind}",
        "datacontenttype": "application/json",
        "time": dt.datetime.now(dt.UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z"),
        "data": {
            "path": path,
            "id": str(uuid.uuid4()),
            "model": {"id": "m1", "path": "/conf/bff/settings/dam/cfm/models/uiCopy"},
        },
    }
    base.update(over)
    return base


def auth(**extra: str) -> dict[str, str]:
    return {"X-Webhook-Secret": HOOK_SECRET, "Content-Type": "application/cloudevents+json", **extra}


def sign(body: bytes) -> str:
    return base64.b64encode(KEY.sign(body, padding.PKCS1v15(), hashes.SHA256())).decode()


# -- pure functions -------------------------------------------------------------------------


def test_fragment_paths() -> None:
    ref = parse_fragment_path("/content/dam/bff/fr_ca/ui-copy/signin", site="bff")
    assert ref is not None and (ref.locale, ref.journey) == ("fr-CA", "signin")
    for bad in (
        "/content/dam/bff/fr/ui-copy/checkout",
        "/content/dam/wknd/en/ui-copy/signin",
        "/content/dam/bff/en/adventures/x",
        "/content/dam/bff/../ui-copy/signin",
        "/content/dam/bff/en/ui-copy/signin/extra",
        "",
    ):
        assert parse_fragment_path(bad, site="bff") is None, bad


def test_parse_events_modes() -> None:
    one = event()
    assert [e.id for e in parse_events(json.dumps(one).encode(), "application/cloudevents+json", {})] == [
        one["id"]
    ]
    batch = [event(), event()]
    assert len(parse_events(json.dumps(batch).encode(), "application/cloudevents-batch+json", {})) == 2
    binary = parse_events(
        json.dumps({"path": "/content/dam/bff/de/ui-copy/admin"}).encode(),
        "application/json",
        {
            "ce-id": "b1",
            "ce-source": "s",
            "ce-type": "aem.sites.contentFragment.published",
            "ce-specversion": "1.0",
        },
    )
    assert binary[0].data["path"] == "/content/dam/bff/de/ui-copy/admin"
    with pytest.raises(UnsupportedMediaType):
        parse_events(b"{}", "text/plain", {})
    for body in (
        b"nope",
        b"[]",
        b'{"specversion": "0.3", "id": "1", "source": "s", "type": "t"}',
        b'{"specversion": "1.0", "source": "s", "type": "t"}',
        json.dumps([event()] * 101).encode(),
        b"3",
    ):
        with pytest.raises(BadRequest):
            parse_events(body, "application/json", {})


def test_dedupe_key_is_source_and_id() -> None:
    a = parse_events(json.dumps(event(id="1", source="s1")).encode(), "application/json", {})[0]
    b = parse_events(json.dumps(event(id="1", source="s2")).encode(), "application/json", {})[0]
    c = parse_events(json.dumps(event(id="1", source="s1", type="x")).encode(), "application/json", {})[0]
    assert a.dedupe_key != b.dedupe_key and a.dedupe_key == c.dedupe_key


async def test_signature_verifier() -> None:
    fetched: list[str] = []

    async def keys(request: httpx.Request) -> httpx.Response:
        fetched.append(request.url.path)
        return httpx.Response(200, content=PEM) if request.url.path == KEY_PATH else httpx.Response(404)

    verifier = SignatureVerifier(httpx.AsyncClient(transport=httpx.MockTransport(keys)))
    body = b'{"hello": "world"}'
    good = {"x-adobe-digital-signature-1": sign(body), "x-adobe-public-key1-path": KEY_PATH}
    assert await verifier.verify(body, good)
    assert await verifier.verify(body, good) and fetched == [KEY_PATH]  # key cached
    assert not await verifier.verify(body + b" ", good)
    # Either signature may verify (key rotation): a bad first one and a good second one pass.
    rotated = {
        "x-adobe-digital-signature-1": "AAAA",
        "x-adobe-public-key1-path": KEY_PATH,
        "x-adobe-digital-signature-2": sign(body),
        "x-adobe-public-key2-path": KEY_PATH,
    }
    assert await verifier.verify(body, rotated)
    # Key paths outside Adobe's pattern are never fetched (no SSRF through the header).
    evil = {"x-adobe-digital-signature-1": sign(body), "x-adobe-public-key1-path": "/../internal/admin"}
    assert not await verifier.verify(body, evil)
    assert not await verifier.verify(
        body, {"x-adobe-digital-signature-1": "!!notbase64", "x-adobe-public-key1-path": KEY_PATH}
    )
    assert fetched == [KEY_PATH]


async def test_local_bus_dedupes_and_releases() -> None:
    applied: list[tuple[str | None, str | None]] = []
    def apply(journey: str | None, locale: str | None) -> int:
        applied.append((journey, locale))
        return 1

    bus = LocalBus(apply)
    assert await bus.claim_event("k") and not await bus.claim_event("k")
    await bus.release_event("k")
    assert await bus.claim_event("k")
    await bus.publish("signin", "en")
    assert applied == [("signin", "en")]


# -- the endpoint ---------------------------------------------------------------------------


async def test_challenge_is_echoed(h: Harness) -> None:
    r = await h.client.get("/bff/hooks/aem?challenge=8ec8d794-e0ab-42df-9017-e3dada8e84f7")
    assert r.status_code == 200 and r.text == "8ec8d794-e0ab-42df-9017-e3dada8e84f7"
    assert r.headers["content-type"] == "text/plain; charset=utf-8"
    assert r.headers["x-content-type-options"] == "nosniff" and r.headers["cache-control"] == "no-store"
    r = await h.client.post("/bff/hooks/aem?challenge=abc")
    assert r.text == "abc"
    assert (await h.client.get("/bff/hooks/aem")).status_code == 400


@pytest.mark.parametrize("challenge", [
    "<script>%20x", "%22%3E%3Csvg%20onload%3Dalert(1)%3E", "a" * 129, "", "x%0d%0aSet-Cookie:%20a=b",
    "abc%00", "caf%C3%A9", "a/b", "a;b"])
async def test_only_a_challenge_of_adobes_shape_is_echoed(h: Harness, challenge: str) -> None:
    """Issue 12 §3: the echo is bounded and charset-checked (the endpoint reflects nothing else)."""
    r = await h.client.get(f"/bff/hooks/aem?challenge={challenge}")
    assert r.status_code == 400 and r.json()["code"] == "invalid_challenge"
    assert r.headers["content-type"] == "application/problem+json"
    assert (await h.client.get("/bff/hooks/aem?challenge=a&challenge=b")).status_code == 400


async def test_publish_event_evicts_and_the_next_request_has_the_new_copy(h: Harness) -> None:
    first = (await h.client.get("/bff/content/signin?locale=en")).json()
    h.twin.set_copy("publish", "en", "signin", {**first["strings"], "title": "Sign in, freshly published"})
    assert (await h.client.get("/bff/content/signin?locale=en")).json()["strings"]["title"] == "Sign in"

    r = await h.client.post("/bff/hooks/aem", content=json.dumps(event()), headers=auth())
    assert r.status_code == 200, r.text
    assert r.json() == {
        "received": 1,
        "evicted": [{"journey": "signin", "locale": "en"}],
        "duplicates": 0,
        "ignored": 0,
        "cdnInvalidation": None,
    }
    after = (await h.client.get("/bff/content/signin?locale=en")).json()
    assert after["strings"]["title"] == "Sign in, freshly published" and after["source"] == "aem"


async def test_a_parent_locale_change_reaches_regional_responses(h: Harness) -> None:
    await h.client.get("/bff/content/signin?locale=fr-CA")
    strings = dict(h.area.service.bundle.strings("fr", "signin") or {})
    h.twin.set_copy("publish", "fr", "signin", {**strings, "title": "Connexion (nouveau)"})
    await h.client.post(
        "/bff/hooks/aem", content=json.dumps(event("/content/dam/bff/fr/ui-copy/signin")), headers=auth()
    )
    doc = (await h.client.get("/bff/content/signin?locale=fr-CA")).json()
    assert doc["strings"]["title"] == "Connexion (nouveau)"
    assert h.twin.count("publish", locale="fr_ca") == 1  # only the changed fragment was re-fetched


async def test_duplicates_are_skipped(h: Harness) -> None:
    await h.client.get("/bff/content/signin?locale=en")
    e = event()
    r1 = await h.client.post("/bff/hooks/aem", content=json.dumps(e), headers=auth())
    await h.client.get("/bff/content/signin?locale=en")
    calls = h.twin.count("publish", journey="signin")
    r2 = await h.client.post("/bff/hooks/aem", content=json.dumps(e), headers=auth())
    assert r1.json()["duplicates"] == 0 and r2.json()["duplicates"] == 1 and r2.json()["evicted"] == []
    await h.client.get("/bff/content/signin?locale=en")
    assert h.twin.count("publish", journey="signin") == calls  # no second eviction


async def test_batch_with_ignored_events(h: Harness) -> None:
    batch = [
        event("/content/dam/bff/de/ui-copy/admin"),
        event("/content/dam/bff/de/ui-copy/admin", "modified"),
        event("/content/dam/wknd/en/adventures/x"),
        event(type="aem.sites.page.published"),
    ]
    r = await h.client.post(
        "/bff/hooks/aem",
        content=json.dumps(batch),
        headers=auth(**{"Content-Type": "application/cloudevents-batch+json"}),
    )
    assert r.json()["evicted"] == [{"journey": "admin", "locale": "de"}] and r.json()["ignored"] == 2


@pytest.mark.parametrize(
    ("headers", "body", "status", "code"),
    [
        ({"Content-Type": "application/json"}, None, 401, "invalid_webhook_auth"),
        (
            {"X-Webhook-Secret": "wrong", "Content-Type": "application/json"},
            None,
            401,
            "invalid_webhook_auth",
        ),
        (
            {"X-Webhook-Secret": HOOK_SECRET, "Content-Type": "text/plain"},
            None,
            415,
            "unsupported_media_type",
        ),
        (
            {"X-Webhook-Secret": HOOK_SECRET, "Content-Type": "application/json"},
            b"{oops",
            400,
            "invalid_event",
        ),
        (
            {"X-Webhook-Secret": HOOK_SECRET, "Content-Type": "application/json"},
            b"[" * 5000,  # deeper than the JSON parser recurses
            400,
            "invalid_event",
        ),
        (
            {"X-Webhook-Secret": HOOK_SECRET, "Content-Type": "application/json"},
            b'{"specversion": "1.0", "id": "a", "id": "b", "source": "s", "type": "t"}',
            400,
            "invalid_event",
        ),
        (
            {"X-Webhook-Secret": HOOK_SECRET, "Content-Type": "application/json"},
            b'{"specversion": "1.0", "id": "a", "source": "s", "type": "t", "data": {"n": NaN}}',
            400,
            "invalid_event",
        ),
        (
            {"X-Webhook-Secret": HOOK_SECRET, "Content-Type": "application/json"},
            b'{"specversion": "1.0", "id": "a", "source": "s", "type": "t", "data": '
            + b'{"a": ' * 40 + b"1" + b"}" * 41,  # deeper than an event ever nests
            400,
            "invalid_event",
        ),
        (
            {"X-Webhook-Secret": HOOK_SECRET, "Content-Type": "application/json"},
            b"x" * 300_000,
            413,
            "payload_too_large",
        ),
        (
            {
                "Content-Type": "application/json",
                "x-adobe-digital-signature-1": "AAAA",
                "x-adobe-public-key1-path": KEY_PATH,
            },
            None,
            401,
            "invalid_webhook_auth",
        ),
    ],
)
async def test_rejections(
    h: Harness, headers: dict[str, str], body: bytes | None, status: int, code: str
) -> None:
    await h.client.get("/bff/content/signin?locale=en")
    r = await h.client.post(
        "/bff/hooks/aem", content=body if body is not None else json.dumps(event()), headers=headers
    )
    assert r.status_code == status, r.text
    assert r.json()["code"] == code and HOOK_SECRET not in r.text
    assert h.area.service.cache.fresh(next(iter(h.area.service.cache._entries))) is not None  # noqa: SLF001


async def test_signed_delivery_is_accepted(h: Harness) -> None:
    h.area.hooks.verifier = SignatureVerifier(
        httpx.AsyncClient(transport=httpx.MockTransport(lambda request: httpx.Response(200, content=PEM)))
    )
    h.area.hooks.client_id = "our-client"
    body = json.dumps(event("/content/dam/bff/ja/ui-copy/common", recipientclientid="our-client")).encode()
    r = await h.client.post(
        "/bff/hooks/aem",
        content=body,
        headers={
            "Content-Type": "application/json",
            "x-adobe-digital-signature-1": sign(body),
            "x-adobe-public-key1-path": KEY_PATH,
        },
    )
    assert r.status_code == 200 and r.json()["evicted"] == [{"journey": "common", "locale": "ja"}]


async def test_a_failure_half_way_releases_the_event_for_redelivery(h: Harness) -> None:
    area = h.area
    original = area.hooks.bus.publish
    calls = 0

    async def flaky(journey: str | None, locale: str | None) -> None:
        nonlocal calls
        calls += 1
        if calls == 1:
            raise RuntimeError("bus down")
        await original(journey, locale)

    area.hooks.bus.publish = flaky  # type: ignore[method-assign]
    body = json.dumps(event())
    r = await h.client.post("/bff/hooks/aem", content=body, headers=auth())
    assert r.status_code == 503 and r.json()["code"] == "hook_failed"
    r = await h.client.post("/bff/hooks/aem", content=body, headers=auth())  # Adobe's redelivery
    assert r.status_code == 200 and r.json()["duplicates"] == 0 and r.json()["evicted"]


# -- issue 12 §3: only events for us, recent ones, and no outbound fetch per request --------------


async def test_events_for_another_client_id_are_refused(h: Harness) -> None:
    async with harness(BFF_AEM_EVENTS_CLIENT_ID="our-client") as hh:
        await hh.client.get("/bff/content/signin?locale=en")
        for recipient in ({}, {"recipientclientid": "their-client"}, {"recipient_client_id": "our-clien"}):
            r = await hh.client.post("/bff/hooks/aem", content=json.dumps(event(**recipient)), headers=auth())
            assert r.status_code == 403 and r.json()["code"] == "wrong_recipient", recipient
        assert hh.area.service.cache.fresh(next(iter(hh.area.service.cache._entries))) is not None  # noqa: SLF001
        for recipient in ({"recipientclientid": "our-client"}, {"recipient_client_id": "our-client"}):
            r = await hh.client.post("/bff/hooks/aem", content=json.dumps(event(**recipient)), headers=auth())
            assert r.status_code == 200 and r.json()["evicted"], recipient
        # one foreign event spoils the batch: nothing of it is applied
        batch = [event(recipientclientid="our-client"), event(recipientclientid="their-client")]
        r = await hh.client.post("/bff/hooks/aem", content=json.dumps(batch), headers=auth())
        assert r.status_code == 403


async def test_signed_deliveries_need_the_client_id(h: Harness) -> None:
    body = json.dumps(event()).encode()

    async def keys(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, content=PEM)

    h.area.hooks.verifier.http = httpx.AsyncClient(transport=httpx.MockTransport(keys))
    signed = {"Content-Type": "application/cloudevents+json", "x-adobe-digital-signature-1": sign(body),
              "x-adobe-public-key1-path": KEY_PATH}
    r = await h.client.post("/bff/hooks/aem", content=body, headers=signed)
    assert r.status_code == 403 and r.json()["code"] == "events_client_not_configured"
    h.area.hooks.client_id = "our-client"
    body = json.dumps(event(recipientclientid="our-client")).encode()
    r = await h.client.post("/bff/hooks/aem", content=body, headers={**signed,
                            "x-adobe-digital-signature-1": sign(body)})
    assert r.status_code == 200, r.text


@pytest.mark.parametrize(("offset", "ok"), [(-86400 + 60, True), (-86400 - 60, False), (200, True),
                                            (400, False)])
async def test_events_outside_the_replay_window_are_refused(h: Harness, offset: float, ok: bool) -> None:
    when = dt.datetime.now(dt.UTC) + dt.timedelta(seconds=offset)
    r = await h.client.post("/bff/hooks/aem", content=json.dumps(event(time=when.isoformat())),
                            headers=auth())
    assert (r.status_code == 200) is ok, r.text
    if not ok:
        assert r.status_code == 400 and r.json()["code"] == "stale_event"


@pytest.mark.parametrize("when", [None, "yesterday", "2026-11-26T10:00:00", 5])
async def test_an_event_without_a_valid_time_is_refused(h: Harness, when: object) -> None:
    e = event(time=when)
    if when is None:
        del e["time"]
    r = await h.client.post("/bff/hooks/aem", content=json.dumps(e), headers=auth())
    assert r.status_code == 400 and r.json()["code"] == "invalid_event"


async def test_a_failed_key_fetch_is_cached_and_fetches_are_budgeted(h: Harness) -> None:
    fetched: list[str] = []

    async def keys(request: httpx.Request) -> httpx.Response:
        fetched.append(request.url.path)
        return httpx.Response(503)

    verifier = SignatureVerifier(httpx.AsyncClient(transport=httpx.MockTransport(keys)))
    h.area.hooks.verifier = verifier
    body = json.dumps(event()).encode()
    forged = {"Content-Type": "application/cloudevents+json", "x-adobe-digital-signature-1": sign(body),
              "x-adobe-public-key1-path": KEY_PATH}
    for _ in range(50):
        r = await h.client.post("/bff/hooks/aem", content=body, headers=forged)
        assert r.status_code == 401
    assert fetched == [KEY_PATH]  # one fetch, then the failure is remembered
    # made-up key paths, one per request: the fetch budget caps outbound calls
    for n in range(50):
        await h.client.post("/bff/hooks/aem", content=body, headers={
            **forged, "x-adobe-public-key1-path": f"/prod/keys/pub-key-{n}.pem"})
    assert len(fetched) <= 1 + 5 and verifier.fetches == len(fetched)
