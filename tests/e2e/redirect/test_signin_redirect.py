"""BFF_SIGNIN_MODE=redirect: today's sign-in screen (the work-email form with IdP discovery,
then Okta's page), the admin step-up through /bff/login?scope=admin, and /bff/signin switched off."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.conftest import Spa

pytestmark = pytest.mark.e2e


def sign_in(spa: Spa, email: str, path: str = "/") -> Page:
    page = spa.open(path)
    page.fill("#f-email", email)
    page.click("#signin-submit")
    spa.okta_form(page, email)
    spa.ready(page)
    return page


def test_visitor_sees_the_sign_in_screen_with_copy_from_the_content_service(spa: Spa) -> None:
    page = spa.open("/")
    expect(page.locator("h1")).to_have_text("Sign in")
    expect(page).to_have_title("Sign in · Customer Portal")
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.get_by_label("Work email")).to_be_visible()
    expect(page.locator("#signin-card")).to_have_count(0)  # not the embedded screens
    spa.shot("signin")
    # Client-side check before any round trip, announced next to the field.
    page.click("#signin-submit")
    expect(page.locator("#f-email-error")).to_have_text("Enter your email address.")
    expect(page.locator("#f-email")).to_have_attribute("aria-invalid", "true")
    expect(page.locator("#f-email")).to_be_focused()
    spa.shot("signin-error")
    assert spa.fetch_json(page, "/bff/signin")["status"] == 404  # embedded sign-in is off


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


def test_a_plain_user_never_sees_the_admin_area(spa: Spa) -> None:
    page = sign_in(spa, "bob@acme.test")
    expect(page.locator("h1")).to_have_text("Welcome, Bob Brown")
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


def test_the_admin_step_up_goes_through_okta_s_page(spa: Spa) -> None:
    page = sign_in(spa, "alice@acme.test")
    page.click("#go-admin")
    expect(page.locator("#admin-stepup h1")).to_have_text("Confirm it's you")
    expect(page.locator("#stepup-button")).to_have_attribute(
        "href", re.compile(r"^/bff/login\?.*scope=admin"))
    page.click("#stepup-button")
    page.wait_for_url(re.compile(r".*(/admin|oauth2).*"))
    if not page.url.startswith(spa.url):
        spa.okta_form(page, "alice@acme.test")
    page.wait_for_url(re.compile(re.escape(spa.url) + r"/admin.*"))
    spa.ready(page)
    expect(page.locator("h1")).to_have_text("Administration")
    assert spa.fetch_json(page, "/bff/user")["body"]["adminRole"] == "org_admin"
