"""The authorization server's RS256 signing keys, published as a JWKS.

Okta signs with one active key and keeps retired (and upcoming) keys in ``/v1/keys`` so tokens
signed before a rotation still verify; every key has a stable ``kid``. Here the kid is the key's
RFC 7638 thumbprint, which is stable for the life of the key.
"""

from __future__ import annotations

from typing import Any

from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet, RSAKey


def new_signing_key() -> RSAKey:
    key = RSAKey.generate_key(2048, parameters={"use": "sig", "alg": "RS256"}, private=True)
    return RSAKey.import_key(key.as_dict(private=True), parameters={"kid": key.thumbprint()})


class SigningKeys:
    """Active key first; older keys stay published until :meth:`retire` drops them."""

    def __init__(self) -> None:
        self._keys: list[RSAKey] = [new_signing_key()]

    @property
    def active(self) -> RSAKey:
        return self._keys[0]

    @property
    def active_kid(self) -> str:
        return str(self.active.kid)

    def rotate(self) -> str:
        """Start signing with a new key; keep the old ones published. Returns the new kid."""
        self._keys.insert(0, new_signing_key())
        return self.active_kid

    def retire(self, keep: int = 1) -> None:
        """Drop all but the ``keep`` newest keys from the JWKS."""
        del self._keys[max(keep, 1):]

    def jwks(self) -> dict[str, Any]:
        return {"keys": [k.as_dict(private=False) for k in self._keys]}

    def key_set(self) -> KeySet:
        return KeySet(list(self._keys))

    def sign(self, claims: dict[str, Any], *, typ: str | None = None) -> str:
        header: dict[str, Any] = {"alg": "RS256", "kid": self.active_kid}
        if typ:
            header["typ"] = typ
        return jwt.encode(header, claims, self.active, algorithms=["RS256"])

    def verify(self, token: str) -> dict[str, Any] | None:
        """Claims of a token this server signed (any published key), or None. No claim checks."""
        try:
            decoded = jwt.decode(token, self.key_set(), algorithms=["RS256"])
        except (JoseError, ValueError, TypeError):
            return None
        return dict(decoded.claims)
