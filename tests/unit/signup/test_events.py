from __future__ import annotations

import json
import uuid

import pytest

from bff.signup.events import AccountCreated, event_id_for


def test_event_id_is_derived_from_the_user_id() -> None:
    first, again, other = event_id_for("00u1"), event_id_for("00u1"), event_id_for("00u2")
    assert first == again != other
    assert uuid.UUID(first).version == 5


def test_json_round_trip_and_schema() -> None:
    event = AccountCreated.new(
        user_id="00u1",
        login="ada@example.com",
        email="ada@example.com",
        first_name="Ada",
        last_name="Lovelace",
        org_id="acme",
        locale="fr_CA",
        source="bff-signup",
    )
    data = event.to_json()
    assert set(data) == {
        "eventId",
        "eventType",
        "eventVersion",
        "occurredAt",
        "userId",
        "login",
        "email",
        "firstName",
        "lastName",
        "orgId",
        "locale",
        "source",
    }
    assert data["locale"] == "fr-CA" and data["eventType"] == "AccountCreated" and data["eventVersion"] == 1
    assert AccountCreated.from_json(data) == event


def test_message_attributes_leave_out_a_missing_org() -> None:
    event = AccountCreated.new(
        user_id="00u1",
        login="a@b.co",
        email=None,
        first_name=None,
        last_name=None,
        org_id=None,
        locale=None,
        source="okta-hook",
    )
    assert event.message_attributes() == {"eventType": "AccountCreated", "source": "okta-hook"}


def test_with_profile_fills_from_okta() -> None:
    event = AccountCreated.new(
        user_id="00u1",
        login="g@example.com",
        email=None,
        first_name=None,
        last_name=None,
        org_id=None,
        locale=None,
        source="okta-hook",
    )
    filled = event.with_profile(
        {
            "firstName": "Grace",
            "lastName": "Hopper",
            "email": "g@example.com",
            "orgId": "navy",
            "preferredLanguage": "en-US",
            "unrelated": 1,
        }
    )
    assert (filled.firstName, filled.lastName, filled.email, filled.orgId, filled.locale) == (
        "Grace",
        "Hopper",
        "g@example.com",
        "navy",
        "en-US",
    )
    assert filled.eventId == event.eventId and filled.source == "okta-hook"


@pytest.mark.parametrize("broken", [{}, {"eventId": "x", "occurredAt": "t", "userId": "u", "source": "evil"}])
def test_from_json_refuses_malformed(broken: dict[str, str]) -> None:
    with pytest.raises(ValueError):
        AccountCreated.from_json(broken)


def test_unknown_values_are_left_out_but_org_is_explicit() -> None:
    event = AccountCreated.new(
        user_id="00u1",
        login="a@b.co",
        email=None,
        first_name=None,
        last_name=None,
        org_id=None,
        locale=None,
        source="okta-hook",
    )
    data = event.to_json()
    assert "firstName" not in data and "locale" not in data and "email" not in data
    assert data["orgId"] is None


@pytest.mark.parametrize("org", ["acme", None])
@pytest.mark.parametrize("names", [("Zoë", "Müller"), (None, None)])
def test_what_we_publish_is_what_the_subscribers_accept(
    org: str | None, names: tuple[str | None, str | None]
) -> None:
    """Contract with the subscribers' model (infra/functions/fnlib/account_events.py)."""
    from fnlib.account_events import AccountCreated as SubscriberView

    event = AccountCreated.new(
        user_id="00u1",
        login="zoe@example.com",
        email="zoe@example.com",
        first_name=names[0],
        last_name=names[1],
        org_id=org,
        locale="fr_CA",
        source="bff-signup",
    )
    seen = SubscriberView.model_validate_json(json.dumps(event.to_json()))
    assert seen.eventId == event.eventId and seen.userId == "00u1" and seen.login == "zoe@example.com"
    assert seen.orgId == org and seen.locale == "fr-CA" and seen.source == "bff-signup"
    assert seen.firstName == (names[0] or "")


@pytest.mark.parametrize(("profile", "expected"), [
    ({"preferredLanguage": "en-GB, en;q=0.8"}, "en-GB"),
    ({"preferredLanguage": "English"}, None),
    ({"locale": "not a locale", "preferredLanguage": "de"}, "de"),
    ({"locale": "fr_CA", "preferredLanguage": "English"}, "fr-CA"),
])
def test_a_profile_locale_the_subscribers_would_refuse_is_not_published(
    profile: dict[str, str], expected: str | None
) -> None:
    """Okta's preferredLanguage is free text: publishing it as is would make every subscriber
    refuse the whole event (straight to the DLQ: no welcome email, no validation)."""
    from fnlib.account_events import AccountCreated as SubscriberView

    bare = AccountCreated.new(user_id="00u1", login="g@example.com", email=None, first_name=None,
                              last_name=None, org_id=None, locale=None, source="okta-hook")
    filled = bare.with_profile(profile)
    assert filled.locale == expected
    seen = SubscriberView.model_validate_json(json.dumps(filled.to_json()))
    assert seen.locale == (expected or "en")
