"""Customer admins through the real path (see conftest): sign-in with step-up scope=admin,
the BFF's role-checked proxy, the API Gateway twin's JWT authorizer, the admin_api function."""

from __future__ import annotations

import pytest

from tests.integration.functions.admin_api.conftest import AdminStack
from tests.support.login import LoginFailed

ALICE, GINA, BOB, OLGA = "alice@acme.test", "gina@acme.test", "bob@acme.test", "olga@globex.test"
BOB_ID, FRANK_ID, GARY_ID, OLGA_ID, GINA_ID, ALICE_ID = (
    "00ubob00000000000001", "00ufrank000000000001", "00ugary0000000000001", "00uolga0000000000001",
    "00ugina0000000000001", "00ualice000000000001")


def logins(response_json: dict[str, object]) -> set[str]:
    users = response_json["users"]
    assert isinstance(users, list)
    return {u["login"] for u in users}


# ------------------------------------------------------------------------------ who sees what


async def test_org_admin_lists_and_searches_only_their_org(admin: AdminStack) -> None:
    await admin.login(ALICE)
    response = await admin.call(ALICE, "GET", "/users")
    assert response.status_code == 200, response.text
    seen = logins(response.json())
    assert {"alice@acme.test", "bob@acme.test", "frank@acme.test", "ivan@acme.test"} <= seen
    assert not {u for u in seen if u.endswith("@globex.test")}
    search = await admin.call(ALICE, "GET", "/users", params={"q": "Bo"})
    assert logins(search.json()) == {"bob@acme.test"}
    suspended = await admin.call(ALICE, "GET", "/users", params={"status": "SUSPENDED"})
    assert logins(suspended.json()) == {"ivan@acme.test"}
    paged = await admin.call(ALICE, "GET", "/users", params={"limit": "3"})
    first = paged.json()
    assert len(first["users"]) == 3 and first["next"]
    rest = await admin.call(ALICE, "GET", "/users", params={"limit": "200", "after": first["next"]})
    assert logins(first) | logins(rest.json()) == seen


async def test_group_admin_sees_only_their_groups(admin: AdminStack) -> None:
    await admin.login(GINA)
    response = await admin.call(GINA, "GET", "/users")
    assert response.status_code == 200, response.text
    assert logins(response.json()) == {"gina@acme.test", "bob@acme.test", "dave@acme.test", "erin@acme.test"}
    groups = await admin.call(GINA, "GET", "/groups")
    assert [g["name"] for g in groups.json()["groups"]] == ["acme-sales"]
    assert (await admin.call(GINA, "GET", f"/users/{BOB_ID}")).status_code == 200
    outside = await admin.call(GINA, "GET", f"/users/{FRANK_ID}")  # acme-support: not hers
    assert outside.status_code == 404
    assert outside.headers["content-type"] == "application/problem+json"


async def test_org_admin_groups_are_their_orgs(admin: AdminStack) -> None:
    await admin.login(ALICE)
    response = await admin.call(ALICE, "GET", "/groups")
    assert {g["name"] for g in response.json()["groups"]} == {"acme-sales", "acme-support"}
    user = (await admin.call(ALICE, "GET", f"/users/{BOB_ID}")).json()
    assert user["orgId"] == "acme" and [g["name"] for g in user["groups"]] == ["acme-sales"]


async def test_nobody_sees_another_org(admin: AdminStack) -> None:
    await admin.login(ALICE)
    await admin.login(OLGA)
    assert (await admin.call(ALICE, "GET", f"/users/{GARY_ID}")).status_code == 404
    assert (await admin.call(ALICE, "GET", f"/users/{OLGA_ID}")).status_code == 404
    assert (await admin.call(ALICE, "POST", f"/users/{GARY_ID}/deactivate")).status_code == 404
    assert admin.user(GARY_ID).status == "ACTIVE"
    assert (await admin.call(OLGA, "GET", f"/users/{BOB_ID}")).status_code == 404
    assert (await admin.call(OLGA, "PUT", f"/users/{BOB_ID}/admin-role",
                             json={"groups": ["acme-sales"]})).status_code == 404
    olga_users = logins((await admin.call(OLGA, "GET", "/users")).json())
    assert olga_users == {"olga@globex.test", "gary@globex.test"}
    assert (await admin.call(ALICE, "GET", "/users/00unosuchuser0000001")).status_code == 404


async def test_plain_user_is_stopped_by_the_bff(admin: AdminStack) -> None:
    with pytest.raises(LoginFailed):
        await admin.login(BOB)  # a plain user cannot get the admin scope at all
    await admin.login(BOB, scope=None)
    response = await admin.call(BOB, "GET", "/users")
    assert response.status_code == 403
    assert response.json()["missingScopes"] == ["admin"]
    assert admin.api.twin.events == []  # nothing reached API Gateway


