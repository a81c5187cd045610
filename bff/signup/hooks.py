"""Okta event hooks: authentication of a delivery and extraction of the users it created.

The delivery is parsed and dispatched by event type in :mod:`bff.okta.events` (one
:class:`~bff.okta.events.EventHook` per app, built by :mod:`bff.signup.component`); this module
keeps the authentication and the ``user.lifecycle.create`` reading of the sign-up area.

Okta authenticates a delivery with a header whose name and value are configured on the hook
(``Authorization: <BFF_OKTA_HOOK_SECRET>`` here). ``BFF_OKTA_HOOK_SECRET`` may list several
values (newest first) while the secret is rotated: the header is compared, in constant time, with
every one of them, and any match is accepted. The
``user.lifecycle.activate`` events with a successful outcome and a ``User`` target become
``AccountCreated`` (source ``okta-hook``): an account is announced once it is ACTIVE, that is
once its email is verified (issue 11); ``user.lifecycle.create`` is the creation of a STAGED
user who may never verify, and produces nothing. They are completed from the user's Okta profile
by the
relay (the LogEvent carries only the id, login and display name) so the hook answers well
within Okta's 3 s. The account-notice events (``user.account.lock``,
``user.account.update_password``, ``user.mfa.factor.activate``) name their user the same way
(:func:`notice_subjects`) and become the notices of :mod:`bff.signup.notices`.
"""

from __future__ import annotations

import hmac
from collections.abc import Sequence
from dataclasses import dataclass

from starlette.requests import HTTPConnection

from bff.errors import Forbidden, Unauthenticated
from bff.okta.events import LogEvent
from bff.signup.events import utc_now_iso
from bff.signup.notices import NOTICE_FOR

AUTH_HEADER = "authorization"
#: The LogEvent that announces a new account: its activation (after email verification).
CREATE_EVENT = "user.lifecycle.activate"


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


@dataclass(frozen=True)
class NoticeSubject:
    """The user an account-notice LogEvent is about (:mod:`bff.signup.notices`)."""

    event_uuid: str
    event_type: str
    user_id: str
    login: str
    published: str


def notice_subjects(events: Sequence[LogEvent]) -> list[NoticeSubject]:
    """The user of each successful notice event among ``events`` (one per event): its first
    ``User`` target, or for an event a user raises on their own account without a target (a
    lockout, a password change) its ``User`` actor, as in :mod:`bff.auth.revocation`."""
    out: list[NoticeSubject] = []
    for event in events:
        if event.event_type not in NOTICE_FOR or not event.succeeded:
            continue
        users = event.users()
        subject = users[0] if users else (event.actor if event.actor is not None
                                           and event.actor.type == "User" else None)
        if subject is None:
            continue
        out.append(NoticeSubject(event.uuid, event.event_type, subject.id, subject.alternate_id,
                                 event.published or utc_now_iso()))
    return out


def created_users(events: Sequence[LogEvent]) -> list[CreatedUser]:
    """The users created by the ``user.lifecycle.create`` events among ``events`` (successful,
    with a ``User`` target)."""
    out: list[CreatedUser] = []
    for event in events:
        if event.event_type != CREATE_EVENT or not event.succeeded:
            continue
        for target in event.users():
            out.append(CreatedUser(event.uuid, target.id, target.alternate_id,
                                   event.published or utc_now_iso()))
    return out
