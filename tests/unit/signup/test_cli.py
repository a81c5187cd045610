from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from bff.cli import main
from bff.sessions import open_store
from bff.signup.invitations import InvitationRefused, Invitations
from tests.support.env import TEST_SECRET, base_env, make_settings


@pytest.fixture(autouse=True)
def environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in base_env().items():
        monkeypatch.setenv(name, value)


def test_invite_stores_a_single_address_invitation(capsys: pytest.CaptureFixture[str],
                                                   monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    store_url = f"sqlite:///{tmp_path}/sessions.sqlite3"
    monkeypatch.setenv("BFF_SESSION_STORE", store_url)
    assert main(["invite", "Ada@Example.com", "--org", "Acme Corp", "--ttl", "2d", "--by", "ops@acme"]) == 0
    out = capsys.readouterr()
    code = out.out.strip()
    assert "valid until" in out.err and code not in out.err

    async def check() -> None:
        store = open_store(make_settings(BFF_SESSION_STORE=store_url))
        try:
            invitations = Invitations(store, [TEST_SECRET])
            inv = await invitations.check(code, "ada@example.com")
            assert (inv.org_id, inv.email, inv.invited_by) == ("acme-corp", "ada@example.com", "ops@acme")
            assert 2 * 86400 - 60 < inv.expires_at - inv.created_at <= 2 * 86400
            with pytest.raises(InvitationRefused) as refused:
                await invitations.check(code, "eve@example.com")
            assert refused.value.reason == "email"
        finally:
            await store.close()

    asyncio.run(check())


def test_invite_link_prints_the_sign_in_link_that_carries_the_code(capsys: pytest.CaptureFixture[str],
                                                                   monkeypatch: pytest.MonkeyPatch,
                                                                   tmp_path: Path) -> None:
    store_url = f"sqlite:///{tmp_path}/sessions.sqlite3"
    monkeypatch.setenv("BFF_SESSION_STORE", store_url)
    assert main(["invite", "ada@example.com", "--org", "acme", "--link"]) == 0
    out = capsys.readouterr()
    link = out.out.strip()
    prefix = "https://app.example.test/signin?invitation="
    assert link.startswith(prefix), link
    code = link.removeprefix(prefix)
    assert code and code not in out.err

    async def check() -> None:
        store = open_store(make_settings(BFF_SESSION_STORE=store_url))
        try:
            inv = await Invitations(store, [TEST_SECRET]).check(code, "ada@example.com")
            assert inv.org_id == "acme"
        finally:
            await store.close()

    asyncio.run(check())


@pytest.mark.parametrize(("args", "message"), [
    (["invite", "nope", "--org", "acme"], "not a valid email"),
    (["invite", "ada@example.com", "--org", "acme", "--ttl", "forever"], "--ttl must be"),
    (["invite", "ada@example.com", "--org", "acme", "--ttl", "10"], "--ttl must be"),
])
def test_invite_refuses_bad_arguments(args: list[str], message: str,
                                      capsys: pytest.CaptureFixture[str]) -> None:
    assert main(args) == 2
    assert message in capsys.readouterr().err


def test_outbox_status(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["outbox"]) == 0
    assert "pending=0  sent=0  dead=0" in capsys.readouterr().out
