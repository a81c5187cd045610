"""The second factor of the twin's hosted sign-in page (the redirect flow): Okta asks for one
when the authorization request says ``acr_values=urn:okta:loa:2fa:any`` (the BFF's admin
step-up). The twin's page then asks for a one-time code from an authenticator app, and the
ID token says so (``amr: ["pwd", "otp", "mfa"]``, ``acr``), as Okta's does.

Every seeded user has a hosted TOTP secret derived from their login (dev only, never secret):
``pyotp.TOTP(hosted_totp_secret(login)).now()`` is the code (tests and e2e use exactly that).
"""

from __future__ import annotations

import base64
import hashlib

import pyotp

MFA_ACR = "urn:okta:loa:2fa:any"
ONE_FACTOR_ACR = "urn:okta:loa:1fa:any"
MFA_AMR = ("pwd", "otp", "mfa")


def wants_mfa(acr_values: str | None) -> bool:
    """Does ``acr_values`` ask for two factors (``urn:okta:loa:2fa:any`` and its variants)?"""
    return any(":2fa:" in value or value in {"phr", "phrh"} for value in (acr_values or "").split())


def hosted_totp_secret(login: str) -> str:
    """The user's TOTP secret on the hosted page (base32, derived from the login)."""
    digest = hashlib.sha256(b"bff-dev-hosted-otp\x00" + login.strip().lower().encode()).digest()
    return base64.b32encode(digest[:20]).decode()


def check_code(login: str, code: str) -> bool:
    code = code.strip()
    return code.isdigit() and pyotp.TOTP(hosted_totp_secret(login)).verify(code, valid_window=1)


def acr_for(amr: list[str]) -> str:
    return MFA_ACR if "mfa" in amr else ONE_FACTOR_ACR
