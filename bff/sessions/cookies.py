"""The session cookie's value: a random session id signed with itsdangerous.

The cookie carries nothing but ``<session id>.<HMAC-SHA256 signature>``; all session data stays
in the store. Signing means a forged or guessed id is rejected before any store lookup.

Key rotation. ``BFF_SECRET_KEYS`` lists keys NEWEST FIRST; itsdangerous takes a list OLDEST
FIRST and signs with its LAST entry. :class:`CookieSigner` reverses the list, so new cookies are
signed with the newest key while cookies signed with any older listed key still verify (rotation
without logging everyone out). Remove a key from the list to invalidate the cookies it signed.

Purposes. The ``salt`` separates purposes: a value signed for one purpose (say the login
transaction cookie) never verifies for another (the session cookie), even under the same keys.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Sequence

from itsdangerous import BadData, Signer

__all__ = ["CookieSigner", "new_session_id", "SESSION_COOKIE_SALT", "MAX_COOKIE_VALUE"]

SESSION_COOKIE_SALT = "bff.session-cookie"
#: Longer cookie values are rejected without any cryptography (hostile input).
MAX_COOKIE_VALUE = 1024


def new_session_id() -> str:
    """A fresh session id: 256 random bits, URL-safe base64 (43 characters), no data in it."""
    return secrets.token_urlsafe(32)


class CookieSigner:
    """Signs and verifies cookie values. ``secret_keys`` is ``Settings.secret_keys`` (newest
    first, as configured); ``salt`` names the purpose."""

    def __init__(self, secret_keys: Sequence[str], *, salt: str = SESSION_COOKIE_SALT) -> None:
        if isinstance(secret_keys, str):
            raise TypeError("secret_keys must be a sequence of strings, not one string")
        if not secret_keys:
            raise ValueError("CookieSigner needs at least one secret key")
        if not salt:
            raise ValueError("CookieSigner needs a non-empty salt (one per purpose)")
        # itsdangerous: "oldest to newest", signs with the last one. Ours: newest first.
        oldest_first = list(reversed(secret_keys))
        self._signer = Signer(oldest_first, salt=salt, key_derivation="hmac",
                              digest_method=hashlib.sha256)

    def sign(self, session_id: str) -> str:
        """``session_id`` + ``.`` + signature under the newest key."""
        if not session_id or "." in session_id:
            raise ValueError("the signed value must be non-empty and contain no '.'")
        return self._signer.sign(session_id).decode("ascii")

    def unsign(self, value: str) -> str | None:
        """The session id, or None when ``value`` is tampered, malformed, oversized or signed
        with a key (or for a purpose) we do not know. Never raises."""
        if not isinstance(value, str) or not value or len(value) > MAX_COOKIE_VALUE:
            return None
        try:
            raw = value.encode("ascii")
            unsigned = self._signer.unsign(raw).decode("ascii")
        except (BadData, UnicodeError, ValueError, TypeError):
            return None
        return unsigned or None
