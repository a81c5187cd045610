"""Signing in as each seeded user and landing on the right home."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import Spa

pytestmark = pytest.mark.e2e


def test_visitor_sees_the_sign_in_screen_with_copy_from_the_content_service(spa: Spa) -> None:
    page = spa.open("/")
    expect(page.locator("h1")).to_have_text("Sign in")
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.locator("label[for=f-email]")).to_have_text("Work email")
    spa.shot("signin")


def test_bob_signs_in_and_sees_his_home_without_admin(spa: Spa) -> None:
    page = spa.sign_in("bob@acme.test")
    expect(page.locator("h1")).to_have_text("Welcome, Bob Brown")
    expect(page.locator("nav.main-nav")).not_to_contain_text("Administration")
    spa.shot("home-bob")
