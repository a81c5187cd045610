"""The Okta config file: the shipped example parses; every mistake is one precise line, all at once."""

from __future__ import annotations

import json
import tomllib
from pathlib import Path
from typing import Any

import pytest

from bff.config import ConfigError
from bff.ops.okta_config import load_config, parse_config

EXAMPLE = Path(__file__).resolve().parents[3] / "infra" / "okta.example.toml"


def example() -> dict[str, Any]:
    return tomllib.loads(EXAMPLE.read_text())


def errors(data: dict[str, Any], base_dir: Path = Path(".")) -> list[str]:
    with pytest.raises(ConfigError) as info:
        parse_config(data, base_dir=base_dir)
    return info.value.lines


def test_the_example_parses_with_defaults_from_public_url() -> None:
    cfg = load_config(EXAMPLE)
    assert cfg.authorization_server.name == "bff" and cfg.authorization_server.audience == "api://bff"
    assert cfg.custom_scopes == {"admin"}
    admin_claims = {c.name for c in cfg.claims if c.scopes == ("admin",)}
    assert admin_claims == {"adminRole", "adminGroups"}
    assert {(c.name, c.claim_type) for c in cfg.claims} >= {("groups", "IDENTITY"), ("orgId", "RESOURCE")}
    assert cfg.app is not None
    assert cfg.app.redirect_uris == ("https://app.example.com/bff/callback",)
    assert cfg.app.post_logout_redirect_uris == ("https://app.example.com/",)
    assert cfg.app.backchannel_logout_uri == "https://app.example.com/bff/backchannel-logout"
    assert cfg.app.pkce_required and cfg.app.refresh_token_rotation == "ROTATE"
    assert cfg.event_hook is not None and cfg.event_hook.uri == "https://app.example.com/bff/hooks/okta"
    assert cfg.policy is not None and [r.groups for r in cfg.policy.rules] == [
        ("customer-admins",),
        ("Everyone",),
    ]
    assert {a.name: a.self_access for a in cfg.profile_attributes} == {
        "orgId": "READ_ONLY",
        "adminRole": "HIDE",
        "adminGroups": "HIDE",
        "complianceStatus": "HIDE",
    }


def test_json_works_too(tmp_path: Path) -> None:
    path = tmp_path / "okta.json"
    path.write_text(json.dumps(example()))
    assert load_config(path).authorization_server.name == "bff"


