"""Rendering: autoescaped HTML, plain text, header safety, the MIME structure."""

from __future__ import annotations

import email
import email.policy
from email.message import EmailMessage

from welcome_email.render import RenderedEmail, Renderer, build_mime, fill

COPY = {
    "welcome.subject": "Welcome, {firstName}",
    "welcome.preheader": "Activate your account.",
    "welcome.heading": "Hello {firstName} {lastName}!",
    "welcome.body": "Your account <{email}> is ready & waiting.",
    "welcome.cta": "Activate my account",
    "welcome.expiry": "Valid for 7 days.",
    "welcome.ignore": "Ignore this if it wasn't you.",
    "welcome.signature": "The team",
    "footer.reason": "You registered.",
}
PARAMS = {"firstName": "<script>alert(1)</script>", "lastName": "O'Hara & Co", "email": "ada@example.test"}


def parse(raw: bytes) -> EmailMessage:
    msg = email.message_from_bytes(raw, policy=email.policy.default)
    assert isinstance(msg, EmailMessage)
    return msg


def test_fill_replaces_known_placeholders_only() -> None:
    assert fill("Hi {firstName}, {unknown} {}", {"firstName": "Ada"}) == "Hi Ada, {unknown} {}"


def test_html_escapes_user_values_and_text_keeps_them() -> None:
    out = Renderer().render("welcome", COPY, "en", PARAMS, cta_url="https://app.example.test/signin")
    assert "<script>" not in out.html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in out.html
    assert "O&#39;Hara &amp; Co" in out.html
    assert "&lt;ada@example.test&gt; is ready &amp; waiting." in out.html
    assert 'href="https://app.example.test/signin"' in out.html and '<html lang="en">' in out.html
    assert "Hello <script>alert(1)</script> O'Hara & Co!" in out.text
    assert "Activate my account: https://app.example.test/signin" in out.text
    assert "&amp;" not in out.text
    assert out.subject == "Welcome, <script>alert(1)</script>"


def test_without_an_app_url_there_is_no_call_to_action() -> None:
    out = Renderer().render("welcome", COPY, "en", PARAMS)
    assert (
        "href=" not in out.html
        and "Activate my account" not in out.text
        and "Valid for 7 days" not in out.text
    )


def test_subject_cannot_inject_headers() -> None:
    out = Renderer().render("welcome", COPY, "en", {**PARAMS, "firstName": "Ada\r\nBcc: evil@x.test"})
    assert "\n" not in out.subject and "\r" not in out.subject
    msg = parse(build_mime("no-reply@acme.test", "ada@example.test", out))
    assert msg["Bcc"] is None
    assert msg["Subject"] == "Welcome, Ada Bcc: evil@x.test"


def test_mime_is_multipart_alternative_text_then_html_with_language() -> None:
    rendered = RenderedEmail(
        subject="ようこそ、アダさん", text="本文テキスト", html="<p>本文</p>", locale="ja"
    )
    msg = parse(build_mime("Customer Portal <no-reply@acme.test>", "ada@example.test", rendered))
    assert msg.get_content_type() == "multipart/alternative"
    parts = list(msg.iter_parts())
    assert [p.get_content_type() for p in parts] == ["text/plain", "text/html"]
    assert (
        parts[0].get_content().strip() == "本文テキスト" and parts[1].get_content().strip() == "<p>本文</p>"
    )
    assert msg["Subject"] == "ようこそ、アダさん"
    assert msg["Content-Language"] == "ja" and msg["To"] == "ada@example.test"
    assert msg["From"] == "Customer Portal <no-reply@acme.test>"
    assert msg["Message-ID"].endswith("@acme.test>") and msg["Date"]
    assert msg["Auto-Submitted"] == "auto-generated"


def test_review_kind_uses_its_own_keys() -> None:
    copy = {
        **COPY,
        "review.subject": "Reviewing, {firstName}",
        "review.heading": "Thanks",
        "review.body": "Wait.",
    }
    out = Renderer().render("review", copy, "en", {"firstName": "Ada"})
    assert out.subject == "Reviewing, Ada" and "Wait." in out.text and "The team" in out.text
