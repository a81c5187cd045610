"""The SPA's own sign-in screens (BFF_SIGNIN_MODE=embedded) for every seeded journey of the
Okta twin, in Chromium: each screen photographed, no console errors, no CSP violations (the
``spa`` fixture checks both after every test).

Journeys that change a seeded user (a reset or renewed password, an enrolled authenticator, a
lockout) put the twin back as it was when they end, so the tier can share one stack."""

from __future__ import annotations

import json
import re
import time
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pyotp
import pytest
from playwright.sync_api import Page, expect

from bff.settings import REPO_ROOT
from tests.e2e.conftest import Spa
from tests.e2e.harness import PASSWORD

pytestmark = pytest.mark.e2e

COPY = REPO_ROOT / "content" / "copy"


def copy(locale: str, key: str, **params: object) -> str:
    """The bundled signin copy of ``locale`` (fr-CA falls back to fr, then en), as the SPA shows it."""
    chain = {"fr-CA": ["fr-CA", "fr", "en"]}.get(locale, [locale, "en"])
    for loc in chain:
        strings = json.loads((COPY / loc / "signin.json").read_text("utf-8"))
        if key in strings:
            text: str = strings[key]
            for name, value in params.items():
                text = text.replace("{" + name + "}", str(value))
            return text
    raise KeyError(key)


def card(page: Page, step: str, authenticator: str | None = None) -> Any:
    selector = f"#signin-card[data-step='{step}'][aria-busy=false]"
    if authenticator is not None:
        selector += f"[data-authenticator='{authenticator}']"
    locator = page.locator(selector)
    expect(locator).to_be_visible()
    return locator


def signed_in_as(spa: Spa, page: Page, email: str) -> None:
    spa.ready(page)
    expect(page.locator("#sign-out")).to_be_visible()
    user = spa.fetch_json(page, "/bff/user")
    assert user["status"] == 200 and user["body"]["email"] == email


@pytest.fixture
def restore(spa: Spa) -> Iterator[Callable[[Callable[[Any], None]], None]]:
    """Register a change to undo on the twin (run on the stack's loop) when the test ends."""
    undo: list[Callable[[Any], None]] = []
    yield undo.append

    async def run(fn: Callable[[Any], None]) -> None:
        fn(spa.okta)

    thread = spa.stack_thread
    assert thread is not None
    for fn in undo:
        thread.call(run(fn))


def reset_password(login: str) -> Callable[[Any], None]:
    def undo(okta: Any) -> None:
        user = okta.directory.user(login)
        okta.directory.set_password(user, PASSWORD, okta.now())
    return undo


# -- password ---------------------------------------------------------------------------------


def test_bob_signs_in_with_his_password_and_a_wrong_one_is_said_on_the_field(spa: Spa) -> None:
    page = spa.open("/")
    identify = card(page, "identify")
    expect(page.locator("h1")).to_have_text("Sign in")
    expect(page.locator("#f-identifier")).to_be_focused()  # the first field
    expect(page.locator("#f-identifier")).to_have_attribute("autocomplete", "username")
    expect(identify.locator("#f-rememberMe")).to_have_count(1)  # Okta offers rememberMe
    expect(page.locator("#signin-unlock")).to_be_visible()
    spa.shot("identify")
    page.click("#signin-submit")  # nothing typed: said at the field, nothing sent
    expect(page.locator("#f-identifier-error")).to_have_text("Enter your email address.")
    expect(page.locator("#f-identifier")).to_have_attribute("aria-invalid", "true")
    expect(page.locator("#f-identifier")).to_be_focused()

    page.fill("#f-identifier", "bob@acme.test")
    page.click("#signin-submit")
    card(page, "challenge-authenticator", "okta_password")
    expect(page.locator("h1")).to_have_text("Enter your password")
    expect(page.locator("#signin-as")).to_have_text("Signing in as bob@acme.test")
    expect(page.locator("#f-password")).to_be_focused()
    expect(page.locator("#f-password")).to_have_attribute("autocomplete", "current-password")
    spa.shot("password")

    page.fill("#f-password", "not-his-password")
    page.click("#signin-submit")
    error = page.locator("#f-password-error")
    expect(error).to_have_text(copy("en", "okta.incorrectPassword"))
    expect(page.locator("#f-password")).to_have_attribute("aria-invalid", "true")
    described = page.locator("#f-password").get_attribute("aria-describedby") or ""
    assert "f-password-error" in described.split()
    expect(page.locator("#f-password")).to_be_focused()  # focus goes to the first error
    expect(page.locator("#f-password")).to_have_value("")  # a refused secret is not kept
    assert "Password is incorrect" not in page.content()  # never Okta's own words
    spa.shot("password-wrong")

    page.fill("#f-password", PASSWORD)
    page.click("#signin-submit")
    page.wait_for_url(spa.url + "/")
    signed_in_as(spa, page, "bob@acme.test")
    expect(page.locator("h1")).to_have_text("Welcome, Bob Brown")
    spa.shot("home")


