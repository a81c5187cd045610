"""Sign-up end to end over real loopback servers: the BFF (uvicorn), the Okta twin and moto.

Okta user exists → AccountCreated on SNS → SQS with its attributes; 409; Okta 429 then success,
and 429 until 503; 502 without leaking; SNS down during sign-up → delivered after recovery;
the event hook (verification, authentication, deduplication, no double event for users the BFF
created); hostile input; the profile endpoints with a real sign-in.
"""

from __future__ import annotations

import asyncio
import json
import time
from pathlib import Path
from typing import Any

import httpx

from bff.signup.events import event_id_for
from tests.integration.signup.stack import API_TOKEN, HOOK_SECRET, Stack, signup_stack
from tests.support.login import login_as

NEW = {
    "email": "new.user@example.com",
    "firstName": "Zoë",
    "lastName": "Müller-Lüdenscheidt",
    "company": "Acme",
    "locale": "de",
}


async def settle(stack: Stack, seconds: float = 5.0) -> None:
    """Wait for the twin's hook deliveries and the BFF's relay to finish what is in flight."""
    async with asyncio.timeout(seconds):
        await stack.okta.idle()
        while (await stack.signup.outbox.counts())["pending"]:  # noqa: ASYNC110
            await asyncio.sleep(0.05)


async def activate(stack: Stack, email: str, password: str = "Correct-Horse-9-Battery") -> None:
    """Open the activation email's link (the address is verified) and choose the password."""
    (mail,) = [m for m in stack.okta.idx.outbox
               if m["to"] == email and m["subject"] == "Activate your account"]
    async with httpx.AsyncClient() as http:
        page = await http.get(mail["link"])
        assert page.status_code == 200 and "Choose a password" in page.text
        done = await http.post(mail["link"], data={"password": password})
        assert done.status_code == 200, done.text
        reused = await http.get(mail["link"])
        assert reused.status_code == 404  # single-use


async def test_an_unverified_address_is_never_active_and_announces_nothing(tmp_path: Path) -> None:
    async with signup_stack(tmp_path) as stack:
        resp = await stack.post_signup(NEW)
        assert resp.status_code == 201, resp.text
        assert resp.json()["next"] == "activateByEmail"
        user = stack.okta.directory.user("new.user@example.com")
        assert user is not None and user.status == "PROVISIONED" and user.password_hash is None
        assert {
            k: user.profile.get(k) for k in ("login", "email", "firstName", "lastName", "orgId", "locale")
        } == {
            "login": "new.user@example.com",
            "email": "new.user@example.com",
            "firstName": "Zoë",
            "lastName": "Müller-Lüdenscheidt",
            "orgId": "acme",
            "locale": "de",
        }
        await settle(stack)
        assert await asyncio.to_thread(stack.moto.receive, 1, 1.5) == []  # no AccountCreated
        assert (await stack.signup.outbox.counts())["sent"] == 0
        # The activation link of Okta's email: ACTIVE now, and exactly one event.
        await activate(stack, "new.user@example.com")
        assert user.status == "ACTIVE"
        (message,) = await asyncio.to_thread(stack.moto.receive, 1)
        body = message["body"]
        assert body["eventId"] == event_id_for(user.id) and body["userId"] == user.id
        assert body["source"] == "okta-hook" and body["firstName"] == "Zoë" and body["locale"] == "de"
        assert message["attributes"] == {"eventType": "AccountCreated", "orgId": "acme",
                                         "source": "okta-hook"}
        await settle(stack)
        assert await asyncio.to_thread(stack.moto.receive, 1, 1.5) == []
        assert await stack.signup.outbox.counts() == {"pending": 0, "sent": 1, "dead": 0}


