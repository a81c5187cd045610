from __future__ import annotations

import pytest

from bff.cli import main
from bff.signup.invitations import Invitations
from tests.support.env import TEST_SECRET, base_env


@pytest.fixture(autouse=True)
def environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in base_env().items():
        monkeypatch.setenv(name, value)


def test_invite_prints_a_code_the_sign_up_accepts(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["invite", "Acme Corp", "--email", "Ada@Example.com"]) == 0
    code = capsys.readouterr().out.strip()
    invitation = Invitations([TEST_SECRET]).check(code)
    assert (invitation.org_id, invitation.email) == ("acme-corp", "ada@example.com")


def test_invite_refuses_a_bad_email(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["invite", "acme", "--email", "nope"]) == 2
    assert "not a valid email" in capsys.readouterr().err


def test_outbox_status(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["outbox"]) == 0
    assert "pending=0  sent=0  dead=0" in capsys.readouterr().out