def test_reload_redraws_the_step_and_back_returns_to_the_identifier(spa: Spa) -> None:
    page = spa.open("/signin?returnTo=%2Fprofile")
    card(page, "identify")
    spa.identify(page, "bob@acme.test")
    card(page, "challenge-authenticator", "okta_password")
    box = page.locator("#signin-card").bounding_box()
    page.reload()
    spa.ready(page)
    card(page, "challenge-authenticator", "okta_password")  # GET /bff/signin: the same step
    again = page.locator("#signin-card").bounding_box()
    assert box is not None and again is not None
    assert (box["width"], box["height"]) == (again["width"], again["height"])  # no layout shift
    page.go_back()
    card(page, "identify")  # Okta does not go back: the identifier again, kept
    expect(page.locator("#f-identifier")).to_have_value("bob@acme.test")
    identify = page.locator("#signin-card").bounding_box()
    assert identify is not None and (identify["width"], identify["height"]) == (box["width"], box["height"])
    page.click("#signin-submit")
    spa.finish_sign_in(page, "bob@acme.test")
    expect(page).to_have_url(spa.url + "/profile")


# -- email ------------------------------------------------------------------------------------


def test_dave_signs_in_with_the_code_from_his_email(spa: Spa) -> None:
    sent = len(spa.okta.idx.outbox)
    page = spa.open("/")
    spa.identify(page, "dave@acme.test")
    card(page, "challenge-authenticator", "okta_email")
    expect(page.locator("h1")).to_have_text("Check your email")
    expect(page.locator("#signin-code-where")).to_contain_text("d***e@a***e.test")  # as Okta masks it
    expect(page.locator("#signin-magic-link")).to_be_visible()
    expect(page.locator("#f-code")).to_have_attribute("autocomplete", "one-time-code")
    expect(page.locator("#f-code")).to_have_attribute("inputmode", "numeric")
    resend = page.locator("#signin-resend")
    expect(resend).to_be_disabled()  # the cool-down: the code was just sent
    expect(resend).to_have_text(re.compile(r"Send a new code in \d+ s"))
    spa.shot("email-code")
    page.fill("#f-code", "000000")
    page.click("#signin-submit")
    expect(page.locator("#f-code-error")).to_have_text(copy("en", "okta.api.authn.error.PASSCODE_INVALID"))
    page.fill("#f-code", spa.outbox("dave@acme.test", after=sent)["code"])
    page.click("#signin-submit")
    page.wait_for_url(spa.url + "/")
    signed_in_as(spa, page, "dave@acme.test")


