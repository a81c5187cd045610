"""``bff okta plan|apply`` against the local Okta twin over loopback: everything the design needs
is provisioned with Okta's API shapes, a second apply makes zero writes, drift is repaired and
nothing else, the policy audit stops an unguarded admin scope, and the twin's sign-in follows
what was provisioned."""

from __future__ import annotations

import asyncio
import json
import os
import stat
import sys
import tomllib
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from bff.auth.revocation import EVENT_TYPES
from bff.okta import PrivateKeyJwtAuth, SswsAuth
from bff.ops.okta import ADMIN_SCOPES, run
from bff.ops.okta_config import OktaConfig, parse_config
from bff.signup.notices import NOTICE_FOR
from bff_dev.serving import free_port, serve_asgi
from bff_dev.twins.okta import OktaTwin
from bff_dev.twins.okta.provisioning import Provisioning, install_provisioning
from tests.support.okta import browser_sign_in, running_okta_twin

REPO = Path(__file__).resolve().parents[3]
EXAMPLE = REPO / "infra" / "okta.example.toml"
TOKEN = "ops-test-ssws-token-0123456789"
HOOK_SECRET = "hook-secret-for-the-ops-test-0123"
SEED = {
    "defaultPassword": "Passw0rd!",
    "everyoneGroupId": "00geveryone000000001",
    "groups": [{"id": "00gacmesales00000001", "name": "acme-sales", "description": "Acme sales"}],
    "users": [
        {
            "id": "00ualice0000000000001",
            "profile": {
                "login": "alice@acme.test",
                "email": "alice@acme.test",
                "firstName": "Alice",
                "lastName": "Admin",
                "orgId": "acme",
                "adminRole": "org_admin",
            },
        },
        {
            "id": "00ubob00000000000001",
            "profile": {
                "login": "bob@acme.test",
                "email": "bob@acme.test",
                "firstName": "Bob",
                "lastName": "User",
                "orgId": "acme",
            },
            "groups": ["acme-sales"],
        },
    ],
}


class HookEndpoint:
    """The BFF's /bff/hooks/okta as far as verification goes: checks the secret, echoes the challenge."""

    def __init__(self) -> None:
        self.calls: list[str | None] = []

    async def endpoint(self, request: Request) -> Response:
        self.calls.append(request.headers.get("authorization"))
        if request.headers.get("authorization") != HOOK_SECRET:
            return Response(status_code=401)
        return JSONResponse({"verification": request.headers.get("x-okta-verification-challenge")})


@pytest.fixture
async def stack(tmp_path: Path) -> AsyncIterator[tuple[OktaTwin, Provisioning, HookEndpoint, str]]:
    seed = tmp_path / "users.json"
    seed.write_text(json.dumps(SEED))
    hook = HookEndpoint()
    port = free_port()
    async with AsyncExitStack() as stack, running_okta_twin(users_file=seed) as twin:
        await serve_asgi(
            stack,
            Starlette(routes=[Route("/bff/hooks/okta", hook.endpoint, methods=["GET", "POST"])]),
            port,
            name="hook",
        )
        twin.add_api_token(TOKEN)
        yield twin, install_provisioning(twin), hook, f"http://127.0.0.1:{port}"


def example(public_url: str, **overrides: Any) -> dict[str, Any]:
    data = tomllib.loads(EXAMPLE.read_text())
    data["public_url"] = public_url
    data["trusted_origins"][0]["origin"] = public_url
    for key, value in overrides.items():
        section, _, field = key.partition("__")
        if field:
            data[section][field] = value
        else:
            data[section] = value
    return data


def config(public_url: str, **overrides: Any) -> OktaConfig:
    return parse_config(example(public_url, **overrides))


def writes(twin: OktaTwin) -> int:
    return sum(
        n
        for key, n in twin.counters.items()
        if key.startswith("http:") and not key.startswith("http:GET") and " /api/" in key
    )


