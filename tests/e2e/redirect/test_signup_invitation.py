"""Redirect mode: an invitation link (`/signin?invitation=<code>`) opens the BFF's sign-up form
with the code in its invitationCode field, out of the address bar; the sign-up then asks for the
activation email (PROVISIONED), and the invitation is reserved for that account."""

from __future__ import annotations

import uuid

import httpx
from playwright.sync_api import expect

from tests.e2e.conftest import Spa


def issue(spa: Spa, email: str) -> str:
    """An invitation into acme, as the admin API issues it (server to server, bearer secret)."""
    secret = spa.stack.settings.signup.invitations_secrets[0]
    r = httpx.post(f"{spa.url}/bff/internal/invitations", headers={"Authorization": f"Bearer {secret}"},
                   json={"orgId": "acme", "email": email, "invitedBy": "00ualice"}, timeout=10)
    assert r.status_code == 201, r.text
    code: str = r.json()["code"]
    return code


def test_the_invitation_link_fills_the_sign_up_form_and_the_account_waits_for_activation(spa: Spa) -> None:
    email = f"rita.{uuid.uuid4().hex[:8]}@example.test"
    code = issue(spa, email)
    page = spa.open(f"/signin?invitation={code}")
    page.wait_for_url(f"{spa.url}/signup")  # the code is not in the address bar any more
    expect(page.locator("#f-invitationCode")).to_have_value(code)
    assert code not in page.evaluate("JSON.stringify(localStorage) + JSON.stringify(sessionStorage)")
    page.fill("#f-firstName", "Rita")
    page.fill("#f-lastName", "Moreno")
    page.fill("#f-email", email)
    terms = page.locator("#f-terms")
    if terms.count():
        terms.check()
    page.click("#signup-submit")
    expect(page.locator("#signup-success")).to_be_visible()
    user = spa.okta.directory.user(email)
    assert user is not None and user.status == "PROVISIONED"  # the activation email verifies it
    page.go_back()  # history holds no entry with the code either
    assert "invitation" not in page.url


def test_an_unknown_invitation_link_is_refused_on_the_form(spa: Spa) -> None:
    email = f"rex.{uuid.uuid4().hex[:8]}@example.test"
    page = spa.open("/signin?invitation=not-a-real-code")
    page.wait_for_url(f"{spa.url}/signup")
    page.fill("#f-firstName", "Rex")
    page.fill("#f-lastName", "Harrison")
    page.fill("#f-email", email)
    terms = page.locator("#f-terms")
    if terms.count():
        terms.check()
    page.click("#signup-submit")
    expect(page.locator("#f-invitationCode-error")).to_be_visible()
    assert spa.okta.directory.user(email) is None
