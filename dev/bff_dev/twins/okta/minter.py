"""Okta-shaped access and ID tokens: the claims Okta puts in them (custom claims, groups, the
``at_hash`` of the ID token), signed with the org's current key."""

from __future__ import annotations

from typing import Any

from authlib.oidc.core.util import create_half_hash

from bff_dev.twins.okta.directory import User
from bff_dev.twins.okta.hosted_mfa import acr_for
from bff_dev.twins.okta.org import OktaOrg
from bff_dev.twins.okta.tokens import AccessRecord, Grant, random_id


class Minter:
    """Builds and signs Okta-shaped access and ID tokens for an org (recording each access token
    in its token store, so it can be introspected and revoked)."""

    def __init__(self, org: OktaOrg) -> None:
        self.org = org

    def access_token(self, *, client_id: str, user: User | None, scopes: list[str], auth_time: int | None,
                     grant: Grant | None, issuer: str | None = None, audience: str | None = None,
                     ttl: int | None = None) -> tuple[str, dict[str, Any]]:
        org = self.org
        now = int(org.now())
        claims: dict[str, Any] = {
            "ver": 1,
            "jti": random_id("AT.", 30),
            "iss": issuer or org.issuer,
            "aud": audience or org.audience,
            "iat": now,
            "exp": now + (ttl or org.access_token_ttl),
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
        token = org.keys.sign(claims)
        org.tokens.access[claims["jti"]] = AccessRecord(claims["jti"], grant.id if grant else None,
                                                         claims["exp"])
        if grant is not None:
            grant.access_jtis.add(claims["jti"])
        return token, claims

    def id_token(self, *, client_id: str, user: User, scopes: list[str], auth_time: int, nonce: str | None,
                 access_token: str | None, sid: str | None, amr: list[str], idp: str) -> str:
        org = self.org
        now = int(org.now())
        claims: dict[str, Any] = {
            "sub": user.id,
            "ver": 1,
            "iss": org.issuer,
            "aud": client_id,
            "iat": now,
            "exp": now + org.id_token_ttl,
            "jti": random_id("ID.", 30),
            "amr": list(amr),
            "acr": acr_for(list(amr)),  # urn:okta:loa:2fa:any after a second factor
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
        return org.keys.sign(claims)

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
        org = self.org
        out: dict[str, Any] = {"groups": org.directory.group_names(user.id)}
        org_id = user.profile.get("orgId")
        if org_id is not None:
            out["orgId"] = org_id
        if kind == "access" and "admin" in scopes:
            role = user.profile.get("adminRole")
            if role is not None:  # a null expression result drops the claim, as in Okta
                out["adminRole"] = role
            groups = user.profile.get("adminGroups")
            if groups is not None:
                out["adminGroups"] = list(groups)
        return out
