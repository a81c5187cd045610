"""Okta event hooks: authentication of a delivery and extraction of the users it created.

Okta authenticates a delivery with a header whose name and value are configured on the hook
(``Authorization: <BFF_OKTA_HOOK_SECRET>`` here). ``BFF_OKTA_HOOK_SECRET`` may list several
values (newest first) while the secret is rotated: the header is compared, in constant time, with
every one of them, and any match is accepted. A delivery
is ``{"eventType": "com.okta.event_hook", ..., "data": {"events": [LogEvent, ...]}}``; the
``user.lifecycle.activate`` events with a successful outcome and a ``User`` target become
``AccountCreated`` (source ``okta-hook``): an account is announced once it is ACTIVE, that is
once its email is verified (issue 11); ``user.lifecycle.create`` is the creation of a STAGED
user who may never verify, and produces nothing. They are completed from the user's Okta profile by the
relay (the LogEvent carries only the id, login and display name) so the hook answers well
within Okta's 3 s.
"""

from __future__ import annotations

import hmac
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from starlette.requests import HTTPConnection

from bff.errors import BadRequest, Forbidden, Unauthenticated
from bff.signup.events import utc_now_iso

AUTH_HEADER = "authorization"
#: The LogEvent that announces a new account: its activation (after email verification).
CREATE_EVENT = "user.lifecycle.activate"
MAX_EVENTS = 500
_USER_ID = re.compile(r"^[A-Za-z0-9_-]{1,64}$")


@dataclass(frozen=True)
class CreatedUser:
    event_uuid: str
    user_id: str
    login: str
    published: str


def authenticate(conn: HTTPConnection, secrets: str | Sequence[str], *, required: bool = True) -> None:
    """401 without the header (when ``required``), 403 when it matches none of ``secrets``.

    ``secrets`` are the accepted values (during a rotation: the new and the old one). Each is
    compared in constant time and all of them are always compared, so the timing tells nothing
    about which one matched or how much of it; an empty list accepts nothing.
    """
    value = conn.headers.get(AUTH_HEADER)
    if value is None:
        if required:
            raise Unauthenticated("Missing hook authentication header")
        return
    candidates = (secrets,) if isinstance(secrets, str) else tuple(secrets)
    presented = value.encode("utf-8", "surrogateescape")
    matched = False
    for secret in candidates:
        matched |= hmac.compare_digest(presented, secret.encode())
    if not matched:
        raise Forbidden("Wrong hook secret")


def _published(value: Any) -> str:
    if isinstance(value, str) and len(value) <= 40:
        try:
            datetime.fromisoformat(value.replace("Z", "+00:00"))
            return value
        except ValueError:
            pass
    return utc_now_iso()


def created_users(body: Mapping[str, Any]) -> tuple[list[CreatedUser], int]:
    """The users created by the events of one delivery, and how many events it held in all."""
    data = body.get("data")
    events = data.get("events") if isinstance(data, dict) else None
    if not isinstance(events, list):
        raise BadRequest("Expected data.events to be a list")
    if len(events) > MAX_EVENTS:
        raise BadRequest(f"At most {MAX_EVENTS} events per delivery")
    out: list[CreatedUser] = []
    for event in events:
        if not isinstance(event, dict) or event.get("eventType") != CREATE_EVENT:
            continue
        outcome = event.get("outcome")
        if isinstance(outcome, dict) and outcome.get("result") not in {None, "SUCCESS"}:
            continue
        uuid = event.get("uuid")
        targets = event.get("target")
        if not isinstance(uuid, str) or not isinstance(targets, list):
            continue
        for target in targets:
            if not isinstance(target, dict) or target.get("type") != "User":
                continue
            user_id, login = target.get("id"), target.get("alternateId")
            if isinstance(user_id, str) and _USER_ID.match(user_id):
                out.append(CreatedUser(uuid[:64], user_id, login if isinstance(login, str) else "",
                                       _published(event.get("published"))))
    return out, len(events)
