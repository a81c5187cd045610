"""The registration service: one object per app instance (``services.signup``) tying
the form, the rate limits, the Okta Management client, the outbox and its relay together.

Order of a sign-up, and why:

1. rate limit per client IP (every attempt counts, valid or not);
2. validate the form (422 lists every problem at once);
3. rate limit per email (only well-formed addresses count);
4. create the Okta user (409 taken, 503 busy, 502 other);
5. the user is PROVISIONED (no password): Okta emails the activation link. Nothing is announced
   yet; the invitation (org mode ``invitation``) is reserved for the new user.
6. on activation (the address is verified, the password chosen on Okta's page), Okta's event hook
   (``user.lifecycle.activate``): the reserved invitation is redeemed (``orgId`` set through the
   Management API), then ``AccountCreated`` goes to the outbox and the relay wakes.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from bff.errors import BFFError, RateLimited, Unavailable
from bff.observability import metrics
from bff.okta.events import EventHook, LogEvent
from bff.settings import Settings
from bff.signup.events import AccountCreated, dedupe_key
from bff.signup.forms import SignupForm, parse_profile, parse_signup
from bff.signup.hooks import created_users, notice_subjects
from bff.signup.idx_signup import IdxSignup
from bff.signup.invitations import InvitationRefused
from bff.signup.membership import Membership
from bff.signup.notices import NOTICE_FOR, AccountNotice
from bff.signup.notices import dedupe_key as notice_dedupe_key
from bff.signup.okta_users import OktaUser, OktaUsers, UserNotFound
from bff.signup.outbox import Outbox
from bff.signup.profile_events import ProfileAnnouncer
from bff.signup.ratelimit import RateLimiter
from bff.signup.relay import Relay

log = logging.getLogger("bff.signup")


def limiter_salt(settings: Settings) -> bytes:
    return hashlib.sha256(b"bff.signup.ratelimit\x00" + settings.secret_keys[0].encode()).digest()


@dataclass
class SignupService:
    settings: Settings
    okta: OktaUsers | None
    outbox: Outbox
    relay: Relay
    limiter: RateLimiter
    invitations: Membership
    hook: EventHook = field(default_factory=EventHook)  # the Okta event hook's dispatch, by event type
    stats: dict[str, int] = field(default_factory=lambda: {"created": 0, "outbox_failures": 0})

    # -- rate limits ---------------------------------------------------------------------------

    async def _hit(self, bucket: str, key: str, limit: int) -> None:
        decision = await self.limiter.hit(bucket, key, limit=limit, window=self.settings.signup.rate_window)
        if not decision.allowed:
            metrics.RATE_LIMITED.inc(f"signup-{bucket}")
            raise RateLimited(decision.retry_after, "Too many sign-up attempts; try again later")

    async def limit_ip(self, client_ip: str) -> None:
        await self._hit("ip", client_ip, self.settings.signup.rate_per_ip)

    async def limit_email(self, email: str) -> None:
        await self._hit("email", email, self.settings.signup.rate_per_email)

    # -- sign-up -------------------------------------------------------------------------------

    def require_okta(self) -> OktaUsers:
        if self.okta is None:
            raise Unavailable("Registration is not configured on this server")
        return self.okta

    def parse(self, body: Mapping[str, Any], fallback_locale: str | None) -> SignupForm:
        return parse_signup(body, self.settings.signup, locales=self.settings.content.locales,
                            fallback_locale=fallback_locale,
                            federated_domains=self.settings.okta.idp_discovery)

    async def register(self, form: SignupForm) -> OktaUser:
        okta = self.require_okta()
        await self.limit_email(form.email)
        if form.invitation_code is not None:  # refused before anything reaches Okta
            await self.invitations.check_or_raise(form.invitation_code, form.email, field="invitationCode")
        profile: dict[str, Any] = {"firstName": form.first_name, "lastName": form.last_name,
                                   "email": form.email, "login": form.email}
        if form.org_id:  # organisation mode (bff dev only); an invitation's org is set on activation
            profile["orgId"] = form.org_id
        if form.company:
            profile["company"] = form.company
        if form.locale:
            profile["locale"] = form.locale.replace("-", "_")  # Okta's format: fr_CA
        # PROVISIONED, never ACTIVE: Okta emails the activation link; the account is ACTIVE once its
        # owner opened it (the address is verified) and chose a password there, and Okta's event hook
        # (user.lifecycle.activate) is what announces it: AccountCreated is written then, not now.
        try:
            user = await okta.create_user(profile, password=None, activate=True)
        except BFFError as exc:
            metrics.SIGNUPS.inc(exc.instance_code)
            raise
        self.stats["created"] += 1
        metrics.SIGNUPS.inc("created")
        if form.invitation_code is not None:
            try:
                await self.invitations.reserve(form.invitation_code, form.email, user.id)
            except InvitationRefused as exc:  # revoked or used between the check and now: no org
                log.warning("invitation not reserved for new user %s: %s", user.id, exc.reason)
        log.info("created Okta user %s (status %s, org %s); announced once activated", user.id, user.status,
                 form.org_id)
        return user

    def idx_signup(self) -> IdxSignup:
        """The sign-up's part of the embedded sign-in (registration and progressive profiling)."""
        return IdxSignup(outbox=self.outbox, relay=self.relay, locales=tuple(self.settings.content.locales),
                         federated_domains=tuple(self.settings.okta.idp_discovery),
                         # An invitation the browser brings is honoured in `organisation` mode too
                         # (bff dev): that mode is about the Users-API form's typed company, and
                         # the embedded sign-up has no company field. `none`: no organisation.
                         invitations=self.invitations if self.settings.signup.org_mode != "none" else None)

    # -- event hook ----------------------------------------------------------------------------

    async def accept_created(self, events: Sequence[LogEvent]) -> dict[str, int]:
        """The ``CREATE_EVENT`` (``user.lifecycle.activate``) handler of the Okta event hook:
        one ``AccountCreated`` per new account (:mod:`bff.okta.events`), de-duplicated by the outbox."""
        accepted = duplicates = 0
        users = created_users(events)
        skipped = 0
        for created in users:
            status = await self._okta_status(created.user_id)
            if status not in ("ACTIVE", None):
                # Okta logged an activation of a user that is not ACTIVE (e.g. PROVISIONED: the
                # address is not verified): nothing is announced and no invitation redeemed. The
                # real activation later logs another event, which is then accepted.
                log.warning("okta hook: activation of user %s who is %s, not ACTIVE: ignored",
                            created.user_id, status)
                skipped += 1
                continue
            # The account is verified now: a Users-API sign-up's invitation is redeemed first, so
            # the relay reads the profile with its orgId when it completes the event. (Status
            # unknown, Okta unreadable: no redemption; the relay checks ACTIVE before publishing.)
            if status == "ACTIVE":
                await self.invitations.redeem_reserved(created.user_id)
            event = AccountCreated.new(user_id=created.user_id, login=created.login,
                                       email=created.login or None, first_name=None, last_name=None,
                                       org_id=None, locale=None, source="okta-hook",
                                       occurred_at=created.published)
            added = await self.outbox.add(id=event.eventId, dedupe_key=dedupe_key(created.user_id),
                                          kind=event.eventType, payload=event.to_json(),
                                          needs_enrichment=True)
            if added:
                accepted += 1
            else:
                duplicates += 1
        if accepted:
            self.relay.kick()
        if users:
            log.info("okta hook: %d new account(s), %d duplicate(s), %d not active", accepted, duplicates,
                     skipped)
        result = {"accepted": accepted, "duplicates": duplicates}
        if skipped:
            result["notActive"] = skipped
        return result

    async def accept_notices(self, events: Sequence[LogEvent]) -> dict[str, int]:
        """The handler of the account-notice event types (``user.account.lock``,
        ``user.account.update_password``, ``user.mfa.factor.activate``): one notice per Okta
        event ``uuid`` into the outbox (:mod:`bff.signup.notices`), completed from the profile by
        the relay. A redelivered event is a duplicate, counted and dropped."""
        accepted = duplicates = 0
        for subject in notice_subjects(events):
            notice = AccountNotice.new(notice_type=NOTICE_FOR[subject.event_type],
                                       okta_event_uuid=subject.event_uuid, user_id=subject.user_id,
                                       login=subject.login, occurred_at=subject.published)
            added = await self.outbox.add(id=notice.eventId,
                                          dedupe_key=notice_dedupe_key(notice.eventType, subject.event_uuid),
                                          kind=notice.eventType, payload=notice.to_json(),
                                          needs_enrichment=True)
            if added:
                accepted += 1
                metrics.ACCOUNT_NOTICES.inc(notice.eventType)
            else:
                duplicates += 1
        if accepted:
            self.relay.kick()
        if accepted or duplicates:
            log.info("okta hook: %d account notice(s), %d duplicate(s)", accepted, duplicates)
        return {"notices": accepted, "noticeDuplicates": duplicates}

    async def _okta_status(self, user_id: str) -> str | None:
        """The user's status at Okta; ``"GONE"`` when deleted; ``None`` when it cannot be read."""
        if self.okta is None:
            return None
        try:
            return (await self.okta.get_user(user_id)).status
        except UserNotFound:
            return "GONE"
        except BFFError as exc:
            log.error("okta hook: status of user %s unreadable (%s); the relay checks it before publishing",
                      user_id, exc.instance_code)
            return None

    # -- profile -------------------------------------------------------------------------------

    def profile_view(self, user: OktaUser) -> dict[str, Any]:
        fields = list(self.settings.signup.profile_fields)
        values: dict[str, Any] = {}
        for name in fields:
            value = user.profile.get(name)
            if name == "locale" and isinstance(value, str):
                value = value.replace("_", "-")
            values[name] = value if value not in ("", None) else None
        return {
            "fields": fields,
            "values": values,
            "missing": [n for n in fields if values[n] is None],
            "email": user.profile.get("email"),
            "firstName": user.profile.get("firstName"),
            "lastName": user.profile.get("lastName"),
        }

    async def read_profile(self, user_id: str) -> dict[str, Any]:
        return self.profile_view(await self.require_okta().get_user(user_id))

    async def update_profile(self, user_id: str, body: Mapping[str, Any]) -> dict[str, Any]:
        okta = self.require_okta()
        update = parse_profile(body, self.settings.signup.profile_fields,
                               locales=self.settings.content.locales)
        if not update:
            return await self.read_profile(user_id)
        view = self.profile_view(await okta.update_profile(user_id, update))
        await ProfileAnnouncer(self.outbox, self.relay).announce(user_id, update, "bff-profile")
        return view
