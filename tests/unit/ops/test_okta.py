"""The reconciler's comparison rules and safety checks, against the Okta twin in process
(httpx.ASGITransport: no sockets), and the command's configuration errors."""

from __future__ import annotations

import argparse
import tomllib
from pathlib import Path
from typing import Any

import httpx
import pytest

from bff.config import ConfigError
from bff.okta import AsyncOktaClient, OktaError, PrivateKeyJwtAuth, SswsAuth, management_auth
from bff.ops.okta import ADMIN_SCOPES, RETRY, Reconciler, diff, merged, okta_cli
from bff.ops.okta_config import OktaConfig, parse_config
from bff.settings import OktaAdminSettings
from bff_dev.twins.okta import OktaTwin
from bff_dev.twins.okta.provisioning import Provisioning, install_provisioning

EXAMPLE = Path(__file__).resolve().parents[3] / "infra" / "okta.example.toml"
BASE = "http://okta.twin.test"
TOKEN = "unit-test-token"


def test_diff_compares_managed_leaves_with_lists_as_sets() -> None:
    current = {"a": {"b": ["x", "y"], "c": 1, "unmanaged": True}, "d": None, "e": "same"}
    assert diff(current, {"a": {"b": ["y", "x"], "c": 1}, "d": [], "e": "same"}) == []
    assert diff(current, {"a": {"c": 2}}) == ["a.c: 1 -> 2"]
    assert diff(current, {"a": {"b": ["x"]}, "new": {"k": "v"}}) == [
        'a.b: ["x", "y"] -> ["x"]',
        'new.k: (none) -> "v"',
    ]


def test_merged_keeps_unmanaged_fields_and_drops_read_only_ones() -> None:
    current = {
        "id": "1",
        "name": "old",
        "_links": {"self": {}},
        "created": "t",
        "lastUpdated": "t",
        "settings": {"keep": 1, "change": 2},
    }
    assert merged(current, {"name": "new", "settings": {"change": 3}}) == {
        "id": "1",
        "name": "new",
        "settings": {"keep": 1, "change": 3},
    }


def test_admin_settings_need_an_org_and_credentials() -> None:
    s = OktaAdminSettings.from_env(
        {
            "BFF_OKTA_ISSUER": "https://acme.okta.com/oauth2/aus1",
            "BFF_OKTA_API_TOKEN": "t",
            "BFF_OKTA_HOOK_SECRET": "h",
        }
    )
    assert s.org_url == "https://acme.okta.com" and s.api_token == "t" and s.hook_secret == "h"
    with pytest.raises(ConfigError) as info:
        OktaAdminSettings.from_env({"BFF_OKTA_MGMT_CLIENT_ID": "0oa1"})
    assert any("BFF_OKTA_ORG_URL" in line for line in info.value.lines)
    assert any("go together" in line for line in info.value.lines)
    with pytest.raises(ConfigError, match="must use https"):
        OktaAdminSettings.from_env({"BFF_OKTA_ORG_URL": "http://acme.okta.com", "BFF_OKTA_API_TOKEN": "t"})


def _args(**kw: Any) -> argparse.Namespace:
    return argparse.Namespace(
        **{
            "action": "plan",
            "config": None,
            "secrets_out": None,
            "update_hook_secret": False,
            "verbose": False,
            **kw,
        }
    )


def test_the_command_reports_configuration_problems(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    for name in (
        "BFF_OKTA_ORG_URL",
        "BFF_OKTA_ISSUER",
        "BFF_OKTA_API_TOKEN",
        "BFF_OKTA_MGMT_CLIENT_ID",
        "BFF_OKTA_MGMT_PRIVATE_KEY",
        "BFF_SECRETS_ARN",
    ):
        monkeypatch.delenv(name, raising=False)
    assert okta_cli(_args()) == 2
    assert "--config FILE is required" in capsys.readouterr().err
    bad = tmp_path / "okta.toml"
    bad.write_text('public_url = "https://app.example.com"\n')
    assert okta_cli(_args(config=bad)) == 2
    assert "authorization_server is required" in capsys.readouterr().err
    assert okta_cli(_args(config=EXAMPLE)) == 2
    assert "BFF_OKTA_ORG_URL (or BFF_OKTA_ISSUER) is required" in capsys.readouterr().err


# -- the reconciler against an in-process twin ---------------------------------------------------
@pytest.fixture
def twin() -> tuple[OktaTwin, Provisioning]:
    t = OktaTwin(BASE)
    t.add_api_token(TOKEN)
    return t, install_provisioning(t)


def cfg(**changes: Any) -> OktaConfig:
    data = tomllib.loads(EXAMPLE.read_text())
    data["event_hook"]["verify"] = False
    data.update(changes)
    return parse_config(data)


async def reconcile(t: OktaTwin, config: OktaConfig, *, apply: bool) -> Any:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=t.app), base_url=BASE) as http:
        api = AsyncOktaClient(BASE, http=http, auth=SswsAuth(TOKEN))
        return await Reconciler(api, config, apply=apply, hook_secret="h" * 32).run()