def test_dave_signs_in_by_opening_the_magic_link_in_the_same_browser(spa: Spa) -> None:
    sent = len(spa.okta.idx.outbox)
    page = spa.open("/signin?returnTo=%2Fprofile")
    spa.identify(page, "dave@acme.test")
    card(page, "challenge-authenticator", "okta_email")
    link = spa.outbox("dave@acme.test", after=sent)["link"]
    assert link.startswith(spa.url + "/bff/signin/email-callback?")
    other = spa.new_page()
    other.goto(link)  # the mail client opens the link in a new tab of the same browser
    other.wait_for_url(spa.url + "/profile")
    signed_in_as(spa, other, "dave@acme.test")
    spa.shot("magic-link-landed", other)
    # The tab that asked for the code hears of it and goes where it was going.
    page.wait_for_url(spa.url + "/profile")
    signed_in_as(spa, page, "dave@acme.test")


# -- TOTP -------------------------------------------------------------------------------------


def test_alice_signs_in_with_her_authenticator_app(spa: Spa) -> None:
    page = spa.open("/")
    spa.identify(page, "alice@acme.test")
    card(page, "challenge-authenticator", "okta_password")
    page.fill("#f-password", PASSWORD)
    page.click("#signin-submit")
    card(page, "challenge-authenticator", "google_otp")
    expect(page.locator("h1")).to_have_text("Enter the code from your authenticator app")
    expect(page.locator("#f-code")).to_be_focused()
    spa.shot("totp")
    page.fill("#f-code", spa.totp("alice@acme.test"))
    page.click("#signin-submit")
    page.wait_for_url(spa.url + "/")
    signed_in_as(spa, page, "alice@acme.test")


def test_erin_enrols_an_authenticator_app_from_the_qr_screen(spa: Spa, restore: Any) -> None:
    restore(lambda okta: okta.idx.factors.pop(okta.directory.user("erin@acme.test").id, None))
    page = spa.open("/")
    spa.identify(page, "erin@acme.test")
    card(page, "challenge-authenticator", "okta_password")
    page.fill("#f-password", PASSWORD)
    page.click("#signin-submit")
    select = card(page, "select-authenticator-enroll")
    expect(page.locator("h1")).to_have_text("Set up a second way to verify")
    expect(page.locator("#signin-skip")).to_be_visible()  # the grace period
    spa.shot("select-enroll")
    select.locator("button[data-choice=google_otp]").click()

    enroll = card(page, "enroll-authenticator", "google_otp")
    expect(page.locator("h1")).to_have_text("Set up an authenticator app")
    qr = enroll.locator("svg#totp-qr")
    expect(qr).to_have_attribute("role", "img")
    expect(qr).to_have_attribute("aria-label", "QR code for setting up your authenticator app")
    modules = int(qr.get_attribute("data-modules") or "0")
    assert modules >= 21 and (modules - 17) % 4 == 0  # a real QR version's size
    assert len(qr.locator("path").get_attribute("d") or "") > 1000
    secret = (page.locator("#totp-secret").text_content() or "").replace(" ", "")
    assert re.fullmatch(r"[A-Z2-7]{16,}", secret)
    spa.shot("enroll-totp")
    page.fill("#f-code", pyotp.TOTP(secret).now())
    page.click("#signin-submit")
    page.wait_for_url(spa.url + "/")
    signed_in_as(spa, page, "erin@acme.test")
    assert spa.okta.idx.totp_secret("erin@acme.test") == secret  # what the page showed is enrolled


def test_erin_skips_the_enrollment_while_the_grace_period_lasts(spa: Spa) -> None:
    page = spa.open("/")
    spa.identify(page, "erin@acme.test")
    card(page, "challenge-authenticator", "okta_password")
    page.fill("#f-password", PASSWORD)
    page.click("#signin-submit")
    card(page, "select-authenticator-enroll")
    page.click("#signin-skip")
    page.wait_for_url(spa.url + "/")
    signed_in_as(spa, page, "erin@acme.test")
    assert spa.okta.idx.totp_secret("erin@acme.test") is None


# -- recovery, lockout, expired, suspended ----------------------------------------------------------


