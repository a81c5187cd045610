"""What the Okta twin of ``bff dev`` does, written into its Management API state, so that reading
the org (``bff doctor``, ``bff okta plan``) finds what the twin's sign-in really does.

The twin's sign-in behaviour is fixed in code (the ``admin`` scope for ``customer-admins`` only,
the ``groups`` / ``orgId`` / ``adminRole`` / ``adminGroups`` claims, the dev client's grants and
URIs, the event hook to the BFF); its provisioning endpoints start like a new developer org. This
fills them with that behaviour, without touching it (nothing here goes through the endpoints'
projection onto sign-in): the dev client as an OIDC app, the ``admin`` scope and the claims on
``default``, an access policy whose rules grant ``admin`` to ``customer-admins`` only (the
developer org's "Default Policy", which would grant it to everyone, inactive), the BFF's origin
as a trusted origin, and the event hook verified (deliveries already work).
"""

from __future__ import annotations

from typing import Any

from bff_dev.twins.okta.directory import okta_id
from bff_dev.twins.okta.provisioning import Provisioning

ADMIN_SCOPE = "admin"
ADMIN_GROUP = "customer-admins"
BASE_SCOPES = ["openid", "profile", "email", "offline_access"]
CLAIMS: tuple[tuple[str, str, str, str, list[str]], ...] = (
    # name, claimType, valueType, value, scopes
    ("groups", "IDENTITY", "GROUPS", "^(customer-admins|content-authors|[a-z0-9]+-[a-z0-9-]+)$", []),
    ("groups", "RESOURCE", "GROUPS", "^(customer-admins|content-authors|[a-z0-9]+-[a-z0-9-]+)$", []),
    ("orgId", "IDENTITY", "EXPRESSION", "user.orgId", []),
    ("orgId", "RESOURCE", "EXPRESSION", "user.orgId", []),
    ("adminRole", "RESOURCE", "EXPRESSION", "user.adminRole", [ADMIN_SCOPE]),
    ("adminGroups", "RESOURCE", "EXPRESSION", "user.adminGroups", [ADMIN_SCOPE]),
)


def _rule(name: str, priority: int, groups: list[str], scopes: list[str], now: str) -> dict[str, Any]:
    return {
        "id": okta_id("0pr"),
        "type": "RESOURCE_ACCESS",
        "status": "ACTIVE",
        "name": name,
        "priority": priority,
        "system": False,
        "created": now,
        "lastUpdated": now,
        "conditions": {
            "people": {"users": {"include": [], "exclude": []}, "groups": {"include": groups, "exclude": []}},
            "grantTypes": {"include": ["authorization_code", "interaction_code"]},
            "scopes": {"include": scopes},
        },
        "actions": {
            "token": {
                "accessTokenLifetimeMinutes": 60,
                "refreshTokenLifetimeMinutes": 0,
                "refreshTokenWindowMinutes": 10080,
            }
        },
    }


def describe_dev_org(
    prov: Provisioning, *, client_id: str, public_url: str, post_logout_path: str = "/"
) -> None:
    twin = prov.twin
    now = prov._now()
    client = twin.clients[client_id]
    # the dev client as an OIDC web app
    settings: dict[str, Any] = {
        "redirect_uris": [f"{public_url}/bff/callback"],
        "post_logout_redirect_uris": [f"{public_url}{post_logout_path}", f"{public_url}/?signed_out=1"],
        "response_types": ["code"],
        "grant_types": list(getattr(client, "grant_types", ())),
        "application_type": "web",
        "consent_method": "TRUSTED",
        "issuer_mode": "DYNAMIC",
        "backchannel_logout_uri": f"{public_url}/bff/backchannel-logout",
        "refresh_token": {"rotation_type": "STATIC", "leeway": 30},
    }
    creds = {
        "autoKeyRotation": True,
        "token_endpoint_auth_method": "client_secret_basic",
        "pkce_required": True,
    }
    aid = okta_id("0oa")
    prov.apps[aid] = prov._app_object(
        aid, client_id, {"label": "BFF (dev client)"}, creds, settings, "ACTIVE", now
    )
    prov.app_groups[aid] = {}
    # the admin scope and the claims on the default server
    sid = okta_id("scp")
    prov.scopes["default"][sid] = {
        "id": sid,
        "name": ADMIN_SCOPE,
        "description": "Administer your organisation",
        "system": False,
        "metadataPublish": "NO_CLIENTS",
        "consent": "IMPLICIT",
        "optional": False,
        "default": False,
    }
    for name, claim_type, value_type, value, scopes in CLAIMS:
        cid = okta_id("ocl")
        claim: dict[str, Any] = {
            "id": cid,
            "name": name,
            "status": "ACTIVE",
            "claimType": claim_type,
            "valueType": value_type,
            "value": value,
            "system": False,
            "alwaysIncludeInToken": True,
            "conditions": {"scopes": scopes},
        }
        if value_type == "GROUPS":
            claim["group_filter_type"] = "REGEX"
        prov.claims["default"][cid] = claim
    # the access policy: admin for customer-admins only; the developer org's default policy off
    for policy in prov.policies["default"].values():
        policy["status"] = "INACTIVE"
    group = twin.directory.group_by_name(ADMIN_GROUP)
    pid = okta_id("00p")
    prov.policies["default"][pid] = {
        "id": pid,
        "type": "OAUTH_AUTHORIZATION_POLICY",
        "status": "ACTIVE",
        "name": "BFF",
        "priority": 0,
        "description": "The BFF's sign-in",
        "system": False,
        "conditions": {"clients": {"include": [client_id]}},
        "created": now,
        "lastUpdated": now,
    }
    admins = _rule("Admins may administer", 1, [group.id] if group else [], [*BASE_SCOPES, ADMIN_SCOPE], now)
    everyone = _rule("Everyone signs in", 2, ["EVERYONE"], BASE_SCOPES, now)
    prov.rules[pid] = {admins["id"]: admins, everyone["id"]: everyone}
    # the BFF's origin
    origin = public_url.rstrip("/")
    oid = okta_id("tos")
    prov.origins[oid] = {
        "id": oid,
        "name": "BFF (local)",
        "origin": origin,
        "status": "ACTIVE",
        "scopes": [{"type": "CORS"}, {"type": "REDIRECT"}],
        "created": now,
        "createdBy": twin.api_admin_id,
        "lastUpdated": now,
        "lastUpdatedBy": twin.api_admin_id,
    }
    for hook in twin.event_hooks:
        hook.verified = True
