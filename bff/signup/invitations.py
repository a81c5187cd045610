"""Invitation codes (``BFF_SIGNUP_ORG=invitation``): a customer admin hands out a code that
binds the new account to their organisation, optionally to one email address.

A code is an itsdangerous timed signature over ``{"org": ..., "email"?: ...}`` with the BFF's
secret keys (newest signs, all verify: key rotation keeps outstanding codes valid), so the
BFF needs no invitation table; it cannot be forged or altered, and it expires.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

SALT = "bff.signup.invitation.v1"
DEFAULT_MAX_AGE = 14 * 24 * 3600


@dataclass(frozen=True)
class Invitation:
    org_id: str
    email: str | None


class InvalidInvitation(Exception):
    def __init__(self, reason: str) -> None:  # "invalid" | "expired"
        super().__init__(reason)
        self.reason = reason


class Invitations:
    def __init__(self, secret_keys: Sequence[str], *, max_age: int = DEFAULT_MAX_AGE) -> None:
        # itsdangerous signs with the LAST key and verifies with all of them.
        self._serializer = URLSafeTimedSerializer(list(reversed(secret_keys)), salt=SALT)
        self.max_age = max_age

    def issue(self, org_id: str, email: str | None = None) -> str:
        payload: dict[str, Any] = {"org": org_id}
        if email:
            payload["email"] = email.lower()
        return self._serializer.dumps(payload)

    def check(self, code: str) -> Invitation:
        try:
            payload = self._serializer.loads(code, max_age=self.max_age)
        except SignatureExpired:
            raise InvalidInvitation("expired") from None
        except (BadSignature, ValueError, TypeError):
            raise InvalidInvitation("invalid") from None
        if not isinstance(payload, dict) or not isinstance(payload.get("org"), str):
            raise InvalidInvitation("invalid")
        email = payload.get("email")
        return Invitation(payload["org"], email if isinstance(email, str) else None)
