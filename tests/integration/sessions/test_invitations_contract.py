"""The invitation records (bff/signup/invitations.py) on every session-store back-end: memory,
SQLite, Redis (real server) and DynamoDB (moto server), two instances sharing each."""

from __future__ import annotations

import asyncio

import pytest

from bff.signup.invitations import InvitationRefused, Invitations
from tests.integration.sessions.conftest import Backend
from tests.support.env import TEST_SECRET


def invitations(backend: Backend, *, other: bool = False) -> Invitations:
    store = backend.make() if other else backend.store
    return Invitations(store, [TEST_SECRET], ttl=3600, clock=backend.clock)


async def refused(coro: object) -> str:
    with pytest.raises(InvitationRefused) as info:
        await coro  # type: ignore[misc]
    return info.value.reason


async def test_a_code_is_bound_to_one_address_case_insensitively(backend: Backend) -> None:
    inv = invitations(backend)
    issued = await inv.issue("acme", "Ada@Example.com", invited_by="00uadmin")
    assert issued.invitation.email == "ada@example.com" and issued.code not in issued.invitation.id
    found = await invitations(backend, other=True).check(issued.code, "ADA@example.COM")
    assert (found.org_id, found.invited_by, found.status) == ("acme", "00uadmin", "pending")
    assert await refused(inv.check(issued.code, "eve@example.com")) == "email"
    assert await refused(inv.check(issued.code[:-2] + "xx")) == "unknown"
    assert await refused(inv.check("x" * 500)) == "unknown"


async def test_single_use_even_when_two_instances_redeem_at_once(backend: Backend) -> None:
    issued = await invitations(backend).issue("acme", "ada@example.com", invited_by="00uadmin")
    a, b = invitations(backend), invitations(backend, other=True)
    inv = await a.check(issued.code)
    results = await asyncio.gather(a.redeem(inv, user_id="00uone", email="ada@example.com"),
                                   b.redeem(inv, user_id="00utwo", email="ada@example.com"),
                                   return_exceptions=True)
    winners = [r for r in results if not isinstance(r, BaseException)]
    assert len(winners) == 1 and winners[0].status == "redeemed"
    assert [r.reason for r in results if isinstance(r, InvitationRefused)] == ["used"]
    stored = await a.get(inv.id)
    assert stored is not None and stored.redeemed_at is not None
    assert stored.redeemed_by == winners[0].redeemed_by
    assert await refused(a.check(issued.code, "ada@example.com")) == "used"


async def test_expiry_revocation_and_the_audit_list(backend: Backend) -> None:
    inv = invitations(backend)
    old = await inv.issue("acme", "old@example.com", invited_by="00uadmin")
    backend.clock.advance(3601)
    assert await refused(inv.check(old.code, "old@example.com")) == "expired"
    kept = await inv.issue("acme", "ada@example.com", invited_by="00uadmin")
    await inv.issue("globex", "gus@example.com", invited_by="00uother")
    revoked = await inv.revoke(kept.invitation, by="00uadmin2")
    assert (revoked.status, revoked.revoked_by) == ("revoked", "00uadmin2")
    assert await refused(inv.check(kept.code, "ada@example.com")) == "revoked"
    assert await refused(inv.redeem(kept.invitation, user_id="00u1", email="ada@example.com")) == "revoked"
    listed = await invitations(backend, other=True).list("acme")
    assert [i.email for i in listed] == ["ada@example.com", "old@example.com"]
    views = [i.public(backend.clock()) for i in listed]
    assert [v["status"] for v in views] == ["revoked", "expired"]
    assert all("code" not in v for v in views)
    assert await inv.find("acme", listed[0].id[:16]) == listed[0]
    assert await inv.find("globex", listed[0].id[:16]) is None  # another tenant's id finds nothing


async def test_a_reservation_holds_the_code_for_its_user_only(backend: Backend) -> None:
    inv = invitations(backend)
    issued = await inv.issue("acme", "ada@example.com", invited_by="00uadmin")
    await inv.reserve(issued.code, "ada@example.com", "00unew")
    assert await refused(inv.check(issued.code, "ada@example.com")) == "used"
    held = await invitations(backend, other=True).reserved_for("00unew")
    assert held is not None and held.status == "reserved"
    assert await refused(inv.redeem(held, user_id="00uother", email="ada@example.com")) == "used"
    used = await inv.redeem(held, user_id="00unew", email="ada@example.com")
    assert (used.status, used.redeemed_by) == ("redeemed", "00unew")
    assert await refused(inv.revoke(used, by="00uadmin")) == "used"
