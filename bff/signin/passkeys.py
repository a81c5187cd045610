"""Passkeys (WebAuthn) in the embedded sign-in: whether the BFF offers them, and the checks on
the credential fields the SPA posts (called by :func:`bff.signin.steps.prepare`).

Off by default (``BFF_SIGNIN_WEBAUTHN=off``). The browser runs a WebAuthn ceremony only when the
relying-party id is the page's host or a registrable suffix of it, and Okta verifies the origin
signed into the client data against its own RP id: with Okta on its own domain
(``*.okta.com``) the ceremony fails on the app's origin. It works only when the Okta org has a
custom domain whose RP id admits the app's host (``id.example.com`` for an app on
``app.example.com``: RP id ``example.com``); then ``BFF_SIGNIN_WEBAUTHN=on`` adds ``webauthn``
to :attr:`bff.signin.steps.StepPolicy.authenticators`. Off, a passkey step is never offered:
a passkey challenge becomes the step's "verify with something else" choice, an enrollment offer
leaves only its ``skip`` (docs/signin.md, "Passkeys").

The fields, as IDX names them (``credentials.*`` of ``enroll-authenticator`` /
``challenge-authenticator`` whose authenticator is ``webauthn``)::

    clientData, attestation, authenticatorData, signatureData, userHandle
        base64url (RFC 4648 §5, no padding), non-empty, at most :data:`LIMITS` characters
    transports          a JSON array of at most 8 short strings ("internal", "hybrid"...)
    clientExtensions    a JSON object

Error codes (in :class:`~bff.signin.steps.InvalidSubmission`): ``not_base64url``,
``not_json``, ``too_long``. No value is ever echoed or logged: these are credentials.
"""

from __future__ import annotations

import json
import re

from bff.settings import SigninSettings

KEY = "webauthn"

#: Longest accepted value per field, in characters. An attestation object with a certificate
#: chain (packed with x5c, TPM) runs to a few kilobytes; client data is ~150-400 bytes of JSON;
#: an RS256 signature over a 4096-bit key is 512 bytes.
LIMITS: dict[str, int] = {
    "credentials.clientData": 4096,
    "credentials.attestation": 24576,
    "credentials.authenticatorData": 4096,
    "credentials.signatureData": 1024,
    "credentials.userHandle": 128,
    "credentials.transports": 256,
    "credentials.clientExtensions": 2048,
}
BASE64URL_FIELDS = frozenset({"credentials.clientData", "credentials.attestation",
                              "credentials.authenticatorData", "credentials.signatureData",
                              "credentials.userHandle"})
_BASE64URL = re.compile(r"[A-Za-z0-9_-]+")
MAX_TRANSPORTS = 8


def authenticators(settings: SigninSettings, base: frozenset[str]) -> frozenset[str]:
    """``base`` plus ``webauthn`` when ``BFF_SIGNIN_WEBAUTHN`` is on."""
    return base | {KEY} if settings.webauthn else base - {KEY}


def field_problem(name: str, value: str) -> str | None:
    """The error code for the WebAuthn credential field ``name`` holding ``value``, or None.
    Fields this module does not know are left to the generic checks."""
    limit = LIMITS.get(name)
    if limit is None:
        return None
    if len(value) > limit:
        return "too_long"
    if name in BASE64URL_FIELDS:
        # a length of 1 mod 4 is no whole number of bytes
        return None if _BASE64URL.fullmatch(value) and len(value) % 4 != 1 else "not_base64url"
    try:
        parsed = json.loads(value)
    except ValueError:
        return "not_json"
    if name == "credentials.transports":
        ok = isinstance(parsed, list) and len(parsed) <= MAX_TRANSPORTS and all(
            isinstance(t, str) and 0 < len(t) <= 32 for t in parsed)
        return None if ok else "not_json"
    return None if isinstance(parsed, dict) else "not_json"
