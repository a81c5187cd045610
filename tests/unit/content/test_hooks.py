"""POST /bff/hooks/aem: challenge, authentication (shared secret, Adobe I/O signatures),
CloudEvents parsing, de-duplication on source + id, eviction."""

from __future__ import annotations

import base64
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
from tests.unit.content.conftest import HOOK_SECRET, Harness

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
        "time": "2026-11-26T10:00:00.000Z",
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
    assert r.status_code == 200 and r.json() == {"challenge": "8ec8d794-e0ab-42df-9017-e3dada8e84f7"}
    assert r.headers["content-type"] == "application/json"
    r = await h.client.post("/bff/hooks/aem?challenge=abc")
    assert r.json() == {"challenge": "abc"}
    assert (await h.client.get("/bff/hooks/aem?challenge=<script>%20x")).status_code == 400
    assert (await h.client.get("/bff/hooks/aem")).status_code == 400


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
    body = json.dumps(event("/content/dam/bff/ja/ui-copy/common")).encode()
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