def test_bob_resets_a_forgotten_password(spa: Spa, restore: Any) -> None:
    restore(reset_password("bob@acme.test"))
    sent = len(spa.okta.idx.outbox)
    page = spa.open("/")
    spa.identify(page, "bob@acme.test")
    card(page, "challenge-authenticator", "okta_password")
    page.click("#signin-recover")
    card(page, "challenge-authenticator", "okta_email")
    spa.shot("recovery-code")
    page.fill("#f-code", spa.outbox("bob@acme.test", after=sent)["code"])
    page.click("#signin-submit")
    card(page, "reset-authenticator", "okta_password")
    expect(page.locator("h1")).to_have_text("Choose a new password")
    expect(page.locator("#f-new-password")).to_have_attribute("autocomplete", "new-password")
    rules = page.locator("#password-rules")
    expect(rules.locator("#rule-minLength")).to_have_attribute("data-met", "false")
    page.locator("#f-new-password").press_sequentially("Abcdefg1")  # live hints, as typed
    expect(rules.locator("#rule-minLength")).to_have_attribute("data-met", "true")
    expect(rules.locator("#rule-minUpperCase")).to_have_attribute("data-met", "true")
    spa.shot("reset-password")
    page.fill("#f-new-password", "")
    page.fill("#f-new-password", "Fresh-Start-42")
    page.fill("#f-confirm-password", "Fresh-Start-43")
    page.click("#signin-submit")
    expect(page.locator("#f-confirm-password-error")).to_have_text(copy("en", "error.password.mismatch"))
    page.fill("#f-confirm-password", "Fresh-Start-42")
    page.click("#signin-submit")
    page.wait_for_url(spa.url + "/")
    signed_in_as(spa, page, "bob@acme.test")


def test_a_recovery_link_opened_in_a_new_tab_goes_on_there(spa: Spa, restore: Any) -> None:
    restore(reset_password("bob@acme.test"))
    sent = len(spa.okta.idx.outbox)
    page = spa.open("/")
    spa.identify(page, "bob@acme.test")
    card(page, "challenge-authenticator", "okta_password")
    page.click("#signin-recover")
    card(page, "challenge-authenticator", "okta_email")
    other = spa.new_page()
    other.goto(spa.outbox("bob@acme.test", after=sent)["link"])
    other.wait_for_url(spa.url + "/signin")  # the code was applied; the next step is here
    spa.ready(other)
    card(other, "reset-authenticator", "okta_password")
    other.fill("#f-new-password", "Linked-Reset-5")
    other.fill("#f-confirm-password", "Linked-Reset-5")
    other.click("#signin-submit")
    other.wait_for_url(spa.url + "/")
    signed_in_as(spa, other, "bob@acme.test")


def test_hana_locks_herself_out_then_unlocks_by_email(spa: Spa, restore: Any) -> None:
    def unlock(okta: Any) -> None:
        user = okta.directory.user("hana@acme.test")
        okta.idx.locked.discard(user.id)
        okta.idx.failed_passwords.pop(user.id, None)
    restore(unlock)
    page = spa.open("/")
    spa.identify(page, "hana@acme.test")
    for _ in range(spa.okta.idx.lockout_attempts):
        card(page, "challenge-authenticator", "okta_password")
        page.fill("#f-password", "wrong-password")
        page.click("#signin-submit")
        expect(page.locator("#f-password-error")).to_be_visible()
    page.fill("#f-password", PASSWORD)  # even the right one: the factor is locked now
    page.click("#signin-submit")
    expect(page.locator("#f-password-error")).to_have_text(
        copy("en", "okta.authfactor.challenge.suspended_factor"))
    spa.shot("locked-out")

    page.click("#signin-cancel")
    card(page, "identify")
    page.click("#signin-unlock")
    unlock_step = card(page, "select-authenticator-unlock-account")
    expect(page.locator("h1")).to_have_text("Unlock your account")
    sent = len(spa.okta.idx.outbox)
    page.fill("#f-identifier", "hana@acme.test")
    spa.shot("unlock")
    unlock_step.locator("button[data-choice=okta_email]").click()
    card(page, "challenge-authenticator", "okta_email")
    page.fill("#f-code", spa.outbox("hana@acme.test", after=sent)["code"])
    page.click("#signin-submit")
    done = card(page, "terminal")
    expect(page.locator("h1")).to_have_text("Done")
    expect(done.locator("#signin-terminal")).to_have_text(
        copy("en", "okta.oie.selfservice.unlock_user.success.message"))
    spa.shot("unlocked")
    page.click("#signin-start-again")
    spa.identify(page, "hana@acme.test")
    spa.finish_sign_in(page, "hana@acme.test")
    signed_in_as(spa, page, "hana@acme.test")