async def provision(
    twin: OktaTwin,
    cfg: OktaConfig,
    action: str,
    *,
    secrets_out: Path | None = None,
    hook_secret: str | None = HOOK_SECRET,
    credentials: Any = None,
) -> tuple[int, str]:
    lines: list[str] = []
    async with httpx.AsyncClient(timeout=10) as http:
        code = await run(
            cfg,
            org_url=twin.base_url,
            http=http,
            credentials=credentials or SswsAuth(TOKEN),
            action=action,
            hook_secret=hook_secret,
            secrets_out=secrets_out,
            out=lines.append,
        )
    return code, "\n".join(lines)


async def test_plan_lists_everything_and_writes_nothing(stack: Any) -> None:
    twin, prov, hook, public = stack
    code, out = await provision(twin, config(public), "plan")

    assert code == 0, out
    assert writes(twin) == 0 and hook.calls == []
    for expected in (
        "create     group customer-admins",
        "create     group content-authors",
        "create     profile attribute adminGroups",
        "create     authorization server bff",
        "create     scope admin",
        "create     claim adminRole (access token)",
        "when admin granted",
        "create     app BFF (prod)",
        "assign     app BFF (prod) <- group Everyone",
        "create     access policy BFF",
        "create     policy rule BFF / Customer admins: admin scope",
        f"create     trusted origin {public}",
        "create     event hook",
        "verify     event hook",
    ):
        assert expected in out, expected
    assert "note: apply creates the app's client secret" in out


