"""The rules of bff.auth.revocation, event by event, against a recording session manager (the
store side is the contract test's; the whole path is tests/integration/auth/test_session_end.py)."""

from __future__ import annotations

from typing import Any, cast

import pytest

from bff.auth.revocation import EVENT_TYPES, SessionRevocation
from bff.auth.sessions import SessionManager
from bff.okta.events import EventHook, parse_delivery
from bff.sessions.store import SessionRecord

PUBLISHED = "2025-01-31T12:00:00.000Z"
AT = 1738324800.0


class RecordingManager:
    def __init__(self, sessions: list[SessionRecord] | None = None) -> None:
        self.calls: list[dict[str, Any]] = []
        self.sessions = sessions or []

    async def end_sessions_of(self, user_id: str, **filters: Any) -> int:
        self.calls.append({"user": user_id, **{k: v for k, v in filters.items() if v is not None}})
        return 2

    async def sessions_of(self, user_id: str) -> list[tuple[SessionRecord, Any]]:
        return [(r, None) for r in self.sessions if r.user_id == user_id]


def session(sid: str, idp_sid: str | None, created: float = AT - 60) -> SessionRecord:
    return SessionRecord(id=sid, user_id="00uuser", idp_sid=idp_sid, created_at=created,
                         expires_at=AT + 3600, version=1, data=b"")


def event(event_type: str, **overrides: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "uuid": "ev1", "published": PUBLISHED, "eventType": event_type, "outcome": {"result": "SUCCESS"},
        "actor": {"id": "00uadmin", "type": "User", "alternateId": "admin@acme.test"},
        "target": [{"id": "00uuser", "type": "User", "alternateId": "user@acme.test"}],
        "authenticationContext": {"externalSessionId": None},
    }
    base.update(overrides)
    return base


async def run(manager: RecordingManager, *events: dict[str, Any]) -> dict[str, int]:
    hook = EventHook()
    SessionRevocation(cast(SessionManager, manager)).subscribe(hook)
    parsed, _ = parse_delivery({"data": {"events": list(events)}})
    return await hook.deliver(parsed)


def test_every_event_type_of_the_issue_is_subscribed() -> None:
    assert EVENT_TYPES == {
        "user.lifecycle.deactivate", "user.lifecycle.suspend", "user.account.lock", "user.session.clear",
        "user.session.end", "user.account.reset_password", "user.account.update_password",
        "user.mfa.factor.reset_all"}


@pytest.mark.parametrize("kind", ["user.lifecycle.deactivate", "user.lifecycle.suspend", "user.account.lock"])
async def test_a_disabled_account_loses_every_session(kind: str) -> None:
    m = RecordingManager()
    assert await run(m, event(kind)) == {"sessionsEnded": 2}
    assert m.calls == [{"user": "00uuser"}]


@pytest.mark.parametrize("kind", ["user.session.clear", "user.account.reset_password",
                                  "user.mfa.factor.reset_all"])
async def test_a_reset_ends_what_was_signed_in_before_it(kind: str) -> None:
    m = RecordingManager()
    await run(m, event(kind))
    assert m.calls == [{"user": "00uuser", "created_before": AT}]


async def test_a_reset_with_an_unreadable_time_ends_everything() -> None:
    m = RecordingManager()
    await run(m, event("user.session.clear", published="garbage"))
    assert m.calls == [{"user": "00uuser"}]


async def test_session_end_ends_only_the_named_okta_session() -> None:
    m = RecordingManager()
    await run(m, event("user.session.end", target=[], actor={"id": "00uuser", "type": "User"},
                       authenticationContext={"externalSessionId": "102okta"}))
    assert m.calls == [{"user": "00uuser", "idp_sid": "102okta"}]


async def test_session_end_without_a_session_ends_nothing() -> None:
    m = RecordingManager()
    assert await run(m, event("user.session.end")) == {"sessionsEnded": 0}
    assert m.calls == []


async def test_update_password_keeps_the_session_that_changed_it() -> None:
    m = RecordingManager([session("s-other", "102other"), session("s-mine", "102mine")])
    await run(m, event("user.account.update_password", target=[], actor={"id": "00uuser", "type": "User"},
                       authenticationContext={"externalSessionId": "102mine"}))
    assert m.calls == [{"user": "00uuser", "keep": "s-mine", "created_before": AT}]


async def test_update_password_from_an_unknown_session_ends_all_before_it() -> None:
    m = RecordingManager([session("s-other", "102other")])
    await run(m, event("user.account.update_password", authenticationContext={"externalSessionId": "102api"}))
    await run(m, event("user.account.update_password"))
    assert m.calls == [{"user": "00uuser", "created_before": AT}] * 2


async def test_failed_events_and_events_about_no_user_end_nothing() -> None:
    m = RecordingManager()
    await run(m, event("user.account.update_password", outcome={"result": "FAILURE"}),
              event("user.lifecycle.deactivate", target=[{"id": "0oaapp", "type": "AppInstance"}],
                    actor={"id": "00uadmin", "type": "User"}),
              event("user.session.clear", target=[], actor={"id": "00uadmin", "type": "User"}))
    assert m.calls == []  # the admin who cleared someone's sessions keeps their own


async def test_other_events_are_not_handled() -> None:
    m = RecordingManager()
    assert await run(m, event("user.lifecycle.activate"), event("user.account.update_profile")) == {}
    assert m.calls == []