async def test_sign_up_with_the_dynamodb_outbox(tmp_path: Path) -> None:
    async with signup_stack(tmp_path, BFF_OUTBOX="dynamodb://bff-outbox") as stack:
        assert (await stack.post_signup(NEW)).status_code == 201
        await activate(stack, NEW["email"])
        (message,) = await asyncio.to_thread(stack.moto.receive, 1)
        user = stack.okta.directory.user(NEW["email"])
        assert user is not None and message["body"]["userId"] == user.id
        await settle(stack)  # the hook's report of the same user is a duplicate
        assert await stack.signup.outbox.counts() == {"pending": 0, "sent": 1, "dead": 0}
        assert await asyncio.to_thread(stack.moto.receive, 1, 1.0) == []


async def test_taken_login_is_409(tmp_path: Path) -> None:
    async with signup_stack(tmp_path) as stack:
        resp = await stack.post_signup({**NEW, "email": "BOB@acme.test"})
        assert resp.status_code == 409
        assert resp.json()["errors"] == [{"field": "email", "code": "error.email.taken"}]


async def test_okta_429_is_retried_after_the_reset(tmp_path: Path) -> None:
    async with signup_stack(tmp_path) as stack:
        reset = int(time.time()) + 1
        stack.okta.fail_next(
            "/api/v1/users", 429, headers={"X-Rate-Limit-Reset": str(reset), "X-Rate-Limit-Remaining": "0"}
        )
        started = time.monotonic()
        resp = await stack.post_signup(NEW)
        assert resp.status_code == 201, resp.text
        assert stack.okta.counters["fault:/api/v1/users"] == 1
        assert time.monotonic() - started < 3.5  # waited for the reset, bounded


async def test_okta_429_until_503_with_retry_after(tmp_path: Path) -> None:
    async with signup_stack(tmp_path) as stack:
        stack.okta.fail_next(
            "/api/v1/users", 429, headers={"X-Rate-Limit-Reset": str(int(time.time()) + 1)}, times=10
        )
        resp = await stack.post_signup(NEW)
        assert resp.status_code == 503
        assert int(resp.headers["Retry-After"]) >= 1
        assert resp.headers["content-type"] == "application/problem+json"
        assert stack.okta.counters["fault:/api/v1/users"] == 3
        assert stack.okta.directory.user(NEW["email"]) is None


async def test_other_okta_errors_are_502_without_internals(tmp_path: Path) -> None:
    async with signup_stack(tmp_path) as stack:
        stack.okta.fail_next("/api/v1/users", 500)
        resp = await stack.post_signup(NEW)
        assert resp.status_code == 502
        for leak in ("errorId", "errorSummary", "E0000", "oae", "errorCauses"):
            assert leak not in resp.text
        stack.okta.fail_next("/api/v1/users", 403)
        assert (await stack.post_signup(NEW)).status_code == 502


async def test_sns_down_during_sign_up_is_delivered_after_recovery(tmp_path: Path) -> None:
    async with signup_stack(tmp_path) as stack:
        stack.signup.relay.backoff.base = 0.2
        stack.signup.relay.backoff.cap = 1.0
        stack.moto.stop()
        resp = await stack.post_signup(NEW)
        assert resp.status_code == 201
        user = stack.okta.directory.user(NEW["email"])
        assert user is not None and user.status == "PROVISIONED"
        await settle(stack)
        assert stack.signup.relay.failures == 0  # nothing to announce before the address is verified
        assert await stack.signup.outbox.get(event_id_for(user.id)) is None
        # The activation link is opened while SNS is down: the event waits in the outbox.
        await activate(stack, NEW["email"])
        assert user.status == "ACTIVE"
        async with asyncio.timeout(10):
            while stack.signup.relay.failures < 2:  # noqa: ASYNC110
                await asyncio.sleep(0.05)
        entry = await stack.signup.outbox.get(event_id_for(user.id))
        assert entry is not None and entry.status == "pending" and entry.attempts >= 2
        await asyncio.to_thread(stack.moto.restart)
        (message,) = await asyncio.to_thread(stack.moto.receive, 1, 15)
        assert message["body"]["userId"] == user.id and message["body"]["source"] == "okta-hook"
        await settle(stack)
        assert await asyncio.to_thread(stack.moto.receive, 1, 1.0) == []
        assert await stack.signup.outbox.counts() == {"pending": 0, "sent": 1, "dead": 0}


