"""The locale switcher: French copy on every screen, fr-CA overrides, remembered across visits."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.conftest import Spa

pytestmark = pytest.mark.e2e


def _switch(page: Page, code: str) -> None:
    page.focus("#locale-select")  # as a keyboard or pointer user would have
    page.select_option("#locale-select", code)
    expect(page.locator("html")).to_have_attribute("lang", code)


def test_french_on_every_signed_out_screen_and_remembered(spa: Spa) -> None:
    page = spa.open("/")
    _switch(page, "fr")
    expect(page.locator("h1")).to_have_text("Connexion")
    expect(page.locator("label[for=locale-select]")).to_have_text("Langue")
    expect(page.locator("#locale-select")).to_be_focused()  # the switch keeps the user's place
    spa.shot("signin-fr")
    page.click("header a[href='/signup']")
    expect(page.locator("h1")).to_have_text("Créer votre compte")
    expect(page.locator("label[for=f-company]")).to_have_text("Entreprise")
    spa.shot("signup-fr")
    page.reload()  # remembered in the bff_locale cookie; the server renders French at once
    spa.ready(page)
    expect(page.locator("html")).to_have_attribute("lang", "fr")
    expect(page.locator("h1")).to_have_text("Créer votre compte")
    expect(page).to_have_title("Créer votre compte · Portail client")
    cookies = {c["name"]: c["value"] for c in spa.context.cookies()}
    assert cookies["bff_locale"] == "fr"


def test_fr_ca_shows_its_overrides_over_french(spa: Spa) -> None:
    page = spa.open("/signin")
    _switch(page, "fr")
    expect(page.locator("label[for=f-identifier]")).to_have_text("Adresse e-mail professionnelle")
    _switch(page, "fr-CA")
    expect(page.locator("label[for=f-identifier]")).to_have_text("Courriel professionnel")  # fr-CA override
    expect(page.locator("h1")).to_have_text("Connexion")  # not overridden: French
    spa.shot("signin-fr-CA")
    page.click("header a[href='/signup']")
    expect(page.locator("label[for=f-email]")).to_have_text("Courriel professionnel")
    spa.shot("signup-fr-CA")


def test_french_on_every_signed_in_screen(spa: Spa) -> None:
    page = spa.sign_in("alice@acme.test")
    _switch(page, "fr")
    expect(page.locator("h1")).to_have_text("Bienvenue, Alice Anders")
    expect(page.locator("nav.main-nav")).to_contain_text("Accueil")
    spa.shot("home-fr")
    page.click("nav.main-nav a[href='/profile']")
    expect(page.locator("h1")).to_have_text("Compléter votre profil")
    expect(page.locator("#profile-save")).to_have_text("Enregistrer")
    spa.shot("profile-fr")
    page.click("nav.main-nav a[href='/admin']")
    expect(page.locator("h1")).to_have_text("Confirmez votre identité")
    spa.shot("admin-stepup-fr")
    _switch(page, "de")
    expect(page.locator("nav.main-nav")).to_contain_text("Startseite")
