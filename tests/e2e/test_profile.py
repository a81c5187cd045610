"""Progressive profiling: the home screen asks for missing details; the profile screen checks
and saves them (a partial Okta profile update)."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import Spa

pytestmark = pytest.mark.e2e


def test_profile_completion(spa: Spa) -> None:
    page = spa.sign_in("erin@acme.test")
    expect(page.locator("#complete-profile")).to_have_count(0)  # nothing missing yet
    page.click("nav.main-nav a[href='/profile']")
    expect(page.locator("#f-title")).to_have_value("Sales Engineer")
    page.fill("#f-title", "")
    page.click("#profile-save")
    expect(page.locator("#profile-status")).to_contain_text("Your profile has been saved.")
    expect(page.locator("#profile-status")).to_be_focused()

    page.click("nav.main-nav a[href='/']")
    expect(page.locator("h1")).to_have_text("Welcome, Erin Evans")
    expect(page.locator(".card", has_text="Your profile is missing a few details.")).to_be_visible()
    spa.shot("home-incomplete")
    page.click("#complete-profile")
    expect(page.locator("h1")).to_have_text("Complete your profile")
    expect(page.locator("h1")).to_be_focused()  # focus follows the route change

    page.fill("#f-title", "Principal Sales Engineer")
    page.fill("#f-mobilePhone", "call me maybe")
    page.click("#profile-save")
    expect(page.locator("#f-mobilePhone-error")).to_have_text(
        "Enter a phone number in international format, starting with +.")
    expect(page.locator("#error-summary")).to_be_focused()
    spa.shot("profile-errors")
    page.fill("#f-mobilePhone", "+44 20 7946 0106")
    page.click("#profile-save")
    expect(page.locator("#profile-status")).to_contain_text("Your profile has been saved.")
    page.reload()
    spa.ready(page)
    expect(page.locator("#f-title")).to_have_value("Principal Sales Engineer")
    spa.shot("profile-saved")
