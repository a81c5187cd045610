"""The Okta part of `bff dev`: the twin wired to the BFF's dev settings."""

from __future__ import annotations

import asyncio
import contextlib
import os
import sys
import tomllib
from pathlib import Path
from typing import Any

import httpx
from joserfc.jwk import RSAKey
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from bff_dev.environment import dev_environment
from bff_dev.parts import DevContext
from bff_dev.serving import free_ports, serve_asgi
from bff_dev.twins.okta import OktaTwin
from bff_dev.twins.okta.dev import public_jwks, start
from bff_dev.twins.okta.provisioning import Provisioning
from tests.integration.twins.okta.flows import Login, callback_params
from tests.support.okta import browser_sign_in

REPO = Path(__file__).resolve().parents[4]
DEV_CONFIG = REPO / "infra" / "okta.dev.toml"
EXAMPLE_CONFIG = REPO / "infra" / "okta.example.toml"
ADMIN_STEP_UP = "openid profile email offline_access admin"


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
            "paula@acme.test",
            "oscar@acme.test",
            "uma@acme.test",
            "pat@partner.test",
        ):
            assert login in text
        # the partner IdP of BFF_OKTA_IDP_DISCOVERY is offered on the identify step
        assert [(i.id, i.name) for i in okta.idx.idps] == [("0oapartneridp", "Partner SSO")]
        # the twin's sign-in codes reach /__dev/mail through the mail sources
        (source,) = ctx.info["mail_sources"]
        okta.idx.outbox.append({"to": "+15550100199", "channel": "sms", "subject": "SMS", "code": "1",
                                "link": "", "text": "Your verification code is 1", "sentAt": "x"})
        assert [m.to for m in source()] == ["+15550100199"]

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


async def test_during_a_hook_secret_rotation_the_twin_sends_the_newest(tmp_path: Path) -> None:
    ports = free_ports()
    env = {**dev_environment(ports, tmp_path), "BFF_OKTA_HOOK_SECRET": "new-hook-secret, old-hook-secret"}
    async with contextlib.AsyncExitStack() as stack:
        ctx = DevContext(ports=ports, data_dir=tmp_path, env=env, stack=stack)
        await start(ctx)
        (hook,) = ctx.info["okta"].event_hooks
        assert hook.auth_value == "new-hook-secret"


def test_public_jwks_from_pem_and_jwk() -> None:
    key = RSAKey.generate_key(2048, private=True)
    pem = key.as_pem(private=True).decode()
    from_pem = public_jwks(pem)["keys"][0]
    assert from_pem["n"] == key.as_dict()["n"] and "d" not in from_pem and from_pem["kid"]
    import json

    from_jwk = public_jwks(json.dumps(key.as_dict(private=True)))["keys"][0]
    assert from_jwk["n"] == from_pem["n"] and "d" not in from_jwk


async def _bff_okta(*args: str, env: dict[str, str]) -> tuple[int, str]:
    """`bff okta ...` as an operator runs it (a separate process; the twin serves in this loop)."""
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bff.cli", "okta", *args, cwd=REPO, env=env,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
    )
    out, _ = await asyncio.wait_for(proc.communicate(), timeout=120)
    assert proc.returncode is not None
    return proc.returncode, out.decode()


async def _step_up(okta: OktaTwin, env: dict[str, str], login: str) -> dict[str, str]:
    public = env["BFF_PUBLIC_URL"]
    async with httpx.AsyncClient(timeout=10) as browser:
        step_up = Login(okta, scope=ADMIN_STEP_UP, client_id=env["BFF_OKTA_CLIENT_ID"],
                        redirect_uri=f"{public}/bff/callback")
        return callback_params(await browser_sign_in(browser, step_up.url, username=login))


