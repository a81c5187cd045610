"""The precondition for caching ``/bff/content/*`` in CloudFront without the session cookie in
the cache key, checked with REAL sessions (sign-in on the Okta twin, the real session store):
a signed-in user's answer is byte-for-byte the anonymous one (public, same ETag, no cookie set,
nothing about the user), and a previewer's answer is ``private, no-store``."""

from __future__ import annotations

import httpx

from bff.app import create_app
from bff_dev.twins.aem import AemTwin
from tests.integration.content.conftest import aem_env
from tests.support.env import make_settings
from tests.support.login import bff_client, login_as, register_bff_client
from tests.support.okta import running_okta_twin

URL = "/bff/content/profile?locale=fr-CA"


def shared_part(r: httpx.Response) -> tuple[int, bytes, str | None, str | None, str | None]:
    h = r.headers
    return r.status_code, r.content, h.get("etag"), h.get("cache-control"), h.get("vary")


async def test_signed_in_answers_are_the_anonymous_ones_and_previews_are_never_storable(aem: AemTwin) -> None:
    async with running_okta_twin() as okta:
        settings = make_settings(BFF_OKTA_ISSUER=okta.issuer, **aem_env(aem))
        register_bff_client(okta, settings)
        async with bff_client(create_app(settings)) as client:
            await client.get(URL)
            anonymous = await client.get(URL)
            assert anonymous.headers["cache-control"].startswith("public, max-age=")

            bob = await login_as(client, "bob@acme.test")
            assert client.cookies.get("__Host-bff") == bob
            signed_in = await client.get(URL)
            assert shared_part(signed_in) == shared_part(anonymous)
            assert "set-cookie" not in signed_in.headers
            assert b"bob" not in signed_in.content.lower()

            client.cookies.clear()
            await login_as(client, "carol@acme.test")  # a content author, preview still off
            author = await client.get(URL)
            assert shared_part(author) == shared_part(anonymous) and "set-cookie" not in author.headers

            r = await client.post("/bff/preview", json={"enabled": True}, headers={"X-CSRF": "1"})
            assert r.status_code == 200
            for url in (URL, URL + "&preview=1"):
                preview = await client.get(url)
                assert preview.json()["preview"] is True, url
                assert preview.headers["cache-control"] == "private, no-store", url
                assert "etag" not in preview.headers and "set-cookie" not in preview.headers
