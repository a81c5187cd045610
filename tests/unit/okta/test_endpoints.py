"""bff.okta.endpoints: the calls as data (paths escaped once, Okta's parameter spellings)."""

from __future__ import annotations

import pytest

from bff.okta import endpoints
from bff.okta.core import Call


def test_user_calls() -> None:
    profile = {"login": "a@b.test"}
    assert endpoints.create_user(profile, password="pw", group_ids=["00g1"]) == Call(
        "POST", "/api/v1/users", {"activate": "true"},
        {"profile": profile, "credentials": {"password": {"value": "pw"}}, "groupIds": ["00g1"]})
    staged = endpoints.create_user(profile, activate=False)
    assert staged.params == {"activate": "false"} and staged.json == {"profile": profile}
    assert endpoints.get_user("a/b?c").path == "/api/v1/users/a%2Fb%3Fc"
    assert endpoints.update_profile("00u1", {"x": None}) == Call("POST", "/api/v1/users/00u1",
                                                                 json={"profile": {"x": None}})
    assert endpoints.user_groups("00u1") == Call("GET", "/api/v1/users/00u1/groups")


def test_lifecycle_sends_email_only_where_okta_takes_it() -> None:
    assert endpoints.lifecycle("00u1", "activate").params == {"sendEmail": "false"}
    assert endpoints.lifecycle("00u1", "deactivate", send_email=True).params == {"sendEmail": "true"}
    assert endpoints.lifecycle("00u1", "unsuspend") == Call("POST", "/api/v1/users/00u1/lifecycle/unsuspend")
    with pytest.raises(ValueError):
        endpoints.lifecycle("00u1", "../delete")


def test_lists_leave_unset_parameters_out() -> None:
    assert endpoints.list_users(search='status eq "ACTIVE"').params == {"search": 'status eq "ACTIVE"',
                                                                       "limit": "200"}
    assert endpoints.list_groups(q="acme", limit=None, after="00g9").params == {"q": "acme", "after": "00g9"}
    assert endpoints.group_users("g/1").path == "/api/v1/groups/g%2F1/users"
    assert endpoints.add_to_group("00g1", "00u1") == Call("PUT", "/api/v1/groups/00g1/users/00u1")
    assert endpoints.remove_from_group("00g1", "00u1").method == "DELETE"
