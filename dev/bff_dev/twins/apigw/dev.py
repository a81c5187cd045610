"""The API Gateway part of ``bff dev`` (after the AWS, Okta, AEM and workers parts): the admin
API function behind the API Gateway twin on ``ctx.ports.apigw``, and the BFF's route policy
pointing ``/api/admin/*`` at it (written to ``<data dir>/routes.toml``, set as
``BFF_API_ROUTES``). Shares the running :class:`~bff_dev.twins.apigw.admin.AdminApi` as
``ctx.info["apigw"]``.
"""

from __future__ import annotations

import secrets
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from bff_dev.environment import DEV_OKTA_API_TOKEN
from bff_dev.twins.apigw.admin import DEV_ROUTES, ROUTE_KEY, start_admin_api
from bff_dev.twins.aws.server import AwsTwin

if TYPE_CHECKING:
    from bff_dev.parts import DevContext


def _marketo(ctx: DevContext) -> tuple[str, dict[str, str]]:
    """The Marketo twin's URL and client credentials (from the workers part when it ran)."""
    pipeline: Any = ctx.info.get("pipeline")
    subscribers = getattr(pipeline, "subscribers", None)
    if subscribers is not None:
        from bff_dev.twins.marketo.app import DEV_CLIENT_SECRET

        return str(subscribers.marketo_url), {"MARKETO_CLIENT_ID": str(subscribers.marketo.client_id),
                                              "MARKETO_CLIENT_SECRET": DEV_CLIENT_SECRET}
    return f"http://127.0.0.1:{ctx.ports.marketo}", {}


async def start(ctx: DevContext) -> list[str]:
    aws = ctx.info.get("aws")
    if not isinstance(aws, AwsTwin):
        raise RuntimeError("bff_dev.twins.apigw.dev needs bff_dev.twins.aws.dev earlier in DEV_PARTS")
    issuer = ctx.env["BFF_OKTA_ISSUER"]
    okta: Any = ctx.info.get("okta")
    okta_url = str(getattr(okta, "base_url", "")) or "{0.scheme}://{0.netloc}".format(urlsplit(issuer))
    marketo_url, marketo_secret = _marketo(ctx)
    # The invitation actions call the BFF's /bff/internal/invitations with a shared secret
    # (admin_api's BFF_INTERNAL_URL + BFF_INVITATIONS_SECRET; the BFF's BFF_INVITATIONS_SECRET).
    invitations_secret = ctx.env.get("BFF_INVITATIONS_SECRET") or secrets.token_hex(32)
    ctx.env["BFF_INVITATIONS_SECRET"] = invitations_secret
    secret = {"OKTA_API_TOKEN": ctx.env.get("BFF_OKTA_API_TOKEN") or DEV_OKTA_API_TOKEN, **marketo_secret,
              "BFF_INVITATIONS_SECRET": invitations_secret.split(",")[0].strip()}
    api = await start_admin_api(ctx.stack, port=ctx.ports.apigw, issuer=issuer, aws=aws, okta_url=okta_url,
                                marketo_url=marketo_url, secret=secret, host="localhost",
                                extra_env={"BFF_INTERNAL_URL": ctx.env["BFF_PUBLIC_URL"]})
    routes = ctx.data_dir / "routes.toml"
    routes.write_text(DEV_ROUTES.format(url=api.url), encoding="utf-8")
    ctx.env["BFF_API_ROUTES"] = str(routes)
    ctx.info["apigw"] = api
    return [
        f"API GW (twin)     {api.url}   {ROUTE_KEY} → admin_api (JWT authorizer: {issuer}, "
        f"aud api://default, scope admin)",
        f"  BFF route policy {routes}: /api/admin/* → the twin (org_admin or group_admin, scope admin)",
    ]
