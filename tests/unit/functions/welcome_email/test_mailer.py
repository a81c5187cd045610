"""WelcomeMailer: copy for the user's locale, rendered, handed to SES v2 as raw MIME."""

from __future__ import annotations

import email
import email.policy
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from fnlib.account_events import AccountCreated
from welcome_email.mailcopy import BundledCopy, CopyMissing, CopyResolver
from welcome_email.mailer import WelcomeMailer
from welcome_email.render import Renderer

REPO_COPY = Path(__file__).resolve().parents[4] / "content" / "copy"


class FakeSes:
    def __init__(self) -> None:
        self.calls: list[dict[str, Any]] = []

    def send_email(self, **kwargs: Any) -> dict[str, Any]:
        self.calls.append(kwargs)
        return {"MessageId": f"m-{len(self.calls)}"}


def event(**fields: Any) -> AccountCreated:
    base: dict[str, Any] = {
        "eventId": "e1",
        "eventType": "AccountCreated",
        "occurredAt": datetime.now(UTC),
        "userId": "00u1",
        "login": "ada@example.test",
        "firstName": "Ada",
        "lastName": "Lovelace",
        "orgId": "acme",
        "locale": "en",
        "source": "bff-signup",
    }
    base.update(fields)
    return AccountCreated.model_validate(base)


def mailer(ses: FakeSes, copy_dirs: list[Path] | None = None) -> WelcomeMailer:
    resolver = CopyResolver([BundledCopy(copy_dirs or [REPO_COPY])])
    return WelcomeMailer(resolver, Renderer(), ses, "no-reply@acme.test", app_url="https://app.example.test/")


@pytest.mark.parametrize(
    ("locale", "served"), [("de", "de"), ("fr-CA", "fr-CA"), ("fr-BE", "fr"), ("pt-BR", "en")]
)
def test_sends_raw_mime_in_the_users_locale(locale: str, served: str) -> None:
    ses = FakeSes()
    result = mailer(ses).send(event(locale=locale))
    assert result == {"messageId": "m-1", "locale": served}
    call = ses.calls[0]
    assert call["FromEmailAddress"] == "no-reply@acme.test"
    assert call["Destination"] == {"ToAddresses": ["ada@example.test"]}
    msg = email.message_from_bytes(call["Content"]["Raw"]["Data"], policy=email.policy.default)
    assert msg["Content-Language"] == served
    subject_template = json.loads((REPO_COPY / served / "email.json").read_text()).get("welcome.subject")
    if subject_template:  # fr-CA may only override some keys
        assert msg["Subject"] == subject_template.replace("{firstName}", "Ada")
    assert "https://app.example.test/signin" in msg.get_body(preferencelist=("plain",)).get_content()
    assert {"Name": "locale", "Value": served} in call["EmailTags"]


def test_no_copy_at_all_raises_before_sending(tmp_path: Path) -> None:
    ses = FakeSes()
    with pytest.raises(CopyMissing):
        mailer(ses, [tmp_path]).send(event())
    assert ses.calls == []
