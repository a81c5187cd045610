"""A software WebAuthn authenticator and the browser's half of the ceremonies, for tests.

:class:`SoftAuthenticator` does what ``navigator.credentials.create/get`` and a platform
authenticator do together, with real cryptography (``cryptography``'s P-256, CBOR by ``cbor2``):
it checks the RP id against the page's origin as a browser does (the RP id must be the origin's
host or a registrable suffix of it, else the ceremony is refused), builds the client data JSON
(type, challenge, origin), and produces a ``packed`` self-attestation (or ``none``) with an ES256
credential, then ES256 assertions over ``authenticatorData || SHA-256(clientDataJSON)`` with a
growing sign count. The results are what the SPA posts to IDX (okta-auth-js's ``getAttestation``
/ ``getAssertion``): base64url without padding, ``transports`` / ``clientExtensions`` as JSON.
Nothing here verifies anything: the twin does, with py_webauthn.
"""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
import struct
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import cbor2
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec

FLAG_UP, FLAG_UV, FLAG_AT = 0x01, 0x04, 0x40
AAGUID = bytes(16)


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def unb64url(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class CeremonyRefused(Exception):
    """What the browser throws (``SecurityError``) when the RP id does not fit the origin."""


def _rp_allowed(rp_id: str, origin: str) -> bool:
    host = urlsplit(origin).hostname or ""
    return host == rp_id or host.endswith("." + rp_id)


@dataclass
class SoftCredential:
    id: bytes
    rp_id: str
    user_handle: bytes
    key: ec.EllipticCurvePrivateKey = field(repr=False)
    sign_count: int = 0


@dataclass
class SoftAuthenticator:
    """One authenticator holding passkeys; ``attestation`` is ``packed`` (self) or ``none``."""

    attestation: str = "packed"
    user_verified: bool = True
    credentials: list[SoftCredential] = field(default_factory=list)

    def _flags(self, *extra: int) -> int:
        flags = FLAG_UP | (FLAG_UV if self.user_verified else 0)
        for f in extra:
            flags |= f
        return flags

    @staticmethod
    def _client_data(kind: str, challenge: str, origin: str) -> bytes:
        return json.dumps({"type": kind, "challenge": challenge, "origin": origin, "crossOrigin": False},
                          separators=(",", ":")).encode()

    def create(self, options: dict[str, Any], origin: str) -> dict[str, str]:
        """``navigator.credentials.create({publicKey: options})`` on a page of ``origin``;
        ``options`` is IDX's ``activationData``. Returns the ``credentials.*`` to post."""
        rp_id = options.get("rp", {}).get("id") or urlsplit(origin).hostname or ""
        if not _rp_allowed(rp_id, origin):
            raise CeremonyRefused(f"RP id {rp_id!r} is not allowed on {origin}")
        if not any(p.get("alg") == -7 for p in options.get("pubKeyCredParams", [])):
            raise CeremonyRefused("ES256 not offered")
        key = ec.generate_private_key(ec.SECP256R1())
        cred = SoftCredential(id=secrets.token_bytes(32), rp_id=rp_id,
                              user_handle=unb64url(options["user"]["id"]), key=key)
        numbers = key.public_key().public_numbers()
        cose = cbor2.dumps({1: 2, 3: -7, -1: 1, -2: numbers.x.to_bytes(32, "big"),
                            -3: numbers.y.to_bytes(32, "big")})
        auth_data = (hashlib.sha256(rp_id.encode()).digest() + bytes([self._flags(FLAG_AT)])
                     + struct.pack(">I", cred.sign_count) + AAGUID + struct.pack(">H", len(cred.id))
                     + cred.id + cose)
        client_data = self._client_data("webauthn.create", options["challenge"], origin)
        if self.attestation == "packed":
            sig = key.sign(auth_data + hashlib.sha256(client_data).digest(), ec.ECDSA(hashes.SHA256()))
            statement: dict[str, Any] = {"alg": -7, "sig": sig}
        else:
            statement = {}
        attestation = cbor2.dumps({"fmt": self.attestation, "attStmt": statement, "authData": auth_data})
        self.credentials.append(cred)
        return {"clientData": b64url(client_data), "attestation": b64url(attestation),
                "transports": json.dumps(["internal", "hybrid"]), "clientExtensions": "{}"}

    def get(self, options: dict[str, Any], origin: str, allow: list[str] | None = None, *,
            client_origin: str | None = None) -> dict[str, str]:
        """``navigator.credentials.get({publicKey: options})`` on a page of ``origin``; ``options``
        is IDX's ``challengeData``, ``allow`` the credential ids. ``client_origin`` lets a test
        sign another origin into the client data (what a phishing page's browser would)."""
        rp_id = options.get("rpId") or urlsplit(origin).hostname or ""
        if not _rp_allowed(rp_id, origin):
            raise CeremonyRefused(f"RP id {rp_id!r} is not allowed on {origin}")
        allowed = {unb64url(c) for c in allow} if allow else None
        cred = next((c for c in self.credentials
                     if c.rp_id == rp_id and (allowed is None or c.id in allowed)), None)
        if cred is None:
            raise CeremonyRefused("no credential for this RP")
        cred.sign_count += 1
        auth_data = (hashlib.sha256(rp_id.encode()).digest() + bytes([self._flags()])
                     + struct.pack(">I", cred.sign_count))
        client_data = self._client_data("webauthn.get", options["challenge"], client_origin or origin)
        sig = cred.key.sign(auth_data + hashlib.sha256(client_data).digest(), ec.ECDSA(hashes.SHA256()))
        return {"clientData": b64url(client_data), "authenticatorData": b64url(auth_data),
                "signatureData": b64url(sig)}
