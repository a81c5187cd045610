"""What the invitation store logs: each transition, by the invitation's short id and the org
and user ids; never the code and never an address (who invited whom stays in the record)."""

from __future__ import annotations

import logging

import pytest

from bff.sessions import open_store
from bff.signup.invitations import Invitations
from tests.support.env import TEST_SECRET, make_settings


async def test_transitions_are_logged_without_addresses_or_codes(caplog: pytest.LogCaptureFixture) -> None:
    store = open_store(make_settings(BFF_SESSION_STORE="memory://"))
    try:
        invitations = Invitations(store, [TEST_SECRET])
        with caplog.at_level(logging.INFO, logger="bff.signup.invitations"):
            used = await invitations.issue("acme", "ines@example.test", invited_by="alice@acme.test")
            inv = await invitations.reserve(used.code, "ines@example.test", "00uines")
            redeemed = await invitations.redeem(inv, user_id="00uines", email="ines@example.test")
            withdrawn = await invitations.issue("acme", "rex@example.test", invited_by="alice@acme.test")
            revoked = await invitations.revoke(withdrawn.invitation, by="alice@acme.test")
        assert (redeemed.status, redeemed.invited_by, revoked.status, revoked.revoked_by) == (
            "redeemed", "alice@acme.test", "revoked", "alice@acme.test")  # the audit is the record
        messages = [r.getMessage() for r in caplog.records if r.name == "bff.signup.invitations"]
        assert len(messages) == 5, messages  # issued, reserved, redeemed, issued, revoked
        assert used.invitation.id[:16] in messages[0] and "acme" in messages[0]
        assert "00uines" in messages[2]
        for message in messages:
            assert "@" not in message and used.code not in message and withdrawn.code not in message, message
    finally:
        await store.close()