def test_unreadable_or_malformed_files(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot read"):
        load_config(tmp_path / "missing.toml")
    bad = tmp_path / "bad.toml"
    bad.write_text("public_url = [")
    with pytest.raises(ConfigError, match="bad.toml"):
        load_config(bad)


def test_every_problem_is_reported_at_once() -> None:
    data = example()
    data["public_url"] = "http://app.example.com/path"
    data["surprise"] = 1
    data["scopes"].append({"name": "openid", "description": "x"})
    data["claims"][4]["scopes"] = ["superuser"]
    data["access_policy"]["rules"][1]["scopes"].append("admin")
    data["app"]["grant_types"] = ["refresh_token", "password"]
    lines = errors(data)
    assert any("public_url: must use https (http is allowed only for localhost)" in line for line in lines)
    assert any("unknown key 'surprise'" in line for line in lines)
    assert any("'openid' is a system scope" in line for line in lines)
    assert any("claims[4].scopes: 'superuser'" in line for line in lines)
    assert any("grants admin to Everyone" in line for line in lines)
    assert any("'password' is not available to a web app" in line for line in lines)
    assert any("refresh_token needs authorization_code" in line for line in lines)
    assert len(lines) >= 7


def test_an_attribute_a_claim_reads_cannot_be_user_editable() -> None:
    data = example()
    next(a for a in data["profile_attributes"] if a["name"] == "adminRole")["self_access"] = "READ_WRITE"
    assert any("adminRole feeds the 'adminRole' claim" in line for line in errors(data))


def test_rules_cannot_name_refresh_token_as_a_grant_type() -> None:
    data = example()
    data["access_policy"]["rules"][0]["grant_types"] = ["authorization_code", "refresh_token"]
    assert any("'refresh_token' is not one of" in line for line in errors(data))


def test_the_embedded_sign_in_grant_is_allowed_for_the_app_and_its_rules() -> None:
    data = example()
    data["app"]["grant_types"] = ["authorization_code", "refresh_token", "interaction_code"]
    for rule in data["access_policy"]["rules"]:
        rule["grant_types"] = ["authorization_code", "interaction_code"]
    cfg = parse_config(data, base_dir=Path("."))
    assert cfg.app is not None and "interaction_code" in cfg.app.grant_types
    assert cfg.policy is not None
    assert all("interaction_code" in rule.grant_types for rule in cfg.policy.rules)


def test_embedded_sign_in_is_on_by_default_for_the_app_and_the_rules_that_sign_in() -> None:
    data = example()
    data["access_policy"]["rules"].append({"name": "Machines", "groups": ["Everyone"], "scopes": ["openid"],
                                           "grant_types": ["client_credentials"]})
    cfg = parse_config(data, base_dir=Path("."))
    assert cfg.app is not None and cfg.policy is not None
    assert cfg.app.embedded_signin is True
    assert cfg.app.grant_types == ("authorization_code", "refresh_token", "interaction_code")
    assert cfg.app.email_verify_callback_uri == f"{data['public_url']}/bff/signin/email-callback"
    by_name = {rule.name: rule.grant_types for rule in cfg.policy.rules}
    assert by_name.pop("Machines") == ("client_credentials",)  # no authorization_code: left alone
    assert set(by_name.values()) == {("authorization_code", "interaction_code")}


def test_embedded_sign_in_can_be_switched_off_or_its_callback_moved() -> None:
    off = example()
    off["app"]["embedded_signin"] = False
    cfg = parse_config(off, base_dir=Path("."))
    assert cfg.app is not None and cfg.policy is not None
    assert cfg.app.grant_types == ("authorization_code", "refresh_token")
    assert cfg.app.email_verify_callback_uri is None
    assert all(rule.grant_types == ("authorization_code",) for rule in cfg.policy.rules)
    moved = example()
    moved["app"]["email_verify_callback_uri"] = "https://login.example.com/bff/signin/email-callback"
    app = parse_config(moved, base_dir=Path(".")).app
    assert app is not None and app.email_verify_callback_uri == "https://login.example.com/bff/signin/email-callback"
    none = example()
    none["app"]["email_verify_callback_uri"] = ""
    app = parse_config(none, base_dir=Path(".")).app
    assert app is not None and app.email_verify_callback_uri is None
    bad = example()
    bad["app"]["email_verify_callback_uri"] = "http://evil.example/cb"
    assert any("app.email_verify_callback_uri" in line for line in errors(bad))
    off["app"]["email_verify_callback_uri"] = "https://app.example.com/x"
    assert any("only used with embedded_signin = true" in line for line in errors(off))


def test_private_key_jwt_needs_public_keys_only(tmp_path: Path) -> None:
    data = example()
    data["app"]["token_endpoint_auth_method"] = "private_key_jwt"
    assert any("needs jwks_file" in line for line in errors(data))

    private = {"keys": [{"kty": "RSA", "kid": "k1", "n": "abc", "e": "AQAB", "d": "secret"}]}
    (tmp_path / "keys.json").write_text(json.dumps(private))
    data["app"]["jwks_file"] = "keys.json"
    assert any("PRIVATE key material" in line for line in errors(data, tmp_path))

    public = {"keys": [{"kty": "RSA", "kid": "k1", "n": "abc", "e": "AQAB"}]}
    (tmp_path / "keys.json").write_text(json.dumps(public))
    cfg = parse_config(data, base_dir=tmp_path)
    assert cfg.app is not None and cfg.app.jwks == public


def test_the_back_channel_logout_uri_can_be_switched_off() -> None:
    data = example()
    data["app"]["backchannel_logout_uri"] = ""
    cfg = parse_config(data)
    assert cfg.app is not None and cfg.app.backchannel_logout_uri is None


def test_event_hooks_need_https() -> None:
    data = example()
    data["event_hook"]["uri"] = "http://hooks.example.com/okta"
    assert any("event_hook.uri" in line for line in errors(data))


def test_duplicates_are_refused() -> None:
    data = example()
    data["groups"].append(dict(data["groups"][0]))
    data["claims"].append(dict(data["claims"][0]))
    lines = errors(data)
    assert any("groups: name 'customer-admins' appears twice" in line for line in lines)
    assert any("claims: name + token 'groups (id token)' appears twice" in line for line in lines)
