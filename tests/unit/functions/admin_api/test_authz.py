"""Who the caller is, from claims as API Gateway hands them on (strings), and the tenant rules."""

from __future__ import annotations

from typing import Any

import pytest

from admin_api.authz import Caller, Denied, parse_list_claim
from bff.proxy.apigw_event import build_http_api_event


def _jwt(**claims: Any) -> dict[str, Any]:
    """The authorizer block our event builder (= API Gateway's shape) makes from token claims."""
    base: dict[str, Any] = {"sub": "gina@acme.test", "uid": "00ugina", "scp": ["openid", "admin"],
                            "orgId": "acme", "adminRole": "group_admin",
                            "adminGroups": ["acme-sales", "acme-x"], "exp": 1900000000}
    base.update(claims)
    base = {k: v for k, v in base.items() if v is not None}
    event = build_http_api_event(method="GET", path="/api/admin/users", raw_query="", headers=[], body=b"",
                                 route_key="ANY /api/admin/{proxy+}", path_parameters=None, claims=base,
                                 source_ip="1.2.3.4", request_id="r", domain_name="d", api_id="a",
                                 account_id="1")
    jwt: dict[str, Any] = event["requestContext"]["authorizer"]["jwt"]
    return jwt


def _user(uid: str = "00ubob", org: str = "acme", **profile: Any) -> dict[str, Any]:
    return {"id": uid, "status": "ACTIVE", "profile": {"login": f"{uid}@acme.test", "orgId": org, **profile}}


@pytest.mark.parametrize(("raw", "expected"), [
    ("[acme-sales acme-support]", ("acme-sales", "acme-support")),
    ("[acme-sales]", ("acme-sales",)),
    ("[]", ()),
    ("", ()),
    (None, ()),
    ('["a","b"]', ("a", "b")),
    (["a", "b"], ("a", "b")),
    ("single", ("single",)),
])
def test_list_claims_as_strings(raw: Any, expected: tuple[str, ...]) -> None:
    assert parse_list_claim(raw) == expected


def test_caller_from_string_claims() -> None:
    jwt = _jwt()
    assert jwt["claims"]["adminGroups"] == "[acme-sales acme-x]"  # what the function really gets
    caller = Caller.from_authorizer(jwt)
    assert caller == Caller(login="gina@acme.test", user_id="00ugina", org_id="acme", role="group_admin",
                            admin_groups=("acme-sales", "acme-x"))


def test_scopes_null_falls_back_to_scp_claim() -> None:
    jwt = _jwt()
    jwt["scopes"] = None
    assert Caller.from_authorizer(jwt).role == "group_admin"


@pytest.mark.parametrize("jwt", [
    None,
    {},
    {"claims": "x"},
])
def test_no_claims_is_denied(jwt: Any) -> None:
    with pytest.raises(Denied):
        Caller.from_authorizer(jwt)


@pytest.mark.parametrize("overrides", [
    {"scp": ["openid"]},
    {"orgId": None},
    {"adminRole": None},
    {"adminRole": "content_author"},
    {"sub": None},
])
def test_missing_scope_org_or_role_is_denied(overrides: dict[str, Any]) -> None:
    jwt = _jwt(**overrides)
    if "scp" in overrides:
        jwt["scopes"] = overrides["scp"]
    with pytest.raises(Denied):
        Caller.from_authorizer(jwt)


def test_org_admin_groups_claim_is_ignored() -> None:
    caller = Caller.from_authorizer(_jwt(sub="alice@acme.test", adminRole="org_admin", adminGroups=["x"]))
    assert caller.is_org_admin and caller.admin_groups == ()


def test_visibility_rules() -> None:
    org_admin = Caller("alice@acme.test", "00ualice", "acme", "org_admin", ())
    group_admin = Caller("gina@acme.test", "00ugina", "acme", "group_admin", ("acme-sales",))
    assert org_admin.sees_user(_user(), [])
    assert not org_admin.sees_user(_user(org="globex"), ["acme-sales"])
    assert not org_admin.sees_user(_user(org=None), [])  # type: ignore[arg-type]
    assert group_admin.sees_user(_user(), ["acme-sales"])
    assert not group_admin.sees_user(_user(), ["acme-support"])
    assert not group_admin.sees_user(_user(org="globex"), ["acme-sales"])
    assert group_admin.sees_group({"profile": {"name": "acme-sales", "orgId": "acme"}})
    assert not group_admin.sees_group({"profile": {"name": "acme-support", "orgId": "acme"}})
    assert not org_admin.sees_group({"profile": {"name": "globex-ops", "orgId": "globex"}})


def test_management_rules() -> None:
    org_admin = Caller("alice@acme.test", "00ualice", "acme", "org_admin", ())
    group_admin = Caller("gina@acme.test", "00ugina", "acme", "group_admin", ("acme-sales",))
    org_admin.may_manage(_user(adminRole="group_admin"))
    with pytest.raises(Denied):
        group_admin.may_manage(_user(adminRole="group_admin"))
    with pytest.raises(Denied):
        group_admin.may_manage(_user("00ugina"))  # by id
    with pytest.raises(Denied):
        org_admin.may_manage({"id": "00uother", "profile": {"login": "ALICE@acme.test", "orgId": "acme"}})
    with pytest.raises(Denied):
        group_admin.may_assign_roles()
    org_admin.may_assign_roles()


def test_authorize_knows_every_action_and_denies_the_rest() -> None:
    from admin_api.authz import ACTIONS, authorize

    org = _jwt(sub="alice@acme.test", adminRole="org_admin", adminGroups=None)
    group = _jwt()
    for action in ACTIONS:
        assert authorize(org, action).login == "alice@acme.test"
    assert authorize(group, "reviews.reject").role == "group_admin"
    for denied in ("roles.assign", "roles.remove", "invitations.list", "invitations.issue",
                   "invitations.revoke"):
        with pytest.raises(Denied):
            authorize(group, denied)
    with pytest.raises(Denied, match="unknown action"):
        authorize(org, "users.delete")
    with pytest.raises(Denied):
        authorize(None, "users.list")


def test_only_an_org_admin_may_invite() -> None:
    Caller.from_authorizer(_jwt(adminRole="org_admin", adminGroups=None)).may_invite()
    with pytest.raises(Denied):
        Caller.from_authorizer(_jwt()).may_invite()  # a group admin
