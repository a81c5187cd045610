"""``POST /bff/hooks/aem``: AEM content-fragment events (CloudEvents 1.0 via Adobe I/O Events)
evict the copy they touch.

- Registration: Adobe sends ``?challenge=...`` and expects it echoed back.
- Authentication: a shared secret in ``X-Webhook-Secret`` (``BFF_AEM_WEBHOOK_SECRET``), or
  Adobe's digital signatures (``x-adobe-digital-signature-1/2`` over the raw body, RSA-SHA256,
  public keys fetched from ``static.adobeioevents.com`` at ``x-adobe-public-key1/2-path``).
- Events arrive structured (one JSON object), batched (a JSON array) or binary (``ce-*``
  headers). Duplicates (same ``source`` + ``id``: Adobe redelivers for 24 h) are skipped.
- ``aem.sites.contentFragment.*`` events about ``/content/dam/{site}/{locale}/ui-copy/{journey}``
  evict that journey and locale on every instance, then (optionally) invalidate CloudFront.
  The payload carries no field values: the next request re-fetches.

If processing fails half-way the event's de-duplication mark is released and the hook answers
503, so Adobe's redelivery is processed instead of being skipped as a duplicate.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import logging
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import cachetools
import httpx
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from bff.content.bundle import JOURNEYS
from bff.content.bus import EvictionBus
from bff.content.cdn import CloudFrontInvalidator
from bff.content.locales import LocalePolicy, from_aem
from bff.errors import BadRequest, BFFError, Unauthenticated, Unavailable, UnsupportedMediaType
from bff.http.body import parse_json
from bff.http.negotiation import media_type

log = logging.getLogger("bff.content.hooks")

MAX_BODY = 256 * 1024
MAX_EVENTS = 100
#: A batch of CloudEvents whose ``data`` carries a fragment's metadata (never its field values).
MAX_DEPTH = 32
SECRET_HEADER = "x-webhook-secret"  # noqa: S105 (a header name)
ADOBE_KEY_HOST = "https://static.adobeioevents.com"
EVENT_PREFIX = "aem.sites.contentFragment."

FRAGMENT_PATH = re.compile(
    r"^/content/dam/(?P<site>[A-Za-z0-9_.-]{1,100})/(?P<locale>[A-Za-z]{2,3}(?:[_-][A-Za-z0-9]{2,8}){0,2})"
    r"/ui-copy/(?P<journey>[a-z]{1,20})$"
)
_KEY_PATH = re.compile(r"^/[a-z]{2,10}/keys/pub-key-[A-Za-z0-9_-]{1,64}\.pem$")
_CHALLENGE = re.compile(r"^[\x21-\x7e]{1,256}$")
_JSON_TYPES = {"application/json", "application/cloudevents+json", "application/cloudevents-batch+json"}


@dataclass(frozen=True)
class FragmentRef:
    site: str
    locale: str  # BCP 47 (fr-CA)
    journey: str


def parse_fragment_path(path: str, *, site: str) -> FragmentRef | None:
    """``/content/dam/bff/fr_ca/ui-copy/signin`` → ``FragmentRef("bff", "fr-CA", "signin")``;
    None for anything that is not UI copy of ``site``."""
    m = FRAGMENT_PATH.match(path)
    if m is None or m["site"] != site or m["journey"] not in JOURNEYS:
        return None
    locale = from_aem(m["locale"])
    return None if locale is None else FragmentRef(m["site"], locale, m["journey"])


def valid_challenge(value: str) -> bool:
    return bool(_CHALLENGE.match(value))


@dataclass(frozen=True)
class CloudEvent:
    id: str
    source: str
    type: str
    data: Mapping[str, Any]

    @property
    def dedupe_key(self) -> str:
        return hashlib.sha256(f"{self.source}\x00{self.id}".encode()).hexdigest()


def _event(obj: Any) -> CloudEvent:
    if not isinstance(obj, dict):
        raise BadRequest("A CloudEvent must be a JSON object", code="invalid_event")
    if obj.get("specversion") != "1.0":
        raise BadRequest("Only CloudEvents specversion 1.0 is accepted", code="invalid_event")
    fields = {}
    for name in ("id", "source", "type"):
        value = obj.get(name)
        if not isinstance(value, str) or not value or len(value) > 1024:
            raise BadRequest(f"CloudEvent attribute {name!r} is missing or invalid", code="invalid_event")
        fields[name] = value
    data = obj.get("data")
    return CloudEvent(fields["id"], fields["source"], fields["type"], data if isinstance(data, dict) else {})


def parse_events(body: bytes, content_type: str, headers: Mapping[str, str]) -> list[CloudEvent]:
    """The events of a request (structured, batch or binary content mode)."""
    if media_type(content_type) not in _JSON_TYPES:
        raise UnsupportedMediaType("Send CloudEvents as application/cloudevents+json or application/json")
    payload = parse_json(body, max_depth=MAX_DEPTH, code="invalid_event")
    if "ce-id" in headers:  # binary content mode: attributes in headers, the body is ``data``
        payload = {"specversion": headers.get("ce-specversion"), "id": headers.get("ce-id"),
                   "source": headers.get("ce-source"), "type": headers.get("ce-type"), "data": payload}
    items = payload if isinstance(payload, list) else [payload]
    if not items or len(items) > MAX_EVENTS:
        raise BadRequest(f"Send between 1 and {MAX_EVENTS} events", code="invalid_event")
    return [_event(item) for item in items]


class SignatureVerifier:
    """Adobe I/O Events digital signatures (RSA-SHA256 over the raw body; either of the two
    signatures may verify, so Adobe can rotate keys). Public keys are cached for a day."""

    def __init__(self, http: httpx.AsyncClient, *, key_host: str = ADOBE_KEY_HOST,
                 timeout: float = 5.0) -> None:
        self.http = http
        self.key_host = key_host.rstrip("/")
        self.timeout = timeout
        self._keys: cachetools.TTLCache[str, rsa.RSAPublicKey] = cachetools.TTLCache(16, 24 * 3600)

    @staticmethod
    def present(headers: Mapping[str, str]) -> bool:
        return "x-adobe-digital-signature-1" in headers or "x-adobe-digital-signature-2" in headers

    async def _key(self, path: str) -> rsa.RSAPublicKey | None:
        key = self._keys.get(path)
        if key is not None:
            return key
        try:
            resp = await self.http.get(self.key_host + path, timeout=self.timeout)
        except httpx.HTTPError:
            log.warning("could not fetch the Adobe I/O public key %s", path)
            return None
        if resp.status_code != 200:
            return None
        try:
            loaded = serialization.load_pem_public_key(resp.content)
        except ValueError:
            return None
        if not isinstance(loaded, rsa.RSAPublicKey):
            return None
        self._keys[path] = loaded
        return loaded

    async def verify(self, body: bytes, headers: Mapping[str, str]) -> bool:
        for n in ("1", "2"):
            signature = headers.get(f"x-adobe-digital-signature-{n}")
            path = headers.get(f"x-adobe-public-key{n}-path")
            if not signature or not path or not _KEY_PATH.match(path):
                continue
            key = await self._key(path)
            if key is None:
                continue
            try:
                raw = base64.b64decode(signature, validate=True)
                key.verify(raw, body, padding.PKCS1v15(), hashes.SHA256())
            except (InvalidSignature, binascii.Error, ValueError):
                continue
            return True
        return False


class HookProcessor:
    def __init__(self, *, site: str, secret: str | None, verifier: SignatureVerifier, bus: EvictionBus,
                 policy: LocalePolicy, cdn: CloudFrontInvalidator | None = None) -> None:
        self.site = site
        self.secret = secret
        self.verifier = verifier
        self.bus = bus
        self.policy = policy
        self.cdn = cdn

    async def authenticate(self, body: bytes, headers: Mapping[str, str]) -> None:
        given = headers.get(SECRET_HEADER)
        if given is not None and self.secret:
            if hmac.compare_digest(given.encode(), self.secret.encode()):
                return
            raise Unauthenticated("Wrong webhook secret", code="invalid_webhook_auth")
        if SignatureVerifier.present(headers):
            if await self.verifier.verify(body, headers):
                return
            raise Unauthenticated("The Adobe I/O signature does not verify", code="invalid_webhook_auth")
        raise Unauthenticated("Authenticate with X-Webhook-Secret or Adobe I/O signatures",
                              code="invalid_webhook_auth")

    async def process(self, events: list[CloudEvent]) -> dict[str, Any]:
        claimed: list[CloudEvent] = []
        targets: dict[tuple[str, str], None] = {}
        duplicates = ignored = 0
        try:
            for event in events:
                if not await self.bus.claim_event(event.dedupe_key):
                    duplicates += 1
                    continue
                claimed.append(event)
                ref = self._target(event)
                if ref is None:
                    ignored += 1
                    continue
                targets[(ref.journey, ref.locale)] = None
            for journey, locale in targets:
                await self.bus.publish(journey, locale)
        except BFFError:
            for event in claimed:
                await self.bus.release_event(event.dedupe_key)
            raise
        except Exception as exc:
            for event in claimed:
                await self.bus.release_event(event.dedupe_key)
            raise Unavailable("Could not apply the events; retry", code="hook_failed") from exc
        invalidation = None
        if targets and self.cdn is not None:
            invalidation = await self.cdn.invalidate({j for j, _ in targets})
        evicted = [{"journey": j, "locale": loc} for j, loc in targets]
        if evicted:
            log.info("AEM events evicted %s", ", ".join(f"{j}/{loc}" for j, loc in targets))
        return {"received": len(events), "evicted": evicted, "duplicates": duplicates, "ignored": ignored,
                "cdnInvalidation": invalidation}

    def _target(self, event: CloudEvent) -> FragmentRef | None:
        if not event.type.startswith(EVENT_PREFIX):
            return None
        path = event.data.get("path")
        if not isinstance(path, str):
            return None
        return parse_fragment_path(path, site=self.site)
