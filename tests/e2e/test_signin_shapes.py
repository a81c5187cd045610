"""The step screens for shapes the local twin's seeded journeys do not all produce: what the
BFF's own translator (``bff.signin.steps.to_step``) answers for Okta's real responses in
``tests/fixtures/okta-idx/`` (Okta Verify and Duo first, third-party IdPs on the identify
step), plus ``"step": "unsupported"`` and a message key no copy knows. The browser's calls to
``/bff/signin`` are answered with those steps; everything else is the real stack."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from playwright.sync_api import Page, Route, expect

from bff.signin.idx import parse_state
from bff.signin.steps import to_step
from tests.e2e.conftest import Spa
from tests.unit.signin.samples import load

pytestmark = pytest.mark.e2e


def fixture_step(name: str) -> dict[str, Any]:
    step = to_step(parse_state(load(name)))
    step["transaction"] = "t-" + name.split(".")[0]
    return step


def answer(spa: Spa, respond: Callable[[str, str, dict[str, Any] | None], dict[str, Any]]) -> list[str]:
    """Answer the page's /bff/signin calls with ``respond(method, path, body)``; returns the log."""
    calls: list[str] = []

    def handle(route: Route) -> None:
        request = route.request
        path = request.url.split(spa.url, 1)[1].split("?", 1)[0]
        body = request.post_data_json if request.method == "POST" else None
        calls.append(f"{request.method} {path}")
        assert request.method == "GET" or request.headers.get("x-csrf") == "1"
        route.fulfill(status=200, content_type="application/json", headers={"Cache-Control": "no-store"},
                      body=json.dumps(respond(request.method, path, body)))

    spa.context.route(lambda url: url.split("?", 1)[0].endswith("/bff/signin")
                      or "/bff/signin/" in url, handle)
    return calls


def ready_card(page: Page, step: str) -> Any:
    card = page.locator(f"#signin-card[data-step='{step}'][aria-busy=false]")
    expect(card).to_be_visible()
    return card


@pytest.mark.parametrize(("fixture", "name"), [
    ("authenticator-verification-okta-verify-push.json", "Okta Verify"),
    ("authenticator-verification-duo.json", "Duo Security"),
])
def test_an_unsupported_first_factor_offers_another_way_and_the_redirect_flow(spa: Spa, fixture: str,
                                                                                name: str) -> None:
    step = fixture_step(fixture)
    assert step["unsupported"] and step["step"] == "select-authenticator-authenticate"
    posted: list[dict[str, Any] | None] = []

    def respond(method: str, path: str, body: dict[str, Any] | None) -> dict[str, Any]:
        if path == "/bff/signin/select-authenticator-authenticate":
            posted.append(body)
        return step

    answer(spa, respond)
    page = spa.open("/signin?returnTo=%2Fprofile")
    card = ready_card(page, "select-authenticator-authenticate")
    expect(page.locator("h1")).to_have_text("This sign-in method isn’t available here")
    expect(page.locator("#signin-unsupported")).to_have_text(
        f"{name} can’t be used on this page. Choose another way to verify.")
    choice = card.locator("button[data-choice=okta_password]")
    expect(choice).to_contain_text("Password")
    redirect = page.locator("#signin-redirect")  # the last resort: Okta's own page
    expect(redirect).to_have_attribute("href", "/bff/login?returnTo=%2Fprofile")
    expect(page.locator("#signin-cancel")).to_be_visible()
    spa.shot(f"unsupported-{step['unsupported']}")
    choice.click()
    expect(card).to_have_attribute("aria-busy", "false")
    # One method: the id alone (the BFF fills in the fixed methodType).
    assert posted == [{"authenticator.id": step["choices"][0]["id"]}]


def test_an_unsupported_step_leaves_the_redirect_flow(spa: Spa) -> None:
    step = {"step": "unsupported", "fields": [], "alternatives": ["cancel", "redirect"], "messages": [],
            "unsupported": "okta_verify", "transaction": "t-unsupported"}
    calls = answer(spa, lambda method, path, body: step)
    page = spa.open("/")
    ready_card(page, "unsupported")
    expect(page.locator("#signin-unsupported")).to_contain_text("Okta Verify can’t be used on this page")
    expect(page.locator("#signin-redirect")).to_have_attribute("href", "/bff/login?returnTo=%2F")
    spa.shot("unsupported-step")
    with page.expect_navigation(url=lambda url: "/oauth2/default/v1/authorize" in url):
        page.click("#signin-redirect")  # cancel, then a full navigation into the redirect flow
    assert calls == ["POST /bff/signin", "POST /bff/signin/cancel"]  # ours ends before Okta's page


def test_the_idps_okta_offers_are_buttons_that_follow_the_redirect(spa: Spa) -> None:
    step = fixture_step("identify-with-third-party-idps.json")
    bodies: list[Any] = []

    def respond(method: str, path: str, body: dict[str, Any] | None) -> dict[str, Any]:
        if path == "/bff/signin/redirect-idp":
            bodies.append(body)
            return {"step": "redirect", "fields": [], "alternatives": [], "messages": [],
                    "location": "/bff/login?returnTo=%2F&idp=google-123"}
        return step

    answer(spa, respond)
    # The fixture's IdP is not this stack's: /bff/login would refuse it (400 problem+json, which
    # Chromium does not render and the page is left mid-navigation). Only the request matters.
    landed = "<!doctype html><title>redirect flow</title><h1 id=redirect-landed>redirect flow</h1>"
    spa.context.route(lambda url: "/bff/login?" in url,
                      lambda route: route.fulfill(status=200, content_type="text/html", body=landed))
    page = spa.open("/")
    ready_card(page, "identify")
    buttons = page.locator("#signin-idps button[data-idp]")
    expect(buttons).to_have_count(len(step["idps"]))
    expect(page.locator("#signin-idps button[data-idp=google-123]")).to_have_text("Continue with Google IDP")
    spa.shot("identify-idps")
    with page.expect_request(lambda r: "/bff/login?" in r.url and "idp=google-123" in r.url):
        page.click("#signin-idps button[data-idp=google-123]")
    expect(page.locator("#redirect-landed")).to_be_visible()
    assert bodies == [{"idp": "google-123"}]


def test_a_message_key_without_copy_shows_the_generic_sentence_never_okta_s_text(spa: Spa) -> None:
    step = fixture_step("authenticator-verification-password.json")
    step["messages"] = [{"key": "some.future.okta.key", "class": "ERROR"},
                        {"key": None, "class": "WARNING"}]
    answer(spa, lambda method, path, body: step)
    page = spa.open("/")
    ready_card(page, step["step"])
    expect(page.locator("#f-password-error")).to_have_text("Something went wrong. Please try again.")
    expect(page.locator("#signin-status")).to_have_text("Check the details and try again.")
    errors = page.locator("#signin-errors")
    expect(errors).to_have_attribute("role", "alert")  # announced