async def test_users_registered_on_the_okta_page_enter_through_the_hook_once(tmp_path: Path) -> None:
    async with signup_stack(tmp_path) as stack:
        # Self-registration on the Okta-hosted page (profile enrollment), not through the BFF.
        async with httpx.AsyncClient(base_url=stack.okta.base_url) as browser:
            page = await browser.post(
                "/signin/register",
                data={
                    "email": "grace@navy.test",
                    "firstName": "Grace",
                    "lastName": "Hopper",
                    "orgId": "navy",
                    "password": "Cobol-Rules-1959",
                },
            )
            assert page.status_code == 200, page.text
        user = stack.okta.directory.user("grace@navy.test")
        assert user is not None
        (message,) = await asyncio.to_thread(stack.moto.receive, 1, 15)
        body = message["body"]
        assert body["source"] == "okta-hook" and body["userId"] == user.id
        assert body["eventId"] == event_id_for(user.id)
        assert (body["login"], body["firstName"], body["lastName"], body["orgId"]) == (
            "grace@navy.test",
            "Grace",
            "Hopper",
            "navy",
        )
        assert message["attributes"] == {
            "eventType": "AccountCreated",
            "orgId": "navy",
            "source": "okta-hook",
        }
        verify = [d for d in stack.okta.hooks.deliveries if d.kind == "verify"]
        assert verify and verify[0].ok
        # Okta delivers at least once: a redelivery of the same LogEvent changes nothing.
        (log_event,) = [e for e in stack.okta.hooks.events if e["eventType"] == "user.lifecycle.activate"]
        hook = stack.okta.event_hooks[0]
        again = await stack.http.post(
            "/bff/hooks/okta",
            json=stack.okta.hooks.payload(hook, [log_event]),
            headers={"Authorization": HOOK_SECRET},
        )
        assert again.status_code == 200 and again.json()["duplicates"] == 1
        await settle(stack)
        assert await asyncio.to_thread(stack.moto.receive, 1, 1.0) == []


async def test_users_created_by_an_admin_are_enriched_from_okta(tmp_path: Path) -> None:
    async with signup_stack(tmp_path) as stack:
        async with httpx.AsyncClient(base_url=stack.okta.base_url) as admin:
            created = await admin.post(
                "/api/v1/users",
                params={"activate": "false"},
                headers={"Authorization": f"SSWS {API_TOKEN}"},
                json={
                    "profile": {
                        "login": "ada@navy.test",
                        "email": "ada@navy.test",
                        "firstName": "Ada",
                        "lastName": "King",
                        "orgId": "navy",
                        "locale": "en_US",
                    }
                },
            )
            assert created.status_code == 200, created.text
        uid = created.json()["id"]
        # STAGED: not announced until Okta activates it (issue 11: never before verification)
        assert await asyncio.to_thread(stack.moto.receive, 1, 2) == []
        async with httpx.AsyncClient(base_url=stack.okta.base_url) as admin:
            activated = await admin.post(f"/api/v1/users/{uid}/lifecycle/activate",
                                         params={"sendEmail": "false"},
                                         headers={"Authorization": f"SSWS {API_TOKEN}"})
            assert activated.status_code == 200, activated.text
        # No password yet: Okta keeps the user PROVISIONED until the activation link is used.
        user = stack.okta.directory.user("ada@navy.test")
        assert user is not None and user.status == "PROVISIONED"
        await settle(stack)
        assert await asyncio.to_thread(stack.moto.receive, 1, 1.0) == []
        link = activated.json()["activationUrl"]
        async with httpx.AsyncClient() as browser:
            done = await browser.post(link, data={"password": "Correct-Horse-9-Battery"})
            assert done.status_code == 200, done.text
        assert user.status == "ACTIVE"
        (message,) = await asyncio.to_thread(stack.moto.receive, 1, 15)
        body = message["body"]
        assert body["userId"] == uid and body["locale"] == "en-US" and body["firstName"] == "Ada"
        assert body["orgId"] == "navy" and body["source"] == "okta-hook"
        await settle(stack)
        assert await asyncio.to_thread(stack.moto.receive, 1, 1.0) == []


