"""Signing in (the embedded screens; the redirect mode's are in tests/e2e/redirect/): every
seeded user lands on the right home; protected screens send visitors to sign in and bring them
back; a plain user's step-up is refused by Okta's policy."""

from __future__ import annotations

import re

import pyotp
import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import Spa

pytestmark = pytest.mark.e2e


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


def test_a_protected_screen_sends_a_visitor_to_sign_in_and_back(spa: Spa) -> None:
    page = spa.open("/profile")
    expect(page).to_have_url(re.compile(r"/signin\?returnTo=%2Fprofile$"))
    expect(page.locator("h1")).to_have_text("Sign in")
    spa.identify(page, "bob@acme.test")
    spa.finish_sign_in(page, "bob@acme.test")
    expect(page).to_have_url(spa.url + "/profile")
    expect(page.locator("h1")).to_have_text("Complete your profile")


def test_a_plain_user_is_refused_the_admin_step_up(spa: Spa) -> None:
    page = spa.sign_in("bob@acme.test")
    page.goto(spa.url + "/admin/users")
    spa.ready(page)
    expect(page.locator("#admin-denied")).to_be_visible()
    expect(page.locator("#users-table, #admin-stepup")).to_have_count(0)
    spa.shot("admin-denied-bob")
    # Forcing the embedded step-up by hand: Okta's policy refuses (a localized terminal), the
    # session stays a plain one.
    page.goto(spa.url + "/signin?returnTo=%2Fadmin&scope=admin")
    spa.ready(page)
    expect(page.locator("#signin-card[data-step=challenge-authenticator]")).to_be_visible()
    page.fill("#f-password", "Passw0rd!")
    page.click("#signin-submit")
    # The admin scope needs a second factor: bob has none, so he must enrol one (no skip for a
    # step-up), and only then does the policy refuse him.
    select = page.locator("#signin-card[data-step=select-authenticator-enroll][aria-busy=false]")
    expect(select).to_be_visible()
    expect(page.locator("#signin-skip")).to_have_count(0)
    try:
        select.locator("button[data-choice=google_otp]").click()
        expect(page.locator("#totp-secret")).to_be_visible()
        secret = (page.locator("#totp-secret").text_content() or "").replace(" ", "")
        page.fill("#f-code", pyotp.TOTP(secret).now())
        page.click("#signin-submit")
        expect(page.locator("#signin-card[data-step=terminal] #signin-terminal")).to_have_text(
            "You don\u2019t have access. If you think this is a mistake, contact your administrator.")
    finally:
        async def forget(okta: object = spa.okta) -> None:
            okta.idx.factors.pop(okta.directory.user("bob@acme.test").id, None)  # type: ignore[attr-defined]
        assert spa.stack_thread is not None
        spa.stack_thread.call(forget())
    user = spa.fetch_json(page, "/bff/user")
    assert user["status"] == 200 and "adminRole" not in user["body"]
    spa.shot("stepup-refused-bob")


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
