"""Fixtures of the browser tests: one local stack and one Chromium per session, a fresh
browser context per test (``spa``), and the checks every test gets for free: no console
errors, no uncaught exceptions, no CSP violations (in the page and at /bff/csp-report), no 5xx
from the BFF.

The stack runs ``BFF_SIGNIN_MODE=embedded`` (the default): ``Spa.sign_in`` goes through the
SPA's own sign-in screens. ``tests/e2e/redirect/`` runs its own stack in ``redirect`` mode for
the redirect flow's screens. Every test signs in from 127.0.0.1, so the stack's sign-in attempt
limits are raised (the limits themselves are tested in tests/integration/signin/)."""

from __future__ import annotations

import contextlib
import re
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pyotp
import pytest
from playwright.sync_api import Browser, BrowserContext, Page, Playwright, expect, sync_playwright

from bff_dev.devstack import StackInfo
from bff_dev.twins.okta.hosted_mfa import hosted_totp_secret
from tests.e2e.harness import (
    CHROMIUM,
    CHROMIUM_ARGS,
    CSP_INIT_SCRIPT,
    PASSWORD,
    CspReportCapture,
    PageWatch,
    StackThread,
    capture_csp_reports,
    screenshot,
)

expect.set_options(timeout=15_000)

#: One browser signs in for every test of the tier: the BFF's attempt limits would trip.
E2E_ENV = {"BFF_SIGNIN_RATE_PER_IP": "100000", "BFF_SIGNIN_RATE_PER_IDENTIFIER": "10000"}


@pytest.fixture(scope="package")
def stack_thread(tmp_path_factory: pytest.TempPathFactory) -> Iterator[StackThread]:
    thread = StackThread(tmp_path_factory.mktemp("e2e-stack"), env_overrides=E2E_ENV)
    thread.start()
    yield thread
    thread.stop()


@pytest.fixture(scope="package")
def stack(stack_thread: StackThread) -> StackInfo:
    assert stack_thread.info is not None
    return stack_thread.info


@pytest.fixture(scope="package")
def playwright() -> Iterator[Playwright]:
    with sync_playwright() as p:
        yield p


@pytest.fixture(scope="package")
def browser(playwright: Playwright) -> Iterator[Browser]:
    assert CHROMIUM.exists(), f"{CHROMIUM} is missing: apt-get install chromium"
    browser = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
    yield browser
    browser.close()


@pytest.fixture
def csp_reports() -> Iterator[CspReportCapture]:
    with capture_csp_reports() as capture:
        yield capture