async def test_hook_with_a_wrong_secret_is_refused(tmp_path: Path) -> None:
    async with signup_stack(tmp_path, hook=False) as stack:
        public = stack.settings.public_url
        stack.okta.register_event_hook(
            f"{public}/bff/hooks/okta", auth_header="Authorization", auth_value="not-the-secret"
        )
        async with httpx.AsyncClient(base_url=stack.okta.base_url) as admin:
            await admin.post(
                "/api/v1/users",
                headers={"Authorization": f"SSWS {API_TOKEN}"},
                json={
                    "profile": {"login": "x@y.test", "email": "x@y.test", "firstName": "X", "lastName": "Y"}
                },
            )
        async with asyncio.timeout(5):
            await stack.okta.idle()
        # The verification GET carries the (wrong) secret too: refused, so nothing is delivered.
        verify = [d for d in stack.okta.hooks.deliveries if d.kind == "verify"]
        assert verify and verify[0].attempts == [403] and not verify[0].ok
        body: dict[str, Any] = {"data": {"events": []}}
        assert (await stack.http.post("/bff/hooks/okta", json=body)).status_code == 401
        assert (
            await stack.http.post("/bff/hooks/okta", json=body, headers={"Authorization": "x"})
        ).status_code == 403
        assert await stack.signup.outbox.counts() == {"pending": 0, "sent": 0, "dead": 0}


HOSTILE = [
    ({**NEW, "firstName": "<script>alert(1)</script>"}, 422, "error.firstName.invalid"),
    ({**NEW, "lastName": "\u202eevil"}, 422, "error.lastName.invalid"),
    ({**NEW, "email": "not-an-email"}, 422, "error.email.invalid"),
    ({**NEW, "email": ["a@b.co"]}, 422, "error.email.invalid"),
    ({**NEW, "firstName": "x" * 10_000}, 422, "error.firstName.tooLong"),
    ({**NEW, "role": "admin"}, 422, "error.field.unknown"),
    ({**NEW, "pad": "x" * 100_000}, 413, None),
]


async def test_hostile_input_over_http(tmp_path: Path) -> None:
    async with signup_stack(tmp_path, hook=False, BFF_SIGNUP_RATE_PER_IP="100") as stack:
        for body, status, code in HOSTILE:
            resp = await stack.post_signup(body)
            assert resp.status_code == status, (body, resp.text)
            assert resp.headers["content-type"] == "application/problem+json"
            if code:
                assert code in [e["code"] for e in resp.json()["errors"]]
        raw = await stack.http.post(
            "/bff/signup", content=b"\xff\xfe{", headers={**stack.csrf(), "Content-Type": "application/json"}
        )
        assert raw.status_code == 400
        assert stack.okta.directory.user(NEW["email"]) is None
        assert stack.okta.counters["mgmt:POST /api/v1/users"] == 0


async def test_service_app_with_private_key_jwt(tmp_path: Path) -> None:
    async with signup_stack(tmp_path, service_app=True, hook=False) as stack:
        assert (await stack.post_signup(NEW)).status_code == 201
        assert (await stack.post_signup({**NEW, "email": "second@example.com"})).status_code == 201
        assert stack.okta.counters["org:token:client_credentials"] == 1  # token cached
        assert stack.okta.directory.user("second@example.com") is not None


