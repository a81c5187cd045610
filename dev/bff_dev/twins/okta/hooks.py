"""Okta event hooks: one-time verification, then at-least-once delivery of LogEvents.

Delivery never blocks the API call that caused the event: each event is sent by a background
task. Before the first delivery to a hook the twin performs Okta's verification GET
(``x-okta-verification-challenge``) and requires ``{"verification": <challenge>}``; an
unverified hook receives nothing (verification is retried with the next event). A 5xx answer
or a timeout/connection error is retried once, as Okta does. Every attempt is recorded in
:attr:`EventHooks.deliveries` for tests.
"""

from __future__ import annotations

import asyncio
import secrets
import uuid
from dataclasses import dataclass, field
from typing import Any

import httpx

from bff_dev.twins.okta.directory import User, iso
from bff_dev.twins.okta.model import EventHook
from bff_dev.twins.okta.org import OktaOrg

USER_AGENT = "Okta Event Hooks (local twin)"


@dataclass
class Delivery:
    hook_id: str
    kind: str  # "verify" | "event"
    event_ids: list[str]
    event_type: str | None
    attempts: list[int] = field(default_factory=list)  # HTTP status per attempt, 0 = unreachable
    ok: bool = False


class EventHooks:
    def __init__(self, org: OktaOrg) -> None:
        self.org = org
        self.deliveries: list[Delivery] = []
        self.events: list[dict[str, Any]] = []  # every LogEvent emitted (a System Log of sorts)
        self._verifying: dict[str, asyncio.Lock] = {}

    def log_event(self, event_type: str, user: User, *, actor: dict[str, Any],
                  display_message: str) -> dict[str, Any]:
        """Record a LogEvent about ``user`` and queue its delivery to the subscribed hooks."""
        org = self.org
        event: dict[str, Any] = {
            "uuid": str(uuid.uuid4()),
            "published": iso(org.now()),
            "eventType": event_type,
            "version": "0",
            "displayMessage": display_message,
            "severity": "INFO",
            "client": {"userAgent": {"rawUserAgent": USER_AGENT}, "zone": "null", "device": "Unknown",
                       "ipAddress": "127.0.0.1"},
            "actor": actor,
            "outcome": {"result": "SUCCESS", "reason": None},
            "target": [{"id": user.id, "type": "User", "alternateId": user.login,
                        "displayName": user.display_name, "detailEntry": None}],
            "transaction": {"type": "WEB", "id": secrets.token_urlsafe(18), "detail": {}},
            "debugContext": {"debugData": {}},
            "legacyEventType": None,
            "authenticationContext": {"authenticationStep": 0, "externalSessionId": None},
            "securityContext": {},
        }
        self.events.append(event)
        for hook in org.event_hooks:
            if event_type in hook.events:
                org.spawn(self._deliver(hook, event))
        return event

    def payload(self, hook: EventHook, events: list[dict[str, Any]]) -> dict[str, Any]:
        return {
            "eventType": "com.okta.event_hook",
            "eventTypeVersion": "1.0",
            "cloudEventsVersion": "0.1",
            "source": f"{self.org.base_url}/api/v1/eventHooks/{hook.id}",
            "eventId": str(uuid.uuid4()),
            "data": {"events": events},
            "eventTime": iso(self.org.now()),
            "contentType": "application/json",
        }

    def _headers(self, hook: EventHook) -> dict[str, str]:
        return {hook.auth_header: hook.auth_value, "User-Agent": USER_AGENT}

    async def verify(self, hook: EventHook) -> bool:
        challenge = secrets.token_urlsafe(30)
        record = Delivery(hook.id, "verify", [], None)
        self.deliveries.append(record)
        headers = {**self._headers(hook), "x-okta-verification-challenge": challenge}
        body: Any = None
        try:
            response = await self.org.http.get(hook.url, headers=headers)
        except httpx.HTTPError:
            record.attempts.append(0)
        else:
            record.attempts.append(response.status_code)
            try:
                body = response.json() if response.status_code == 200 else None
            except ValueError:
                body = None
        hook.verified = isinstance(body, dict) and body.get("verification") == challenge
        record.ok = hook.verified
        self.org.counters["hook:verify"] += 1
        return hook.verified

    async def _verified(self, hook: EventHook) -> bool:
        """Okta verifies a hook once: deliveries queued together wait for one verification."""
        lock = self._verifying.setdefault(hook.id, asyncio.Lock())
        async with lock:
            return hook.verified or await self.verify(hook)

    async def _deliver(self, hook: EventHook, event: dict[str, Any]) -> None:
        if not await self._verified(hook):
            self.deliveries.append(Delivery(hook.id, "event", [event["uuid"]], event["eventType"]))
            return
        record = Delivery(hook.id, "event", [event["uuid"]], event["eventType"])
        self.deliveries.append(record)
        body = self.payload(hook, [event])
        for _attempt in range(2):  # Okta retries once on 5xx / timeout
            try:
                response = await self.org.http.post(hook.url, json=body, headers=self._headers(hook))
                status = response.status_code
            except httpx.HTTPError:
                status = 0
            record.attempts.append(status)
            self.org.counters["hook:deliver"] += 1
            if 200 <= status < 300:
                record.ok = True
                return
            if 0 < status < 500:
                return
