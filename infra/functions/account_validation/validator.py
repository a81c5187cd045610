"""The account-validation decision for one AccountCreated event (business logic, no I/O of its own).

pass → Okta profile ``complianceStatus=passed``, then the Marketo lead (createOrUpdate by email),
with the progressive-profile attributes Okta holds by then (:data:`LEAD_FIELD_MAP`).
fail → Okta ``complianceStatus=review``, then a manual-review record (keyed by the event id, so
a retry never writes a second one). Each step is safe to repeat: a failure half-way raises,
the record is retried, and the repeated steps leave the same state.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any, Protocol

from account_validation.compliance import Verdict
from bff.okta import OktaNotFound
from fnlib.account_events import AccountCreated, ProfileUpdated

log = logging.getLogger(__name__)

#: Marketo ``leadSource`` of self-registered users.
LEAD_SOURCE = "Customer Portal registration"
UNASSIGNED_ORG = "unassigned"


class Compliance(Protocol):
    def screen(self, reference: str, first_name: str, last_name: str) -> Verdict: ...


class OktaProfiles(Protocol):
    def get_user(self, user_id: str) -> Any:
        """The user document (``GET /api/v1/users/{id}``); ``OktaNotFound`` if the user is gone."""

    def update_profile(self, user_id: str, profile: Mapping[str, Any]) -> Any:
        """Partial profile update (``POST /api/v1/users/{id}``); ``OktaNotFound`` if the user is gone.
        Answers the updated user document (its ``profile`` feeds the lead's mapped fields)."""


class Leads(Protocol):
    def upsert_lead(self, email: str, first_name: str, last_name: str,
                    extra: Mapping[str, Any] | None = None) -> int: ...


class ReviewQueue(Protocol):
    def put(self, item: Mapping[str, Any]) -> Any:
        """Store a pending review; storing the same ``(orgId, reviewId)`` again changes nothing."""


#: Okta profile attribute → Marketo lead field (standard API names), for the attributes that
#: progressive profiling collects. Universal Directory is the source of truth: the values are
#: read from the profile Okta answers with, never from the event.
LEAD_FIELD_MAP: Mapping[str, str] = {
    "company": "company",
    "title": "title",
    "mobilePhone": "mobilePhone",
    "primaryPhone": "phone",
    "countryCode": "country",
}


def _profile(user: object) -> Mapping[str, Any]:
    profile = user.get("profile") if isinstance(user, Mapping) else None
    return profile if isinstance(profile, Mapping) else {}


def mapped_profile(user: object, cleared: tuple[str, ...] = ()) -> dict[str, str | None]:
    """The Marketo fields of an Okta user document's mapped attributes. Blank ones are left out,
    except those named in ``cleared`` (attributes the user emptied): sent as null, which clears
    the lead's field."""
    profile = _profile(user)
    out: dict[str, str | None] = {}
    for attribute, lead_field in LEAD_FIELD_MAP.items():
        value = profile.get(attribute)
        if isinstance(value, str) and value.strip():
            out[lead_field] = value.strip()[:255]
        elif attribute in cleared:
            out[lead_field] = None
    return out


def lead_fields(event: AccountCreated, user: object = None) -> dict[str, str | None]:
    """Marketo fields besides email and names (``oktaUserId`` is a custom field to create),
    with the mapped profile attributes the user already has in Okta."""
    return {**mapped_profile(user), "leadSource": LEAD_SOURCE, "oktaUserId": event.userId}


def review_item(event: AccountCreated, verdict: Verdict, now: datetime) -> dict[str, Any]:
    return {
        "orgId": event.orgId or UNASSIGNED_ORG,
        "reviewId": event.eventId,
        "status": "pending",
        "userId": event.userId,
        "login": event.login,
        "email": event.email,
        "firstName": event.firstName,
        "lastName": event.lastName,
        "locale": event.locale,
        "source": event.source,
        "eventId": event.eventId,
        "screeningId": verdict.screening_id,
        "reasons": [dict(r) for r in verdict.reasons],
        "createdAt": now.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z"),
    }


class AccountValidator:
    def __init__(self, compliance: Compliance, okta: OktaProfiles, leads: Leads,
                 reviews: ReviewQueue) -> None:
        self._compliance = compliance
        self._okta = okta
        self._leads = leads
        self._reviews = reviews

    def validate(self, event: AccountCreated, *, now: datetime | None = None) -> dict[str, Any]:
        verdict = self._compliance.screen(event.userId, event.firstName, event.lastName)
        try:
            if verdict.passed:
                user = self._okta.update_profile(event.userId, {"complianceStatus": "passed"})
                lead_id = self._leads.upsert_lead(event.email, event.firstName, event.lastName,
                                                  lead_fields(event, user))
                return {"status": "passed", "leadId": lead_id, "screeningId": verdict.screening_id}
            item = review_item(event, verdict, now or datetime.now(UTC))
            self._okta.update_profile(event.userId, {"complianceStatus": "review"})
            self._reviews.put(item)
            return {"status": "review", "orgId": item["orgId"], "reviewId": item["reviewId"],
                    "screeningId": verdict.screening_id}
        except OktaNotFound:  # deleted before validation ran: nothing left to validate
            log.warning("user deleted before validation; nothing to do", extra={"userId": event.userId})
            return {"status": "skipped", "reason": "user-not-found"}

    def sync_lead(self, event: ProfileUpdated) -> dict[str, Any]:
        """A user changed mapped profile attributes: the lead gets Okta's current values. Only
        for accounts that passed validation (before that there is no lead; the pass creates it
        with the attributes Okta holds then, so nothing is lost either way)."""
        mapped = tuple(a for a in event.attributes if a in LEAD_FIELD_MAP)
        if not mapped:
            return {"status": "skipped", "reason": "no-mapped-attribute"}
        try:
            user = self._okta.get_user(event.userId)
        except OktaNotFound:
            log.warning("user deleted before the lead update; nothing to do", extra={"userId": event.userId})
            return {"status": "skipped", "reason": "user-not-found"}
        profile = _profile(user)
        if profile.get("complianceStatus") != "passed":
            return {"status": "skipped", "reason": "not-validated"}
        email = profile.get("email") or profile.get("login")
        if not isinstance(email, str) or "@" not in email:
            return {"status": "skipped", "reason": "no-email"}

        def text(name: str) -> str:
            value = profile.get(name)
            return value if isinstance(value, str) else ""

        fields = {lead_field: value for lead_field, value in mapped_profile(user, mapped).items()
                  if lead_field in {LEAD_FIELD_MAP[a] for a in mapped}}
        lead_id = self._leads.upsert_lead(email, text("firstName"), text("lastName"),
                                          {**fields, "oktaUserId": event.userId})
        return {"status": "updated", "leadId": lead_id, "fields": sorted(fields)}
