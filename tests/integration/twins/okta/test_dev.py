"""The Okta part of `bff dev`: the twin wired to the BFF's dev settings."""

from __future__ import annotations

import contextlib
from pathlib import Path

import httpx
from joserfc.jwk import RSAKey

from bff.devstack import DevContext, free_ports
from bff.settings import dev_environment
from bff.twins.okta import OktaTwin
from bff.twins.okta.dev import public_jwks, start
from tests.integration.twins.okta.flows import Login, callback_params
from tests.support.okta import browser_sign_in


async def test_dev_part_serves_the_twin_wired_to_the_bff(tmp_path: Path) -> None:
    ports = free_ports()
    env = dev_environment(ports, tmp_path)
    async with contextlib.AsyncExitStack() as stack:
        ctx = DevContext(ports=ports, data_dir=tmp_path, env=env, stack=stack)
        lines = await start(ctx)
        okta = ctx.info["okta"]
        assert isinstance(okta, OktaTwin)
        assert okta.issuer == env["BFF_OKTA_ISSUER"] == f"http://localhost:{ports.okta}/oauth2/default"
        text = "\n".join(lines)
        assert okta.issuer in text and "Passw0rd!" in text
        for login in (
            "alice@acme.test",
            "gina@acme.test",
            "bob@acme.test",
            "carol@acme.test",
            "olga@globex.test",
        ):
            assert login in text

        public = env["BFF_PUBLIC_URL"]
        client = okta.clients[env["BFF_OKTA_CLIENT_ID"]]
        assert client.redirect_uris == (f"{public}/bff/callback",)
        assert f"{public}/" in client.post_logout_redirect_uris
        assert client.backchannel_logout_uri == f"{public}/bff/backchannel-logout"
        (hook,) = okta.event_hooks
        assert (hook.url, hook.auth_header, hook.auth_value) == (
            f"{public}/bff/hooks/okta",
            "Authorization",
            env["BFF_OKTA_HOOK_SECRET"],
        )

        async with httpx.AsyncClient(timeout=10) as http:
            login = Login(okta, client_id=client.client_id, redirect_uri=f"{public}/bff/callback")
            back = await browser_sign_in(http, login.url, username="carol@acme.test")
            assert back.headers["location"].startswith(f"{public}/bff/callback?")
            assert "code" in callback_params(back)
            users = await http.get(
                f"{okta.base_url}/api/v1/users",
                headers={"Authorization": f"SSWS {env['BFF_OKTA_API_TOKEN']}"},
            )
            assert users.status_code == 200 and len(users.json()) >= 10


def test_public_jwks_from_pem_and_jwk() -> None:
    key = RSAKey.generate_key(2048, private=True)
    pem = key.as_pem(private=True).decode()
    from_pem = public_jwks(pem)["keys"][0]
    assert from_pem["n"] == key.as_dict()["n"] and "d" not in from_pem and from_pem["kid"]
    import json

    from_jwk = public_jwks(json.dumps(key.as_dict(private=True)))["keys"][0]
    assert from_jwk["n"] == from_pem["n"] and "d" not in from_jwk
