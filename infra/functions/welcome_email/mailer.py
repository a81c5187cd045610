"""Sending the welcome email of one AccountCreated event (the function's business logic)."""

from __future__ import annotations

from typing import Any, Protocol

from fnlib.account_events import AccountCreated
from welcome_email.mailcopy import CopyResolver
from welcome_email.render import REQUIRED_KEYS, Renderer, build_mime


class RawEmailSender(Protocol):
    def send_email(self, **kwargs: Any) -> Any: ...  # boto3 ``sesv2`` client


class WelcomeMailer:
    """Resolve the copy for the user's locale, render it, send it through SES (v2, raw MIME)."""

    def __init__(self, copy: CopyResolver, renderer: Renderer, ses: RawEmailSender, sender: str,
                 *, app_url: str | None = None) -> None:
        self._copy = copy
        self._renderer = renderer
        self._ses = ses
        self._sender = sender
        self._app_url = app_url.rstrip("/") if app_url else None

    def compose(self, event: AccountCreated, kind: str = "welcome") -> tuple[bytes, str]:
        """The MIME message for ``event`` and the locale it was written in."""
        strings, locale = self._copy.resolve(event.locale, REQUIRED_KEYS[kind])
        params = {"firstName": event.firstName, "lastName": event.lastName, "email": event.email}
        cta_url = f"{self._app_url}/signin" if self._app_url else None
        rendered = self._renderer.render(kind, strings, locale, params, cta_url=cta_url)
        return build_mime(self._sender, event.email, rendered), locale

    def send(self, event: AccountCreated, kind: str = "welcome") -> dict[str, str]:
        raw, locale = self.compose(event, kind)
        resp = self._ses.send_email(
            FromEmailAddress=self._sender,
            Destination={"ToAddresses": [event.email]},
            Content={"Raw": {"Data": raw}},
            EmailTags=[{"Name": "kind", "Value": kind}, {"Name": "locale", "Value": locale}],
        )
        return {"messageId": str(resp["MessageId"]), "locale": locale}
