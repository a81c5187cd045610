"""The Okta part of ``bff dev``: the twin on ``ctx.ports.okta``, wired to the BFF's settings.

The twin also serves the provisioning endpoints (``dev/bff_dev/twins/okta/provisioning.py``), so
``bff okta plan|apply --config infra/okta.dev.toml`` can be tried against it (docs/okta-twin.md).
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from joserfc.jwk import ECKey, RSAKey, import_key

from bff.auth.revocation import EVENT_TYPES as SESSION_EVENTS
from bff_dev.devmail import idx_outbox_mail
from bff_dev.twins.okta.described import describe_dev_org
from bff_dev.twins.okta.idx import TwinIdp
from bff_dev.twins.okta.provisioning import install_provisioning
from bff_dev.twins.okta.twin import OktaTwin

if TYPE_CHECKING:
    from bff_dev.parts import DevContext

DEV_CLIENT_NAME = "BFF (local)"
#: The org's IdPs the twin offers as ``redirect-idp`` (when BFF_OKTA_IDP_DISCOVERY names them).
DEV_IDPS = {"0oapartneridp": TwinIdp("0oapartneridp", "Partner SSO", "SAML2")}


def public_jwks(private_key: str) -> dict[str, Any]:
    """The public JWKS of a PEM or JWK (JSON) private key, for private_key_jwt clients."""
    material: Any = json.loads(private_key) if private_key.lstrip().startswith("{") else private_key
    key = import_key(material, "EC" if isinstance(material, dict) and material.get("kty") == "EC" else "RSA")
    if not isinstance(key, RSAKey | ECKey):
        raise ValueError("private_key_jwt keys must be RSA or EC")
    jwk = key.as_dict(private=False)
    jwk.setdefault("kid", key.kid or key.thumbprint())
    return {"keys": [jwk]}


#: What the BFF's event hook subscribes to (docs/signup.md "Event hook setup in Okta").
#: Also the events that end the user's BFF sessions (bff.auth.revocation, docs/sessions.md).
HOOK_EVENTS = tuple(dict.fromkeys((
    "user.lifecycle.create", "user.lifecycle.activate", "user.account.lock",
    "user.account.update_password", "user.mfa.factor.activate", *sorted(SESSION_EVENTS))))


async def start(ctx: DevContext) -> list[str]:
    from bff_dev.serving import serve_asgi

    env = ctx.env
    port = ctx.ports.okta
    twin = OktaTwin(f"http://localhost:{port}")
    public = env["BFF_PUBLIC_URL"].rstrip("/")
    client_key = env.get("BFF_OKTA_PRIVATE_KEY")
    twin.register_client(
        env["BFF_OKTA_CLIENT_ID"],
        secret=None if client_key else env.get("BFF_OKTA_CLIENT_SECRET"),
        jwks=public_jwks(client_key) if client_key else None,
        redirect_uris=[f"{public}/bff/callback"],
        post_logout_redirect_uris=[f"{public}/", f"{public}/?signed_out=1"],
        backchannel_logout_uri=f"{public}/bff/backchannel-logout",
        grant_types=("authorization_code", "refresh_token", "interaction_code"),  # embedded sign-in
        name=DEV_CLIENT_NAME,
    )
    if env.get("BFF_OKTA_API_TOKEN"):
        twin.add_api_token(env["BFF_OKTA_API_TOKEN"])
    if env.get("BFF_OKTA_MGMT_CLIENT_ID") and env.get("BFF_OKTA_MGMT_PRIVATE_KEY"):
        twin.register_service_app(env["BFF_OKTA_MGMT_CLIENT_ID"],
                                  jwks=public_jwks(env["BFF_OKTA_MGMT_PRIVATE_KEY"]))
    # The BFF accepts every entry of BFF_OKTA_HOOK_SECRET (newest first); Okta sends one: the newest.
    hook_secrets = [s.strip() for s in env.get("BFF_OKTA_HOOK_SECRET", "").split(",") if s.strip()]
    if hook_secrets:
        twin.register_event_hook(f"{public}/bff/hooks/okta", auth_header="Authorization",
                                 auth_value=hook_secrets[0], events=HOOK_EVENTS)
    # The Management API's provisioning endpoints for `bff okta plan|apply`. They only read and
    # write their own state until something changes the `default` server; the seeded sign-in
    # behaviour (admin scope for customer-admins only) is the twin's own.
    provisioning = install_provisioning(twin)
    # What the twin does, readable through that API (`bff doctor` on `bff dev` passes).
    describe_dev_org(provisioning, client_id=env["BFF_OKTA_CLIENT_ID"], public_url=public,
                     post_logout_path=env.get("BFF_POST_LOGOUT_PATH", "/"))
    ctx.info["okta_provisioning"] = provisioning
    discovered = {v.strip() for item in env.get("BFF_OKTA_IDP_DISCOVERY", "").split(",")
                  for v in item.partition("=")[2:]}
    twin.idx.idps = [idp for key, idp in DEV_IDPS.items() if key in discovered]
    # the sign-in codes the twin "sends" (email, SMS, voice) show on /__dev/mail
    ctx.info.setdefault("mail_sources", []).append(lambda: idx_outbox_mail(twin.idx.outbox))
    await serve_asgi(ctx.stack, twin.app, port, name="okta")
    ctx.info["okta"] = twin

    lines = [f"Okta (twin)       {twin.issuer}   (password for every seeded user: Passw0rd!)",
             f"  Management API  {twin.base_url}/api/v1   (SSWS BFF_OKTA_API_TOKEN; "
             "`bff okta plan --config infra/okta.dev.toml`, docs/okta-twin.md)",
             f"  IDX (embedded)  email codes, magic links, SMS and voice codes: {public}/__dev/mail "
             f"and {twin.base_url}/__twin/idx/outbox; alice's TOTP: `bff dev-totp alice@acme.test`; "
             "journeys per user: README, docs/signin.md"]
    for user in twin.directory.users.values():
        p = user.profile
        role = p.get("adminRole") or ("content author" if twin.directory.in_group(user.id, "content-authors")
                                      else "user")
        groups = ", ".join(twin.directory.group_names(user.id))
        lines.append(f"  {user.login:<20} {p.get('orgId', '-'):<7} {role:<14} {user.status:<10} [{groups}]")
    return lines