async def test_apply_provisions_the_design_and_a_second_apply_writes_nothing(
    stack: Any, tmp_path: Path
) -> None:
    twin, prov, hook, public = stack
    secrets_file = tmp_path / "okta-client.json"
    config_file = tmp_path / "okta.json"
    config_file.write_text(json.dumps(example(public)))
    env = {
        **os.environ,
        "BFF_OKTA_ORG_URL": twin.base_url,
        "BFF_OKTA_API_TOKEN": TOKEN,
        "BFF_OKTA_HOOK_SECRET": HOOK_SECRET,
    }
    env.pop("BFF_SECRETS_ARN", None)

    async def cli(*args: str) -> tuple[int, str]:
        proc = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "bff.cli",
            "okta",
            *args,
            env=env,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
            cwd=REPO,
        )
        out, _ = await proc.communicate()
        return proc.returncode or 0, out.decode()

    code, out = await cli("apply", "--config", str(config_file), "--secrets-out", str(secrets_file))
    assert code == 0, out
    first_writes = writes(twin)
    # 2 groups, 1 schema update (4 attributes), server, scope, 6 claims, app, assignment, policy,
    # 2 rules, trusted origin, event hook, verification.
    assert first_writes == 19 and "applied 19 write(s)" in out, out

    # The authorization server, its admin scope and the claims tied to it.
    server = next(s for s in prov.servers.values() if s["name"] == "bff")
    assert server["audiences"] == ["api://bff"]
    assert f"OktaIssuer={twin.base_url}/oauth2/{server['id']}" in out
    scopes = {s["name"]: s for s in prov.scopes[server["id"]].values()}
    assert scopes["admin"]["system"] is False and scopes["admin"]["metadataPublish"] == "NO_CLIENTS"
    claims = {(c["name"], c["claimType"]): c for c in prov.claims[server["id"]].values()}
    assert claims[("adminRole", "RESOURCE")]["conditions"]["scopes"] == ["admin"]
    assert claims[("adminGroups", "RESOURCE")]["value"] == "user.adminGroups"
    assert claims[("orgId", "IDENTITY")]["conditions"]["scopes"] == []
    assert claims[("groups", "RESOURCE")]["valueType"] == "GROUPS"
    assert claims[("groups", "RESOURCE")]["group_filter_type"] == "REGEX"

    # Groups, the app (PKCE, rotation, URIs) and who may use it.
    groups = {g.name: g.id for g in twin.directory.groups.values()}
    assert {"customer-admins", "content-authors"} <= set(groups)
    app = next(a for a in prov.apps.values() if a["label"] == "BFF (prod)")
    client_id = app["credentials"]["oauthClient"]["client_id"]
    assert app["credentials"]["oauthClient"]["pkce_required"] is True
    oauth = app["settings"]["oauthClient"]
    # the embedded sign-in's grant (app.embedded_signin defaults on), on the app and in the rules
    assert oauth["grant_types"] == ["authorization_code", "refresh_token", "interaction_code"]
    assert twin.clients[client_id].grant_types == ("authorization_code", "refresh_token", "interaction_code")
    assert oauth["refresh_token"] == {"rotation_type": "ROTATE", "leeway": 30}
    assert oauth["redirect_uris"] == [f"{public}/bff/callback"]
    assert oauth["post_logout_redirect_uris"] == [f"{public}/"]
    assert oauth["backchannel_logout_uri"] == f"{public}/bff/backchannel-logout"
    assert set(prov.app_groups[app["id"]]) == {twin.directory.everyone.id}
    assert twin.clients[client_id].backchannel_logout_uri == f"{public}/bff/backchannel-logout"

    # The client secret went to the file only (0600), never to the output.
    stored = json.loads(secrets_file.read_text())
    assert stored["BFF_OKTA_CLIENT_ID"] == client_id
    assert stored["BFF_OKTA_CLIENT_SECRET"] == prov.app_secrets[app["id"]]
    assert stat.S_IMODE(secrets_file.stat().st_mode) == 0o600
    assert stored["BFF_OKTA_CLIENT_SECRET"] not in out and TOKEN not in out and HOOK_SECRET not in out

    # The access policy: first, for this client only; admin only for customer-admins.
    policy = next(p for p in prov.policies[server["id"]].values() if p["name"] == "BFF")
    assert policy["priority"] == 1 and policy["conditions"]["clients"]["include"] == [client_id]
    rules = sorted(prov.rules[policy["id"]].values(), key=lambda r: r["priority"])
    assert [r["name"] for r in rules] == ["Customer admins: admin scope", "Everyone: sign-in without admin"]
    assert rules[0]["conditions"]["people"]["groups"]["include"] == [groups["customer-admins"]]
    assert "admin" in rules[0]["conditions"]["scopes"]["include"]
    assert rules[1]["conditions"]["people"]["groups"]["include"] == [twin.directory.everyone.id]
    assert "admin" not in rules[1]["conditions"]["scopes"]["include"]
    assert rules[0]["actions"]["token"]["accessTokenLifetimeMinutes"] == 15
    assert all(r["conditions"]["grantTypes"]["include"] == ["authorization_code", "interaction_code"]
               for r in rules)
    # the email verify callback URI has no Apps API field: a manual step, named exactly
    assert f"set by hand: the app's Email verify callback URI = {public}/bff/signin/email-callback" in out

    # Trusted origin, profile schema (nothing a claim reads is user-editable), the verified hook.
    origin = next(iter(prov.origins.values()))
    assert origin["origin"] == public and {s["type"] for s in origin["scopes"]} == {"CORS", "REDIRECT"}
    props = prov.custom_properties
    assert props["adminGroups"]["type"] == "array" and props["adminGroups"]["items"] == {"type": "string"}
    assert props["adminRole"]["enum"] == ["org_admin", "group_admin"]
    for name in ("orgId", "adminRole", "adminGroups", "complianceStatus"):
        assert props[name]["permissions"][0]["action"] in ("READ_ONLY", "HIDE")
    hook_json = next(iter(prov.hooks.values()))
    assert hook_json["name"] == "BFF user created (prod)"
    assert [set(h.events) for h in twin.event_hooks] == [
        {"user.lifecycle.create", "user.lifecycle.activate", *NOTICE_FOR, *EVENT_TYPES}]
    assert twin.event_hooks[0].verified and twin.event_hooks[0].url == f"{public}/bff/hooks/okta"
    assert hook.calls == [HOOK_SECRET]

    # Idempotent: the same apply again reads, finds nothing to do and writes nothing.
    code, out = await cli("apply", "--config", str(config_file), "--secrets-out", str(secrets_file))
    assert code == 0, out
    assert "nothing to change" in out
    assert writes(twin) == first_writes
    code, out = await cli("plan", "--config", str(config_file))
    assert code == 0 and "0 to create, 0 to update, 0 other change(s)" in out


