"""The BFF's invitation endpoints for the admin API (bff/signup/invitation_endpoints.py), in
process: off without the secret, the bearer credential, strict bodies, the code shown once."""

from __future__ import annotations

import pytest

from bff.app import create_app
from tests.support.env import make_settings
from tests.support.login import bff_client

SECRET = "unit-invitations-secret-0123456789abcdef"
OLD = "unit-invitations-old-secret-0123456789ab"
AUTH = {"Authorization": f"Bearer {SECRET}"}
URL = "/bff/internal/invitations"


async def test_off_without_the_secret() -> None:
    async with bff_client(create_app(make_settings())) as c:
        r = await c.get(URL, params={"orgId": "acme"}, headers=AUTH)
        assert r.status_code == 404 and r.headers["content-type"] == "application/problem+json"


@pytest.mark.parametrize("header", ["", "Bearer", f"Basic {SECRET}", SECRET, "Bearer " + "x" * 40,
                                    f"Bearer {SECRET}x", f"Bearer {SECRET[:-1]}"])
async def test_only_a_listed_bearer_value_is_accepted(header: str) -> None:
    settings = make_settings(BFF_INVITATIONS_SECRET=f"{SECRET},{OLD}")
    async with bff_client(create_app(settings)) as c:
        r = await c.get(URL, params={"orgId": "acme"}, headers={"Authorization": header} if header else {})
        assert r.status_code in (401, 403), r.text
        assert SECRET not in r.text
        for value in (SECRET, OLD):  # both during a rotation
            ok = await c.get(URL, params={"orgId": "acme"}, headers={"Authorization": f"Bearer {value}"})
            assert ok.status_code == 200 and ok.json() == {"invitations": []}


async def test_issue_list_revoke_and_strict_bodies() -> None:
    app = create_app(make_settings(BFF_INVITATIONS_SECRET=SECRET))
    async with bff_client(app) as c:
        for body in ({"orgId": "Acme!", "email": "a@b.test", "invitedBy": "x"},
                     {"orgId": "acme", "email": "nope", "invitedBy": "x"},
                     {"orgId": "acme", "email": "a@b.test", "invitedBy": "<script>"},
                     {"orgId": "acme", "email": "a@b.test", "invitedBy": "x", "ttl": 5},
                     {"orgId": "acme", "email": "a@b.test", "invitedBy": "x", "ttl": True},
                     {"orgId": "acme", "email": "a@b.test", "invitedBy": "x", "status": "redeemed"}):
            r = await c.post(URL, json=body, headers=AUTH)
            assert r.status_code == 422 and r.json()["errors"], (body, r.text)
        assert (await c.post(URL, content=b"[1]", headers={**AUTH, "Content-Type": "application/json"})
                ).status_code in (400, 422)
        made = await c.post(URL, json={"orgId": "acme", "email": "Ines@Example.test",
                                       "invitedBy": "alice@acme.test", "ttl": 3600}, headers=AUTH)
        assert made.status_code == 201, made.text
        code, inv = made.json()["code"], made.json()["invitation"]
        assert inv["email"] == "ines@example.test" and inv["status"] == "pending"
        listed = await c.get(URL, params={"orgId": "acme"}, headers=AUTH)
        assert [i["id"] for i in listed.json()["invitations"]] == [inv["id"]] and code not in listed.text
        assert (await c.get(URL, params={"orgId": "globex"}, headers=AUTH)).json() == {"invitations": []}
        other_org = await c.post(f"{URL}/{inv['id']}/revoke", json={"orgId": "globex", "revokedBy": "olga"},
                                 headers=AUTH)
        assert other_org.status_code == 404
        bad_id = await c.post(f"{URL}/not-hex/revoke", json={"orgId": "acme", "revokedBy": "x"}, headers=AUTH)
        assert bad_id.status_code == 404
        done = await c.post(f"{URL}/{inv['id']}/revoke",
                            json={"orgId": "acme", "revokedBy": "alice@acme.test"}, headers=AUTH)
        assert done.status_code == 200 and done.json()["invitation"]["status"] == "revoked"
        membership = app.state.services.signup.invitations
        (record,) = await membership.list("acme")
        assert record.revoked_by == "alice@acme.test"
