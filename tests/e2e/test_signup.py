"""Self-service sign-up: client-side checks, server field errors next to the fields, a clear
success state, and the welcome email in the local SES outbox."""

from __future__ import annotations

import time
import uuid

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import Spa

pytestmark = pytest.mark.e2e


def _fill(page, first: str, last: str, email: str, company: str = "Acme Corp", password: str = "") -> None:  # type: ignore[no-untyped-def]
    page.fill("#f-firstName", first)
    page.fill("#f-lastName", last)
    page.fill("#f-email", email)
    page.fill("#f-company", company)
    if password:
        page.fill("#f-password", password)
    page.check("#f-terms")


def test_the_form_checks_fields_before_sending(spa: Spa) -> None:
    page = spa.open("/signup")
    requests: list[str] = []
    page.on("request", lambda r: requests.append(r.url) if r.method == "POST" else None)
    page.click("#signup-submit")
    summary = page.locator("#error-summary")
    expect(summary).to_be_focused()
    expect(summary).to_contain_text("Please correct the highlighted fields.")
    expect(page.locator("#f-email-error")).to_have_text("Enter your work email.")
    expect(page.locator("#f-firstName")).to_have_attribute("aria-invalid", "true")
    expect(page.locator("#f-terms-error")).to_have_text("You need to accept the terms to create an account.")
    spa.shot("signup-errors")
    page.fill("#f-password", "short")
    page.click("#signup-submit")
    expect(page.locator("#f-password-error")).to_have_text("Use at least 12 characters.")
    summary.get_by_role("link", name="Use at least 12 characters.").click()
    expect(page.locator("#f-password")).to_be_focused()
    assert not [u for u in requests if u.endswith("/bff/signup")]  # nothing was sent


def test_server_field_errors_show_next_to_the_field(spa: Spa) -> None:
    page = spa.open("/signup")
    _fill(page, "Alice", "Again", "alice@acme.test")
    page.click("#signup-submit")
    expect(page.locator("#f-email-error")).to_contain_text("An account already exists for this email.")
    expect(page.locator("#f-email")).to_have_attribute("aria-invalid", "true")
    expect(page.locator("#f-firstName")).to_have_value("Alice")  # nothing typed is lost
    spa.shot("signup-taken")


def test_a_new_user_signs_up_and_gets_the_welcome_email(spa: Spa) -> None:
    email = f"dana.{uuid.uuid4().hex[:8]}@newco.test"
    page = spa.open("/signup")
    _fill(page, "Dana", "Diaz", email, company="NewCo Ltd")
    page.click("#signup-submit")
    success = page.locator("#signup-success")
    expect(success).to_be_visible()
    expect(success.locator("h1")).to_have_text("Check your inbox")
    expect(success.locator("h1")).to_be_focused()
    expect(page.locator("#signup-success-body")).to_contain_text(email)
    spa.shot("signup-success")

    deadline = time.monotonic() + 45
    mails: list[dict[str, str]] = []
    while time.monotonic() < deadline:
        answer = page.request.get(spa.url + "/__dev/mail", headers={"Accept": "application/json"})
        assert answer.ok, answer.text()
        mails = [m for m in answer.json() if m["to"] == email or email in m["to"]]
        if mails:
            break
        time.sleep(0.5)
    assert mails, f"no welcome email to {email} in the SES outbox"
    assert "Dana" in mails[0]["subject"]