def test_hana_reads_the_lockout_notice_on_the_dev_mail_page_and_unlocks_from_its_link(
        spa: Spa, restore: Any) -> None:
    def unlock(okta: Any) -> None:
        user = okta.directory.user("hana@acme.test")
        okta.idx.locked.discard(user.id)
        okta.idx.failed_passwords.pop(user.id, None)
    restore(unlock)
    page = spa.open("/")

    def notices() -> list[dict[str, str]]:
        answer = page.request.get(spa.url + "/__dev/mail", headers={"Accept": "application/json"})
        assert answer.ok, answer.text()
        return [m for m in answer.json() if "hana@acme.test" in m["to"]
                and m["subject"] == "Your Customer Portal account is locked"]

    before = len(notices())
    spa.identify(page, "hana@acme.test")
    for _ in range(spa.okta.idx.lockout_attempts):
        card(page, "challenge-authenticator", "okta_password")
        page.fill("#f-password", "wrong-password")
        page.click("#signin-submit")
        expect(page.locator("#f-password-error")).to_be_visible()
    # Okta's user.account.lock → the event hook → the outbox → SNS → account_notices → SES
    deadline = time.monotonic() + 45
    while len(notices()) == before and time.monotonic() < deadline:
        time.sleep(0.5)
    mails = notices()
    assert len(mails) == before + 1, "no lockout notice on the dev mail page"
    page.goto(spa.url + "/__dev/mail")
    expect(page.locator("body")).to_contain_text("Your Customer Portal account is locked")
    spa.shot("lockout-notice")
    link = re.search(r"https?://\S+/signin\?unlock=1", mails[-1]["text"])
    assert link, mails[-1]

    page.goto(link.group(0))  # the email's link: straight to the unlock journey
    unlock_step = card(page, "select-authenticator-unlock-account")
    expect(page.locator("h1")).to_have_text("Unlock your account")
    sent = len(spa.okta.idx.outbox)
    page.fill("#f-identifier", "hana@acme.test")
    unlock_step.locator("button[data-choice=okta_email]").click()
    card(page, "challenge-authenticator", "okta_email")
    page.fill("#f-code", spa.outbox("hana@acme.test", after=sent)["code"])
    page.click("#signin-submit")
    card(page, "terminal")
    expect(page.locator("h1")).to_have_text("Done")
    page.click("#signin-start-again")
    spa.identify(page, "hana@acme.test")
    spa.finish_sign_in(page, "hana@acme.test")
    signed_in_as(spa, page, "hana@acme.test")


