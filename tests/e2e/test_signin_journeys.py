"""The twin's journeys for the phone, federated IdPs offered by Okta and unsupported
authenticators, through the SPA's screens in Chromium (no console errors, no CSP violations;
the ``spa`` fixture checks both): paula's SMS and voice codes, the partner IdP's button on the
identify step, oscar's Okta Verify (another way: his password), uma's Okta Verify only (the
redirect flow, where the twin's page takes her password)."""

from __future__ import annotations

import re
import time
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.conftest import Spa
from tests.e2e.harness import PASSWORD

pytestmark = pytest.mark.e2e


def card(page: Page, step: str, authenticator: str | None = None) -> Any:
    selector = f"#signin-card[data-step='{step}'][aria-busy=false]"
    if authenticator is not None:
        selector += f"[data-authenticator='{authenticator}']"
    locator = page.locator(selector)
    expect(locator).to_be_visible()
    return locator


def signed_in_as(spa: Spa, page: Page, email: str) -> None:
    spa.ready(page)
    expect(page.locator("body:not(:has(#signin-card)) #sign-out")).to_be_visible()
    user = spa.fetch_json(page, "/bff/user")
    assert user["status"] == 200 and user["body"]["email"] == email


def phone_code(spa: Spa, channel: str, after: int) -> str:
    for _ in range(100):
        sent = [m for m in list(spa.okta.idx.outbox)[after:] if m.get("channel") == channel]
        if sent:
            return str(sent[-1]["code"])
        time.sleep(0.05)  # the outbox fills on the stack's thread
    raise AssertionError(f"no {channel} code")


@pytest.mark.parametrize(("method", "title"), [("sms", "Check your phone"), ("voice", "Answer your phone")])
def test_paula_chooses_her_phone_and_types_the_code(spa: Spa, method: str, title: str) -> None:
    page = spa.open("/")
    spa.identify(page, "paula@acme.test")
    card(page, "challenge-authenticator", "okta_password")
    page.fill("#f-password", PASSWORD)
    page.click("#signin-submit")
    select = card(page, "select-authenticator-authenticate")
    expect(page.locator("h1")).to_have_text("Verify it’s you")
    phone = select.locator(f"button[data-choice=phone_number][data-method={method}]")
    expect(phone).to_contain_text("+1 XXX-XXX-0199")  # the number as Okta masks it
    expect(select.locator("button[data-choice=okta_email]")).to_be_visible()
    spa.shot(f"select-phone-{method}")
    sent = len(spa.okta.idx.outbox)
    phone.click()
    card(page, "challenge-authenticator", "phone_number")
    expect(page.locator("h1")).to_have_text(title)
    expect(page.locator("#signin-code-where")).to_contain_text("+1 XXX-XXX-0199")
    expect(page.locator("#signin-magic-link")).to_have_count(0)  # no link by phone
    spa.shot(f"phone-code-{method}")
    page.fill("#f-code", phone_code(spa, method, sent))
    page.click("#signin-submit")
    page.wait_for_url(spa.url + "/")
    signed_in_as(spa, page, "paula@acme.test")


def test_the_idp_okta_offers_is_a_button_to_the_redirect_flow(spa: Spa) -> None:
    page = spa.open("/signin?returnTo=%2Fprofile")
    identify = card(page, "identify")
    button = identify.locator("#signin-idps button[data-idp='0oapartneridp']")
    expect(button).to_have_text("Continue with Partner SSO")
    spa.shot("identify-with-idp")
    with page.expect_navigation(url=re.compile(r".*/oauth2/default/v1/authorize\?.*")):
        button.click()  # POST /bff/signin/redirect-idp → step redirect → /bff/login?idp=
    assert spa.okta.authorize_requests[-1]["idp"] == "0oapartneridp"
    # The twin's hosted page stands in for the partner's IdP.
    spa.okta_form(page, "gina@acme.test")
    page.wait_for_url(spa.url + "/profile")
    signed_in_as(spa, page, "gina@acme.test")


def test_oscar_s_okta_verify_is_not_here_so_he_uses_his_password(spa: Spa) -> None:
    page = spa.open("/")
    spa.identify(page, "oscar@acme.test")
    select = card(page, "select-authenticator-authenticate")
    expect(page.locator("h1")).to_have_text("This sign-in method isn’t available here")
    expect(page.locator("#signin-unsupported")).to_have_text(
        "Okta Verify can’t be used on this page. Choose another way to verify.")
    expect(page.locator("#signin-redirect")).to_be_visible()  # the last resort
    spa.shot("unsupported-okta-verify")
    select.locator("button[data-choice=okta_password]").click()
    card(page, "challenge-authenticator", "okta_password")
    page.fill("#f-password", PASSWORD)
    page.click("#signin-submit")
    page.wait_for_url(spa.url + "/")
    signed_in_as(spa, page, "oscar@acme.test")


def test_uma_has_only_okta_verify_and_continues_on_okta_s_page(spa: Spa) -> None:
    page = spa.open("/")
    spa.identify(page, "uma@acme.test")
    card(page, "unsupported")
    expect(page.locator("#signin-unsupported")).to_contain_text("Okta Verify can’t be used on this page")
    expect(page.locator("#signin-cancel")).to_be_visible()
    spa.shot("unsupported-only")
    with page.expect_navigation(url=re.compile(r".*/oauth2/default/v1/authorize\?.*")):
        page.click("#signin-redirect")
    spa.okta_form(page, "uma@acme.test")
    signed_in_as(spa, page, "uma@acme.test")


def test_pia_creates_a_passkey_then_signs_in_with_it_alone(spa: Spa) -> None:
    page = spa.new_page()
    cdp = spa.context.new_cdp_session(page)
    cdp.send("WebAuthn.enable")
    authenticator = cdp.send("WebAuthn.addVirtualAuthenticator", {"options": {
        "protocol": "ctap2", "transport": "internal", "hasResidentKey": True, "hasUserVerification": True,
        "isUserVerified": True, "automaticPresenceSimulation": True}})["authenticatorId"]
    pia = spa.okta.directory.user("pia@acme.test")

    async def forget() -> None:
        spa.okta.idx.passkeys.credentials.pop(pia.id, None)
    try:
        spa.open("/", page)
        spa.identify(page, "pia@acme.test")
        card(page, "challenge-authenticator", "okta_password")
        page.fill("#f-password", PASSWORD)
        page.click("#signin-submit")
        select = card(page, "select-authenticator-enroll")
        expect(page.locator("#signin-skip")).to_be_visible()
        select.locator("button[data-choice=webauthn]").click()
        card(page, "enroll-authenticator", "webauthn")
        expect(page.locator("h1")).to_have_text("Create a passkey")
        spa.shot("passkey-enroll", page)
        page.click("#signin-submit")  # navigator.credentials.create → the virtual authenticator
        page.wait_for_url(spa.url + "/")
        signed_in_as(spa, page, "pia@acme.test")
        assert spa.okta.idx.passkeys.has_passkey(pia)

        spa.context.clear_cookies()  # a new visit: the passkey alone
        spa.open("/", page)
        spa.identify(page, "pia@acme.test")
        card(page, "challenge-authenticator", "webauthn")
        expect(page.locator("h1")).to_have_text("Sign in with your passkey")
        spa.shot("passkey-challenge", page)
        page.click("#signin-submit")  # navigator.credentials.get
        page.wait_for_url(spa.url + "/")
        signed_in_as(spa, page, "pia@acme.test")
    finally:
        cdp.send("WebAuthn.removeVirtualAuthenticator", {"authenticatorId": authenticator})
        assert spa.stack_thread is not None
        spa.stack_thread.call(forget())
