"""Authorization codes, grants (one per login) and refresh-token families (minting:
:mod:`bff_dev.twins.okta.minter`).

A *grant* is what a successful authorization creates: client, user, scopes, SSO session. Its
refresh tokens form a family: every refresh rotates to a new token; the previous ones stay
valid for ``refresh_leeway`` seconds (Okta's grace period) and after that, presenting one is
treated as theft: the newest refresh token and every access token issued under the grant are
revoked (Okta's refresh token reuse detection).
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field

from bff_dev.twins.okta.errors import OAuthError


def random_id(prefix: str = "", nbytes: int = 24) -> str:
    return prefix + secrets.token_urlsafe(nbytes)


@dataclass
class AuthCode:
    code: str
    client_id: str
    redirect_uri: str
    user_id: str
    scopes: list[str]
    nonce: str | None
    code_challenge: str
    auth_time: int
    sid: str
    amr: list[str]
    idp: str
    expires_at: float
    used: bool = False


@dataclass
class Grant:
    id: str
    client_id: str
    user_id: str
    scopes: list[str]
    auth_time: int
    sid: str | None
    amr: list[str]
    idp: str
    refresh_expires_at: float
    access_jtis: set[str] = field(default_factory=set)
    refresh_current: str | None = None
    refresh_previous: dict[str, float] = field(default_factory=dict)  # token -> rotated at
    revoked: bool = False


@dataclass
class AccessRecord:
    jti: str
    grant_id: str | None
    exp: float
    revoked: bool = False


class TokenStore:
    """All live codes, grants and issued tokens of one twin."""

    def __init__(self) -> None:
        self.codes: dict[str, AuthCode] = {}
        self.grants: dict[str, Grant] = {}
        self.refresh_index: dict[str, str] = {}  # refresh token (current or previous) -> grant id
        self.access: dict[str, AccessRecord] = {}

    def revoke_grant(self, grant: Grant) -> None:
        grant.revoked = True
        for jti in grant.access_jtis:
            if jti in self.access:
                self.access[jti].revoked = True

    def revoke_user(self, user_id: str) -> None:
        for grant in self.grants.values():
            if grant.user_id == user_id:
                self.revoke_grant(grant)


def check_refresh(store: TokenStore, token: str, client_id: str, now: float, leeway: float) -> Grant:
    """The grant a presented refresh token belongs to, applying rotation and reuse detection."""
    invalid = OAuthError("invalid_grant", "The refresh token is invalid or expired.")
    grant_id = store.refresh_index.get(token)
    grant = store.grants.get(grant_id) if grant_id else None
    if grant is None or grant.revoked or grant.client_id != client_id:
        raise invalid
    if now >= grant.refresh_expires_at:
        raise invalid
    if token == grant.refresh_current:
        return grant
    rotated_at = grant.refresh_previous.get(token)
    if rotated_at is not None and now - rotated_at <= leeway:
        return grant
    # An old refresh token after the grace period: treat as stolen.
    store.revoke_grant(grant)
    raise invalid


def rotate_refresh(store: TokenStore, grant: Grant, now: float) -> str:
    new = random_id("", 32)
    if grant.refresh_current is not None:
        grant.refresh_previous[grant.refresh_current] = now
    grant.refresh_current = new
    store.refresh_index[new] = grant.id
    return new
