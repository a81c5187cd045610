"""NoticeMailer: each notice's copy in the user's locale, its link, raw MIME to SES v2."""

from __future__ import annotations

import email
import email.policy
import json
from datetime import UTC, datetime
from email.message import EmailMessage
from pathlib import Path
from typing import Any, cast

import pytest

from account_notices.mailer import KINDS, NoticeMailer, required_keys
from fnlib.account_events import AccountNotice
from welcome_email.mailcopy import BundledCopy, CopyMissing, CopyResolver
from welcome_email.render import Renderer

REPO_COPY = Path(__file__).resolve().parents[4] / "content" / "copy"
LOCALES = sorted(p.name for p in REPO_COPY.iterdir() if (p / "email.json").exists())


class FakeSes:
    def __init__(self) -> None:
        self.calls: list[dict[str, Any]] = []

    def send_email(self, **kwargs: Any) -> dict[str, Any]:
        self.calls.append(kwargs)
        return {"MessageId": f"m-{len(self.calls)}"}


def notice(**fields: Any) -> AccountNotice:
    base: dict[str, Any] = {
        "eventId": "n1", "eventType": "AccountLocked", "eventVersion": 1, "occurredAt": datetime.now(UTC),
        "oktaEventId": "okta-1", "userId": "00u1", "login": "hana@acme.test", "email": "hana@acme.test",
        "firstName": "Hana", "lastName": "Sato", "locale": "en", "source": "okta-hook",
    }
    base.update(fields)
    return AccountNotice.model_validate(base)


def mailer(ses: FakeSes, copy_dirs: list[Path] | None = None) -> NoticeMailer:
    return NoticeMailer(CopyResolver([BundledCopy(copy_dirs or [REPO_COPY])]), Renderer(), ses,
                        "no-reply@acme.test", app_url="https://app.example.test/")


def parsed(call: dict[str, Any]) -> EmailMessage:
    return cast(EmailMessage, email.message_from_bytes(call["Content"]["Raw"]["Data"],
                                                       policy=email.policy.default))


def text_of(msg: EmailMessage) -> str:
    part = msg.get_body(("plain",))
    assert part is not None
    return cast(str, part.get_content())  # type: ignore[attr-defined]


@pytest.mark.parametrize("locale", LOCALES)
@pytest.mark.parametrize("kind", sorted(KINDS))
def test_every_notice_has_its_copy_in_every_shipped_locale(kind: str, locale: str) -> None:
    strings = json.loads((REPO_COPY / locale / "email.json").read_text())
    resolved, served = CopyResolver([BundledCopy([REPO_COPY])]).resolve(locale, required_keys(KINDS[kind]))
    assert served == locale
    if locale != "fr-CA":  # fr-CA overrides what differs from fr; the rest falls back
        assert set(required_keys(KINDS[kind])) <= set(strings)


def test_the_lockout_email_links_to_the_unlock_journey_in_the_users_language() -> None:
    ses = FakeSes()
    assert mailer(ses).send(notice(locale="fr-CA")) == {"messageId": "m-1", "locale": "fr-CA"}
    call = ses.calls[0]
    assert call["Destination"] == {"ToAddresses": ["hana@acme.test"]}
    assert {"Name": "kind", "Value": "locked"} in call["EmailTags"]
    msg = parsed(call)
    fr = json.loads((REPO_COPY / "fr" / "email.json").read_text())
    fr_ca = json.loads((REPO_COPY / "fr-CA" / "email.json").read_text())
    assert msg["Subject"] == fr["locked.subject"]
    assert msg["Content-Language"] == "fr-CA"
    body = text_of(msg)
    assert "https://app.example.test/signin?unlock=1" in body
    assert fr["locked.heading"].replace("{firstName}", "Hana") in body
    assert fr_ca["notice.footer"] in body  # the fr-CA override wins over fr


@pytest.mark.parametrize(("kind", "subject_key"), [("PasswordChanged", "passwordChanged.subject"),
                                                   ("FactorAdded", "factorAdded.subject")])
def test_the_other_notices_link_to_sign_in(kind: str, subject_key: str) -> None:
    ses = FakeSes()
    mailer(ses).send(notice(eventType=kind, locale="de"))
    msg = parsed(ses.calls[0])
    de = json.loads((REPO_COPY / "de" / "email.json").read_text())
    assert msg["Subject"] == de[subject_key]
    body = text_of(msg)
    assert "https://app.example.test/signin\r\n" in body and "unlock" not in body


def test_without_an_email_the_login_is_the_recipient() -> None:
    ses = FakeSes()
    mailer(ses).send(notice(email=None))
    assert ses.calls[0]["Destination"] == {"ToAddresses": ["hana@acme.test"]}


def test_missing_copy_fails_the_record_rather_than_sending_an_empty_email(tmp_path: Path) -> None:
    (tmp_path / "en").mkdir()
    (tmp_path / "en" / "email.json").write_text(json.dumps({"locked.subject": "only this"}))
    ses = FakeSes()
    with pytest.raises(CopyMissing):
        mailer(ses, [tmp_path]).send(notice())
    assert ses.calls == []