async def test_drift_is_repaired_and_nothing_else(stack: Any) -> None:
    twin, prov, hook, public = stack
    cfg = config(public)
    assert (await provision(twin, cfg, "apply", secrets_out=Path(os.devnull)))[0] == 0
    before = writes(twin)
    # Someone edits the app and the admin scope by hand in the Admin Console.
    app = next(iter(prov.apps.values()))
    app["settings"]["oauthClient"]["redirect_uris"].append("https://evil.example/callback")
    app["credentials"]["oauthClient"]["pkce_required"] = False
    scope = next(
        s
        for s in prov.scopes[next(iter(s for s in prov.servers if s != "default"))].values()
        if s["name"] == "admin"
    )
    scope["consent"] = "REQUIRED"

    code, out = await provision(twin, cfg, "plan")
    assert code == 0
    assert "1 to create" not in out and "0 to create, 2 to update, 0 other change(s)" in out
    assert (
        "https://evil.example/callback" in out
        and "credentials.oauthClient.pkce_required: false -> true" in out
    )

    code, out = await provision(twin, cfg, "apply")
    assert code == 0, out
    assert writes(twin) == before + 2
    assert app["id"] in prov.apps and prov.apps[app["id"]]["settings"]["oauthClient"]["redirect_uris"] == [
        f"{public}/bff/callback"
    ]
    assert prov.apps[app["id"]]["credentials"]["oauthClient"]["pkce_required"] is True


async def test_a_lost_interaction_code_grant_is_put_back(stack: Any) -> None:
    twin, prov, hook, public = stack
    cfg = config(public)
    assert (await provision(twin, cfg, "apply", secrets_out=Path(os.devnull)))[0] == 0
    app = next(iter(prov.apps.values()))
    app["settings"]["oauthClient"]["grant_types"] = ["authorization_code", "refresh_token"]
    policy = next(p for s in prov.policies.values() for p in s.values() if p["name"] == "BFF")
    rule = next(iter(prov.rules[policy["id"]].values()))
    rule["conditions"]["grantTypes"]["include"] = ["authorization_code"]
    code, out = await provision(twin, cfg, "plan")
    assert code == 0 and "0 to create, 2 to update, 0 other change(s)" in out, out
    assert "interaction_code" in out
    assert (await provision(twin, cfg, "apply"))[0] == 0
    app = prov.apps[app["id"]]
    rule = prov.rules[policy["id"]][rule["id"]]
    assert "interaction_code" in app["settings"]["oauthClient"]["grant_types"]
    assert "interaction_code" in rule["conditions"]["grantTypes"]["include"]
    client_id = app["credentials"]["oauthClient"]["client_id"]
    assert "interaction_code" in twin.clients[client_id].grant_types  # /v1/interact accepts it again


async def test_the_audit_refuses_an_admin_scope_the_default_policy_would_grant_to_everyone(
    stack: Any,
) -> None:
    twin, prov, hook, public = stack
    on_default = {
        "name": "default",
        "description": "Default Authorization Server",
        "audience": "api://default",
    }

    code, out = await provision(twin, config(public, authorization_server=on_default), "apply")

    assert code == 3
    assert "'Default Policy' (priority 1) rule 'Default Policy Rule' grants 'admin' to Everyone" in out
    assert "nothing was changed" in out and writes(twin) == 0


