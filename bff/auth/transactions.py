"""Login transactions: the per-login secrets (``state``, ``nonce``, PKCE verifier) and where to
go afterwards, kept server-side between ``/bff/login`` and ``/bff/callback``.

* One record per login, keyed by a hash of its ``state``, encrypted (AES-GCM, the record key as
  associated data) and stored with the session store's ONE-USE transactions: the callback takes
  it atomically, so a replayed ``state`` finds nothing, and it expires after ``BFF_LOGIN_TTL``.
* Bound to the browser: each transaction records the id held in a small signed cookie
  (``<session cookie>-login``, e.g. ``__Host-bff-login``). The callback must come from the browser
  that started the login (login CSRF: an attacker's ``code``/``state`` pasted into a victim's
  browser fails). The id is per browser, not per login, so several logins in flight (tabs) each
  complete.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass

from bff.sessions.cookies import CookieSigner
from bff.sessions.crypto import DecryptError, TokenCipher
from bff.sessions.store import SessionStore

BINDING_SALT = "bff.login-binding"
#: A ``state`` outside this shape is never looked up.
MAX_STATE = 256


class TransactionError(Exception):
    """The callback does not match a live login transaction of this browser. ``code`` is the
    short error the SPA receives (``/?auth_error=<code>``)."""

    def __init__(self, code: str, reason: str) -> None:
        super().__init__(reason)
        self.code = code


@dataclass(frozen=True)
class LoginTransaction:
    state: str
    nonce: str
    code_verifier: str
    return_to: str
    scopes: tuple[str, ...]
    binding: str
    created_at: float

    def __repr__(self) -> str:
        return f"LoginTransaction(return_to={self.return_to!r}, scopes={self.scopes!r})"


def _key(state: str) -> str:
    return "login:" + hashlib.sha256(state.encode()).hexdigest()


class LoginTransactions:
    def __init__(self, store: SessionStore, secret_keys: tuple[str, ...], *, ttl: float,
                 clock: Callable[[], float] = time.time) -> None:
        self.store = store
        self.cipher = TokenCipher(secret_keys)
        self.signer = CookieSigner(secret_keys, salt=BINDING_SALT)
        self.ttl = ttl
        self.clock = clock

    # -- the browser binding cookie ---------------------------------------------------------

    def binding_of(self, cookie_value: str | None) -> str | None:
        """The binding id carried by the cookie, or None when absent or not ours."""
        return self.signer.unsign(cookie_value) if cookie_value else None

    def new_binding(self) -> str:
        return secrets.token_urlsafe(24)

    def binding_cookie(self, binding: str) -> str:
        return self.signer.sign(binding)

    # -- transactions ------------------------------------------------------------------------

    async def begin(self, *, binding: str, return_to: str, scopes: tuple[str, ...]) -> LoginTransaction:
        txn = LoginTransaction(
            state=secrets.token_urlsafe(32),
            nonce=secrets.token_urlsafe(32),
            code_verifier=secrets.token_urlsafe(64),  # 86 chars of [A-Za-z0-9_-]: RFC 7636 4.1
            return_to=return_to,
            scopes=scopes,
            binding=binding,
            created_at=self.clock(),
        )
        key = _key(txn.state)
        blob = self.cipher.encrypt(json.dumps(asdict(txn)).encode(), aad=key.encode())
        await self.store.put_transaction(key, blob, self.ttl)
        return txn

    async def take(self, state: str | None, binding: str | None) -> LoginTransaction:
        """The transaction of ``state`` (consumed: it works once) when it belongs to this
        browser and is still fresh; :class:`TransactionError` otherwise."""
        if not state or len(state) > MAX_STATE or not state.isascii():
            raise TransactionError("invalid_state", "missing or malformed state")
        key = _key(state)
        blob = await self.store.take_transaction(key)
        if blob is None:
            raise TransactionError("invalid_state", "unknown, used or expired state")
        try:
            raw = json.loads(self.cipher.decrypt(blob, aad=key.encode()))
            txn = LoginTransaction(**{**raw, "scopes": tuple(raw["scopes"])})
        except (DecryptError, ValueError, TypeError, KeyError):
            raise TransactionError("invalid_state", "unreadable login transaction") from None
        if self.clock() - txn.created_at > self.ttl:
            raise TransactionError("invalid_state", "expired login transaction")
        if binding is None or not hmac.compare_digest(binding.encode(), txn.binding.encode()):
            raise TransactionError("invalid_state", "login transaction of another browser")
        return txn
