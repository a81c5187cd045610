"""The embedded sign-up journeys of docs/signup.md in Chromium, beyond the email-code sign-up of
test_signin_embedded.py: an invitation link from the admin screen into an organisation (and a
revoked one refused), the sign-up verified by the email's magic link, and progressive profiling
(``profile-update``) at the next sign-in, filled or skipped."""

from __future__ import annotations

import contextlib
import json
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from bff.settings import REPO_ROOT
from tests.e2e.conftest import Spa
from tests.e2e.harness import CSP_INIT_SCRIPT

pytestmark = pytest.mark.e2e

COPY = REPO_ROOT / "content" / "copy"
NEW_PASSWORD = "Correct-Horse-9"


def copy(journey: str, key: str, locale: str = "en") -> str:
    """The bundled copy the SPA shows (per key: fr-CA → fr → en, other locales → en)."""
    chain = {"fr-CA": ["fr-CA", "fr", "en"]}.get(locale, [locale, "en"])
    for loc in chain:
        path = COPY / loc / f"{journey}.json"
        strings: dict[str, str] = json.loads(path.read_text("utf-8")) if path.exists() else {}
        if key in strings:
            return strings[key]
    raise KeyError(key)


def card(page: Page, step: str, authenticator: str | None = None) -> Any:
    selector = f"#signin-card[data-step='{step}'][aria-busy=false]"
    if authenticator is not None:
        selector += f"[data-authenticator='{authenticator}']"
    locator = page.locator(selector)
    expect(locator).to_be_visible()
    return locator


@contextlib.contextmanager
def invitee_browser(spa: Spa) -> Iterator[Page]:
    """A second browser context (the invitee's own browser: no admin cookie), watched like the
    test's own pages (console errors, CSP violations, 5xx fail the test)."""
    browser = spa.context.browser
    assert browser is not None
    context = browser.new_context(locale="en-US", viewport={"width": 1280, "height": 860})
    context.add_init_script(CSP_INIT_SCRIPT)
    try:
        page = spa.watch.attach(context.new_page())
        yield page
        spa.watch.collect_dom_violations(page)
    finally:
        with contextlib.suppress(Exception):
            context.close()


def fill_profile(page: Page, email: str, first: str = "Ines", last: str = "Ibarra") -> None:
    page.fill("#f-userProfile-email", email)
    page.fill("#f-userProfile-firstName", first)
    page.fill("#f-userProfile-lastName", last)
    page.click("#signin-submit")


def choose_password(page: Page) -> None:
    card(page, "enroll-authenticator", "okta_password")
    page.fill("#f-new-password", NEW_PASSWORD)
    page.fill("#f-confirm-password", NEW_PASSWORD)
    page.click("#signin-submit")


def signed_in_as(spa: Spa, page: Page, email: str) -> dict[str, Any]:
    spa.ready(page)
    expect(page.locator("#sign-out")).to_be_visible()
    user = spa.fetch_json(page, "/bff/user")
    assert user["status"] == 200 and user["body"]["email"] == email
    body: dict[str, Any] = user["body"]
    return body


def invite(spa: Spa, page: Page, address: str) -> str:
    """The admin screen's Invite: the link it shows to send."""
    page.locator("#invite-email").fill(address)
    page.click("#invite-button")
    expect(page.locator("#invite-issued")).to_contain_text(f"Invitation created for {address}")
    link = page.locator("#invite-link").inner_text()
    assert link.startswith(f"{spa.url}/signin?invitation=")
    return link


def no_code_kept(page: Page, code: str) -> None:
    """The code left the address bar and is in neither storage of the browser."""
    assert "invitation" not in page.url, page.url
    stored = page.evaluate("""() => JSON.stringify([Object.entries(localStorage),
                                                    Object.entries(sessionStorage)])""")
    assert code not in stored


