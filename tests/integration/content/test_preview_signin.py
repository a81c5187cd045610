"""Preview with a real sign-in (Okta twin): carol@acme.test is in content-authors and sees drafts
from the author tier; bob@acme.test is refused."""

from __future__ import annotations

from bff.app import create_app
from bff_dev.twins.aem import AemTwin
from tests.integration.content.conftest import aem_env
from tests.support.env import make_settings
from tests.support.login import bff_client, login_as, register_bff_client
from tests.support.okta import running_okta_twin

CSRF = {"X-CSRF": "1"}


async def test_content_author_previews_drafts_and_others_cannot(aem: AemTwin) -> None:
    async with running_okta_twin() as okta:
        settings = make_settings(BFF_OKTA_ISSUER=okta.issuer, **aem_env(aem))
        register_bff_client(okta, settings)
        async with bff_client(create_app(settings)) as client:
            carol = await login_as(client, "carol@acme.test")
            state = await client.get("/bff/preview")
            assert state.json() == {"enabled": False, "allowed": True}
            r = await client.post("/bff/preview", json={"enabled": True}, headers=CSRF)
            assert r.status_code == 200 and r.json() == {"enabled": True}
            assert (await client.get("/bff/user")).json()["preview"] is True

            draft = await client.get("/bff/content/common?locale=en&preview=1")
            assert draft.json()["preview"] is True
            assert draft.json()["strings"]["app.name"] == "Customer Portal (new look)"
            assert draft.headers["cache-control"] == "private, no-store"
            assert aem.count("author", journey="common") == 1

            entry = await client.get("/preview?path=/content/dam/bff/fr/ui-copy/signin&variation=master")
            assert entry.status_code == 303 and entry.headers["location"] == "/signin?locale=fr&preview=1"

            client.cookies.clear()
            bob = await login_as(client, "bob@acme.test")
            assert bob != carol
            r = await client.post("/bff/preview", json={"enabled": True}, headers=CSRF)
            assert r.status_code == 403 and r.json()["code"] == "preview_forbidden"
            public = await client.get("/bff/content/common?locale=en&preview=1")
            assert (
                public.json()["preview"] is False
                and public.json()["strings"]["app.name"] == "Customer Portal"
            )
            assert (await client.get("/preview?path=/content/dam/bff/fr/ui-copy/signin")).status_code == 403
            assert aem.count("author") == 1

            # Carol's session still previews (the flag lives in her session, not in the client).
            client.cookies.clear()
            client.cookies.set("__Host-bff", carol)
            again = await client.get("/bff/content/common?locale=en")
            assert again.json()["preview"] is True
