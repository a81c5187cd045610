"""The sign-up and profile forms: which fields exist under the current configuration, and
turning an untrusted JSON object into a validated form (or one 422 listing every problem)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from bff.settings import SignupSettings
from bff.signup.invitations import MAX_CODE
from bff.signup.validation import (
    NAME_MAX,
    Errors,
    check_email,
    check_locale,
    check_name,
    check_organisation,
    check_profile_value,
    reject_unknown,
)


@dataclass(frozen=True)
class SignupForm:
    email: str
    first_name: str
    last_name: str
    org_id: str | None
    company: str | None  # the organisation as typed (org mode ``organisation``)
    password: str | None
    locale: str | None  # BCP 47, one of the supported locales
    invitation_code: str | None = None  # org mode ``invitation``: checked by the service (a store read)

    def __repr__(self) -> str:  # never print the password
        return f"SignupForm(email={self.email!r}, org_id={self.org_id!r}, locale={self.locale!r})"


#: ``organisation`` is accepted as another name of ``company`` (errors use the name sent).
ORG_ALIAS = "organisation"


def signup_fields(settings: SignupSettings) -> tuple[str, ...]:
    fields = ["email", "firstName", "lastName"]
    if settings.org_mode == "organisation":
        fields.append("company")
    elif settings.org_mode == "invitation":
        fields.append("invitationCode")
    # No password field: the Users-API sign-up creates the user PROVISIONED and Okta's activation
    # page asks for the password once the address is verified (bff.settings._password_mode).
    fields.extend(("terms", "locale"))
    return tuple(fields)


def describe_signup(settings: SignupSettings, locales: Iterable[str]) -> dict[str, Any]:
    """What the SPA needs to mirror the server's validation (``GET /bff/signup``)."""
    required = ["email", "firstName", "lastName"]
    if settings.org_mode == "organisation":
        required.append("company")
    elif settings.org_mode == "invitation":
        required.append("invitationCode")
    return {
        "fields": list(signup_fields(settings)),
        "required": required,
        "orgMode": settings.org_mode,
        "passwordMode": settings.password_mode,
        "passwordPolicy": None,
        "nameMaxLength": NAME_MAX,
        "locales": list(locales),
    }


def parse_signup(body: Mapping[str, Any], settings: SignupSettings, *, locales: Iterable[str],
                 fallback_locale: str | None,
                 federated_domains: Iterable[str] = ()) -> SignupForm:
    """Validate a sign-up body. ``federated_domains`` sign in through their own IdP (IdP
    discovery), so self-registration is refused for them (``error.email.domain``)."""
    errors = Errors()
    allowed = list(signup_fields(settings))
    org_field = "company"
    if settings.org_mode == "organisation" and ORG_ALIAS in body and "company" not in body:
        org_field = ORG_ALIAS
        allowed[allowed.index("company")] = ORG_ALIAS
    reject_unknown(errors, body, allowed)
    email = check_email(errors, body.get("email"))
    if email and email.rpartition("@")[2] in {d.lower() for d in federated_domains}:
        errors.add("email", "domain")
    first = check_name(errors, "firstName", body.get("firstName"))
    last = check_name(errors, "lastName", body.get("lastName"))

    org_id: str | None = None
    company: str | None = None
    invitation_code: str | None = None
    if settings.org_mode == "organisation":
        org = check_organisation(errors, body.get(org_field), org_field)
        if org:
            company, org_id = org
    elif settings.org_mode == "invitation":
        code = body.get("invitationCode")
        if code is None or (isinstance(code, str) and not code.strip()):
            errors.add("invitationCode", "required")
        elif not isinstance(code, str) or len(code) > MAX_CODE:
            errors.add("invitationCode", "unknown")
        else:
            invitation_code = code.strip()

    terms = body.get("terms")
    if terms is not None and terms is not True:
        errors.add("terms", "required")

    locale = check_locale(errors, body.get("locale"), locales)
    errors.raise_if_any()
    assert email is not None and first is not None and last is not None
    return SignupForm(email=email, first_name=first, last_name=last, org_id=org_id, company=company,
                      password=None, locale=locale or fallback_locale, invitation_code=invitation_code)


def parse_profile(body: Mapping[str, Any], fields: Iterable[str], *,
                  locales: Iterable[str]) -> dict[str, Any]:
    """The validated partial update: only the fields sent, ``None`` to clear one."""
    allowed = tuple(fields)
    errors = Errors()
    reject_unknown(errors, body, allowed)
    supported = list(locales)
    update: dict[str, Any] = {}
    for name in allowed:
        if name in body:
            value = check_profile_value(errors, name, body[name], supported)
            if name == "locale" and isinstance(value, str):
                value = value.replace("-", "_")  # Okta's ``locale`` attribute is fr_CA
            update[name] = value
    errors.raise_if_any()
    return update
