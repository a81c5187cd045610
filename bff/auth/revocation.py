"""The Okta events that end BFF sessions: handlers for the Okta event hook (``/bff/hooks/okta``,
authenticated in :mod:`bff.signup.hooks`, dispatched by :class:`bff.okta.events.EventHook`).

When an account changes at Okta, every BFF session of that user ends at once, on every instance
(the sessions are deleted from the shared store, which every request of every instance reads),
and each session's refresh token is revoked at Okta (``/v1/revoke``). The rules, per event type:

======================================  ====================================================
``user.lifecycle.deactivate``           every session of the user
``user.lifecycle.suspend``              every session of the user
``user.account.lock``                   every session of the user
``user.session.clear``                  every session created before the event
``user.account.reset_password``         every session created before the event
``user.mfa.factor.reset_all``           every session created before the event
``user.account.update_password``        every session created before the event, except the
                                        one whose Okta session (ID token ``sid``) changed it
                                        (``authenticationContext.externalSessionId``), when
                                        the event names it and it is one of the user's
``user.session.end``                    only the sessions of the Okta session the event names
                                        (``externalSessionId``); none when it names none
======================================  ====================================================

"Created before the event" (the event's ``published``): Okta delivers at least once and may be
late, so a user who signs in again after resetting a password or after an admin cleared their
sessions keeps the NEW session when the event arrives (or arrives again). A disabled account
cannot sign in again, so those three end everything whenever they arrive.

The user is the event's ``User`` target; for the events a user raises on their own account
(``user.session.end``, ``user.account.update_password``, ``user.account.lock``) a ``User`` actor
is taken when there is no such target. Events whose outcome is not SUCCESS (a failed password
change) end nothing. Handling is idempotent: a repeated delivery ends what is left to end.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

from bff.auth.sessions import SessionManager
from bff.okta.events import EventHook, LogEvent

log = logging.getLogger("bff.auth.revocation")

DEACTIVATE = "user.lifecycle.deactivate"
SUSPEND = "user.lifecycle.suspend"
LOCK = "user.account.lock"
CLEAR = "user.session.clear"
SESSION_END = "user.session.end"
RESET_PASSWORD = "user.account.reset_password"  # noqa: S105 (an event type, not a password)
UPDATE_PASSWORD = "user.account.update_password"  # noqa: S105 (an event type)
FACTORS_RESET = "user.mfa.factor.reset_all"

#: The account can no longer be used: everything ends, whenever the event arrives.
DISABLING = frozenset({DEACTIVATE, SUSPEND, LOCK})
#: The credentials or the sessions were reset: what was signed in before ends.
RESETTING = frozenset({CLEAR, RESET_PASSWORD, FACTORS_RESET})
#: Every event type that ends sessions (what the Okta event hook must subscribe to).
EVENT_TYPES = DISABLING | RESETTING | {SESSION_END, UPDATE_PASSWORD}
_ACTOR_IS_SUBJECT = frozenset({SESSION_END, UPDATE_PASSWORD, LOCK})


def subject(event: LogEvent) -> str | None:
    """The id of the user whose sessions the event is about (see the module docstring)."""
    for target in event.users():
        return target.id
    if event.event_type in _ACTOR_IS_SUBJECT and event.actor is not None and event.actor.type == "User":
        return event.actor.id
    return None


class SessionRevocation:
    """Ends sessions on Okta's word (see the module docstring)."""

    def __init__(self, sessions: SessionManager) -> None:
        self.sessions = sessions

    def subscribe(self, hook: EventHook) -> None:
        for event_type in sorted(EVENT_TYPES):
            hook.on(event_type, self.handle)

    async def handle(self, events: Sequence[LogEvent]) -> dict[str, int]:
        """The hook handler of every event type above: ``{"sessionsEnded": n}``."""
        ended = 0
        for event in events:
            ended += await self.apply(event)
        return {"sessionsEnded": ended}

    async def apply(self, event: LogEvent) -> int:
        user_id = subject(event)
        if user_id is None or not event.succeeded or event.event_type not in EVENT_TYPES:
            return 0
        end = self.sessions.end_sessions_of
        kind = event.event_type
        if kind in DISABLING:
            ended = await end(user_id)
        elif kind in RESETTING:
            ended = await end(user_id, created_before=event.published_at)
        elif kind == SESSION_END:
            sid = event.external_session_id
            ended = await end(user_id, idp_sid=sid) if sid else 0
        else:  # UPDATE_PASSWORD
            ended = await end(user_id, keep=await self._changed_by(user_id, event.external_session_id),
                              created_before=event.published_at)
        log.info("okta event %s (%s) ended %d session(s) of user %s", kind, event.uuid, ended, user_id)
        return ended

    async def _changed_by(self, user_id: str, sid: str | None) -> str | None:
        """The user's session (the newest) of the Okta session ``sid``, if there is one."""
        if sid is None:
            return None
        mine = [record for record, _ in await self.sessions.sessions_of(user_id) if record.idp_sid == sid]
        return mine[-1].id if mine else None
