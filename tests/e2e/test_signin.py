"""Signing in: every seeded user lands on the right home; protected screens send visitors to
sign in and bring them back; a plain user never gets into the admin area."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import Spa

pytestmark = pytest.mark.e2e


def test_visitor_sees_the_sign_in_screen_with_copy_from_the_content_service(spa: Spa) -> None:
    page = spa.open("/")
    expect(page.locator("h1")).to_have_text("Sign in")
    expect(page).to_have_title("Sign in · Customer Portal")
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.get_by_label("Work email")).to_be_visible()
    spa.shot("signin")
    # Client-side check before any round trip, announced next to the field.
    page.click("#signin-submit")
    expect(page.locator("#f-email-error")).to_have_text("Enter your email address.")
    expect(page.locator("#f-email")).to_have_attribute("aria-invalid", "true")
    expect(page.locator("#f-email")).to_be_focused()
    spa.shot("signin-error")


@pytest.mark.parametrize(("email", "name", "admin", "author"), [
    ("bob@acme.test", "Bob Brown", False, False),
    ("alice@acme.test", "Alice Anders", True, False),
    ("gina@acme.test", "Gina Garcia", True, False),
    ("carol@acme.test", None, False, True),
])
def test_each_seeded_user_sees_the_right_home(spa: Spa, email: str, name: str | None, admin: bool,
                                               author: bool) -> None:
    page = spa.sign_in(email)
    expect(page).to_have_url(spa.url + "/")
    expect(page.locator("h1")).to_have_text(re.compile(r"^Welcome, " + (re.escape(name) if name else r"\w+")))
    expect(page.locator(".user-name")).to_be_visible()
    admin_link = page.locator("nav.main-nav a", has_text="Administration")
    expect(admin_link).to_have_count(1 if admin else 0)
    expect(page.locator("#go-admin")).to_have_count(1 if admin else 0)
    expect(page.locator("#preview-toggle")).to_have_count(1 if author else 0)
    user = spa.fetch_json(page, "/bff/user")
    assert user["status"] == 200 and user["body"]["email"] == email
    assert "adminRole" not in user["body"]  # the admin role needs the step-up login
    spa.shot(f"home-{email.split('@')[0]}")


def test_a_plain_user_never_sees_the_admin_area(spa: Spa) -> None:
    page = spa.sign_in("bob@acme.test")
    page.goto(spa.url + "/admin/users")
    spa.ready(page)
    expect(page.locator("#admin-denied")).to_be_visible()
    expect(page.locator("#users-table, #admin-stepup")).to_have_count(0)
    spa.shot("admin-denied-bob")
    # Forcing the step-up by hand: Okta's policy refuses, the session stays a plain one.
    page.goto(spa.url + "/bff/login?scope=admin&returnTo=%2Fadmin")
    spa.ready(page)
    expect(page).to_have_url(spa.url + "/")
    expect(page.locator(".alert-error")).to_contain_text("Access was denied")
    expect(page.locator("h1")).to_have_text("Welcome, Bob Brown")
    user = spa.fetch_json(page, "/bff/user")
    assert user["status"] == 200 and "adminRole" not in user["body"]
    spa.shot("stepup-refused-bob")


def test_a_protected_screen_sends_a_visitor_to_sign_in_and_back(spa: Spa) -> None:
    page = spa.open("/profile")
    expect(page).to_have_url(re.compile(r"/signin\?returnTo=%2Fprofile$"))
    expect(page.locator("h1")).to_have_text("Sign in")
    page.fill("#f-email", "bob@acme.test")
    page.click("#signin-submit")
    spa.okta_form(page, "bob@acme.test")
    spa.ready(page)
    expect(page).to_have_url(spa.url + "/profile")
    expect(page.locator("h1")).to_have_text("Complete your profile")


def test_a_401_from_any_call_sends_the_user_to_sign_in_keeping_their_place(spa: Spa) -> None:
    page = spa.sign_in("bob@acme.test")
    page.goto(spa.url + "/profile")
    spa.ready(page)
    expect(page.locator("#profile-form")).to_be_visible()
    # The session ends behind the page's back (another device, an admin, expiry).
    spa.context.clear_cookies()
    page.fill("#f-company", "Acme Research")
    page.click("#profile-save")
    expect(page).to_have_url(re.compile(r"/signin\?returnTo=%2Fprofile$"))
    expect(page.locator(".alert-warning")).to_contain_text("Your session has expired")
    spa.shot("session-expired")