def sign_up_with_code(spa: Spa, page: Page, email: str, locale: str = "en") -> None:
    """From the identify step: "Create an account", the profile, the email code, a password."""
    sent = len(spa.okta.idx.outbox)
    card(page, "identify")
    page.click("#signup-link")
    card(page, "enroll-profile")
    expect(page.locator("h1")).to_have_text(copy("signin", "step.enroll-profile.title", locale))
    expect(page.locator("label[for='f-userProfile-email']")).to_have_text(
        copy("signin", "field.userProfile.email.label", locale))
    page.fill("#f-userProfile-email", email)
    page.fill("#f-userProfile-firstName", "Pia")
    page.fill("#f-userProfile-lastName", "Park")
    page.click("#signin-submit")
    card(page, "enroll-authenticator", "okta_email")
    page.fill("#f-code", spa.outbox(email, after=sent)["code"])
    page.click("#signin-submit")
    choose_password(page)
    page.wait_for_url(spa.url + "/")
    signed_in_as(spa, page, email)


# -- invitations ---------------------------------------------------------------------------------


def test_an_invitee_opens_the_link_signs_up_and_lands_in_the_organisation(spa: Spa) -> None:
    invitee = f"ines.{uuid.uuid4().hex[:8]}@example.test"
    admin = spa.open_admin("alice@acme.test")
    link = invite(spa, admin, invitee)
    code = link.rpartition("=")[2]
    spa.shot("invitation-link", admin)

    with invitee_browser(spa) as page:
        sent = len(spa.okta.idx.outbox)
        page.goto(link)
        spa.ready(page)
        # straight to the sign-up form, the code out of the address bar and of storage
        card(page, "enroll-profile")
        no_code_kept(page, code)
        spa.shot("invitation-enroll-profile", page)

        fill_profile(page, f"other.{uuid.uuid4().hex[:8]}@example.test")  # not the invited address
        expect(page.locator("#signin-errors")).to_contain_text(copy("signup", "error.invitationCode.email"))
        card(page, "enroll-profile")
        assert spa.okta.directory.user(invitee) is None
        spa.shot("invitation-other-address", page)

        fill_profile(page, invitee)
        card(page, "enroll-authenticator", "okta_email")
        page.fill("#f-code", spa.outbox(invitee, after=sent)["code"])
        page.click("#signin-submit")
        choose_password(page)
        page.wait_for_url(spa.url + "/")
        signed_in_as(spa, page, invitee)
        no_code_kept(page, code)

    user = spa.okta.directory.user(invitee)
    assert user is not None and user.status == "ACTIVE"
    assert user.profile.get("orgId") == "acme"
    # the org admin sees the new member, and the invitation used
    admin.goto(spa.url + "/admin/users")
    spa.ready(admin)
    expect(admin.locator(f"#users-table tr[data-user='{invitee}']")).to_have_count(1)
    expect(admin.locator(f"#invitations-table tr[data-invitation='{invitee}']")).to_contain_text("Used")
    spa.shot("invitation-member", admin)

    # the same link again: already used, said on a plain sign-in
    with invitee_browser(spa) as again:
        again.goto(link)
        spa.ready(again)
        card(again, "identify")
        expect(again.locator("#signin-errors")).to_contain_text(copy("signup", "error.invitationCode.used"))
        no_code_kept(again, code)


