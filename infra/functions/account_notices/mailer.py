"""Sending the email of one account notice (the function's business logic).

Each notice type is an email kind whose copy lives in the ``email`` journey (AEM first, then the
bundled ``content/copy/{locale}/email.json``), resolved in the user's locale like the welcome
email's: ``locked.*``, ``passwordChanged.*``, ``factorAdded.*``, and ``notice.footer``.

The links, under ``APP_URL``:

* ``AccountLocked`` → ``{APP_URL}/signin?unlock=1``: the SPA's sign-in opens its unlock journey
  ("Unlock your account" → email code → "Done"), the one a locked user reaches with "Unlock
  account" on the identify step;
* ``PasswordChanged`` and ``FactorAdded`` → ``{APP_URL}/signin`` (sign in and check; the copy
  says how to reset the password when it was not the user).

Rendering and the MIME message are the welcome email's (``welcome_email.render``): one set of
templates for every email the product sends.
"""

from __future__ import annotations

from fnlib.account_events import AccountNotice
from welcome_email.mailcopy import CopyResolver
from welcome_email.mailer import RawEmailSender
from welcome_email.render import Renderer, build_mime

#: eventType → the email kind (the prefix of its copy keys).
KINDS: dict[str, str] = {
    "AccountLocked": "locked",
    "PasswordChanged": "passwordChanged",
    "FactorAdded": "factorAdded",
}
#: eventType → the path (and query) of its link in the SPA.
LINKS: dict[str, str] = {
    "AccountLocked": "/signin?unlock=1",
    "PasswordChanged": "/signin",
    "FactorAdded": "/signin",
}
FOOTER_KEY = "notice.footer"


def required_keys(kind: str) -> tuple[str, ...]:
    return (f"{kind}.subject", f"{kind}.heading", f"{kind}.body", f"{kind}.cta", FOOTER_KEY)


class NoticeMailer:
    """Resolve the copy for the user's locale, render the notice's email, send it through SES."""

    def __init__(self, copy: CopyResolver, renderer: Renderer, ses: RawEmailSender, sender: str,
                 *, app_url: str | None = None) -> None:
        self._copy = copy
        self._renderer = renderer
        self._ses = ses
        self._sender = sender
        self._app_url = app_url.rstrip("/") if app_url else None

    def link(self, notice: AccountNotice) -> str | None:
        return f"{self._app_url}{LINKS[notice.eventType]}" if self._app_url else None

    def compose(self, notice: AccountNotice) -> tuple[bytes, str]:
        """The MIME message for ``notice`` and the locale it was written in."""
        kind = KINDS[notice.eventType]
        strings, locale = self._copy.resolve(notice.locale, required_keys(kind))
        params = {"firstName": notice.firstName, "lastName": notice.lastName, "email": notice.recipient}
        rendered = self._renderer.render(kind, strings, locale, params, cta_url=self.link(notice),
                                         footer_key=FOOTER_KEY)
        return build_mime(self._sender, notice.recipient, rendered), locale

    def send(self, notice: AccountNotice) -> dict[str, str]:
        raw, locale = self.compose(notice)
        resp = self._ses.send_email(
            FromEmailAddress=self._sender,
            Destination={"ToAddresses": [notice.recipient]},
            Content={"Raw": {"Data": raw}},
            EmailTags=[{"Name": "kind", "Value": KINDS[notice.eventType]},
                       {"Name": "locale", "Value": locale}],
        )
        return {"messageId": str(resp["MessageId"]), "locale": locale}
