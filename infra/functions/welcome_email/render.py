"""Rendering a localized email (Jinja2, autoescaped HTML + plain text) into a MIME message.

The copy strings are plain text with ``{placeholder}`` parameters (docs/content.md); they are
substituted first and then escaped by the HTML template, so a name like ``<script>`` arrives
as text, never as markup. The message is ``multipart/alternative`` (text first, then HTML)
with ``Content-Language``; SES sends it as given (``send_email`` with ``Content.Raw``).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from email.headerregistry import Address
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import formatdate, make_msgid, parseaddr
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

TEMPLATES = Path(__file__).with_name("templates")
_PLACEHOLDER = re.compile(r"\{([A-Za-z][A-Za-z0-9_]*)\}")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]+")

#: Copy keys each kind of email needs (``{kind}.subject`` etc.); optional ones may be absent.
REQUIRED_KEYS: dict[str, tuple[str, ...]] = {
    "welcome": ("welcome.subject", "welcome.heading", "welcome.body"),
    "review": ("review.subject", "review.heading", "review.body"),
}


@dataclass(frozen=True)
class RenderedEmail:
    subject: str
    text: str
    html: str
    locale: str


def fill(template: str, params: Mapping[str, str]) -> str:
    """Replace ``{name}`` with its parameter; unknown placeholders are left as written."""
    return _PLACEHOLDER.sub(lambda m: params.get(m.group(1), m.group(0)), template)


def one_line(text: str) -> str:
    return _CONTROL.sub(" ", text).strip()


class Renderer:
    def __init__(self, templates: Path = TEMPLATES) -> None:
        self._env = Environment(
            loader=FileSystemLoader(str(templates)),
            autoescape=select_autoescape(enabled_extensions=("html.j2",), disabled_extensions=("txt.j2",),
                                         default=True),
            undefined=StrictUndefined,
            trim_blocks=True,
            lstrip_blocks=True,
            keep_trailing_newline=True,
        )

    def render(self, kind: str, copy: Mapping[str, str], locale: str, params: Mapping[str, str],
               *, cta_url: str | None = None, footer_key: str = "footer.reason") -> RenderedEmail:
        """Render ``kind`` (``welcome`` | ``review``, or an account notice's ``locked`` ...) with
        the resolved ``copy`` strings; ``footer_key`` names the line that says why it was sent."""

        def t(key: str) -> str:
            return one_line(fill(copy.get(key, ""), params))

        context = {
            "lang": locale,
            "subject": t(f"{kind}.subject"),
            "preheader": t(f"{kind}.preheader"),
            "heading": t(f"{kind}.heading"),
            "body": t(f"{kind}.body"),
            "cta": t(f"{kind}.cta") if cta_url else "",
            "cta_url": cta_url or "",
            "expiry": t(f"{kind}.expiry") if cta_url else "",
            "ignore": t(f"{kind}.ignore"),
            "signature": t(f"{kind}.signature") or t("welcome.signature"),
            "footer": t(footer_key),
        }
        html = self._env.get_template("email.html.j2").render(context)
        text = self._env.get_template("email.txt.j2").render(context)
        return RenderedEmail(subject=context["subject"], text=text, html=html, locale=locale)


def build_mime(sender: str, recipient: str, email: RenderedEmail, *, domain: str | None = None) -> bytes:
    """A ``multipart/alternative`` message (text, then HTML), ready for SES ``Content.Raw``."""
    msg = EmailMessage(policy=SMTP)
    msg["From"] = sender
    name, addr = parseaddr(recipient)
    msg["To"] = Address(display_name=name, addr_spec=addr) if name else addr
    msg["Subject"] = email.subject
    msg["Date"] = formatdate(localtime=False, usegmt=True)
    msg["Message-ID"] = make_msgid(domain=domain or (parseaddr(sender)[1].rpartition("@")[2] or None))
    msg["Auto-Submitted"] = "auto-generated"
    msg.set_content(email.text, subtype="plain", charset="utf-8")
    msg.add_alternative(email.html, subtype="html", charset="utf-8")
    msg["Content-Language"] = email.locale  # after set_content, which drops Content-* headers
    return msg.as_bytes()
