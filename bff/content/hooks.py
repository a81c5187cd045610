"""``POST /bff/hooks/aem``: AEM content-fragment events (CloudEvents 1.0 via Adobe I/O Events)
evict the copy they touch.

- Registration: Adobe sends ``?challenge=...`` and expects it echoed back: only a value of
  Adobe's shape (1-128 of ``A-Z a-z 0-9 - _ . ~``, :func:`valid_challenge`) is, as
  ``text/plain``; anything else is 400 (the endpoint never reflects arbitrary input).
- Authentication: a shared secret in ``X-Webhook-Secret`` (``BFF_AEM_WEBHOOK_SECRET``), or
  Adobe's digital signatures (``x-adobe-digital-signature-1/2`` over the raw body, RSA-SHA256,
  public keys fetched from ``static.adobeioevents.com`` at ``x-adobe-public-key1/2-path``). A
  key that could not be fetched is remembered as missing for :data:`KEY_FAILURE_TTL` seconds,
  and at most :data:`KEY_FETCH_BUDGET` fetches of keys not cached start per minute, so
  unauthenticated requests (with made-up key paths) never cause outbound fetches one for one.
- For us: a signature only proves Adobe sent the event, not that it was sent to this app. Every
  event must name ``BFF_AEM_EVENTS_CLIENT_ID`` (our Adobe Developer Console client id) as its
  recipient (``recipient_client_id``, or the CloudEvents extension ``recipientclientid``);
  signed deliveries are refused (403) when it is not configured.
- Replay: every event must carry its ``time``, at most ``BFF_AEM_EVENTS_MAX_AGE`` seconds old
  (default 24 h, Adobe's redelivery period) and not in the future beyond the clock skew (400
  ``stale_event``); within the window the de-duplication marks (3 days) catch a replay.
- Events arrive structured (one JSON object), batched (a JSON array) or binary (``ce-*``
  headers). Duplicates (same ``source`` + ``id``: Adobe redelivers for 24 h) are skipped; the
  marks live in the cache bus store (Redis: shared by every instance), per instance without one.
- ``aem.sites.contentFragment.*`` events about ``/content/dam/{site}/{locale}/ui-copy/{journey}``
  evict that journey and locale on every instance, then (optionally) invalidate CloudFront.
  The payload carries no field values: the next request re-fetches.

If processing fails half-way the event's de-duplication mark is released and the hook answers
503, so Adobe's redelivery is processed instead of being skipped as a duplicate.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import hashlib
import hmac
import logging
import re
import time
from collections.abc import Callable, Mapping
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
from bff.errors import BadRequest, BFFError, Forbidden, Unauthenticated, Unavailable, UnsupportedMediaType
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
#: Adobe's challenges are UUID-like tokens; anything else is not echoed.
_CHALLENGE = re.compile(r"[A-Za-z0-9._~-]{1,128}")
#: Seconds a public key that could not be fetched counts as missing (no refetch meanwhile).
KEY_FAILURE_TTL = 60.0
#: Fetches of keys not in the cache that may start per minute, whatever the key paths.
KEY_FETCH_BUDGET = 5
#: Future ``time`` tolerated (clock skew between Adobe and us).
FUTURE_SKEW = 300.0
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
    return _CHALLENGE.fullmatch(value) is not None


@dataclass(frozen=True)
class CloudEvent:
    id: str
    source: str
    type: str
    data: Mapping[str, Any]
    time: str | None = None
    recipient: str | None = None  # recipient_client_id / recipientclientid

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
    when = obj.get("time")
    recipient = obj.get("recipient_client_id", obj.get("recipientclientid"))
    if isinstance(data, dict) and recipient is None:
        recipient = data.get("recipient_client_id")
    return CloudEvent(fields["id"], fields["source"], fields["type"], data if isinstance(data, dict) else {},
                      time=when if isinstance(when, str) and len(when) <= 64 else None,
                      recipient=recipient if isinstance(recipient, str) and len(recipient) <= 256 else None)


def event_time(value: str | None) -> float | None:
    """Epoch seconds of a CloudEvents ``time`` (RFC 3339), or None when absent or malformed."""
    if not value:
        return None
    try:
        parsed = dt.datetime.fromisoformat(value.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        return None
    if parsed.tzinfo is None:
        return None
    return parsed.timestamp()


def parse_events(body: bytes, content_type: str, headers: Mapping[str, str]) -> list[CloudEvent]:
    """The events of a request (structured, batch or binary content mode)."""
    if media_type(content_type) not in _JSON_TYPES:
        raise UnsupportedMediaType("Send CloudEvents as application/cloudevents+json or application/json")
    payload = parse_json(body, max_depth=MAX_DEPTH, code="invalid_event")
    if "ce-id" in headers:  # binary content mode: attributes in headers, the body is ``data``
        payload = {"specversion": headers.get("ce-specversion"), "id": headers.get("ce-id"),
                   "source": headers.get("ce-source"), "type": headers.get("ce-type"),
                   "time": headers.get("ce-time"), "recipientclientid": headers.get("ce-recipientclientid"),
                   "data": payload}
    items = payload if isinstance(payload, list) else [payload]
    if not items or len(items) > MAX_EVENTS:
        raise BadRequest(f"Send between 1 and {MAX_EVENTS} events", code="invalid_event")
    return [_event(item) for item in items]


class SignatureVerifier:
    """Adobe I/O Events digital signatures (RSA-SHA256 over the raw body; either of the two
    signatures may verify, so Adobe can rotate keys). Public keys are cached for a day."""

    def __init__(self, http: httpx.AsyncClient, *, key_host: str = ADOBE_KEY_HOST,
                 timeout: float = 5.0, clock: Callable[[], float] = time.monotonic) -> None:
        self.http = http
        self.key_host = key_host.rstrip("/")
        self.timeout = timeout
        self._clock = clock
        self._keys: cachetools.TTLCache[str, rsa.RSAPublicKey] = cachetools.TTLCache(16, 24 * 3600)
        # paths whose fetch failed, not retried for KEY_FAILURE_TTL (a short negative cache)
        self._failed: cachetools.TTLCache[str, bool] = cachetools.TTLCache(256, KEY_FAILURE_TTL, timer=clock)
        self._budget_window = -1.0
        self._budget_used = 0
        self.fetches = 0  # outbound key fetches started (tests, metrics)

    def _may_fetch(self) -> bool:
        now = self._clock()
        if now - self._budget_window >= 60.0:
            self._budget_window, self._budget_used = now, 0
        if self._budget_used >= KEY_FETCH_BUDGET:
            return False
        self._budget_used += 1
        return True

    @staticmethod
    def present(headers: Mapping[str, str]) -> bool:
        return "x-adobe-digital-signature-1" in headers or "x-adobe-digital-signature-2" in headers

    async def _key(self, path: str) -> rsa.RSAPublicKey | None:
        key = self._keys.get(path)
        if key is not None:
            return key
        if path in self._failed or not self._may_fetch():
            return None
        self.fetches += 1
        loaded: object = None
        try:
            resp = await self.http.get(self.key_host + path, timeout=self.timeout)
            if resp.status_code == 200 and len(resp.content) <= 16 * 1024:
                loaded = serialization.load_pem_public_key(resp.content)
        except httpx.HTTPError:
            log.warning("could not fetch the Adobe I/O public key %s", path)
        except ValueError:
            loaded = None
        if not isinstance(loaded, rsa.RSAPublicKey):
            self._failed[path] = True
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
                 policy: LocalePolicy, cdn: CloudFrontInvalidator | None = None,
                 client_id: str | None = None, max_age: float = 86400.0,
                 clock: Callable[[], float] = time.time) -> None:
        self.site = site
        self.secret = secret
        self.verifier = verifier
        self.bus = bus
        self.policy = policy
        self.cdn = cdn
        self.client_id = client_id
        self.max_age = max_age
        self.clock = clock

    async def authenticate(self, body: bytes, headers: Mapping[str, str]) -> str:
        """How the request proved itself: ``"secret"`` or ``"signature"`` (else 401)."""
        given = headers.get(SECRET_HEADER)
        if given is not None and self.secret:
            if hmac.compare_digest(given.encode(), self.secret.encode()):
                return "secret"
            raise Unauthenticated("Wrong webhook secret", code="invalid_webhook_auth")
        if SignatureVerifier.present(headers):
            if await self.verifier.verify(body, headers):
                return "signature"
            raise Unauthenticated("The Adobe I/O signature does not verify", code="invalid_webhook_auth")
        raise Unauthenticated("Authenticate with X-Webhook-Secret or Adobe I/O signatures",
                              code="invalid_webhook_auth")

    def check(self, events: list[CloudEvent], how: str) -> None:
        """The events are for us and recent (see the module docstring), else 403/400 before any
        of them is processed."""
        if self.client_id is None and how == "signature":
            raise Forbidden("Signed Adobe I/O deliveries need BFF_AEM_EVENTS_CLIENT_ID",
                            code="events_client_not_configured")
        now = self.clock()
        for event in events:
            if self.client_id is not None and (
                    event.recipient is None
                    or not hmac.compare_digest(event.recipient.encode(), self.client_id.encode())):
                raise Forbidden("The event is not addressed to this application", code="wrong_recipient")
            when = event_time(event.time)
            if when is None:
                raise BadRequest("Every event needs a valid RFC 3339 time", code="invalid_event")
            if now - when > self.max_age or when - now > FUTURE_SKEW:
                raise BadRequest("The event is outside the accepted time window", code="stale_event")

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
