"""Fixtures of the browser tests: one local stack and one Chromium per session, a fresh
browser context per test (``spa``), and the checks every test gets for free: no console
errors, no uncaught exceptions, no CSP violations (in the page and at /bff/csp-report), no 5xx
from the BFF."""

from __future__ import annotations

import contextlib
import re
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


@pytest.fixture(scope="package")
def stack_thread(tmp_path_factory: pytest.TempPathFactory) -> Iterator[StackThread]:
    thread = StackThread(tmp_path_factory.mktemp("e2e-stack"))
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
        """The whole flow: SPA sign-in screen → BFF → Okta twin's form → back, signed in."""
        page = self.open(path, page)
        page.fill("#f-email", email)
        page.click("#signin-submit")
        self.okta_form(page, email)
        self.ready(page)
        return page

    def okta_form(self, page: Page, email: str) -> None:
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
        """From the admin screen's prompt: the step-up login (the twin may remember the user)."""
        page.click("#stepup-button")
        page.wait_for_url(re.compile(r".*(/signin|/bff/callback|/admin|/\?auth_error).*|.*oauth2.*"))
        if not page.url.startswith(self.url):
            password = page.locator("#okta-signin-password")
            password.wait_for(timeout=10_000)
            self.okta_form(page, email)
        page.wait_for_url(re.compile(re.escape(self.url) + r"/(admin|\?).*"))
        self.ready(page)

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
def spa(stack: StackInfo, browser: Browser, csp_reports: CspReportCapture,
        request: pytest.FixtureRequest) -> Iterator[Spa]:
    context = browser.new_context(locale="en-US", viewport={"width": 1280, "height": 860})
    context.add_init_script(CSP_INIT_SCRIPT)
    helper = Spa(stack=stack, context=context, test_name=request.node.name, watch=PageWatch(origin=stack.url))
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
