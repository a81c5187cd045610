"""Organisation membership by invitation: the invitation records (:mod:`bff.signup.invitations`)
and the Management API call that grants the membership (``orgId`` on the Okta profile).

:class:`Membership` is what the rest of the BFF uses:

* the sign-ups check a code before anything reaches Okta (:meth:`check_or_raise`: a 422
  :class:`InvitationInvalid` whose ``code`` names the reason: ``invitation_unknown``,
  ``invitation_expired``, ``invitation_revoked``, ``invitation_used``, ``invitation_email``;
  its ``errors`` carry the copy key ``error.invitationCode.<reason>`` of the ``signup`` journey);
* once the address is verified: :meth:`redeem` (embedded sign-up, at ``success``) or
  :meth:`redeem_reserved` (Users-API sign-up, on ``user.lifecycle.activate``) uses the
  invitation and only then writes ``orgId`` through the Management API. A redemption that loses
  (revoked or used meanwhile, expired) leaves the account in no organisation;
* the admin actions and ``bff invite``: :meth:`issue`, :meth:`list`, :meth:`revoke`.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from bff.errors import BFFError, ValidationFailed
from bff.signup.invitations import Invitation, InvitationRefused, Invitations, Issued, Reason
from bff.signup.okta_users import OktaUsers

log = logging.getLogger("bff.signup.invitations")

DETAILS: dict[str, str] = {
    "unknown": "This invitation code is not known",
    "expired": "This invitation has expired",
    "revoked": "This invitation was revoked",
    "used": "This invitation has already been used",
    "email": "This invitation is for another email address",
}


class InvitationInvalid(ValidationFailed):
    """A code that cannot be used, with the precise reason as the problem's ``code``."""

    title = "Invitation not valid"

    def __init__(self, reason: Reason, field: str) -> None:
        super().__init__([{"field": field, "code": f"error.invitationCode.{reason}"}], DETAILS[reason])
        self.instance_code = f"invitation_{reason}"
        self.reason = reason


@dataclass
class Membership:
    invitations: Invitations
    okta: OktaUsers | None

    async def check_or_raise(self, code: object, email: str | None, *, field: str) -> Invitation:
        try:
            return await self.invitations.check(code, email)
        except InvitationRefused as exc:
            raise InvitationInvalid(exc.reason, field) from None

    async def reserve(self, code: str, email: str, user_id: str) -> Invitation:
        return await self.invitations.reserve(code, email, user_id)

    async def _grant(self, inv: Invitation, user_id: str, email: str | None) -> bool:
        try:
            used = await self.invitations.redeem(inv, user_id=user_id, email=email)
        except InvitationRefused as exc:
            log.warning("invitation %s not redeemed by user %s: %s (no organisation)", inv.id[:16], user_id,
                        exc.reason)
            return False
        if self.okta is None:
            log.critical("invitation %s redeemed by %s but no Okta Management credentials: orgId not set",
                         inv.id[:16], user_id)
            return False
        try:
            await self.okta.update_profile(user_id, {"orgId": used.org_id})
        except BFFError as exc:
            log.critical("invitation %s redeemed by user %s but setting orgId=%s failed (%s): set it by hand",
                         inv.id[:16], user_id, used.org_id, exc.instance_code)
            return False
        log.info("user %s joined org %s (invitation %s)", user_id, used.org_id, inv.id[:16])
        return True

    async def redeem(self, code: str, *, user_id: str, email: str | None) -> bool:
        """The embedded sign-up succeeded (the address is verified): join the invited org."""
        try:
            inv = await self.invitations.check(code, email)
        except InvitationRefused as exc:
            log.warning("invitation not redeemed by user %s: %s (no organisation)", user_id, exc.reason)
            return False
        return await self._grant(inv, user_id, email)

    async def redeem_reserved(self, user_id: str) -> bool:
        """``user_id`` was activated (address verified): redeem the invitation reserved for it."""
        inv = await self.invitations.reserved_for(user_id)
        if inv is None or inv.status != "reserved" or inv.reserved_for != user_id:
            return False
        return await self._grant(inv, user_id, inv.email)

    # -- administration ------------------------------------------------------------------------

    def now(self) -> float:
        return self.invitations.clock()

    async def issue(self, org_id: str, email: str, *, invited_by: str, ttl: float | None = None) -> Issued:
        return await self.invitations.issue(org_id, email, invited_by=invited_by, ttl=ttl)

    async def list(self, org_id: str) -> list[Invitation]:
        return await self.invitations.list(org_id)

    async def revoke(self, org_id: str, short_id: str, *, by: str) -> Invitation | None:
        inv = await self.invitations.find(org_id, short_id)
        if inv is None:
            return None
        return await self.invitations.revoke(inv, by=by)
