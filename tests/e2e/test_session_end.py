"""Sessions end everywhere when an admin ends them (issue 12, section 1), in Chromium: an org
admin presses "Sign out everywhere" on a user's page; the admin API clears the user's Okta
sessions, the Okta twin's event hook (user.session.clear) ends the BFF sessions, and the user's
open tab notices on its next focus and lands on the sign-in screen with a notice."""

from __future__ import annotations

import time

import pytest
from playwright.sync_api import Browser, expect

from bff_dev.devstack import StackInfo
from tests.e2e.conftest import Spa
from tests.e2e.harness import CSP_INIT_SCRIPT, PageWatch

pytestmark = pytest.mark.e2e


def test_a_users_open_tab_notices_an_admins_revoke(spa: Spa, stack: StackInfo, browser: Browser) -> None:
    # Bob, in his own browser, signed in with the app open.
    context = browser.new_context(locale="en-US", viewport={"width": 1280, "height": 860})
    context.add_init_script(CSP_INIT_SCRIPT)
    bob = Spa(stack=stack, context=context, test_name=spa.test_name + "-bob",
              watch=PageWatch(origin=stack.url))
    try:
        tab = bob.sign_in("bob@acme.test")
        assert bob.fetch_json(tab, "/bff/user")["status"] == 200
        opened = time.monotonic()

        # Alice, the org admin, ends his sessions from his page.
        page = spa.sign_in("alice@acme.test")
        page.click("#go-admin")
        spa.step_up(page, "alice@acme.test")
        expect(page.locator("h1")).to_have_text("Administration")
        page.locator("#users-table").get_by_role("link", name="Bob Brown").click()
        expect(page.locator("#user-heading")).to_have_text("Bob Brown")
        page.click("#revoke-sessions")
        expect(page.locator("#confirm-yes")).to_be_visible()
        spa.shot("revoke-confirm", page)
        page.click("#confirm-yes")
        expect(page.locator(".alert-success")).to_contain_text("Bob Brown has been signed out everywhere")
        assert spa.fetch_json(page, "/bff/user")["status"] == 200  # the admin's own session stands

        # Bob's session is gone at the BFF (the hook is asynchronous: allow it a moment)...
        deadline = time.monotonic() + 20
        while bob.fetch_json(tab, "/bff/sessions")["status"] != 401 and time.monotonic() < deadline:
            tab.wait_for_timeout(200)
        gone = bob.fetch_json(tab, "/bff/sessions")
        assert gone["status"] == 401 and gone["body"]["code"] == "session_ended"
        # ...and his tab, still showing the app, notices when he comes back to it.
        expect(tab.locator("#signin-submit")).to_have_count(0)
        tab.wait_for_timeout(max(0, 5500 - (time.monotonic() - opened) * 1000))  # the 5 s focus throttle
        tab.evaluate("window.dispatchEvent(new Event('focus'))")
        expect(tab.locator("#signin-submit")).to_be_visible()
        assert "/signin" in tab.url
        expect(tab.locator(".alert")).to_contain_text("Your session has ended")
        bob.shot("session-ended-notice", tab)
        bob.watch.collect_dom_violations(tab)
        assert not bob.watch.problems(), bob.watch.problems()
    finally:
        context.close()