async def test_apply_then_plan_is_empty_and_a_stray_rule_is_removed(
    twin: tuple[OktaTwin, Provisioning],
) -> None:
    t, prov = twin
    applied = await reconcile(t, cfg(), apply=True)
    assert not applied.problems
    again = await reconcile(t, cfg(), apply=False)
    assert again.changes == [] and len(again.unchanged) > 15

    # A rule added by hand inside the managed policy could hand out admin: the plan removes it.
    server = next(s for s in prov.servers if s != "default")
    policy = next(iter(prov.policies[server].values()))
    everyone = t.directory.everyone.id
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=t.app), base_url=BASE) as http:
        response = await http.post(
            f"/api/v1/authorizationServers/{server}/policies/{policy['id']}/rules",
            headers={"Authorization": f"SSWS {TOKEN}"},
            json={
                "type": "RESOURCE_ACCESS",
                "name": "by hand",
                "conditions": {
                    "people": {"groups": {"include": [everyone]}},
                    "grantTypes": {"include": ["authorization_code"]},
                    "scopes": {"include": ["*"]},
                },
            },
        )
    assert response.status_code == 201, response.text
    plan = await reconcile(t, cfg(), apply=False)
    assert [(c.action, c.name) for c in plan.changes] == [("delete", "BFF / by hand")]


async def test_the_audit_sees_rules_for_individual_users_and_all_clients(
    twin: tuple[OktaTwin, Provisioning],
) -> None:
    t, prov = twin
    await reconcile(t, cfg(), apply=True)
    server = next(s for s in prov.servers if s != "default")
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=t.app), base_url=BASE, headers={"Authorization": f"SSWS {TOKEN}"}
    ) as http:
        policy = (
            await http.post(
                f"/api/v1/authorizationServers/{server}/policies",
                json={
                    "type": "OAUTH_AUTHORIZATION_POLICY",
                    "name": "Legacy",
                    "description": "old",
                    "conditions": {"clients": {"include": ["ALL_CLIENTS"]}},
                },
            )
        ).json()
        assert policy["priority"] == 2  # created last
        user = next(iter(t.directory.users))
        rule = await http.post(
            f"/api/v1/authorizationServers/{server}/policies/{policy['id']}/rules",
            json={
                "type": "RESOURCE_ACCESS",
                "name": "one user",
                "conditions": {
                    "people": {"users": {"include": [user]}},
                    "grantTypes": {"include": ["authorization_code"]},
                    "scopes": {"include": ["admin"]},
                },
            },
        )
        assert rule.status_code == 201, rule.text
    plan = await reconcile(t, cfg(), apply=False)
    assert len(plan.problems) == 1
    assert "'Legacy' (priority 2) rule 'one user' grants 'admin' to 1 individual user(s)" in plan.problems[0]


async def test_a_type_change_is_refused_not_applied(twin: tuple[OktaTwin, Provisioning]) -> None:
    t, prov = twin
    await reconcile(t, cfg(), apply=True)
    data = tomllib.loads(EXAMPLE.read_text())
    data["event_hook"]["verify"] = False
    next(a for a in data["profile_attributes"] if a["name"] == "orgId")["type"] = "integer"
    plan = await reconcile(t, parse_config(data), apply=False)
    assert any("'orgId' is a string in Okta, the config says integer" in p for p in plan.problems)


async def test_unknown_groups_and_missing_policies_are_reported(twin: tuple[OktaTwin, Provisioning]) -> None:
    t, _ = twin
    data = tomllib.loads(EXAMPLE.read_text())
    data["event_hook"]["verify"] = False
    data["app"]["assign_groups"] = ["Everyone", "no-such-group"]
    data["authorization_server"]["name"] = "default"
    data["authorization_server"]["deactivate_policies"] = ["Default Policy", "Nope"]
    plan = await reconcile(t, parse_config(data), apply=False)
    assert any("group 'no-such-group' is referenced" in p for p in plan.problems)
    assert "deactivate_policies: no policy named 'Nope'" in plan.warnings
    assert ("deactivate", "Default Policy") in [(c.action, c.name) for c in plan.changes]