async def test_sign_in_follows_the_provisioned_policy(stack: Any, tmp_path: Path) -> None:
    twin, prov, hook, public = stack
    data = example(
        public,
        authorization_server={
            "name": "default",
            "description": "Default Authorization Server",
            "audience": "api://default",
            "deactivate_policies": ["Default Policy"],
        },
    )
    # Give the admin scope to content authors instead: only the provisioned policy can say so.
    data["access_policy"]["rules"][0]["groups"] = ["content-authors"]
    secrets_file = tmp_path / "client.json"
    code, out = await provision(twin, parse_config(data), "apply", secrets_out=secrets_file)
    assert code == 0, out
    client = json.loads(secrets_file.read_text())
    authors = twin.directory.group_by_name("content-authors")
    assert authors is not None
    authors.members["00ualice0000000000001"] = None  # alice: content author, not in customer-admins

    async def authorize(login: str, scope: str) -> dict[str, list[str]]:
        async with httpx.AsyncClient(timeout=10) as browser:
            url = httpx.URL(
                f"{twin.issuer}/v1/authorize",
                params={
                    "client_id": client["BFF_OKTA_CLIENT_ID"],
                    "response_type": "code",
                    "scope": scope,
                    "redirect_uri": f"{public}/bff/callback",
                    "state": "s" * 16,
                    "nonce": "n" * 16,
                    "code_challenge": "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM",
                    "code_challenge_method": "S256",
                },
            )
            response = await browser_sign_in(browser, str(url), username=login)
        assert response.status_code in (302, 303), response.text
        return parse_qs(urlsplit(response.headers["location"]).query)

    assert "code" in await authorize("alice@acme.test", "openid profile offline_access admin")
    denied = await authorize("bob@acme.test", "openid profile offline_access admin")
    assert denied["error"] == ["access_denied"]
    assert "code" in await authorize("bob@acme.test", "openid profile offline_access")
    assert twin.scope_policies == {"admin": "content-authors"}


async def test_an_oauth_service_app_can_provision_and_missing_scopes_fail_cleanly(stack: Any) -> None:
    from joserfc.jwk import RSAKey

    from bff_dev.twins.okta.dev import public_jwks

    twin, prov, hook, public = stack
    key = RSAKey.generate_key(2048, parameters={"kid": "ops-key"})
    pem = key.as_pem(private=True).decode()
    twin.register_service_app("0oaopsprovisioner01", jwks=public_jwks(pem), scopes=ADMIN_SCOPES)
    creds = PrivateKeyJwtAuth(twin.base_url, "0oaopsprovisioner01", pem, scopes=ADMIN_SCOPES)
    code, out = await provision(twin, config(public), "plan", credentials=creds)
    assert code == 0, out

    twin.register_service_app(
        "0oaopsreadonly0001", jwks=public_jwks(pem), scopes=("okta.groups.read", "okta.schemas.read")
    )
    weak = PrivateKeyJwtAuth(
        twin.base_url, "0oaopsreadonly0001", pem, scopes=("okta.groups.read", "okta.schemas.read")
    )
    code, out = await provision(twin, config(public), "plan", credentials=weak)
    assert code == 1
    assert "GET /api/v1/authorizationServers: HTTP 403 E0000006" in out
    assert pem not in out


async def test_without_the_hook_secret_nothing_is_applied(stack: Any) -> None:
    twin, prov, hook, public = stack
    code, out = await provision(twin, config(public), "apply", hook_secret=None, secrets_out=Path(os.devnull))
    assert code == 3
    assert "BFF_OKTA_HOOK_SECRET is required" in out and writes(twin) == 0


async def test_a_hook_that_does_not_answer_the_challenge_fails_verification(stack: Any) -> None:
    twin, prov, hook, public = stack
    code, out = await provision(
        twin,
        config(public),
        "apply",
        hook_secret="not-what-the-bff-expects-0000",
        secrets_out=Path(os.devnull),
    )
    assert code == 1
    assert "event hook verification failed: Api validation failed: verification" in out
    assert hook.calls == ["not-what-the-bff-expects-0000"]
    assert not twin.event_hooks[0].verified
    # The next run only retries the verification (with the right secret sent again).
    code, out = await provision(twin, config(public), "plan")
    assert [line.split()[1] for line in out.splitlines() if line.startswith("  ? ")] == ["verify"]
