"""Encryption of session data at rest: AES-256-GCM keyed from ``BFF_SECRET_KEYS``.

Each entry of ``BFF_SECRET_KEYS`` (newest first) yields two independent values through
HKDF-SHA256: a 256-bit AES key and an 8-byte key id. :meth:`TokenCipher.encrypt` always uses
the newest key; :meth:`TokenCipher.decrypt` picks the key named by the blob's key id, so data
written before a rotation still decrypts as long as its key stays in the list (rotation without
logging everyone out). The key id is derived, not a hash of the secret, and reveals nothing.

Blob format (all binary)::

    version (1 byte, 0x01) | key id (8 bytes) | nonce (12 bytes, random) | ciphertext + tag (16)

The header (version + key id) is authenticated together with the caller's ``aad``; callers pass
the session id as ``aad`` so a record cannot be copied from one session into another. Any
mismatch (tampering, truncation, wrong ``aad``, unknown key) raises :class:`DecryptError`,
whose message never includes key material or plaintext.
"""

from __future__ import annotations

import os
from collections.abc import Sequence

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

__all__ = ["DecryptError", "TokenCipher", "MIN_SECRET_LENGTH"]

MIN_SECRET_LENGTH = 32
_VERSION = b"\x01"
_KID_LEN = 8
_NONCE_LEN = 12
_TAG_LEN = 16
_HEADER_LEN = 1 + _KID_LEN
_MIN_BLOB = _HEADER_LEN + _NONCE_LEN + _TAG_LEN

# Fixed, public domain-separation values: changing them makes every stored session unreadable.
_HKDF_SALT = b"bff.sessions.crypto/v1"
_INFO_KEY = b"bff session data: aes-256-gcm key"
_INFO_KID = b"bff session data: key id"


class DecryptError(Exception):
    """The blob cannot be decrypted: tampered, truncated, bound to other ``aad``, not produced
    by this cipher, or encrypted under a key no longer in ``BFF_SECRET_KEYS``."""


def _derive(secret: str, info: bytes, length: int) -> bytes:
    hkdf = HKDF(algorithm=hashes.SHA256(), length=length, salt=_HKDF_SALT, info=info)
    return hkdf.derive(secret.encode("utf-8"))


class TokenCipher:
    """AES-GCM with key rotation. ``secret_keys`` is ``Settings.secret_keys``: newest first.

    Encrypts with ``secret_keys[0]``; decrypts with whichever listed key the blob names.
    """

    def __init__(self, secret_keys: Sequence[str]) -> None:
        if isinstance(secret_keys, str):
            raise TypeError("secret_keys must be a sequence of strings, not one string")
        if not secret_keys:
            raise ValueError("TokenCipher needs at least one secret key")
        self._keys: dict[bytes, AESGCM] = {}
        self._current: bytes = b""
        for i, secret in enumerate(secret_keys):
            if len(secret) < MIN_SECRET_LENGTH:
                raise ValueError(f"secret key {i + 1} is shorter than {MIN_SECRET_LENGTH} characters")
            kid = _derive(secret, _INFO_KID, _KID_LEN)
            if kid in self._keys:
                continue  # the same secret listed twice: harmless, keep the first (newest) position
            self._keys[kid] = AESGCM(_derive(secret, _INFO_KEY, 32))
            if i == 0:
                self._current = kid

    def encrypt(self, plaintext: bytes, *, aad: bytes = b"") -> bytes:
        """Encrypt under the newest key. ``aad`` (e.g. the session id) must be given again to
        decrypt."""
        header = _VERSION + self._current
        nonce = os.urandom(_NONCE_LEN)
        return header + nonce + self._keys[self._current].encrypt(nonce, plaintext, header + aad)

    def decrypt(self, blob: bytes, *, aad: bytes = b"") -> bytes:
        """Decrypt a blob made by :meth:`encrypt` under any listed key; :class:`DecryptError`
        otherwise."""
        if not isinstance(blob, bytes | bytearray | memoryview):
            raise DecryptError("encrypted data must be bytes")
        blob = bytes(blob)
        if len(blob) < _MIN_BLOB or blob[:1] != _VERSION:
            raise DecryptError("not an encrypted session blob (bad length or version)")
        header, nonce, body = blob[:_HEADER_LEN], blob[_HEADER_LEN:_HEADER_LEN + _NONCE_LEN], \
            blob[_HEADER_LEN + _NONCE_LEN:]
        key = self._keys.get(header[1:])
        if key is None:
            raise DecryptError("encrypted under a key that is no longer in BFF_SECRET_KEYS")
        try:
            return key.decrypt(nonce, body, header + aad)
        except InvalidTag:
            raise DecryptError("integrity check failed (tampered data or wrong associated data)") from None

    def is_current(self, blob: bytes) -> bool:
        """True when ``blob`` is encrypted under the newest key (otherwise re-encrypt it on the
        next write, so old keys can eventually be retired)."""
        return len(blob) >= _HEADER_LEN and blob[:1] == _VERSION and blob[1:_HEADER_LEN] == self._current