def test_frank_chooses_a_new_password_when_his_has_expired(spa: Spa, restore: Any) -> None:
    def expire(okta: Any) -> None:
        user = okta.directory.user("frank@acme.test")
        okta.directory.set_password(user, PASSWORD, okta.now())
        okta.idx.expired_passwords.add(user.id)
    restore(expire)
    page = spa.open("/")
    spa.identify(page, "frank@acme.test")
    card(page, "challenge-authenticator", "okta_password")
    page.fill("#f-password", PASSWORD)
    page.click("#signin-submit")
    card(page, "reenroll-authenticator", "okta_password")
    expect(page.locator("h1")).to_have_text("Your password has expired")
    for rule in ("minLength", "minLowerCase", "minUpperCase", "minNumber", "excludeUsername",
                 "maxConsecutiveRepeatingCharacters"):
        expect(page.locator(f"#rule-{rule}")).to_have_count(1)  # the policy's complexity, shown
    page.fill("#f-new-password", "frank-forever")  # checked before anything is sent
    page.fill("#f-confirm-password", "frank-forever")
    page.click("#signin-submit")
    expect(page.locator("#f-new-password-error")).to_have_text(copy("en", "error.password.rules"))
    expect(page.locator("#rule-excludeUsername")).to_have_attribute("data-met", "false")
    spa.shot("expired-password")
    page.fill("#f-new-password", "Renewed-Pass-7")
    page.fill("#f-confirm-password", "Renewed-Pass-7")
    page.click("#signin-submit")
    page.wait_for_url(spa.url + "/")
    signed_in_as(spa, page, "frank@acme.test")


def test_ivan_is_suspended_and_told_so_without_a_session(spa: Spa) -> None:
    page = spa.open("/")
    spa.identify(page, "ivan@acme.test")
    card(page, "challenge-authenticator", "okta_password")
    page.fill("#f-password", PASSWORD)
    page.click("#signin-submit")
    done = card(page, "terminal")
    expect(page.locator("h1")).to_have_text(copy("en", "step.terminal.title"))
    expect(done.locator("#signin-terminal")).to_have_text(copy("en", "okta.errors.E0000004"))
    assert "Authentication failed" not in page.content()
    expect(page.locator("#signin-start-again")).to_be_focused()
    spa.shot("suspended")
    assert spa.fetch_json(page, "/bff/user")["status"] == 401
    page.click("#signin-start-again")
    card(page, "identify")


def test_a_newcomer_signs_up_from_the_sign_in_screen(spa: Spa) -> None:
    """Okta's profile enrollment (docs/signup.md), on the same step screens."""
    email = f"nia.{uuid.uuid4().hex[:8]}@example.test"
    sent = len(spa.okta.idx.outbox)
    page = spa.open("/")
    card(page, "identify")
    page.click("#signup-link")
    profile = card(page, "enroll-profile")
    expect(page.locator("h1")).to_have_text(copy("en", "step.enroll-profile.title"))
    expect(page.locator("#f-userProfile-email")).to_be_focused()
    page.fill("#f-userProfile-email", "not-an-email")
    page.fill("#f-userProfile-firstName", "Nia")
    page.fill("#f-userProfile-lastName", "Okafor")
    page.click("#signin-submit")  # the BFF's sign-up rules first: 422, the signup copy
    expect(page.locator("#f-userProfile-email-error")).to_be_visible()
    expect(page.locator("#f-userProfile-email")).to_be_focused()
    spa.shot("enroll-profile-error")
    page.fill("#f-userProfile-email", email)
    page.click("#signin-submit")
    expect(profile).to_have_count(0)
    card(page, "enroll-authenticator", "okta_email")
    page.fill("#f-code", spa.outbox(email, after=sent)["code"])
    page.click("#signin-submit")
    card(page, "enroll-authenticator", "okta_password")
    spa.shot("enroll-password")
    page.fill("#f-new-password", "Correct-Horse-9")
    page.fill("#f-confirm-password", "Correct-Horse-9")
    page.click("#signin-submit")
    page.wait_for_url(spa.url + "/")
    signed_in_as(spa, page, email)


# -- step-up, locales, tabs ------------------------------------------------------------------------


