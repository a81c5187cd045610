"""Signing out ends the session everywhere: a reload shows signed-out, and the other tab notices."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import Spa

pytestmark = pytest.mark.e2e


def test_sign_out_ends_the_session_and_the_other_tab_notices(spa: Spa) -> None:
    first = spa.sign_in("bob@acme.test")
    second = spa.open("/profile", spa.new_page())
    expect(second.locator("h1")).to_have_text("Complete your profile")

    with first.expect_navigation(url=re.compile(re.escape(spa.url) + r"/\?signed_out=1")):
        first.click("#sign-out")
    spa.ready(first)
    expect(first).to_have_url(spa.url + "/")  # the notice's parameters are tidied away
    expect(first.locator("h1")).to_have_text("You have signed out")
    spa.shot("signed-out", first)

    # The other tab, without a reload: told through BroadcastChannel / storage.
    expect(second.locator("h1")).to_have_text("You have signed out")
    expect(second).to_have_url(spa.url + "/signin?returnTo=%2Fprofile")
    spa.shot("signed-out-other-tab", second)

    first.reload()
    spa.ready(first)
    expect(first.locator("h1")).to_have_text("Sign in")
    expect(first.locator("#sign-out")).to_have_count(0)
    assert spa.fetch_json(first, "/bff/user")["status"] == 401