# -- the Management API client as `bff okta` configures it (was bff/ops/okta_api.py) ---------------
ORG = "https://acme.okta.test"


def ops_client(handler: Any) -> tuple[AsyncOktaClient, list[float]]:
    slept: list[float] = []

    async def sleep(seconds: float) -> None:
        slept.append(seconds)

    http = httpx.AsyncClient(transport=httpx.MockTransport(handler))
    return AsyncOktaClient(ORG, http=http, auth=SswsAuth("tok-123"), retry=RETRY, sleep=sleep,
                           clock=lambda: 1000.0), slept


def okta_error(status: int, code: str, summary: str, causes: tuple[str, ...] = ()) -> httpx.Response:
    causes_json = [{"errorSummary": c} for c in causes]
    return httpx.Response(status, json={"errorCode": code, "errorSummary": summary, "errorLink": code,
                                        "errorId": "oaeXYZ", "errorCauses": causes_json})


async def test_a_429_is_waited_out_until_the_reset_plus_a_second() -> None:
    calls = 0

    def handler(request: httpx.Request) -> httpx.Response:
        nonlocal calls
        calls += 1
        if calls == 1:
            response = okta_error(429, "E0000047", "API call exceeded rate limit due to too many requests.")
            response.headers["X-Rate-Limit-Reset"] = "1004"
            return response
        return httpx.Response(200, json={"ok": True})

    client, slept = ops_client(handler)
    assert await client.post("/api/v1/groups", {"profile": {"name": "x"}}) == {"ok": True}
    assert slept == [5.0] and calls == 2  # reset 1004 - now 1000 + 1


async def test_reads_retry_5xx_but_writes_do_not() -> None:
    calls: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(request.method)
        if request.method == "GET" and len(calls) == 1 or request.method == "PUT":
            return okta_error(500, "E0000009", "Internal Server Error")
        return httpx.Response(200, json={})

    client, slept = ops_client(handler)
    assert await client.get("/api/v1/groups/1") == {}
    with pytest.raises(OktaError) as info:
        await client.put("/api/v1/groups/1", {})
    assert calls == ["GET", "GET", "PUT"] and slept == [2.0]
    assert info.value.status == 500 and info.value.code == "E0000009"
    assert str(info.value).startswith("PUT /api/v1/groups/1: HTTP 500 E0000009 Internal Server Error")


async def test_the_service_app_asks_for_the_admin_scopes_and_renews_after_a_401() -> None:
    from joserfc.jwk import RSAKey

    tokens = iter(["at-1", "at-2"])
    api_calls: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/oauth2/v1/token":
            form = dict(x.split("=", 1) for x in request.content.decode().split("&"))
            assert form["grant_type"] == "client_credentials"
            assert "okta.authorizationServers.manage" in form["scope"].replace("+", " ").replace("%2E", ".")
            return httpx.Response(200, json={"access_token": next(tokens), "expires_in": 3600})
        api_calls.append(request.headers["authorization"])
        if request.headers["authorization"] == "Bearer at-1":
            return okta_error(401, "E0000011", "Invalid token provided")
        return httpx.Response(200, json=[])

    pem = RSAKey.generate_key(2048).as_pem(private=True).decode()
    auth = management_auth(ORG, api_token=None, client_id="0oaops", private_key=pem, scopes=ADMIN_SCOPES)
    assert isinstance(auth, PrivateKeyJwtAuth) and auth.scopes == ADMIN_SCOPES
    client = AsyncOktaClient(ORG, http=httpx.AsyncClient(transport=httpx.MockTransport(handler)), auth=auth)
    assert await client.list_all("/api/v1/eventHooks") == []
    assert api_calls == ["Bearer at-1", "Bearer at-2"]


async def test_apply_counts_the_writes_it_made(twin: tuple[OktaTwin, Provisioning]) -> None:
    t, _ = twin
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=t.app), base_url=BASE) as http:
        api = AsyncOktaClient(BASE, http=http, auth=SswsAuth(TOKEN))
        reconciler = Reconciler(api, cfg(), apply=True, hook_secret="h" * 32)
        report = await reconciler.run()
    written = sum(n for key, n in t.counters.items()
                  if key.startswith("http:") and not key.startswith("http:GET") and " /api/" in key)
    assert reconciler.writes == written > 0 and not report.problems
