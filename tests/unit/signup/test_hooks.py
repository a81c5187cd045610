from __future__ import annotations

import pytest
from starlette.requests import HTTPConnection

from bff.errors import Forbidden, Unauthenticated
from bff.okta.events import parse_delivery
from bff.signup.hooks import authenticate, created_users, notice_subjects


def conn(authorization: str | None) -> HTTPConnection:
    headers = [] if authorization is None else [(b"authorization", authorization.encode("latin-1"))]
    return HTTPConnection({"type": "http", "method": "POST", "path": "/bff/hooks/okta", "headers": headers})


NEW, OLD = "new-hook-secret-0123456789abcdef", "old-hook-secret-0123456789abcdef"


def test_every_listed_secret_is_accepted_during_a_rotation() -> None:
    authenticate(conn(NEW), (NEW, OLD))
    authenticate(conn(OLD), (NEW, OLD))
    authenticate(conn(NEW), NEW)  # a single value still works as before


@pytest.mark.parametrize(
    "presented", ["wrong", NEW + OLD, NEW[:-1], f"{NEW},{OLD}", "", " " + NEW, "\xe9t\xe9"]
)
def test_anything_else_is_forbidden(presented: str) -> None:
    with pytest.raises(Forbidden):
        authenticate(conn(presented), (NEW, OLD))


def test_a_bare_string_is_one_secret_not_a_list_of_characters() -> None:
    with pytest.raises(Forbidden):
        authenticate(conn("n"), NEW)


def test_no_secret_accepts_nothing_and_a_missing_header_is_401() -> None:
    with pytest.raises(Forbidden):
        authenticate(conn(NEW), ())
    with pytest.raises(Unauthenticated):
        authenticate(conn(None), (NEW, OLD))
    authenticate(conn(None), (NEW, OLD), required=False)  # Okta's verification GET may omit it


def event(**overrides: object) -> dict[str, object]:
    base: dict[str, object] = {
        "uuid": "e1",
        "published": "2025-01-31T12:00:00.000Z",
        "eventType": "user.lifecycle.activate",
        "outcome": {"result": "SUCCESS"},
        "target": [{"id": "00u1", "type": "User", "alternateId": "a@b.co", "displayName": "A B"}],
    }
    base.update(overrides)
    return base


def test_only_successful_creates_with_a_user_target_count() -> None:
    body = {
        "data": {
            "events": [
                event(),
                # created, not yet verified (STAGED): no AccountCreated until its activation
                event(uuid="e2", eventType="user.lifecycle.create"),
                event(uuid="e3", outcome={"result": "FAILURE"}),
                event(uuid="e4", target=[{"id": "0oa1", "type": "AppInstance"}]),
                event(uuid="e5", target=[{"id": "../../x", "type": "User"}]),
                event(uuid=5),
                "garbage",
                event(uuid="e6", published="not a date"),
            ]
        }
    }
    events, received = parse_delivery(body)
    users = created_users(events)
    assert received == 8
    assert [(u.event_uuid, u.user_id, u.login) for u in users] == [
        ("e1", "00u1", "a@b.co"),
        ("e6", "00u1", "a@b.co"),
    ]
    assert users[0].published == "2025-01-31T12:00:00.000Z"
    assert users[1].published.endswith("Z") and users[1].published != "not a date"


@pytest.mark.parametrize(
    "body", [{}, {"data": []}, {"data": {"events": {}}}, {"data": {"events": [{}] * 501}}]
)
def test_malformed_deliveries(body: dict[str, object]) -> None:
    with pytest.raises(ValueError):
        parse_delivery(body)


def test_notice_events_name_their_user_by_target_or_else_by_user_actor() -> None:
    actor = {"id": "00u2", "type": "User", "alternateId": "hana@acme.test"}
    body = {
        "data": {
            "events": [
                event(uuid="n1", eventType="user.account.lock"),
                # Okta raises a lockout or a password change on the user's own account: no target
                event(uuid="n2", eventType="user.account.update_password", target=None, actor=actor),
                event(uuid="n3", eventType="user.mfa.factor.activate"),
                event(uuid="n4", eventType="user.account.lock", outcome={"result": "FAILURE"}),
                event(uuid="n5", eventType="user.account.lock", target=None,
                      actor={"id": "0oa1", "type": "PublicClientApp"}),
                event(uuid="n6"),  # an activation: not a notice
            ]
        }
    }
    events, _ = parse_delivery(body)
    assert [(s.event_uuid, s.event_type, s.user_id, s.login) for s in notice_subjects(events)] == [
        ("n1", "user.account.lock", "00u1", "a@b.co"),
        ("n2", "user.account.update_password", "00u2", "hana@acme.test"),
        ("n3", "user.mfa.factor.activate", "00u1", "a@b.co"),
    ]
