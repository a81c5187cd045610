from __future__ import annotations

import pytest

from bff.config import ConfigError
from bff.settings import OktaAdminSettings, Settings
from bff_dev.environment import DEV_HOOK_SECRET, DEV_SECRET_KEY
from tests.support.env import base_env


def test_valid_environment_builds_typed_settings() -> None:
    s = Settings.from_env(
        base_env(BFF_OKTA_SCOPES="openid email", BFF_OKTA_IDP_DISCOVERY="Partner.test=0oa1")
    )
    assert s.okta.scopes == ("openid", "email")
    assert s.okta.idp_discovery == {"partner.test": "0oa1"}
    assert s.is_https and s.public_origin == "https://app.example.test"


def test_idps_the_redirect_flow_may_name() -> None:
    s = Settings.from_env(base_env(BFF_OKTA_IDP_DISCOVERY="partner.test=0oa1",
                                   BFF_OKTA_IDPS="0oa2, google-123"))
    assert s.okta.idps == ("0oa2", "google-123")
    assert s.okta.allowed_idps == {"0oa1", "0oa2", "google-123"}
    assert Settings.from_env(base_env()).okta.allowed_idps == frozenset()
    with pytest.raises(ConfigError) as info:
        Settings.from_env(base_env(BFF_OKTA_IDPS="0oa2,bad id", BFF_OKTA_IDP_DISCOVERY="a.test=0oa&x=1"))
    assert info.value.lines == [
        "BFF_OKTA_IDP_DISCOVERY: '0oa&x=1' is not an Okta IdP id (letters, digits, '-' or '_', at most 64)",
        "BFF_OKTA_IDPS: 'bad id' is not an Okta IdP id (letters, digits, '-' or '_', at most 64)",
    ]


def test_every_problem_is_reported_on_its_own_line() -> None:
    env = base_env(BFF_PUBLIC_URL="http://app.example.test", BFF_SECRET_KEYS="short",
                   BFF_SESSION_IDLE_TIMEOUT="soon")
    del env["BFF_OKTA_CLIENT_ID"]
    with pytest.raises(ConfigError) as info:
        Settings.from_env(env)
    lines = info.value.lines
    assert any("BFF_PUBLIC_URL must use https" in line for line in lines)
    assert any("BFF_SECRET_KEYS entry 1 is shorter than 32" in line for line in lines)
    assert any(line == "BFF_OKTA_CLIENT_ID is required" for line in lines)
    assert any("BFF_SESSION_IDLE_TIMEOUT must be an integer" in line for line in lines)
    assert len(lines) == 4


def test_http_is_allowed_for_localhost_only() -> None:
    assert Settings.from_env(base_env(BFF_PUBLIC_URL="http://localhost:8000")).public_url == "http://localhost:8000"
    assert Settings.from_env(base_env(BFF_PUBLIC_URL="http://127.0.0.1:8000")).public_url
    with pytest.raises(ConfigError):
        Settings.from_env(base_env(BFF_PUBLIC_URL="http://localhost.evil.test"))


def test_placeholder_secret_is_refused_outside_dev(tmp_path: object) -> None:
    with pytest.raises(ConfigError) as info:
        Settings.from_env(base_env(BFF_SECRET_KEYS=DEV_SECRET_KEY))
    assert info.value.lines == [
        "BFF_SECRET_KEYS holds the development placeholder; set a real secret outside `bff dev`"
    ]


def test_openid_scope_is_mandatory() -> None:
    with pytest.raises(ConfigError) as info:
        Settings.from_env(base_env(BFF_OKTA_SCOPES="profile email"))
    assert info.value.lines == ["BFF_OKTA_SCOPES must contain openid"]


def test_okta_hook_secret_is_a_list_newest_first_for_rotation() -> None:
    s = Settings.from_env(base_env(BFF_OKTA_HOOK_SECRET=" new-hook-secret , old-hook-secret ,"))
    assert s.signup.hook_secrets == ("new-hook-secret", "old-hook-secret")
    assert s.signup.hook_secret == "new-hook-secret"
    one = Settings.from_env(base_env(BFF_OKTA_HOOK_SECRET="only-hook-secret"))
    assert (one.signup.hook_secrets, one.signup.hook_secret) == (("only-hook-secret",), "only-hook-secret")
    unset = Settings.from_env(base_env())
    assert (unset.signup.hook_secrets, unset.signup.hook_secret) == ((), None)
    # `bff okta apply --update-hook-secret` sends Okta the newest one.
    admin = OktaAdminSettings.from_env({
        "BFF_OKTA_ORG_URL": "https://acme.okta.com",
        "BFF_OKTA_API_TOKEN": "t",
        "BFF_OKTA_HOOK_SECRET": "new-hook-secret,old-hook-secret",
    })
    assert admin.hook_secret == "new-hook-secret"


