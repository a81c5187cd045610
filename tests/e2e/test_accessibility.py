"""Keyboard use, focus management, landmarks and the small-screen layout."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.conftest import Spa

pytestmark = pytest.mark.e2e


def test_keyboard_only_sign_up_path(spa: Spa) -> None:
    page = spa.open("/signup")  # a screen without a field focused for the user
    page.keyboard.press("Tab")
    skip = page.locator("#skip-link")
    expect(skip).to_be_focused()
    expect(skip).to_be_visible()  # visible when focused
    expect(skip).to_have_text("Skip to main content")
    page.keyboard.press("Enter")
    expect(page.locator("#main")).to_be_focused()
    # The sign-in screen puts the focus on its first field; from there by keyboard alone, in
    # the order the screen reads: remember me, continue, the IdPs Okta offers, unlock, sign up.
    page.goto(spa.url + "/")
    spa.ready(page)
    expect(page.locator("#f-identifier")).to_be_focused()
    idps = [f"#signin-idps button >> nth={i}" for i in range(page.locator("#signin-idps button").count())]
    for expected in ("#f-rememberMe", "#signin-submit", *idps, "#signin-unlock", "#signup-link"):
        page.keyboard.press("Tab")
        expect(page.locator(expected)).to_be_focused()
    # Sign-up here is Okta's profile enrollment (the twin's policy offers it): its first field.
    page.keyboard.press("Enter")
    expect(page.locator("#signin-card[data-step=enroll-profile][aria-busy=false]")).to_be_visible()
    expect(page.locator("#f-userProfile-email")).to_be_focused()
    expect(page.locator("#f-userProfile-email")).to_have_attribute("autocomplete", "email")
    # The product's own sign-up screen, from the header.
    page.locator("header a[href='/signup']").focus()
    page.keyboard.press("Enter")
    expect(page).to_have_url(spa.url + "/signup")
    expect(page.locator("h1")).to_be_focused()
    expect(page.locator("h1")).to_have_text("Create your account")
    page.keyboard.press("Tab")
    expect(page.locator("#f-firstName")).to_be_focused()
    # Every field has an accessible name from its label.
    for name in ("First name", "Last name", "Work email", "Company"):
        expect(page.get_by_role("textbox", name=name)).to_be_visible()
    terms = page.get_by_role("checkbox", name="I accept the terms of use and the privacy notice.")
    expect(terms).to_be_visible()
    # Focus is drawn visibly (an outline), not left to the browser default being removed.
    outline = page.locator("#f-firstName").evaluate("el => getComputedStyle(el).outlineStyle")
    assert outline != "none"
    page.go_back()
    spa.ready(page)
    expect(page.locator("#signin-card[data-step]")).to_be_visible()


def test_landmarks_and_language(spa: Spa) -> None:
    page = spa.sign_in("bob@acme.test")
    expect(page.get_by_role("banner")).to_have_count(1)
    expect(page.get_by_role("main")).to_have_count(1)
    expect(page.get_by_role("contentinfo")).to_have_count(1)
    expect(page.get_by_role("navigation")).to_have_count(1)
    expect(page.locator("nav.main-nav a[aria-current=page]")).to_have_text("Home")
    expect(page.get_by_role("combobox", name="Language")).to_be_visible()
    expect(page.locator("#locale-select option[value=ja]")).to_have_attribute("lang", "ja")


def test_small_screens(spa: Spa) -> None:
    page = spa.new_page()
    page.set_viewport_size({"width": 375, "height": 740})
    spa.open("/signup", page)
    expect(page.locator("h1")).to_have_text("Create your account")
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    spa.shot("signup-mobile", page)
    spa.sign_in("alice@acme.test", page=page)
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    spa.shot("home-mobile", page)


def _labelled_inputs(page: Page) -> list[str]:
    """ids of the sign-in card's visible inputs that have no label (should be none)."""
    return page.evaluate("""() => [...document.querySelectorAll('#signin-card input, #signin-card select')]
        .filter((el) => el.type !== 'hidden' && el.getAttribute('aria-hidden') !== 'true')
        .filter((el) => !(el.labels && el.labels.length) && !el.getAttribute('aria-label'))
        .map((el) => el.id || el.name)""")


def test_the_sign_in_steps_are_labelled_announced_and_keep_their_place(spa: Spa) -> None:
    page = spa.open("/")
    steps = page.locator("#signin-card")
    expect(steps).to_have_attribute("data-step", "identify")
    # Messages have their live regions before anything goes wrong (announced when filled).
    expect(page.locator("#signin-errors")).to_have_attribute("aria-live", "assertive")
    expect(page.locator("#signin-status")).to_have_attribute("aria-live", "polite")
    assert _labelled_inputs(page) == []
    page.fill("#f-identifier", "bob@acme.test")
    page.click("#signin-submit")
    expect(page.locator("#signin-card[data-step=challenge-authenticator][aria-busy=false]")).to_be_visible()
    assert _labelled_inputs(page) == []
    expect(page.get_by_label("Password", exact=True)).to_be_focused()
    page.fill("#f-password", "wrong")
    page.keyboard.press("Enter")  # Enter submits the step
    error = page.locator("#f-password-error")
    expect(error).to_be_visible()
    expect(page.locator("#f-password")).to_have_attribute("aria-describedby",
                                                          re.compile(r"\bf-password-error\b"))
    expect(page.locator("#f-password")).to_be_focused()
    # Small screens: the step fits without sideways scrolling.
    page.set_viewport_size({"width": 375, "height": 740})
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    spa.shot("signin-password-mobile")