async def test_profile_completion_with_a_real_session(tmp_path: Path) -> None:
    async with signup_stack(tmp_path, hook=False) as stack:
        await login_as(stack.http, "bob@acme.test")
        before = stack.okta.directory.user("bob@acme.test")
        assert before is not None
        first_name = before.profile["firstName"]
        view = (await stack.http.get("/bff/profile")).json()
        assert view["fields"] == ["company", "title", "mobilePhone", "preferredLanguage"]
        resp = await stack.http.post(
            "/bff/profile",
            headers=stack.csrf(),
            json={
                "title": "Purchasing manager",
                "mobilePhone": "+44 7700 900123",
                "preferredLanguage": "fr-CA",
            },
        )
        assert resp.status_code == 200, resp.text
        bob = stack.okta.directory.user("bob@acme.test")
        assert bob is not None
        assert bob.profile["firstName"] == first_name  # a partial update leaves the rest alone
        assert (bob.profile["title"], bob.profile["mobilePhone"], bob.profile["preferredLanguage"]) == (
            "Purchasing manager",
            "+44 7700 900123",
            "fr-CA",
        )
        # announced through the outbox and SNS: the attribute names, never their values
        (message,) = await asyncio.to_thread(stack.moto.receive, 1)
        assert message["attributes"] == {"eventType": "ProfileUpdated", "source": "bff-profile"}
        body = message["body"]
        assert body["eventType"] == "ProfileUpdated" and body["eventVersion"] == 1
        assert body["userId"] == bob.id
        assert body["attributes"] == ["mobilePhone", "preferredLanguage", "title"]
        assert "Purchasing" not in json.dumps(body) and "7700" not in json.dumps(body)
        bad = await stack.http.post("/bff/profile", headers=stack.csrf(), json={"title": "<b>x</b>"})
        assert bad.status_code == 422
        no_csrf = await stack.http.post("/bff/profile", json={"title": "x"})
        assert no_csrf.status_code == 403
        assert json.dumps(bob.profile).count("<b>") == 0


async def test_an_activation_logged_for_an_unverified_user_announces_nothing(tmp_path: Path) -> None:
    """Should Okta log ``user.lifecycle.activate`` while the user is still PROVISIONED (address
    not verified), the hook reads the status: no AccountCreated, no invitation redeemed; the real
    activation later announces the account exactly once, in the invited organisation."""
    async with signup_stack(tmp_path, BFF_SIGNUP_ORG="invitation") as stack:
        issued = await stack.signup.invitations.issue("navy", NEW["email"], invited_by="00uadmin")
        form = {k: v for k, v in NEW.items() if k != "company"}
        resp = await stack.post_signup({**form, "invitationCode": issued.code})
        assert resp.status_code == 201, resp.text
        user = stack.okta.directory.user(NEW["email"])
        assert user is not None and user.status == "PROVISIONED"
        actor = {"id": user.id, "type": "User", "alternateId": user.login, "displayName": user.display_name,
                 "detailEntry": None}
        stack.okta.hooks.log_event("user.lifecycle.activate", user, actor=actor,
                                   display_message="Activate Okta user")
        await settle(stack)
        assert await asyncio.to_thread(stack.moto.receive, 1, 1.5) == []
        assert await stack.signup.outbox.get(event_id_for(user.id)) is None
        assert not user.profile.get("orgId")
        (inv,) = await stack.signup.invitations.list("navy")
        assert inv.status == "reserved" and inv.reserved_for == user.id
        await activate(stack, NEW["email"])
        (message,) = await asyncio.to_thread(stack.moto.receive, 1)
        assert message["body"]["userId"] == user.id and message["body"]["orgId"] == "navy"
        assert user.profile["orgId"] == "navy"
        await settle(stack)
        assert await asyncio.to_thread(stack.moto.receive, 1, 1.0) == []
        assert await stack.signup.outbox.counts() == {"pending": 0, "sent": 1, "dead": 0}