# ------------------------------------------------------------------------------ actions


async def test_group_admin_deactivates_and_reactivates_a_member(admin: AdminStack) -> None:
    await admin.login(GINA)
    response = await admin.call(GINA, "POST", f"/users/{BOB_ID}/deactivate")
    assert response.status_code == 200, response.text
    assert response.json()["status"] == "DEPROVISIONED" and admin.user(BOB_ID).status == "DEPROVISIONED"
    again = await admin.call(GINA, "POST", f"/users/{BOB_ID}/deactivate")
    assert again.status_code == 409
    back = await admin.call(GINA, "POST", f"/users/{BOB_ID}/reactivate")
    assert back.status_code == 200 and back.json()["status"] == "ACTIVE"
    assert (await admin.call(GINA, "POST", f"/users/{FRANK_ID}/deactivate")).status_code == 404
    assert admin.user(FRANK_ID).status == "ACTIVE"


async def test_admins_cannot_deactivate_themselves_or_group_admins_other_admins(admin: AdminStack) -> None:
    await admin.login(GINA)
    await admin.login(ALICE)
    own = await admin.call(GINA, "POST", f"/users/{GINA_ID}/deactivate")
    assert own.status_code == 403
    assert (await admin.call(ALICE, "POST", f"/users/{ALICE_ID}/deactivate")).status_code == 403
    assert admin.user(GINA_ID).status == "ACTIVE" and admin.user(ALICE_ID).status == "ACTIVE"


async def test_revoking_sessions_follows_the_deactivate_rules(admin: AdminStack) -> None:
    await admin.login(GINA)
    await admin.login(ALICE)
    await admin.login(BOB, scope=None)  # bob has an Okta session (and tokens) now
    assert any(s.user_id == BOB_ID for s in admin.okta.sessions.values())
    response = await admin.call(GINA, "POST", f"/users/{BOB_ID}/sessions/revoke")
    assert response.status_code == 200, response.text
    assert response.json() == {"userId": BOB_ID, "sessionsRevoked": True}
    assert not any(s.user_id == BOB_ID for s in admin.okta.sessions.values())
    cleared = [e for e in admin.okta.hooks.events if e["eventType"] == "user.session.clear"]
    assert [e["target"][0]["id"] for e in cleared] == [BOB_ID]
    # tenancy and may_manage, exactly as deactivate: another group's user is not found, nobody
    # acts on their own account, a group admin never on another administrator
    assert (await admin.call(GINA, "POST", f"/users/{FRANK_ID}/sessions/revoke")).status_code == 404
    assert (await admin.call(ALICE, "POST", f"/users/{GARY_ID}/sessions/revoke")).status_code == 404
    assert (await admin.call(GINA, "POST", f"/users/{GINA_ID}/sessions/revoke")).status_code == 403
    dave = "00udave0000000000001"  # in gina's group: made a group admin, she may not touch him
    promoted = await admin.call(ALICE, "PUT", f"/users/{dave}/admin-role",
                                json={"role": "group_admin", "groups": ["acme-sales"]})
    assert promoted.status_code == 200, promoted.text
    assert (await admin.call(GINA, "GET", f"/users/{dave}")).status_code == 200
    assert (await admin.call(GINA, "POST", f"/users/{dave}/sessions/revoke")).status_code == 403
    assert (await admin.call(ALICE, "POST", f"/users/{GINA_ID}/sessions/revoke")).status_code == 200
    assert len([e for e in admin.okta.hooks.events if e["eventType"] == "user.session.clear"]) == 2
    refused = await admin.call(GINA, "GET", f"/users/{BOB_ID}/sessions/revoke")
    assert refused.status_code in (404, 405) and refused.headers["content-type"] == "application/problem+json"


async def test_org_admin_assigns_and_removes_group_admin(admin: AdminStack) -> None:
    await admin.login(ALICE)
    await admin.login(GINA)
    assigned = await admin.call(ALICE, "PUT", f"/users/{BOB_ID}/admin-role",
                                json={"role": "group_admin", "groups": ["acme-support"]})
    assert assigned.status_code == 200, assigned.text
    body = assigned.json()
    assert body["adminRole"] == "group_admin" and body["adminGroups"] == ["acme-support"]
    assert admin.okta.directory.in_group(BOB_ID, "customer-admins")
    # the new group admin can now sign in with the admin scope and sees acme-support only
    await admin.login(BOB)
    seen = logins((await admin.call(BOB, "GET", "/users")).json())
    assert seen == {"frank@acme.test", "hana@acme.test", "ivan@acme.test"}
    # a group admin cannot hand out roles
    refused = await admin.call(GINA, "PUT", f"/users/{BOB_ID}/admin-role", json={"groups": ["acme-sales"]})
    assert refused.status_code == 403
    # only the org's own groups
    foreign = await admin.call(ALICE, "PUT", f"/users/{BOB_ID}/admin-role", json={"groups": ["globex-ops"]})
    assert foreign.status_code == 422 and foreign.json()["errors"] == [{"field": "groups",
                                                                        "code": "unknown_group"}]
    removed = await admin.call(ALICE, "DELETE", f"/users/{BOB_ID}/admin-role")
    assert removed.status_code == 200
    assert removed.json()["adminRole"] is None and removed.json()["adminGroups"] == []
    assert not admin.okta.directory.in_group(BOB_ID, "customer-admins")
    org_admin = await admin.call(ALICE, "DELETE", f"/users/{ALICE_ID}/admin-role")
    assert org_admin.status_code == 403  # never yourself


