"""The reconciler's comparison rules and safety checks, against the Okta twin in process
(httpx.ASGITransport: no sockets), and the command's configuration errors."""

from __future__ import annotations

import argparse
import tomllib
from pathlib import Path
from typing import Any

import httpx
import pytest

from bff.okta import AsyncOktaClient, SswsAuth
from bff.ops.okta import Reconciler, diff, merged, okta_cli
from bff.ops.okta_config import OktaConfig, parse_config
from bff.settings import ConfigError, OktaAdminSettings
from bff.twins.okta import OktaTwin
from bff.twins.okta.provisioning import Provisioning, install_provisioning

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
