"""The AEM part of ``bff dev``: the twin (publish tier at ``/``, author tier at ``/author``) on
``ctx.ports.aem``, seeded from ``content/``, sending content-fragment events to the BFF's
webhook when a fragment is edited through ``PATCH /__twin/fragments/...``."""

from __future__ import annotations

from typing import TYPE_CHECKING

from bff_dev.twins.aem.twin import AemTwin, Webhook

if TYPE_CHECKING:
    from bff_dev.parts import DevContext


async def start(ctx: DevContext) -> list[str]:
    from bff_dev.serving import serve_asgi

    env = ctx.env
    port = ctx.ports.aem
    public = env["BFF_PUBLIC_URL"].rstrip("/")
    twin = AemTwin(config=env.get("BFF_AEM_CONFIG", "bff"), site=env.get("BFF_AEM_SITE", "bff"),
                   author_token=env.get("BFF_AEM_AUTHOR_TOKEN"),
                   webhook=Webhook(f"{public}/bff/hooks/aem", env.get("BFF_AEM_WEBHOOK_SECRET"),
                                   env.get("BFF_AEM_EVENTS_CLIENT_ID")))
    await serve_asgi(ctx.stack, twin.app, port, name="aem")
    ctx.info["aem"] = twin
    base = f"http://localhost:{port}"
    return [
        f"AEM (twin)        {base}   (author tier: {base}/author, bearer BFF_AEM_AUTHOR_TOKEN)",
        f"                  e.g. {base}/graphql/execute.json/{twin.config}/"
        "ui-copy%3Bjourney%3Dsignin%3Blocale%3Dfr;",
        f"                  edit + publish: curl -X PATCH {base}/__twin/fragments/publish/en/signin "
        "-d '{\"title\": \"Hello\"}'",
    ]
