"""Sign-up on the Identity Engine (issue 11 §1, §3): the registration area's part of the embedded
sign-in. :class:`~bff.signin.service.SigninService` calls it for two remediations and at the end:

* ``enroll-profile`` (the registration's profile form) and ``profile-update`` (progressive
  profiling at a later sign-in): :meth:`IdxSignup.check` validates the ``userProfile.*`` values
  with the SAME rules as ``POST /bff/signup`` and ``/bff/profile`` (:mod:`bff.signup.validation`)
  BEFORE anything reaches Okta, and returns the normalised values to send. A problem is a 422
  ``validation_failed`` whose ``errors`` are ``{"field": "userProfile.email", "code":
  "error.email.invalid"}``: the field as the step names it, the code a key of the ``signup``
  (enroll-profile) or ``profile`` (profile-update) copy journey. Okta's own verdicts
  (``registration.error.notUniqueWithinOrg``...) still come back as messages of the step.
* a sign-in that answered ``profile-update`` and ends in ``success``: :meth:`IdxSignup.profiled`
  writes ``ProfileUpdated`` (the attribute names) to the outbox for the Marketo lead.
* a registration that ends in ``success`` (the email is verified by then: Okta's policy asks for
  it before the account is ACTIVE): :meth:`IdxSignup.verified` writes ``AccountCreated`` to the
  outbox (``needs_enrichment``: the relay reads the profile from Okta, which is the source of
  truth), under the same dedupe key as the Okta event hook's ``user.lifecycle.activate`` for the
  same user, so the account enters the pipeline exactly once whichever path reports it first.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from bff.errors import ValidationFailed
from bff.observability import metrics
from bff.signup.events import AccountCreated, dedupe_key
from bff.signup.membership import InvitationInvalid, Membership
from bff.signup.outbox import Outbox
from bff.signup.profile_events import ProfileAnnouncer
from bff.signup.relay import Relay
from bff.signup.validation import Errors, FieldError, check_email, check_name, check_profile_value

log = logging.getLogger("bff.signup.idx")

#: The remediations whose ``userProfile.*`` values the BFF checks first.
PROFILE_STEPS = frozenset({"enroll-profile", "profile-update"})
#: Progressive profiling: the attributes the profile screen validates, by their Okta names.
PROGRESSIVE_FIELDS: tuple[str, ...] = ("company", "title", "mobilePhone", "primaryPhone", "countryCode")
PREFIX = "userProfile."


@dataclass
class IdxSignup:
    outbox: Outbox
    relay: Relay
    locales: tuple[str, ...]
    federated_domains: Iterable[str] = ()
    invitations: Membership | None = None  # org mode ``invitation``; None: no invitations here

    async def invitation(self, code: object) -> str | None:
        """The sign-in's ``invitation`` (a sign-up into an organisation), checked: 422
        ``invitation_*`` when it cannot be used. The address is bound later (enroll-profile)."""
        if self.invitations is None:
            raise InvitationInvalid("unknown", "invitation")
        inv = await self.invitations.check_or_raise(code, None, field="invitation")
        assert isinstance(code, str)
        log.info("sign-up with invitation %s (org %s)", inv.id[:16], inv.org_id)
        return code.strip()

    async def check_invitation(self, code: str | None, values: object) -> None:
        """At enroll-profile: the invitation must be for ``userProfile.email`` (case-insensitive),
        and still usable; refused before the account is created."""
        if code is None or self.invitations is None:
            return
        email = values.get(PREFIX + "email") if isinstance(values, Mapping) else None
        address = email if isinstance(email, str) else ""
        await self.invitations.check_or_raise(code, address, field="invitation")

    @staticmethod
    def progressive_names(values: object) -> tuple[str, ...]:
        """The Okta attributes a checked ``profile-update`` submission answers (blank ones were
        dropped by :meth:`check`)."""
        if not isinstance(values, Mapping):
            return ()
        return tuple(sorted(k.removeprefix(PREFIX) for k in values
                            if isinstance(k, str) and k.startswith(PREFIX)
                            and k.removeprefix(PREFIX) in PROGRESSIVE_FIELDS))

    async def profiled(self, user_id: str, attributes: tuple[str, ...]) -> bool:
        """A sign-in whose ``profile-update`` Okta accepted reached ``success``: announce
        ``ProfileUpdated`` (the Marketo lead follows)."""
        return await ProfileAnnouncer(self.outbox, self.relay).announce(user_id, attributes, "bff-signin")

    def check(self, remediation: str, values: object) -> object:
        """The submission with its ``userProfile.*`` values validated and normalised; anything
        that is not a profile value passes unchanged (the step translator checks it next)."""
        if remediation not in PROFILE_STEPS or not isinstance(values, Mapping):
            return values
        errors = Errors()
        out = dict(values)
        for key, raw in values.items():
            if not isinstance(key, str) or not key.startswith(PREFIX):
                continue
            name = key.removeprefix(PREFIX)
            inner = Errors()
            value: object
            if name == "email":
                value = check_email(inner, raw)
                if isinstance(value, str) and value.rpartition("@")[2] in {
                        d.lower() for d in self.federated_domains}:
                    inner.add("email", "domain")
            elif name in ("firstName", "lastName"):
                value = check_name(inner, name, raw)
            elif remediation == "profile-update" and name in PROGRESSIVE_FIELDS:
                value = check_profile_value(inner, name, raw, self.locales)
                if value is None and not inner:
                    out.pop(key)  # left blank: not answered (the step is optional)
                    continue
            else:
                continue  # an attribute the BFF has no rule for: Okta's policy decides
            for e in inner.items:
                errors.items.append(FieldError(key, e.code))
            if value is not None:
                out[key] = value
        if errors:
            raise ValidationFailed([e.as_dict() for e in errors.items])
        return out

    async def verified(self, user_id: str, login: str | None, *, invitation: str | None = None) -> bool:
        """The registration of ``user_id`` succeeded: its invitation redeemed (``orgId`` set),
        then ``AccountCreated`` through the outbox. False when the event was already there (the
        event hook came first)."""
        metrics.SIGNUPS.inc("created")  # the embedded registration's share of bff_signups_total
        if invitation is not None and self.invitations is not None:
            await self.invitations.redeem(invitation, user_id=user_id, email=login)
        event = AccountCreated.new(user_id=user_id, login=login or "", email=login, first_name=None,
                                   last_name=None, org_id=None, locale=None, source="bff-signup")
        try:
            added = await self.outbox.add(id=event.eventId, dedupe_key=dedupe_key(user_id),
                                          kind=event.eventType, payload=event.to_json(),
                                          needs_enrichment=True)
        except Exception:
            log.critical("outbox write failed for registered user %s; the Okta event hook must deliver "
                         "its event", user_id, exc_info=True)
            return False
        if added:
            self.relay.kick()
        log.info("registered through IDX: user %s (%s)", user_id, "new" if added else "already reported")
        return added
