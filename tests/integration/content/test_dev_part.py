"""`bff dev`'s AEM part: the twin on its port feeds the BFF, and editing a fragment on the twin
reaches the BFF's webhook (a real CloudEvent over loopback) and shows at once."""

from __future__ import annotations

import contextlib
from pathlib import Path

import httpx

from bff.settings import Settings
from bff_dev.environment import dev_environment
from bff_dev.parts import DevContext
from bff_dev.serving import free_ports, serve_asgi
from bff_dev.twins.aem import dev as aem_dev


async def test_dev_part_feeds_the_bff_and_delivers_events(tmp_path: Path) -> None:
    from bff.app import create_app

    ports = free_ports()
    async with contextlib.AsyncExitStack() as stack:
        ctx = DevContext(ports=ports, data_dir=tmp_path, env=dev_environment(ports, tmp_path), stack=stack)
        lines = await aem_dev.start(ctx)
        assert any(f"localhost:{ports.aem}" in line for line in lines)
        twin = ctx.info["aem"]
        ctx.env.pop("BFF_API_ROUTES", None)  # the proxy's dev routes are not this test's concern
        settings = Settings.from_env(ctx.env, dev=True)
        await serve_asgi(stack, create_app(settings), ports.bff, name="bff")
        async with (
            httpx.AsyncClient(base_url=settings.public_url) as bff,
            httpx.AsyncClient(base_url=f"http://localhost:{ports.aem}") as aem,
        ):
            first = await bff.get("/bff/content/signin?locale=de")
            assert first.json()["source"] == "aem" and first.json()["strings"]["title"] == "Anmelden"
            assert (await bff.get("/bff/content/signin?locale=de")).json()["source"] == "cache"

            edited = await aem.patch(
                "/__twin/fragments/publish/de/signin", json={"title": "Willkommen zurück"}
            )
            assert edited.status_code == 200 and edited.json()["event"]
            after = await bff.get("/bff/content/signin?locale=de")
            assert after.json()["strings"]["title"] == "Willkommen zurück" and after.json()["source"] == "aem"
            assert len(twin.events_sent) == 1