@pytest.mark.parametrize("body", [
    {"groups": []},
    {"groups": "acme-sales"},
    {"role": "org_admin", "groups": ["acme-sales"]},
    {"groups": ["acme sales"]},
    {"groups": ["acme-sales"], "extra": 1},
    ["acme-sales"],
])
async def test_role_assignment_validation(admin: AdminStack, body: object) -> None:
    await admin.login(ALICE)
    response = await admin.call(ALICE, "PUT", f"/users/{BOB_ID}/admin-role", json=body)
    assert response.status_code == 422, response.text
    assert response.json()["code"] == "validation_failed"
    assert admin.user(BOB_ID).profile.get("adminRole") is None


async def test_hostile_input_is_a_clean_4xx(admin: AdminStack) -> None:
    await admin.login(ALICE)
    bad_json = await admin.call(ALICE, "PUT", f"/users/{BOB_ID}/admin-role", content=b"{not json",
                                headers={"Content-Type": "application/json"})
    assert bad_json.status_code == 422
    not_utf8 = await admin.call(ALICE, "PUT", f"/users/{BOB_ID}/admin-role", content=b'{"groups":["\xff"]}',
                                headers={"Content-Type": "application/json"})
    assert not_utf8.status_code == 422, not_utf8.text
    injection = await admin.call(ALICE, "GET", "/users", params={"q": 'x" or profile.orgId pr'})
    assert injection.status_code == 422
    assert (await admin.call(ALICE, "GET", "/users", params={"limit": "100000"})).status_code == 422
    assert (await admin.call(ALICE, "GET", "/users", params={"limit": "\u00b2"})).status_code == 422  # "²"
    assert (await admin.call(ALICE, "GET", "/users", params={"status": "<script>"})).status_code == 422
    assert (await admin.call(ALICE, "GET", "/reviews", params={"cursor": "!!"})).status_code == 422
    assert (await admin.call(ALICE, "GET", "/nope")).status_code == 404
    for response in (bad_json, not_utf8):
        assert "Traceback" not in response.text


# ------------------------------------------------------------------------------ review queue


async def test_review_queue_is_per_org_and_group(admin: AdminStack) -> None:
    bob_review = admin.file_review("acme", BOB_ID)
    frank_review = admin.file_review("acme", FRANK_ID)
    gary_review = admin.file_review("globex", GARY_ID)
    await admin.login(ALICE)
    await admin.login(GINA)
    await admin.login(OLGA)
    alice = (await admin.call(ALICE, "GET", "/reviews")).json()["reviews"]
    assert {r["reviewId"] for r in alice} == {bob_review, frank_review}
    assert alice[0]["reason"] == "possible sanctions-list match" and alice[0]["status"] == "pending"
    gina = (await admin.call(GINA, "GET", "/reviews")).json()["reviews"]
    assert [r["reviewId"] for r in gina] == [bob_review]
    assert (await admin.call(GINA, "GET", f"/reviews/{frank_review}")).status_code == 404
    assert (await admin.call(ALICE, "GET", f"/reviews/{gary_review}")).status_code == 404
    assert (await admin.call(ALICE, "POST", f"/reviews/{gary_review}/approve")).status_code == 404
    olga = (await admin.call(OLGA, "GET", "/reviews")).json()["reviews"]
    assert [r["reviewId"] for r in olga] == [gary_review]
    assert admin.reviews.get("globex", gary_review).status == "pending"  # type: ignore[union-attr]


