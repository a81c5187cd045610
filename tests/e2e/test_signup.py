"""Self-service sign-up (the Users-API path): client-side checks, server field errors next to the
fields, a clear success state, Okta's activation email (the address is verified before anything
is announced; the password is chosen on Okta's activation page), then the welcome email in the
local SES outbox."""

from __future__ import annotations

import re
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
    summary.get_by_role("link", name="Enter your work email.").click()
    expect(page.locator("#f-email")).to_be_focused()
    # no password here: Okta's activation page sets it once the address is proven
    expect(page.locator("#f-password")).to_have_count(0)
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

    def mails_to(subject: str | None = None) -> list[dict[str, str]]:
        deadline = time.monotonic() + 45
        while time.monotonic() < deadline:
            answer = page.request.get(spa.url + "/__dev/mail", headers={"Accept": "application/json"})
            assert answer.ok, answer.text()
            found = [m for m in answer.json() if (m["to"] == email or email in m["to"])
                     and (subject is None or subject != m["subject"])]
            if found:
                return found
            time.sleep(0.5)
        return []

    (activation,) = [m for m in mails_to() if m["subject"] == "Activate your account"]
    time.sleep(1)
    assert [m["subject"] for m in mails_to()] == ["Activate your account"]  # nothing announced yet
    link = re.search(r"https?://\S+/welcome/[A-Za-z0-9_-]+", activation["text"])
    assert link, activation  # the dev mail page shows the link to open
    page.goto(link.group(0))  # Okta's activation page: the address is proven
    page.fill("#act-password", "Correct-Horse-9-Battery")
    page.click("#act-submit")
    expect(page.locator("body")).to_contain_text("Your account is active")
    welcome = mails_to(subject="Activate your account")
    assert welcome, f"no welcome email to {email} in the SES outbox"
    assert "Dana" in welcome[0]["subject"]