def test_a_revoked_invitation_link_says_so_in_every_locale(spa: Spa) -> None:
    invitee = f"rex.{uuid.uuid4().hex[:8]}@example.test"
    admin = spa.open_admin("alice@acme.test")
    link = invite(spa, admin, invitee)
    row = admin.locator(f"#invitations-table tr[data-invitation='{invitee}']")
    row.get_by_role("button", name="Revoke").click()
    admin.click("#confirm-yes")
    expect(row).to_contain_text("Revoked")

    with invitee_browser(spa) as page:
        page.goto(link)
        spa.ready(page)
        card(page, "identify")  # a plain sign-in, with the reason above it
        expect(page.locator("#signin-errors")).to_contain_text(copy("signup", "error.invitationCode.revoked"))
        no_code_kept(page, link.rpartition("=")[2])
        spa.shot("invitation-revoked", page)
        for locale in ("fr", "de", "es", "ja"):
            page.context.add_cookies([{"name": "bff_locale", "value": locale, "url": spa.url}])
            page.goto(link)
            spa.ready(page)
            card(page, "identify")
            text = copy("signup", "error.invitationCode.revoked", locale)
            assert text != copy("signup", "error.invitationCode.revoked")
            expect(page.locator("#signin-errors")).to_contain_text(text)
    assert spa.okta.directory.user(invitee) is None


def test_an_unknown_invitation_code_is_refused_before_okta(spa: Spa) -> None:
    page = spa.open("/signin?invitation=not-a-real-code")
    card(page, "identify")
    expect(page.locator("#signin-errors")).to_contain_text(copy("signup", "error.invitationCode.unknown"))
    no_code_kept(page, "not-a-real-code")


# -- the sign-up verified by the email's magic link ------------------------------------------------


def test_a_newcomer_signs_up_by_opening_the_magic_link_in_the_same_browser(spa: Spa) -> None:
    email = f"milo.{uuid.uuid4().hex[:8]}@example.test"
    sent = len(spa.okta.idx.outbox)
    page = spa.open("/")
    card(page, "identify")
    page.click("#signup-link")
    card(page, "enroll-profile")
    fill_profile(page, email, "Milo", "Marsh")
    card(page, "enroll-authenticator", "okta_email")
    expect(page.locator("#signin-magic-link")).to_be_visible()
    link = spa.outbox(email, after=sent)["link"]
    assert link.startswith(spa.url + "/bff/signin/email-callback?")
    user = spa.okta.directory.user(email)
    assert user is not None and user.status != "ACTIVE"  # not before the address is verified
    other = spa.new_page()
    other.goto(link)  # the mail client opens the link in a new tab of the same browser
    spa.ready(other)
    # the address is verified: the sign-up goes on there, at the password
    choose_password(other)
    other.wait_for_url(spa.url + "/")
    signed_in_as(spa, other, email)
    spa.shot("signup-magic-link-landed", other)
    user = spa.okta.directory.user(email)
    assert user is not None and user.status == "ACTIVE"
    # the tab that asked for the code follows, signed in
    page.wait_for_url(spa.url + "/")
    signed_in_as(spa, page, email)


# -- progressive profiling ---------------------------------------------------------------------


def sign_out_and_in_again(spa: Spa, page: Page, email: str) -> None:
    page.click("#sign-out")
    spa.ready(page)
    card(page, "identify")
    spa.identify(page, email)
    card(page, "challenge-authenticator", "okta_password")
    page.fill("#f-password", NEW_PASSWORD)
    page.click("#signin-submit")


