"""The admin area: only after the step-up login; an org admin sees the organisation's users and
works the manual-review queue; a group admin sees only their groups."""

from __future__ import annotations

import time
import uuid

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.conftest import Spa

pytestmark = pytest.mark.e2e


def _sign_up_for_review(spa: Spa) -> str:
    """A registration the compliance twin flags (last name "Review") → a manual-review item."""
    email = f"rita.{uuid.uuid4().hex[:8]}@acme.test"
    answer = spa.context.request.post(spa.url + "/bff/signup", headers={"X-CSRF": "1"}, data={
        "email": email, "firstName": "Rita", "lastName": "Review", "company": "acme", "terms": True})
    assert answer.status == 201, answer.text()
    # PROVISIONED: nothing is announced until Okta's activation link is opened (address verified)
    okta = spa.stack.info["okta"]
    deadline = time.monotonic() + 15
    mails: list[dict[str, str]] = []
    while not mails and time.monotonic() < deadline:
        mails = [m for m in list(okta.idx.outbox)
                 if m["to"] == email and m["subject"] == "Activate your account"]
        time.sleep(0.2)
    assert mails, "no activation email"
    page = spa.page  # the Okta-hosted activation page, then the SPA on the same tab
    page.goto(mails[0]["link"])
    page.fill("#act-password", "Correct-Horse-9-Battery")
    page.click("#act-submit")
    expect(page.locator("body")).to_contain_text("Your account is active")
    return email


def _open_admin(spa: Spa, email: str) -> Page:
    return spa.open_admin(email)


def test_the_org_admin_steps_up_sees_the_users_and_approves_a_review(spa: Spa) -> None:
    applicant = _sign_up_for_review(spa)

    page = _open_admin(spa, "alice@acme.test")
    user = spa.fetch_json(page, "/bff/user")["body"]
    assert user["adminRole"] == "org_admin" and "admin" in user["scopes"]
    table = page.locator("#users-table")
    for login in ("alice@acme.test", "bob@acme.test", "gina@acme.test", "carol@acme.test"):
        expect(table.locator(f"tr[data-user='{login}']")).to_have_count(1)
    expect(table).not_to_contain_text("globex")  # another organisation does not exist here
    spa.shot("admin-users-alice")

    page.locator("#user-search").fill("bob")
    expect(table.locator("tbody tr")).to_have_count(1)
    table.get_by_role("link", name="Bob Brown").click()
    expect(page.locator("#user-heading")).to_have_text("Bob Brown")
    spa.shot("admin-user-bob")

    page.click(".tabs a[href='/admin/reviews']")
    row = page.locator(f"tr[data-review='{applicant}']")
    deadline = time.monotonic() + 60
    while row.count() == 0 and time.monotonic() < deadline:  # the pipeline is asynchronous
        page.wait_for_timeout(1000)
        page.reload()
        spa.ready(page)
    expect(row).to_have_count(1)
    spa.shot("admin-reviews-alice")
    row.get_by_role("button", name="Approve").click()
    expect(page.locator(".alert-success")).to_contain_text(f"{applicant} has been approved")
    expect(row).to_have_count(0)
    spa.shot("admin-review-approved")


def test_the_group_admin_sees_only_their_groups(spa: Spa) -> None:
    page = _open_admin(spa, "gina@acme.test")
    assert spa.fetch_json(page, "/bff/user")["body"]["adminGroups"] == ["acme-sales"]
    expect(page.locator("#visible-groups")).to_contain_text("acme-sales")
    expect(page.locator("#visible-groups")).not_to_contain_text("acme-support")
    table = page.locator("#users-table")
    expect(table.locator("tr[data-user='bob@acme.test']")).to_have_count(1)
    expect(table.locator("tr[data-user='alice@acme.test']")).to_have_count(0)
    expect(table.locator("tr[data-user='carol@acme.test']")).to_have_count(0)
    spa.shot("admin-users-gina")


def test_the_org_admin_invites_and_revokes(spa: Spa) -> None:
    invitee = f"ivy.{uuid.uuid4().hex[:8]}@example.test"
    page = _open_admin(spa, "alice@acme.test")
    section = page.locator("#invitations")
    expect(section.locator("h2")).to_have_text("Invitations")
    page.locator("#invite-email").fill(invitee)
    page.click("#invite-button")
    expect(page.locator("#invite-issued")).to_contain_text(f"Invitation created for {invitee}")
    code = page.locator("#invite-code").inner_text()
    assert len(code) >= 40
    # the link to send: the SPA's sign-in, which starts the sign-up with the code
    expect(page.locator("#invite-link")).to_have_text(f"{spa.url}/signin?invitation={code}")
    row = page.locator(f"#invitations-table tr[data-invitation='{invitee}']")
    expect(row).to_contain_text("Pending")
    expect(row).to_contain_text("alice@acme.test")
    spa.shot("admin-invitation-issued")
    page.reload()
    spa.ready(page)
    expect(page.locator("#invite-code")).to_have_count(0)  # shown once
    expect(row).to_contain_text("Pending")
    assert code not in page.content()
    row.get_by_role("button", name="Revoke").click()
    page.click("#confirm-yes")
    expect(page.locator(".alert-success")).to_contain_text(f"The invitation for {invitee} was revoked.")
    expect(row).to_contain_text("Revoked")
    expect(row.get_by_role("button", name="Revoke")).to_have_count(0)


def test_a_group_admin_has_no_invitations(spa: Spa) -> None:
    page = _open_admin(spa, "gina@acme.test")
    expect(page.locator("#users-table")).to_be_visible()
    expect(page.locator("#invitations")).to_have_count(0)