def test_alice_steps_up_to_the_admin_area_with_her_authenticator_app(spa: Spa) -> None:
    page = spa.sign_in("alice@acme.test")
    page.click("#go-admin")
    expect(page.locator("#admin-stepup h1")).to_have_text("Confirm it's you")
    page.click("#stepup-button")
    expect(page).to_have_url(re.compile(r"/signin\?returnTo=%2Fadmin&scope=admin$"))
    card(page, "challenge-authenticator", "okta_password")  # the identifier is known
    expect(page.locator("h1")).to_have_text("Enter your password")
    spa.shot("stepup-password")
    page.fill("#f-password", PASSWORD)
    page.click("#signin-submit")
    card(page, "challenge-authenticator", "google_otp")
    page.fill("#f-code", spa.totp("alice@acme.test"))
    page.click("#signin-submit")
    page.wait_for_url(spa.url + "/admin")
    spa.ready(page)
    expect(page.locator("h1")).to_have_text("Administration")
    user = spa.fetch_json(page, "/bff/user")["body"]
    assert user["adminRole"] == "org_admin" and "admin" in user["scopes"]


@pytest.mark.parametrize("locale", ["fr", "fr-CA", "de", "es", "ja"])
def test_a_journey_in_each_language(spa: Spa, locale: str) -> None:
    spa.context.add_cookies([{"name": "bff_locale", "value": locale, "url": spa.url}])
    page = spa.open("/")
    expect(page.locator("html")).to_have_attribute("lang", locale)
    card(page, "identify")
    expect(page.locator("h1")).to_have_text(copy(locale, "title"))
    expect(page.locator("label[for=f-identifier]")).to_have_text(copy(locale, "email.label"))
    spa.identify(page, "bob@acme.test")
    card(page, "challenge-authenticator", "okta_password")
    expect(page.locator("h1")).to_have_text(copy(locale, "step.password.title"))
    page.fill("#f-password", "nope")
    page.click("#signin-submit")
    expect(page.locator("#f-password-error")).to_have_text(copy(locale, "okta.incorrectPassword"))
    assert copy(locale, "okta.incorrectPassword") != copy("en", "okta.incorrectPassword")
    spa.shot(f"password-wrong-{locale}")
    page.fill("#f-password", PASSWORD)
    page.click("#signin-submit")
    page.wait_for_url(spa.url + "/")
    signed_in_as(spa, page, "bob@acme.test")


def test_two_tabs_each_run_their_own_sign_in(spa: Spa) -> None:
    first = spa.open("/signin?returnTo=%2Fprofile", spa.new_page())
    second = spa.open("/", spa.new_page())
    spa.identify(first, "bob@acme.test")
    spa.identify(second, "alice@acme.test")
    card(first, "challenge-authenticator", "okta_password")
    card(second, "challenge-authenticator", "okta_password")
    first.fill("#f-password", PASSWORD)
    first.click("#signin-submit")
    first.wait_for_url(spa.url + "/profile")
    signed_in_as(spa, first, "bob@acme.test")
    # The other tab keeps its own sign-in (its own transaction, X-BFF-Signin) and finishes it.
    card(second, "challenge-authenticator", "okta_password")
    second.fill("#f-password", PASSWORD)
    second.click("#signin-submit")
    card(second, "challenge-authenticator", "google_otp")
    second.fill("#f-code", spa.totp("alice@acme.test"))
    with second.expect_navigation(url=spa.url + "/"):
        second.click("#signin-submit")
    signed_in_as(spa, second, "alice@acme.test")


# -- federated, unsupported ----------------------------------------------------------------------


def test_a_federated_user_continues_with_the_redirect_flow(spa: Spa) -> None:
    page = spa.open("/")
    page.fill("#f-identifier", "pat@partner.test")
    with page.expect_navigation(url=re.compile(r".*/oauth2/default/v1/authorize\?.*")):
        page.click("#signin-submit")  # step "redirect": a full navigation to /bff/login
    asked = spa.okta.authorize_requests[-1]
    assert asked["idp"] == "0oapartneridp" and asked["login_hint"] == "pat@partner.test"
    # The twin's hosted page stands in for the partner's IdP.
    page.fill("#okta-signin-username", "gina@acme.test")
    spa.okta_form(page, "gina@acme.test")
    signed_in_as(spa, page, "gina@acme.test")
