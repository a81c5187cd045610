from __future__ import annotations

import pytest

from bff.errors import BadRequest
from bff.signup.hooks import created_users


def event(**overrides: object) -> dict[str, object]:
    base: dict[str, object] = {
        "uuid": "e1",
        "published": "2025-01-31T12:00:00.000Z",
        "eventType": "user.lifecycle.create",
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
                event(uuid="e2", eventType="user.lifecycle.activate"),
                event(uuid="e3", outcome={"result": "FAILURE"}),
                event(uuid="e4", target=[{"id": "0oa1", "type": "AppInstance"}]),
                event(uuid="e5", target=[{"id": "../../x", "type": "User"}]),
                event(uuid=5),
                "garbage",
                event(uuid="e6", published="not a date"),
            ]
        }
    }
    users, received = created_users(body)
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
    with pytest.raises(BadRequest):
        created_users(body)