async def test_approve_sets_okta_and_marketo_once(admin: AdminStack) -> None:
    review_id = admin.file_review("acme", BOB_ID)
    admin.user(BOB_ID).profile["complianceStatus"] = "review"
    await admin.login(ALICE)
    response = await admin.call(ALICE, "POST", f"/reviews/{review_id}/approve")
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["status"] == "approved" and body["decidedBy"] == ALICE and body["decidedAt"]
    assert admin.user(BOB_ID).profile["complianceStatus"] == "passed"
    lead = admin.marketo.lead_by_email("bob@acme.test")
    assert lead is not None and lead["firstName"] == "Bob" and lead["oktaUserId"] == BOB_ID
    again = await admin.call(ALICE, "POST", f"/reviews/{review_id}/approve")
    assert again.status_code == 409 and again.json()["review"]["status"] == "approved"
    reject_after = await admin.call(ALICE, "POST", f"/reviews/{review_id}/reject")
    assert reject_after.status_code == 409
    assert admin.user(BOB_ID).status == "ACTIVE"
    assert len(admin.marketo.leads) == 1
    done = (await admin.call(ALICE, "GET", "/reviews", params={"status": "approved"})).json()["reviews"]
    assert [r["reviewId"] for r in done] == [review_id]
    assert (await admin.call(ALICE, "GET", "/reviews")).json()["reviews"] == []


async def test_reject_deactivates_the_user(admin: AdminStack) -> None:
    review_id = admin.file_review("acme", BOB_ID)
    await admin.login(GINA)
    response = await admin.call(GINA, "POST", f"/reviews/{review_id}/reject")
    assert response.status_code == 200, response.text
    assert response.json()["status"] == "rejected" and response.json()["decidedBy"] == GINA
    assert admin.user(BOB_ID).status == "DEPROVISIONED"
    assert admin.user(BOB_ID).profile["complianceStatus"] == "rejected"
    assert admin.marketo.leads == []


async def test_failed_side_effect_keeps_the_review_pending(admin: AdminStack) -> None:
    review_id = admin.file_review("acme", BOB_ID)
    await admin.login(ALICE)
    admin.marketo.skip("bob@acme.test", "1003", "Invalid data")  # Marketo refuses the record
    failed = await admin.call(ALICE, "POST", f"/reviews/{review_id}/approve")
    assert failed.status_code == 502
    assert "1003" not in failed.text and "Invalid data" not in failed.text
    stored = admin.reviews.get("acme", review_id)
    assert stored is not None and stored.status == "pending" and stored.decision is None
    admin.marketo.reset()  # Marketo recovers: the same approval now goes through
    retried = await admin.call(ALICE, "POST", f"/reviews/{review_id}/approve")
    assert retried.status_code == 200 and retried.json()["status"] == "approved"

    other = admin.file_review("acme", BOB_ID)
    admin.okta.fail_next("/lifecycle/deactivate", 500)
    failed = await admin.call(ALICE, "POST", f"/reviews/{other}/reject")
    assert failed.status_code == 503
    assert admin.reviews.get("acme", other).status == "pending"  # type: ignore[union-attr]
    assert (await admin.call(ALICE, "POST", f"/reviews/{other}/reject")).status_code == 200
    assert admin.user(BOB_ID).status == "DEPROVISIONED"


# ------------------------------------------------------------------ issue 12 §4: review decisions


async def test_review_decisions_obey_may_manage_and_are_audited(admin: AdminStack) -> None:
    own = admin.file_review("acme", ALICE_ID)
    ginas_own = admin.file_review("acme", GINA_ID)
    admin.user(BOB_ID).profile["adminRole"] = "group_admin"  # bob (in gina's group) is an admin now
    admin.user(BOB_ID).profile["adminGroups"] = ["acme-sales"]
    bobs = admin.file_review("acme", BOB_ID)
    await admin.login(ALICE)
    await admin.login(GINA)
    # nobody decides on their own review
    for who, review in ((ALICE, own), (GINA, ginas_own)):
        for decision in ("approve", "reject"):
            r = await admin.call(who, "POST", f"/reviews/{review}/{decision}")
            assert r.status_code == 403 and r.json()["code"] == "forbidden", (who, decision)
    # a group admin never decides on another administrator's (a reject deactivates them)
    r = await admin.call(GINA, "POST", f"/reviews/{bobs}/reject")
    assert r.status_code == 403
    assert admin.user(BOB_ID).status == "ACTIVE"
    assert all(admin.reviews.get("acme", rid).status == "pending"  # type: ignore[union-attr]
               for rid in (own, ginas_own, bobs))
    # the org admin may; the decision is audited in the review record: who, when, what
    r = await admin.call(ALICE, "POST", f"/reviews/{bobs}/reject")
    assert r.status_code == 200, r.text
    stored = admin.reviews.get("acme", bobs)
    assert stored is not None and stored.decided_by == ALICE and stored.decided_by_id == ALICE_ID
    (entry,) = stored.audit
    assert entry["by"] == ALICE and entry["byId"] == ALICE_ID and entry["role"] == "org_admin"
    assert entry["action"] == "rejected" and entry["at"] == stored.decided_at
    assert r.json()["audit"] == [entry]
