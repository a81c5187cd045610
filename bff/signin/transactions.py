"""Embedded sign-in transactions: what the BFF keeps between the steps of one Interaction Code
sign-in, server-side, so any instance sharing the session store can continue it.

A transaction holds the OAuth ``state`` and ``nonce``, the PKCE verifier, ``returnTo``, the
scopes, the identifier once known (for the attempt limits) and Okta's latest IDX state as
Okta sent it (its state handle, and during a TOTP enrollment the shared secret). Storage:

* one session-store record per transaction, id ``signin:<id>`` where ``<id>`` is the SHA-256
  of the OAuth ``state`` (so Okta's email magic link, which carries ``state``, finds it),
  ``user_id`` ``signin:<binding>``, written with the store's conditional ``replace``;
* encrypted with :class:`bff.sessions.crypto.TokenCipher` (AES-GCM), the record id as
  associated data, so a record cannot be moved under another id;
* expiring with Okta's ``expiresAt`` (capped at :data:`MAX_TTL`; ``BFF_LOGIN_TTL`` when Okta
  gives none): an expired transaction reads as gone, so a late step is refused without
  asking Okta;
* deleted on success, cancel and a terminal state (:meth:`SigninTransactions.end`).

Bound to the browser like a redirect login (:mod:`bff.auth.transactions`): a signed
``__Host-`` cookie (``<session cookie>-signin``) carries the browser's random binding id and the
id of its latest transaction; a transaction answers only to the binding that started it. The
binding is per browser, so several tabs each run their own transaction: a tab names its own
with the ``X-BFF-Signin`` header (the ``transaction`` member of every step), otherwise the
cookie's latest one is used.

Steps of one transaction are serialised with the store's lock (:meth:`SigninTransactions.lock`):
a second request while one is with Okta gets a 409, and ``replace`` refuses a write based on a
stale version (also 409).
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import json
import re
import secrets
import time
from collections.abc import AsyncIterator, Callable, Mapping
from dataclasses import dataclass, field, fields, replace
from datetime import datetime

from bff.errors import Conflict
from bff.sessions.cookies import CookieSigner
from bff.sessions.crypto import DecryptError, TokenCipher
from bff.sessions.store import SessionRecord, SessionStore

BINDING_SALT = "bff.signin-binding"
RECORD_PREFIX = "signin:"
LOCK_PREFIX = "signin-lock:"
#: A transaction never outlives this, whatever Okta's ``expiresAt`` says.
MAX_TTL = 3600.0
_ID = re.compile(r"[0-9a-f]{64}")
_BINDING = re.compile(r"[A-Za-z0-9_-]{16,64}")


class SigninBusy(Conflict):
    """Another request of this transaction is with Okta, or wrote first."""

    code = "signin_busy"
    title = "This sign-in is busy with another request"


def transaction_id(state: str) -> str:
    """The id of the transaction started with OAuth ``state`` (its SHA-256, hex)."""
    return hashlib.sha256(state.encode()).hexdigest()


def valid_id(value: str | None) -> bool:
    return value is not None and _ID.fullmatch(value) is not None


@dataclass(frozen=True)
class SigninTransaction:
    id: str
    state: str
    nonce: str
    code_verifier: str
    return_to: str
    scopes: tuple[str, ...]
    binding: str
    created_at: float
    expires_at: float
    identifier: str | None = None
    idx: Mapping[str, object] = field(default_factory=dict)  # Okta's latest state, as sent
    registering: bool = False  # an enroll-profile was sent: success means a new, verified account
    invitation: str | None = None  # the invitation code of a sign-up (server-side only; never shown)
    profiled: tuple[str, ...] = ()  # the attributes a profile-update answered (announced at success)
    version: int = 0

    def __repr__(self) -> str:  # never the state, verifier or state handle
        return (f"SigninTransaction(return_to={self.return_to!r}, scopes={self.scopes!r}, "
                f"version={self.version})")


@dataclass(frozen=True)
class Binding:
    """What the browser's signed cookie says: its binding id and its latest transaction."""

    binding: str
    current: str | None


