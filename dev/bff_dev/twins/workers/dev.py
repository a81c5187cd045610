"""The subscribers part of ``bff dev`` (LAST in DEV_PARTS): the compliance twin on
``ctx.ports.compliance``, the Marketo twin on ``ctx.ports.marketo``, and the welcome_email,
account_validation and account_notices functions fed by one SQS worker thread per queue on moto
(the notices' emails, like the welcome email, land on ``/__dev/mail``).

Needs ``ctx.info["aws"]`` (``bff_dev.twins.aws.dev``) and uses the Okta twin's Management API
(``ctx.info["okta"]``) with the dev SSWS token; the welcome email reads its copy from the AEM
twin first (``BFF_AEM_URL``), as deployed. Shares ``ctx.info["pipeline"]``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from bff_dev.environment import DEV_COMPLIANCE_KEY, DEV_OKTA_API_TOKEN
from bff_dev.twins.aws.server import AwsTwin
from bff_dev.twins.workers.pipeline import Pipeline, start_subscribers

if TYPE_CHECKING:
    from bff_dev.parts import DevContext


async def start(ctx: DevContext) -> list[str]:
    aws = ctx.info.get("aws")
    if not isinstance(aws, AwsTwin):
        raise RuntimeError("bff_dev.twins.workers.dev needs bff_dev.twins.aws.dev earlier in DEV_PARTS")
    okta = ctx.info.get("okta")
    okta_url = str(getattr(okta, "base_url", "")) or ctx.env.get("BFF_OKTA_ORG_URL") or ""
    if not okta_url:
        issuer = urlsplit(ctx.env["BFF_OKTA_ISSUER"])
        okta_url = f"{issuer.scheme}://{issuer.netloc}"
    subscribers = await start_subscribers(
        ctx.stack, aws, okta_url=okta_url,
        okta_token=ctx.env.get("BFF_OKTA_API_TOKEN") or DEV_OKTA_API_TOKEN,
        compliance_port=ctx.ports.compliance, marketo_port=ctx.ports.marketo,
        compliance_key=DEV_COMPLIANCE_KEY, app_url=ctx.env.get("BFF_PUBLIC_URL"),
        aem_url=ctx.env.get("BFF_AEM_URL"), aem_config=ctx.env.get("BFF_AEM_CONFIG") or "bff",
        compliance_timeout=3.0,
    )
    ctx.info["pipeline"] = Pipeline(aws, subscribers)
    public = (ctx.env.get("BFF_PUBLIC_URL") or "").rstrip("/")
    return [
        f"Compliance (twin) {subscribers.compliance_url}/v1/screenings   last name Review/Denied → "
        "manual review, Unavailable → 503 (retries, then DLQ), Slow → timeout",
        f"Marketo (twin)    {subscribers.marketo_url}   leads: {subscribers.marketo_url}/__twin/leads",
        "Workers           welcome_email, account_validation, account_notices (SQS long-poll on moto, "
        "partial batch failure)",
        f"Sent email        {public}/__dev/mail",
    ]