async def test_bff_okta_plan_and_apply_work_against_the_dev_twin(tmp_path: Path) -> None:
    """docs/okta-twin.md "Provisioning locally", step by step: the dev config, the dev credentials,
    plan, apply, a second plan with nothing to do; the seeded admin policy is unchanged."""
    ports = free_ports()
    env = dev_environment(ports, tmp_path)
    public = env["BFF_PUBLIC_URL"]
    # infra/okta.dev.toml names the fixed dev port; this test's BFF origin is a free one.
    config = tmp_path / "okta.toml"
    config.write_text(DEV_CONFIG.read_text().replace("http://localhost:8000", public))
    verifications: list[str | None] = []

    async def hook(request: Request) -> Response:  # the BFF's /bff/hooks/okta, as far as verification goes
        verifications.append(request.headers.get("authorization"))
        if request.headers.get("authorization") != env["BFF_OKTA_HOOK_SECRET"]:
            return Response(status_code=403)
        return JSONResponse({"verification": request.headers.get("x-okta-verification-challenge")})

    async with contextlib.AsyncExitStack() as stack:
        ctx = DevContext(ports=ports, data_dir=tmp_path, env=env, stack=stack)
        lines = "\n".join(await start(ctx))
        okta = ctx.info["okta"]
        assert isinstance(okta, OktaTwin) and isinstance(ctx.info["okta_provisioning"], Provisioning)
        assert f"{okta.base_url}/api/v1" in lines and "infra/okta.dev.toml" in lines
        bff = Starlette(routes=[Route("/bff/hooks/okta", hook)])
        await serve_asgi(stack, bff, ports.bff, name="bff-hook")

        # The documented shell: org URL, the dev SSWS token and hook secret, nothing else.
        shell = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "HOME": str(tmp_path),
            "BFF_OKTA_ORG_URL": okta.base_url,
            "BFF_OKTA_API_TOKEN": env["BFF_OKTA_API_TOKEN"],
            "BFF_OKTA_HOOK_SECRET": env["BFF_OKTA_HOOK_SECRET"],
        }
        described = set(ctx.info["okta_provisioning"].apps)  # the dev client, as the twin describes it
        code, out = await _bff_okta("plan", "--config", str(config), env=shell)
        assert code == 0, out
        assert "create     scope admin" in out and "create     app BFF (local)" in out
        assert "create     event hook BFF user created (local)" in out
        assert set(ctx.info["okta_provisioning"].apps) == described  # plan writes nothing

        secrets_out = tmp_path / "okta-client.json"
        code, out = await _bff_okta("apply", "--config", str(config), "--secrets-out", str(secrets_out),
                                    env=shell)
        assert code == 0, out
        assert verifications == [env["BFF_OKTA_HOOK_SECRET"]]
        assert secrets_out.stat().st_mode & 0o077 == 0

        code, out = await _bff_okta("plan", "--config", str(config), env=shell)
        assert code == 0 and "0 to create, 0 to update, 0 other change(s)" in out, out

        # The dev twin's own sign-in is untouched: the BFF's dev client still signs in, and the
        # admin step-up is still granted to customer-admins only.
        assert okta.scope_policies == {"admin": "customer-admins"} and "admin" in okta.custom_scopes
        assert "code" in await _step_up(okta, env, "alice@acme.test")
        denied = await _step_up(okta, env, "bob@acme.test")
        assert denied["error"] == "access_denied"


def test_the_dev_okta_config_is_the_example_with_local_urls() -> None:
    """infra/okta.dev.toml may differ from infra/okta.example.toml only in the BFF's URL and names."""
    dev: dict[str, Any] = tomllib.loads(DEV_CONFIG.read_text())
    example: dict[str, Any] = tomllib.loads(EXAMPLE_CONFIG.read_text())
    assert dev["public_url"] == "http://localhost:8000"
    assert dev["trusted_origins"][0]["origin"] == "http://localhost:8000"
    for section, key in (("app", "label"), ("event_hook", "name")):
        assert "(local)" in dev[section][key]
        dev[section][key] = example[section][key]
    dev["public_url"] = example["public_url"]
    dev["trusted_origins"][0] = example["trusted_origins"][0]
    assert dev == example