@dataclass
class Spa:
    """A browser context on the local stack, with helpers for the SPA's screens."""

    stack: StackInfo
    context: BrowserContext
    test_name: str
    watch: PageWatch
    stack_thread: StackThread | None = None  # to change the twin's state on its loop
    pages: list[Page] = field(default_factory=list)

    @property
    def url(self) -> str:
        return self.stack.url

    def new_page(self) -> Page:
        page = self.watch.attach(self.context.new_page())
        self.pages.append(page)
        return page

    @property
    def page(self) -> Page:
        return self.pages[0] if self.pages else self.new_page()

    def open(self, path: str = "/", page: Page | None = None) -> Page:
        page = page or self.page
        page.goto(self.url + path)
        self.ready(page)
        return page

    @staticmethod
    def ready(page: Page) -> None:
        expect(page.locator("html")).to_have_attribute("data-ready", "true")

    def sign_in(self, email: str, *, page: Page | None = None, path: str = "/") -> Page:
        """The whole embedded flow through the SPA's screens: identifier, password, and the
        second factor the twin's policy asks for (TOTP from the twin's secret; an offered
        enrollment is skipped). Ends on ``returnTo``, signed in."""
        page = self.open(path, page)
        self.identify(page, email)
        self.finish_sign_in(page, email)
        return page

    def identify(self, page: Page, email: str) -> None:
        expect(page.locator("#signin-card[data-step=identify]")).to_be_visible()
        page.fill("#f-identifier", email)
        page.click("#signin-submit")

    def step_of(self, page: Page) -> str:
        """The step the sign-in card shows, once it is not busy (``data-step``)."""
        expect(page.locator("#signin-card[aria-busy=false]")).to_have_count(1)
        return page.locator("#signin-card").get_attribute("data-step") or ""

    def totp(self, email: str) -> str:
        secret = self.okta.idx.totp_secret(email)
        assert secret, f"{email} has no TOTP secret in the twin"
        return pyotp.TOTP(secret).now()

    def finish_sign_in(self, page: Page, email: str, *, password: str = PASSWORD) -> None:
        """From the step after the identifier to the signed-in page: the password, a TOTP or
        email code as the twin's policy asks, an offered enrollment skipped."""
        answered: tuple[str, str] | None = None
        for _ in range(20):
            signed_in = page.locator("body:not(:has(#signin-card)) #sign-out")
            card = page.locator("#signin-card[aria-busy=false]")
            expect(signed_in.or_(card).first).to_be_visible()
            if signed_in.count():
                break
            step = card.get_attribute("data-step") or ""
            auth = card.get_attribute("data-authenticator") or ""
            if answered == (step, auth):  # the same step again: it refused the answer
                raise AssertionError(f"sign_in({email}) stuck on {step}: {card.inner_text()}")
            if step == "select-authenticator-enroll" and page.locator("#signin-skip").count():
                page.click("#signin-skip")
            elif page.locator("#f-password").count():
                page.fill("#f-password", password)
                page.click("#signin-submit")
            elif page.locator("#f-code").count() and auth == "google_otp":
                page.fill("#f-code", self.totp(email))
                page.click("#signin-submit")
            elif page.locator("#f-code").count() and auth == "okta_email":
                page.fill("#f-code", self.outbox(email)["code"])
                page.click("#signin-submit")
            else:
                raise AssertionError(f"sign_in({email}) does not know the step {step!r}/{auth!r}")
            answered = (step, auth)
            expect(page.locator(f"#signin-card[data-step='{step}'][data-authenticator='{auth}']"
                                "[aria-busy=false]")).to_have_count(0)
        self.ready(page)
        expect(page.locator("#sign-out")).to_be_visible()

    @property
    def okta(self) -> Any:
        """The Okta twin of the stack (seeded users' TOTP secrets, the IDX outbox)."""
        return self.stack.info["okta"]

    def outbox(self, to: str, after: int = 0) -> dict[str, str]:
        """The latest email code / magic link the twin "sent" to ``to`` (after ``after`` mails)."""
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            mails = [m for m in list(self.okta.idx.outbox)[after:] if m["to"] == to]
            if mails:
                return dict(mails[-1])
            time.sleep(0.05)
        raise AssertionError(f"no sign-in email to {to}")

    def okta_form(self, page: Page, email: str) -> None:
        """The twin's hosted sign-in page (the redirect flow, /bff/login)."""
        page.wait_for_selector("#okta-signin-password")
        username = page.locator("#okta-signin-username")
        if not username.input_value():
            username.fill(email)
        page.fill("#okta-signin-password", PASSWORD)
        otp = page.locator("#okta-signin-otp")
        if otp.count():  # the admin step-up asks Okta for a second factor (acr_values)
            otp.fill(pyotp.TOTP(hosted_totp_secret(username.input_value() or email)).now())
        with page.expect_navigation(url=re.compile(re.escape(self.url) + ".*")):
            page.click("#okta-signin-submit")

    def step_up(self, page: Page, email: str) -> None:
        """From the admin screen's prompt: the embedded step-up (scope=admin): the password and
        the second factor the policy demands for the admin scope."""
        page.click("#stepup-button")
        expect(page).to_have_url(re.compile(r".*/signin\?.*scope=admin.*"))
        # Signed in already (the header's sign-out shows): wait for the step-up's own first step,
        # or finish_sign_in would take the header for "signed in" before the card is drawn.
        expect(page.locator("#signin-card[aria-busy=false]")).to_be_visible()
        self.finish_sign_in(page, email)
        page.wait_for_url(re.compile(re.escape(self.url) + r"/admin.*"))
        self.ready(page)

    def open_admin(self, email: str, page: Page | None = None) -> Page:
        """Signed in as ``email``, through the admin screen's step-up, on /admin."""
        page = self.sign_in(email, page=page)
        page.click("#go-admin")
        expect(page.locator("#admin-stepup h1")).to_have_text("Confirm it's you")
        self.shot(f"stepup-{email.split('@')[0]}", page)
        self.step_up(page, email)
        expect(page.locator("h1")).to_have_text("Administration")
        return page

    def shot(self, screen: str, page: Page | None = None) -> None:
        screenshot(page or self.page, self.test_name, screen)

    def fetch_json(self, page: Page, path: str) -> Any:
        return page.evaluate(
            """async (path) => {
                 const r = await fetch(path, {headers: {Accept: 'application/json'},
                                              credentials: 'same-origin'});
                 return {status: r.status, body: await r.json().catch(() => null)};
               }""", path)


@pytest.fixture
def spa(stack: StackInfo, stack_thread: StackThread, browser: Browser, csp_reports: CspReportCapture,
        request: pytest.FixtureRequest) -> Iterator[Spa]:
    context = browser.new_context(locale="en-US", viewport={"width": 1280, "height": 860})
    context.add_init_script(CSP_INIT_SCRIPT)
    helper = Spa(stack=stack, context=context, test_name=request.node.name, watch=PageWatch(origin=stack.url),
                 stack_thread=stack_thread)
    try:
        yield helper
        for page in helper.pages:
            if not page.is_closed():
                helper.watch.collect_dom_violations(page)
        problems = helper.watch.problems() + [f"CSP report: {r}" for r in csp_reports.records]
        assert not problems, "the pages were not clean:\n" + "\n".join(problems)
    finally:
        with contextlib.suppress(Exception):
            context.close()
