"""Invitations (``BFF_SIGNUP_ORG=invitation``): the only way into a customer organisation.

An org admin (``bff invite``, or the admin screen through the BFF's admin actions) invites ONE
email address into their organisation. The invitation is a record in the session store (so it
has the store's four back-ends, memory, SQLite, Redis and DynamoDB, and one contract test,
``tests/integration/signup/test_invitations_contract.py``):

* the code handed out is 32 random bytes (URL-safe base64); the store keeps only its SHA-256
  (the record id ``invite:<hash>``), so a copy of the store gives no usable code. It travels to
  the invitee in a link, :func:`invitation_link` (``{BFF_PUBLIC_URL}/signin?invitation=<code>``);
* bound to one address, compared case-insensitively (both sides lower-cased);
* single-use, expiring (``BFF_INVITATION_TTL``, 7 days by default) and revocable, every change a
  conditional ``replace`` on the record's version, so two redemptions of one code cannot both win;
* redeemed only once the address is verified: on the embedded sign-up's ``success`` (Okta
  verified the email before the account became ACTIVE), and for the Users-API sign-up on the
  account's activation (``user.lifecycle.activate``), the invitation being *reserved* for the
  new, PROVISIONED user until then. The redemption is what sets ``orgId`` (through the
  Management API, by the caller);
* audited: the record keeps who invited whom and when, who revoked it, which user redeemed it
  and when; each transition is logged (``bff.signup.invitations``: the invitation's short id,
  the org and user ids; never the code, never an address: who invited whom is in the record).

States and transitions (anything else is refused)::

    pending ──reserve(user)──▶ reserved ──redeem(same user)──▶ redeemed
       │  └──────────────redeem(user)────────────────────────▶ redeemed
       └──revoke──▶ revoked ◀──revoke── reserved

Failures are :class:`InvitationRefused` with a stable ``reason`` (``unknown``, ``expired``,
``revoked``, ``used``, ``email``): each becomes its own problem code and copy key
(``error.invitation.<reason>`` in the ``signup`` journey). Records are kept
:data:`RETENTION` after they expire, for the audit, then the store forgets them.

Listing an organisation's invitations reads an index record per organisation
(``invite-org:<org>``, the ids of its invitations, itself updated with conditional writes).
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import secrets
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, replace
from typing import Literal
from urllib.parse import quote

from bff.sessions.crypto import DecryptError, TokenCipher
from bff.sessions.store import SessionExists, SessionRecord, SessionStore

log = logging.getLogger("bff.signup.invitations")

RECORD_PREFIX = "invite:"
ORG_PREFIX = "invite-org:"
USER_PREFIX = "invite-user:"
DEFAULT_TTL = 7 * 24 * 3600
#: How long a record outlives its expiry (the audit trail), then the store forgets it.
RETENTION = 90 * 24 * 3600
MAX_CODE = 128
MAX_PER_ORG = 1000
_WRITE_ATTEMPTS = 8

Status = Literal["pending", "reserved", "redeemed", "revoked"]
Reason = Literal["unknown", "expired", "revoked", "used", "email"]


class InvitationRefused(Exception):
    """The code cannot be used; ``reason`` is one of :data:`Reason`."""

    def __init__(self, reason: Reason) -> None:
        super().__init__(reason)
        self.reason: Reason = reason


@dataclass(frozen=True)
class Invitation:
    id: str  # SHA-256 of the code (hex); never the code
    org_id: str
    email: str  # lower-case
    invited_by: str
    created_at: float
    expires_at: float
    status: Status = "pending"
    reserved_for: str | None = None  # the Okta user id created for it (Users-API sign-up)
    redeemed_by: str | None = None  # the Okta user id that joined the organisation
    redeemed_at: float | None = None
    revoked_by: str | None = None
    revoked_at: float | None = None
    version: int = 0

    def public(self, now: float) -> dict[str, object]:
        """What the admin screen shows (no code: it was shown once, when issued)."""
        open_ = self.status in ("pending", "reserved")
        status = "expired" if open_ and now >= self.expires_at else self.status
        return {"id": self.id[:16], "email": self.email, "orgId": self.org_id, "status": status,
                "invitedBy": self.invited_by, "createdAt": _iso(self.created_at),
                "expiresAt": _iso(self.expires_at), "redeemedBy": self.redeemed_by,
                "redeemedAt": _iso(self.redeemed_at), "revokedBy": self.revoked_by,
                "revokedAt": _iso(self.revoked_at)}


@dataclass(frozen=True)
class Issued:
    code: str  # shown once
    invitation: Invitation


def invitation_link(public_url: str, code: str) -> str:
    """The link an invitee opens: the SPA's sign-in, which starts the embedded sign-up with the
    code (``POST /bff/signin {"invitation": code}``) and removes it from the address bar."""
    return f"{public_url.rstrip('/')}/signin?invitation={quote(code, safe='')}"


def code_id(code: str) -> str:
    return hashlib.sha256(code.encode("utf-8", "surrogateescape")).hexdigest()


def _iso(ts: float | None) -> str | None:
    if ts is None:
        return None
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(ts))


class Invitations:
    """The invitation records of one session store. ``clock`` for tests."""

    def __init__(self, store: SessionStore, secret_keys: tuple[str, ...] | list[str], *,
                 ttl: float = DEFAULT_TTL, clock: Callable[[], float] = time.time) -> None:
        self.store = store
        self.cipher = TokenCipher(tuple(secret_keys))
        self.ttl = ttl
        self.clock = clock

    # -- records ---------------------------------------------------------------------------

    def _record(self, key: str, payload: object, *, created_at: float, expires_at: float, version: int,
                owner: str) -> SessionRecord:
        blob = self.cipher.encrypt(json.dumps(payload, separators=(",", ":")).encode(), aad=key.encode())
        return SessionRecord(id=key, user_id=owner, idp_sid=None, created_at=created_at,
                             expires_at=expires_at, version=version, data=blob)

    def _inv_record(self, inv: Invitation) -> SessionRecord:
        payload = {k: v for k, v in asdict(inv).items() if k != "version"}
        return self._record(RECORD_PREFIX + inv.id, payload, created_at=inv.created_at,
                            expires_at=inv.expires_at + RETENTION, version=inv.version,
                            owner=ORG_PREFIX + inv.org_id)

    async def _read(self, key: str) -> tuple[object, SessionRecord] | None:
        record = await self.store.get(key)
        if record is None:
            return None
        try:
            return json.loads(self.cipher.decrypt(record.data, aad=key.encode())), record
        except (DecryptError, ValueError):
            log.error("unreadable invitation record %s", key[:40])
            return None

    async def get(self, invitation_id: str) -> Invitation | None:
        found = await self._read(RECORD_PREFIX + invitation_id)
        if found is None:
            return None
        payload, record = found
        if not isinstance(payload, dict):
            return None
        try:
            return Invitation(**{**payload, "version": record.version})
        except TypeError:
            return None

    async def _write(self, inv: Invitation) -> bool:
        new = replace(inv, version=inv.version + 1)
        return await self.store.replace(self._inv_record(new), expected_version=inv.version)

    # -- issue, list, revoke -------------------------------------------------------------------

    async def issue(self, org_id: str, email: str, *, invited_by: str, ttl: float | None = None) -> Issued:
        code = secrets.token_urlsafe(32)
        now = self.clock()
        inv = Invitation(id=code_id(code), org_id=org_id, email=email.strip().lower(), invited_by=invited_by,
                         created_at=now, expires_at=now + (ttl if ttl is not None else self.ttl), version=1)
        await self.store.create(self._inv_record(inv))
        await self._index(org_id, inv.id)
        log.info("invitation %s issued into org %s", inv.id[:16], org_id)  # who, whom: in the record
        return Issued(code, inv)

    async def _index(self, org_id: str, invitation_id: str) -> None:
        key = ORG_PREFIX + org_id
        for _ in range(_WRITE_ATTEMPTS):
            found = await self._read(key)
            now = self.clock()
            if found is None:
                rec = self._record(key, [invitation_id], created_at=now, expires_at=now + 10 * 365 * 86400,
                                   version=1, owner=key)
                try:
                    await self.store.create(rec)
                    return
                except SessionExists:
                    continue
            else:
                ids, record = found
                listed = [i for i in ids if isinstance(i, str)] if isinstance(ids, list) else []
                listed = [i for i in listed if i != invitation_id][-(MAX_PER_ORG - 1):] + [invitation_id]
                rec = self._record(key, listed, created_at=record.created_at, expires_at=record.expires_at,
                                   version=record.version + 1, owner=key)
                if await self.store.replace(rec, expected_version=record.version):
                    return
            await asyncio.sleep(0.01)
        raise RuntimeError("the organisation's invitation index changed too often; try again")

    async def list(self, org_id: str) -> list[Invitation]:
        """The organisation's invitations still on record, newest first."""
        found = await self._read(ORG_PREFIX + org_id)
        if found is None or not isinstance(found[0], list):
            return []
        out = []
        for inv_id in reversed(found[0]):
            if isinstance(inv_id, str):
                inv = await self.get(inv_id)
                if inv is not None and inv.org_id == org_id:
                    out.append(inv)
        return out

    async def find(self, org_id: str, short_id: str) -> Invitation | None:
        """An invitation of ``org_id`` by the id the admin screen shows (a prefix of the hash)."""
        if not short_id or len(short_id) > 64:
            return None
        for inv in await self.list(org_id):
            if inv.id.startswith(short_id.lower()):
                return inv
        return None

    async def revoke(self, inv: Invitation, *, by: str) -> Invitation:
        """Revoke a pending or reserved invitation (:class:`InvitationRefused` ``used`` once
        redeemed; revoking twice is a no-op)."""
        for _ in range(_WRITE_ATTEMPTS):
            current = await self.get(inv.id)
            if current is None:
                raise InvitationRefused("unknown")
            if current.status == "revoked":
                return current
            if current.status == "redeemed":
                raise InvitationRefused("used")
            new = replace(current, status="revoked", revoked_by=by, revoked_at=self.clock())
            if await self._write(new):
                log.info("invitation %s (org %s) revoked", inv.id[:16], inv.org_id)
                return replace(new, version=new.version + 1)
        raise InvitationRefused("used")

    # -- using a code ---------------------------------------------------------------------------

    async def check(self, code: object, email: str | None = None, *,
                    user_id: str | None = None) -> Invitation:
        """The usable invitation of ``code`` (for ``email`` when given), or
        :class:`InvitationRefused`. ``user_id``: the user it was reserved for may still use it."""
        if not isinstance(code, str) or not code.strip() or len(code) > MAX_CODE:
            raise InvitationRefused("unknown")
        inv = await self.get(code_id(code.strip()))
        if inv is None:
            raise InvitationRefused("unknown")
        if inv.status == "revoked":
            raise InvitationRefused("revoked")
        if inv.status == "redeemed" or (inv.status == "reserved" and inv.reserved_for != user_id):
            raise InvitationRefused("used")
        if self.clock() >= inv.expires_at:
            raise InvitationRefused("expired")
        if email is not None and email.strip().lower() != inv.email:
            raise InvitationRefused("email")
        return inv

    async def reserve(self, code: str, email: str, user_id: str) -> Invitation:
        """Hold the invitation for the (not yet verified) user just created with it."""
        for _ in range(_WRITE_ATTEMPTS):
            inv = await self.check(code, email)
            new = replace(inv, status="reserved", reserved_for=user_id)
            if await self._write(new):
                await self._link_user(user_id, inv)
                log.info("invitation %s reserved for new user %s", inv.id[:16], user_id)
                return replace(new, version=new.version + 1)
        raise InvitationRefused("used")

    async def _link_user(self, user_id: str, inv: Invitation) -> None:
        key = USER_PREFIX + user_id
        rec = self._record(key, inv.id, created_at=self.clock(), expires_at=inv.expires_at + RETENTION,
                           version=1, owner=key)
        await self.store.delete(key)
        await self.store.create(rec)

    async def reserved_for(self, user_id: str) -> Invitation | None:
        found = await self._read(USER_PREFIX + user_id)
        if found is None or not isinstance(found[0], str):
            return None
        return await self.get(found[0])

    async def redeem(self, inv: Invitation, *, user_id: str, email: str | None) -> Invitation:
        """Use ``inv`` for ``user_id``, whose address ``email`` is verified. Exactly one
        redemption wins (conditional write); the caller then sets ``orgId``."""
        for _ in range(_WRITE_ATTEMPTS):
            current = await self.get(inv.id)
            if current is None:
                raise InvitationRefused("unknown")
            if current.status == "revoked":
                raise InvitationRefused("revoked")
            taken = current.status == "reserved" and current.reserved_for != user_id
            if current.status == "redeemed" or taken:
                raise InvitationRefused("used")
            if self.clock() >= current.expires_at:
                raise InvitationRefused("expired")
            if email is None or email.strip().lower() != current.email:
                raise InvitationRefused("email")
            new = replace(current, status="redeemed", redeemed_by=user_id, redeemed_at=self.clock())
            if await self._write(new):
                log.info("invitation %s (issued %s) redeemed by user %s into org %s",
                         inv.id[:16], _iso(current.created_at), user_id, current.org_id)
                return replace(new, version=new.version + 1)
        raise InvitationRefused("used")
