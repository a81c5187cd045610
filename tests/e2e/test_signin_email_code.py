"""The screen an email magic link lands on in another browser: the code to type in the tab
that started signing in, from the URL fragment, localized, never an error page."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import Spa

pytestmark = pytest.mark.e2e


def test_the_magic_link_elsewhere_shows_the_code(spa: Spa) -> None:
    page = spa.open("/signin/email-code#code=482913")
    expect(page.locator("h1")).to_have_text("Your sign-in code")
    expect(page.locator("#email-code")).to_contain_text("482913")
    spa.shot("email-code")


def test_without_a_code_it_still_explains_what_to_do(spa: Spa) -> None:
    page = spa.open("/signin/email-code")
    expect(page.locator("h1")).to_have_text("Your sign-in code")
    expect(page.locator("main")).to_contain_text("enter the code from the email")
    expect(page.locator("#email-code")).to_have_count(0)
