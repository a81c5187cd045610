"""Authorization codes, grants (one per login), refresh-token families and token minting.

A *grant* is what a successful authorization creates: client, user, scopes, SSO session. Its
refresh tokens form a family: every refresh rotates to a new token; the previous ones stay
valid for ``refresh_leeway`` seconds (Okta's grace period) and after that, presenting one is
treated as theft: the newest refresh token and every access token issued under the grant are
revoked (Okta's refresh token reuse detection).
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from authlib.oidc.core.util import create_half_hash

from bff.twins.okta.errors import OAuthError

if TYPE_CHECKING:
    from bff.twins.okta.directory import User
    from bff.twins.okta.twin import OktaTwin


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


class Minter:
    """Builds and signs Okta-shaped access and ID tokens for a twin."""

    def __init__(self, twin: OktaTwin) -> None:
        self.twin = twin

    def access_token(self, *, client_id: str, user: User | None, scopes: list[str], auth_time: int | None,
                     grant: Grant | None, issuer: str | None = None, audience: str | None = None,
                     ttl: int | None = None) -> tuple[str, dict[str, Any]]:
        twin = self.twin
        now = int(twin.now())
        claims: dict[str, Any] = {
            "ver": 1,
            "jti": random_id("AT.", 30),
            "iss": issuer or twin.issuer,
            "aud": audience or twin.audience,
            "iat": now,
            "exp": now + (ttl or twin.access_token_ttl),
            "cid": client_id,
        }
        if user is not None:
            claims["uid"] = user.id
        claims["scp"] = list(scopes)
        if user is not None:
            claims["auth_time"] = auth_time
            claims["sub"] = user.login
            claims.update(self._custom_claims(user, scopes, kind="access"))
        else:
            claims["sub"] = client_id
        token = twin.keys.sign(claims)
        twin.tokens.access[claims["jti"]] = AccessRecord(claims["jti"], grant.id if grant else None,
                                                         claims["exp"])
        if grant is not None:
            grant.access_jtis.add(claims["jti"])
        return token, claims

    def id_token(self, *, client_id: str, user: User, scopes: list[str], auth_time: int, nonce: str | None,
                 access_token: str | None, sid: str | None, amr: list[str], idp: str) -> str:
        twin = self.twin
        now = int(twin.now())
        claims: dict[str, Any] = {
            "sub": user.id,
            "ver": 1,
            "iss": twin.issuer,
            "aud": client_id,
            "iat": now,
            "exp": now + twin.id_token_ttl,
            "jti": random_id("ID.", 30),
            "amr": list(amr),
            "idp": idp,
        }
        if nonce is not None:
            claims["nonce"] = nonce
        claims["auth_time"] = auth_time
        if access_token is not None:
            claims["at_hash"] = create_half_hash(access_token, "RS256").decode()
        if sid is not None:
            claims["sid"] = sid
        claims.update(self.scope_claims(user, scopes))
        claims.update(self._custom_claims(user, scopes, kind="id"))
        return twin.keys.sign(claims)

    def scope_claims(self, user: User, scopes: list[str]) -> dict[str, Any]:
        """OIDC standard claims released for the granted scopes (ID token and userinfo)."""
        p = user.profile
        out: dict[str, Any] = {}
        if "profile" in scopes:
            out.update({
                "name": user.display_name,
                "given_name": p.get("firstName"),
                "family_name": p.get("lastName"),
                "preferred_username": user.login,
                "locale": p.get("locale"),
                "zoneinfo": p.get("timezone") or "America/Los_Angeles",
                "updated_at": int(user.last_updated),
            })
        if "email" in scopes:
            out.update({"email": p.get("email"), "email_verified": True})
        if "phone" in scopes and p.get("mobilePhone"):
            out["phone_number"] = p.get("mobilePhone")
        return {k: v for k, v in out.items() if v is not None}

    def _custom_claims(self, user: User, scopes: list[str], *, kind: str) -> dict[str, Any]:
        """The authorization server's custom claims (Okta expression language equivalents)."""
        twin = self.twin
        out: dict[str, Any] = {"groups": twin.directory.group_names(user.id)}
        org = user.profile.get("orgId")
        if org is not None:
            out["orgId"] = org
        if kind == "access" and "admin" in scopes:
            role = user.profile.get("adminRole")
            if role is not None:  # a null expression result drops the claim, as in Okta
                out["adminRole"] = role
            groups = user.profile.get("adminGroups")
            if groups is not None:
                out["adminGroups"] = list(groups)
        return out


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