def test_the_next_sign_in_asks_for_the_rest_of_the_profile(spa: Spa) -> None:
    email = f"paz.{uuid.uuid4().hex[:8]}@example.test"
    page = spa.open("/")
    sign_up_with_code(spa, page, email)
    sign_out_and_in_again(spa, page, email)

    card(page, "profile-update")
    expect(page.locator("h1")).to_have_text(copy("signin", "step.profile-update.title"))
    for name in ("company", "title", "mobilePhone", "countryCode"):
        expect(page.locator(f"#f-userProfile-{name}")).to_be_visible()
    expect(page.locator("#signin-skip")).to_have_text(copy("signin", "action.skip.profile-update"))
    expect(page.locator("#signin-card")).not_to_contain_text(copy("signin", "signedOut.body"))
    # the profile screen's hints (profile copy)
    expect(page.locator("#signin-card")).to_contain_text(copy("profile", "field.mobilePhone.hint"))
    spa.shot("profile-update", page)
    page.fill("#f-userProfile-company", "Acme Corp")
    page.fill("#f-userProfile-title", "Buyer")
    page.fill("#f-userProfile-mobilePhone", "call me maybe")
    page.fill("#f-userProfile-countryCode", "X1")
    page.click("#signin-submit")
    # the profile screen's rules and words (the profile copy), before anything is sent
    for name in ("mobilePhone", "countryCode"):
        error = page.locator(f"#f-userProfile-{name}-error")
        expect(error).to_have_text(copy("profile", f"error.{name}.invalid"))
    card(page, "profile-update")
    spa.shot("profile-update-errors", page)
    user = spa.okta.directory.user(email)
    assert user is not None and "company" not in user.profile
    page.fill("#f-userProfile-mobilePhone", "+44 20 7946 0107")
    page.fill("#f-userProfile-countryCode", "")  # left out: not sent
    page.click("#signin-submit")
    page.wait_for_url(spa.url + "/")
    signed_in_as(spa, page, email)

    user = spa.okta.directory.user(email)
    assert user is not None
    assert (user.profile.get("company"), user.profile.get("title"), user.profile.get("mobilePhone")) == (
        "Acme Corp", "Buyer", "+44 20 7946 0107")
    assert not user.profile.get("countryCode")
    page.click("nav.main-nav a[href='/profile']")
    expect(page.locator("#f-company")).to_have_value("Acme Corp")
    expect(page.locator("#f-title")).to_have_value("Buyer")
    expect(page.locator("#f-mobilePhone")).to_have_value("+44 20 7946 0107")


def test_the_profile_step_can_be_skipped(spa: Spa) -> None:
    email = f"sky.{uuid.uuid4().hex[:8]}@example.test"
    page = spa.open("/")
    sign_up_with_code(spa, page, email)
    sign_out_and_in_again(spa, page, email)
    card(page, "profile-update")
    page.fill("#f-userProfile-company", "Not sent")
    page.click("#signin-skip")
    page.wait_for_url(spa.url + "/")
    signed_in_as(spa, page, email)
    user = spa.okta.directory.user(email)
    assert user is not None and not user.profile.get("company")


@pytest.mark.parametrize("locale", ["fr", "fr-CA", "de", "es", "ja"])
def test_the_sign_up_and_profile_steps_in_each_language(spa: Spa, locale: str) -> None:
    """Every locale the project ships: the steps' titles, labels, hints, checks and skip in its
    copy (fr-CA: its overrides, then fr), not English."""
    spa.context.add_cookies([{"name": "bff_locale", "value": locale, "url": spa.url}])
    email = f"lou.{uuid.uuid4().hex[:8]}@example.test"
    page = spa.open("/")
    expect(page.locator("html")).to_have_attribute("lang", locale)
    sign_up_with_code(spa, page, email, locale)
    sign_out_and_in_again(spa, page, email)
    card(page, "profile-update")
    expect(page.locator("h1")).to_have_text(copy("signin", "step.profile-update.title", locale))
    label = copy("signin", "field.userProfile.company.label", locale)
    assert label != copy("signin", "field.userProfile.company.label")
    expect(page.locator("label[for='f-userProfile-company']")).to_contain_text(label)
    expect(page.locator("#signin-card")).to_contain_text(copy("profile", "field.mobilePhone.hint", locale))
    page.fill("#f-userProfile-mobilePhone", "call me maybe")
    page.click("#signin-submit")
    text = copy("profile", "error.mobilePhone.invalid", locale)
    assert text != copy("profile", "error.mobilePhone.invalid")
    expect(page.locator("#f-userProfile-mobilePhone-error")).to_have_text(text)
    spa.shot(f"profile-update-{locale}", page)
    skip = page.locator("#signin-skip")
    expect(skip).to_have_text(copy("signin", "action.skip.profile-update", locale))
    skip.click()
    page.wait_for_url(spa.url + "/")
    signed_in_as(spa, page, email)
