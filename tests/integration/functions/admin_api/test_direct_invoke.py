"""The same admin API reached by the BFF's direct Lambda transport: the function then trusts the
payload 2.0 event the BFF built from the validated access token (no API Gateway authorizer), so
its own authorization must hold on that event exactly as on API Gateway's."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.integration.functions.admin_api.conftest import AdminStack, admin_stack

BOB_ID, GARY_ID = "00ubob00000000000001", "00ugary0000000000001"


@pytest.fixture
async def direct(moto_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[AdminStack]:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")  # boto3 in the BFF signs its invokes
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    async with admin_stack(moto_url, tmp_path, direct=True) as s:
        yield s


async def test_direct_invoke_enforces_the_same_rules(direct: AdminStack) -> None:
    await direct.login("alice@acme.test")
    await direct.login("gina@acme.test")
    users = await direct.call("alice@acme.test", "GET", "/users")
    assert users.status_code == 200, users.text
    assert all(u["orgId"] == "acme" for u in users.json()["users"])
    assert (await direct.call("alice@acme.test", "GET", f"/users/{GARY_ID}")).status_code == 404
    gina = {u["login"] for u in (await direct.call("gina@acme.test", "GET", "/users")).json()["users"]}
    assert gina == {"gina@acme.test", "bob@acme.test", "dave@acme.test", "erin@acme.test"}
    deactivated = await direct.call("gina@acme.test", "POST", f"/users/{BOB_ID}/deactivate")
    assert deactivated.status_code == 200 and direct.user(BOB_ID).status == "DEPROVISIONED"
    # every call went straight to the function (events built by the BFF), none through the twin's
    # HTTP API side (whose events carry its own apiId)
    events = [event for _, event in direct.api.twin.events]
    assert events and {e["requestContext"]["apiId"] for e in events} == {"bff-direct"}
    event = events[-1]
    assert event["routeKey"] == "ANY /api/admin/{proxy+}"
    assert event["requestContext"]["authorizer"]["jwt"]["claims"]["adminGroups"] == "[acme-sales]"
