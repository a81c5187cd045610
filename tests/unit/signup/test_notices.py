from __future__ import annotations

import json

import pytest

from bff.signup.notices import NOTICE_FOR, AccountNotice, dedupe_key, event_id_for


def notice(kind: str = "AccountLocked", okta_uuid: str = "e1") -> AccountNotice:
    return AccountNotice.new(notice_type=kind, okta_event_uuid=okta_uuid, user_id="00u1",
                             login="hana@acme.test", occurred_at="2025-01-31T12:00:00.000Z")


def test_the_id_is_derived_from_the_okta_event_and_the_type() -> None:
    assert notice().eventId == notice().eventId == event_id_for("AccountLocked", "e1")
    assert notice(okta_uuid="e2").eventId != notice().eventId  # a second lockout: a second notice
    assert notice("PasswordChanged").eventId != notice().eventId
    assert dedupe_key("AccountLocked", "e1") == "AccountLocked:e1"


def test_each_okta_event_type_maps_to_one_notice() -> None:
    assert NOTICE_FOR == {"user.account.lock": "AccountLocked",
                          "user.account.update_password": "PasswordChanged",
                          "user.mfa.factor.activate": "FactorAdded"}


def test_the_document_is_versioned_and_round_trips() -> None:
    doc = notice().to_json()
    assert doc == {"eventId": event_id_for("AccountLocked", "e1"), "eventType": "AccountLocked",
                   "eventVersion": 1, "occurredAt": "2025-01-31T12:00:00.000Z", "oktaEventId": "e1",
                   "userId": "00u1", "login": "hana@acme.test", "email": "hana@acme.test",
                   "source": "okta-hook"}
    assert AccountNotice.from_json(doc) == notice()
    assert notice().message_attributes() == {"eventType": "AccountLocked", "source": "okta-hook"}


def test_the_profile_fills_names_and_the_locale() -> None:
    filled = notice().with_profile({"firstName": "Hana", "lastName": "Sato", "locale": "fr_CA",
                                    "email": "hana@mail.test", "orgId": "acme"})
    assert (filled.firstName, filled.lastName, filled.locale, filled.email) == \
        ("Hana", "Sato", "fr-CA", "hana@mail.test")
    by_language = notice().with_profile({"preferredLanguage": "de-DE, de;q=0.8"})
    assert by_language.locale == "de-DE"
    assert notice().with_profile({"locale": "English"}).locale is None  # not a tag: left out


@pytest.mark.parametrize("change", [
    {"eventType": "AccountCreated"}, {"eventType": "Nonsense"}, {"eventVersion": 2}, {"userId": ""},
    {"oktaEventId": None}, {"eventId": 5},
])
def test_documents_this_code_did_not_write_are_refused(change: dict[str, object]) -> None:
    with pytest.raises(ValueError, match="AccountNotice"):
        AccountNotice.from_json({**notice().to_json(), **change})


def test_only_notice_types_can_be_built() -> None:
    with pytest.raises(ValueError):
        notice("AccountCreated")


@pytest.mark.parametrize("kind", sorted(NOTICE_FOR.values()))
def test_what_is_published_is_what_the_subscriber_accepts(kind: str) -> None:
    """Contract with the subscriber's model (infra/functions/fnlib/account_events.py), before and
    after the relay completes the notice from the profile."""
    from fnlib.account_events import AccountNotice as SubscriberView

    bare = notice(kind)
    full = bare.with_profile({"firstName": "Hana", "lastName": "Sato", "locale": "fr_CA"})
    for published in (bare, full):
        seen = SubscriberView.model_validate_json(json.dumps(published.to_json()))
        assert (seen.eventId, seen.eventType, seen.userId, seen.recipient, seen.oktaEventId) == (
            published.eventId, kind, "00u1", "hana@acme.test", "e1")
    assert SubscriberView.model_validate(full.to_json()).locale == "fr-CA"
    assert SubscriberView.model_validate(bare.to_json()).locale == "en"  # the relay fills it in practice