class SigninTransactions:
    def __init__(self, store: SessionStore, secret_keys: tuple[str, ...], *, default_ttl: float,
                 lock_ttl: float, clock: Callable[[], float] = time.time) -> None:
        self.store = store
        self.cipher = TokenCipher(secret_keys)
        self.signer = CookieSigner(secret_keys, salt=BINDING_SALT)
        self.default_ttl = default_ttl
        self.lock_ttl = lock_ttl
        self.clock = clock

    # -- the browser binding cookie ---------------------------------------------------------

    def binding_of(self, cookie_value: str | None) -> Binding | None:
        """The binding the cookie carries, or None when absent, forged or malformed."""
        raw = self.signer.unsign(cookie_value) if cookie_value else None
        if raw is None:
            return None
        binding, _, current = raw.partition("~")
        if not _BINDING.fullmatch(binding):
            return None
        return Binding(binding, current if valid_id(current) else None)

    def cookie_value(self, binding: str, current: str) -> str:
        return self.signer.sign(f"{binding}~{current}")  # the signer refuses "."

    @staticmethod
    def new_binding() -> str:
        return secrets.token_urlsafe(24)

    # -- records -----------------------------------------------------------------------------

    def new(self, *, binding: str, return_to: str, scopes: tuple[str, ...]) -> SigninTransaction:
        """A transaction's secrets (not stored yet: :meth:`create` stores it with Okta's first state)."""
        state = secrets.token_urlsafe(32)
        now = self.clock()
        return SigninTransaction(
            id=transaction_id(state), state=state, nonce=secrets.token_urlsafe(32),
            code_verifier=secrets.token_urlsafe(64),  # 86 chars of [A-Za-z0-9_-]: RFC 7636 4.1
            return_to=return_to, scopes=scopes, binding=binding, created_at=now,
            expires_at=now + self.default_ttl)

    def _expiry(self, okta_expires_at: datetime | None) -> float:
        now = self.clock()
        if okta_expires_at is None:
            return now + self.default_ttl
        return min(okta_expires_at.timestamp(), now + MAX_TTL)

    def _record(self, txn: SigninTransaction) -> SessionRecord:
        key = RECORD_PREFIX + txn.id
        # Shallow: asdict() would deep-copy Okta's whole document (a millisecond per write).
        payload = {f.name: getattr(txn, f.name) for f in fields(txn) if f.name != "version"}
        payload["idx"] = dict(txn.idx)
        blob = self.cipher.encrypt(json.dumps(payload, separators=(",", ":")).encode(), aad=key.encode())
        return SessionRecord(id=key, user_id=RECORD_PREFIX + txn.binding, idp_sid=None,
                             created_at=txn.created_at, expires_at=txn.expires_at, version=txn.version,
                             data=blob)

    async def create(self, txn: SigninTransaction, idx: Mapping[str, object],
                     okta_expires_at: datetime | None) -> SigninTransaction:
        stored = replace(txn, idx=dict(idx), expires_at=self._expiry(okta_expires_at), version=1)
        await self.store.create(self._record(stored))
        return stored

    async def update(self, txn: SigninTransaction, idx: Mapping[str, object],
                     okta_expires_at: datetime | None, *, identifier: str | None = None) -> SigninTransaction:
        """Store Okta's new state; :class:`SigninBusy` when someone else wrote first."""
        new = replace(txn, idx=dict(idx), expires_at=self._expiry(okta_expires_at),
                      identifier=identifier or txn.identifier, version=txn.version + 1)
        if new.expires_at <= self.clock():
            await self.end(txn.id)
            return new
        if not await self.store.replace(self._record(new), expected_version=txn.version):
            raise SigninBusy("This sign-in changed in another request; reload the step")
        return new

    async def get(self, txn_id: str) -> SigninTransaction | None:
        """The live transaction ``txn_id``, or None (unknown, ended, expired, unreadable)."""
        if not valid_id(txn_id):
            return None
        key = RECORD_PREFIX + txn_id
        record = await self.store.get(key)
        if record is None or record.expires_at <= self.clock():
            return None
        try:
            raw = json.loads(self.cipher.decrypt(record.data, aad=key.encode()))
            txn = SigninTransaction(**{**raw, "scopes": tuple(raw["scopes"]),
                                       "profiled": tuple(raw.get("profiled", ())), "version": record.version})
        except (DecryptError, ValueError, TypeError, KeyError):
            return None
        return txn if txn.id == txn_id else None

    def belongs(self, txn: SigninTransaction, binding: Binding | None) -> bool:
        return binding is not None and hmac.compare_digest(txn.binding.encode(), binding.binding.encode())

    async def end(self, txn_id: str) -> None:
        await self.store.delete(RECORD_PREFIX + txn_id)

    @contextlib.asynccontextmanager
    async def lock(self, txn_id: str) -> AsyncIterator[None]:
        """Hold the transaction's lock (one step at a time, across instances)."""
        token = await self.store.acquire_lock(LOCK_PREFIX + txn_id, self.lock_ttl)
        if token is None:
            raise SigninBusy("Another step of this sign-in is in progress")
        try:
            yield
        finally:
            await self.store.release_lock(LOCK_PREFIX + txn_id, token)
