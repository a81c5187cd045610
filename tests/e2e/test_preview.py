"""Content authors preview draft copy from AEM's author tier, then switch back."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import Spa

pytestmark = pytest.mark.e2e


def test_a_content_author_turns_preview_on_and_off(spa: Spa) -> None:
    page = spa.sign_in("carol@acme.test")
    expect(page.locator(".brand")).to_have_text("Customer Portal")
    expect(page.locator("#preview-banner")).to_be_hidden()
    toggle = page.locator("#preview-toggle")
    expect(toggle).to_have_attribute("aria-pressed", "false")

    toggle.click()
    expect(page.locator("#preview-banner")).to_be_visible()
    expect(page.locator("#preview-banner")).to_have_text("Preview mode: showing draft copy")
    expect(page.locator(".brand")).to_have_text("Customer Portal (new look)")  # the draft
    expect(toggle).to_have_attribute("aria-pressed", "true")
    expect(toggle).to_have_text("Turn preview off")
    spa.shot("home-preview")
    page.goto(spa.url + "/signin")  # a full load: the server renders the drafts too
    spa.ready(page)
    expect(page.locator("h1")).to_have_text("Welcome back")
    expect(page.locator("#preview-banner")).to_be_visible()
    spa.shot("signin-preview")

    page.click("#preview-toggle")
    expect(page.locator("#preview-banner")).to_be_hidden()
    expect(page.locator("h1")).to_have_text("Sign in")
    expect(page.locator(".brand")).to_have_text("Customer Portal")
    assert spa.fetch_json(page, "/bff/preview")["body"] == {"enabled": False, "allowed": True}


def test_aems_preview_url_opens_the_right_screen_in_preview(spa: Spa) -> None:
    page = spa.sign_in("carol@acme.test")
    page.goto(spa.url + "/preview?path=/content/dam/bff/fr/ui-copy/signin&variation=master")
    spa.ready(page)
    expect(page.locator("html")).to_have_attribute("lang", "fr")
    expect(page.locator("h1")).to_have_text("Bon retour parmi nous")  # the French draft
    expect(page.locator("#preview-banner")).to_be_visible()
    spa.shot("preview-entry-fr")
    page.click("#preview-toggle")
    expect(page.locator("h1")).to_have_text("Connexion")


def test_preview_is_not_offered_to_others(spa: Spa) -> None:
    page = spa.sign_in("bob@acme.test")
    expect(page.locator("#preview-toggle")).to_have_count(0)
    status = page.evaluate("""async () => (await fetch('/bff/preview', {method: 'POST',
        headers: {'X-CSRF': '1', 'Content-Type': 'application/json'}, body: '{"enabled": true}'})).status""")
    assert status == 403


def test_authors_see_the_welcome_email_copy(spa: Spa) -> None:
    page = spa.sign_in("carol@acme.test")
    page.goto(spa.url + "/email-preview")
    spa.ready(page)
    expect(page.locator("#email-welcome")).to_have_text("Welcome to Customer Portal, Carol")
    expect(page.locator("#email-locked")).to_have_text("Your Customer Portal account is locked")
    expect(page.locator("#email-passwordChanged")).to_have_text("Your Customer Portal password was changed")
    expect(page.locator("#email-factorAdded")).to_have_text("A new sign-in method was added to your account")
    spa.shot("email-preview")
    bob = spa.context.browser.new_context() if spa.context.browser else None
    assert bob is not None
    try:
        other = bob.new_page()
        spa.watch.attach(other)
        spa.sign_in("bob@acme.test", page=other)
        other.goto(spa.url + "/email-preview")
        spa.ready(other)
        expect(other.locator(".alert-error")).to_have_text("Preview is available to content authors only.")
        expect(other.locator("#email-welcome")).to_have_count(0)
    finally:
        bob.close()