@pytest.mark.parametrize("value", [DEV_HOOK_SECRET, f"real-hook-secret,{DEV_HOOK_SECRET}",
                                   f"{DEV_HOOK_SECRET},real-hook-secret"])
def test_a_placeholder_in_any_hook_secret_entry_is_refused_outside_dev(value: str) -> None:
    with pytest.raises(ConfigError) as info:
        Settings.from_env(base_env(BFF_OKTA_HOOK_SECRET=value))
    assert info.value.lines == [
        "BFF_OKTA_HOOK_SECRET holds the development placeholder; set a real secret outside `bff dev`"
    ]
    assert Settings.from_env(base_env(BFF_OKTA_HOOK_SECRET=value), dev=True).signup.hook_secrets


def test_api_upstreams_parse_and_reject_bad_entries() -> None:
    s = Settings.from_env(base_env(BFF_API_UPSTREAMS="admin=https://a.example.com/, direct=arn:aws:lambda:x"))
    assert s.proxy.upstream_urls == {"admin": "https://a.example.com", "direct": "arn:aws:lambda:x"}
    with pytest.raises(ConfigError) as info:
        Settings.from_env(base_env(BFF_API_UPSTREAMS="admin,reports=ftp://x"))
    assert info.value.lines == [
        "BFF_API_UPSTREAMS must be a comma-separated list of name=url, got 'admin'",
        "BFF_API_UPSTREAMS: reports must be an https URL or a Lambda ARN, got 'ftp://x'",
    ]


def test_signup_org_defaults_to_invitation() -> None:
    assert Settings.from_env(base_env()).signup.org_mode == "invitation"
    assert Settings.from_env(base_env(BFF_SIGNUP_ORG="none")).signup.org_mode == "none"


def test_signup_org_organisation_starts_under_bff_dev_only() -> None:
    with pytest.raises(ConfigError) as err:
        Settings.from_env(base_env(BFF_SIGNUP_ORG="organisation"))
    assert any(line.startswith("BFF_SIGNUP_ORG=organisation") for line in err.value.lines)
    dev = Settings.from_env(base_env(BFF_SIGNUP_ORG="organisation"), dev=True)
    assert dev.signup.org_mode == "organisation"


@pytest.mark.parametrize("mode", ["optional", "required"])
def test_a_users_api_password_refuses_to_start(mode: str) -> None:
    # A password sent with POST /api/v1/users makes the account ACTIVE before its address is verified.
    for dev in (False, True):
        with pytest.raises(ConfigError) as err:
            Settings.from_env(base_env(BFF_SIGNUP_PASSWORD=mode), dev=dev)
        assert any(line.startswith(f"BFF_SIGNUP_PASSWORD={mode}") for line in err.value.lines)
    assert Settings.from_env(base_env()).signup.password_mode == "none"


@pytest.mark.parametrize("value", ["59", "abc", str(91 * 86400)])
def test_invitation_ttl_is_bounded(value: str) -> None:
    with pytest.raises(ConfigError):
        Settings.from_env(base_env(BFF_INVITATION_TTL=value))
    assert Settings.from_env(base_env()).signup.invitation_ttl == 7 * 86400


@pytest.mark.parametrize("field", ["orgId", "adminRole", "adminGroups", "complianceStatus", "ORGID", "login",
                                   "email", "status"])
def test_profile_fields_never_name_a_privileged_attribute(field: str) -> None:
    for dev in (False, True):  # not even under bff dev
        with pytest.raises(ConfigError) as err:
            Settings.from_env(base_env(BFF_PROFILE_FIELDS=f"company,{field},title"), dev=dev)
        assert [line for line in err.value.lines if field in line and "privileged" in line]


def test_profile_fields_of_the_profile_screen_are_allowed() -> None:
    fields = "company,title,mobilePhone,primaryPhone,countryCode,preferredLanguage,locale"
    settings = Settings.from_env(base_env(BFF_PROFILE_FIELDS=fields))
    assert settings.signup.profile_fields == tuple(fields.split(","))


def test_invitations_secret_is_a_list_of_strong_values() -> None:
    off = Settings.from_env(base_env())
    assert off.signup.invitations_secrets == ()
    on = Settings.from_env(base_env(BFF_INVITATIONS_SECRET=f" {'n' * 32} , {'o' * 40} "))
    assert on.signup.invitations_secrets == ("n" * 32, "o" * 40)
    for weak in ("short", "x" * 31, f"{'a' * 32},tiny"):
        with pytest.raises(ConfigError) as info:
            Settings.from_env(base_env(BFF_INVITATIONS_SECRET=weak))
        assert any("BFF_INVITATIONS_SECRET" in line for line in info.value.lines)
        assert weak.split(",")[-1] not in " ".join(info.value.lines)  # the value is never echoed
