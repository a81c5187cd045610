"""The sign-up routes through the whole app (lifespan, middleware, error mapping), with Okta
behind a MockTransport and a memory publisher in place of SNS."""

from __future__ import annotations

import asyncio
import dataclasses
import json
import uuid
from typing import Any

import pytest

from bff.services import Services
from bff.signup.events import event_id_for
from bff.signup.publisher import MemoryPublisher
from tests.support.fake_sessions import FakeSessions, principal
from tests.unit.signup.fakes import (
    CSRF,
    HOOK_SECRET,
    FakeOktaApi,
    Running,
    okta_error,
    running_app,
    signup_settings,
)

GOOD: dict[str, Any] = {
    "email": "Ada@Example.com",
    "firstName": "Ada",
    "lastName": "Lovelace",
    "company": "Acme",
    "locale": "fr-CA",
}


async def post(app: Running, body: Any, headers: dict[str, str] | None = None, **kw: Any) -> Any:
    content = body if isinstance(body, bytes) else json.dumps(body).encode()
    hdrs = {**CSRF, "Content-Type": "application/json", **(headers or {})}
    return await app.client.post("/bff/signup", content=content, headers=hdrs, **kw)


async def wait_for(predicate: Any, seconds: float = 2.0) -> None:
    """Poll ``predicate`` (the relay runs in the background) for at most ``seconds``."""
    async with asyncio.timeout(seconds):
        while not predicate():  # noqa: ASYNC110 - polling state owned by another task
            await asyncio.sleep(0.01)


async def test_sign_up_creates_a_provisioned_user_and_announces_it_only_once_activated() -> None:
    async with running_app() as app:
        resp = await post(app, GOOD)
        assert resp.status_code == 201, resp.text
        assert resp.headers["content-type"] == "application/json"
        assert resp.json() == {
            "status": "created",
            "login": "ada@example.com",
            "accountStatus": "PROVISIONED",
            "next": "activateByEmail",
        }
        (user,) = app.okta.users.values()
        assert user["status"] == "PROVISIONED" and "credentials" not in user
        assert user["profile"] == {
            "firstName": "Ada",
            "lastName": "Lovelace",
            "email": "ada@example.com",
            "login": "ada@example.com",
            "orgId": "acme",
            "company": "Acme",
            "locale": "fr_CA",
        }
        await asyncio.sleep(0.1)
        assert app.published.messages == [] and (await app.signup.outbox.counts())["pending"] == 0
        # An activation event while Okta still says PROVISIONED: not announced.
        early = await app.client.post("/bff/hooks/okta", json=activated(user["id"]),
                                      headers={"Authorization": HOOK_SECRET})
        assert early.json()["notActive"] == 1
        assert sum((await app.signup.outbox.counts()).values()) == 0
        # Okta's hook reports the activation (the address verified): now, and once.
        user["status"] = "ACTIVE"
        for _ in range(2):
            resp = await app.client.post("/bff/hooks/okta", json=activated(user["id"]),
                                         headers={"Authorization": HOOK_SECRET})
            assert resp.status_code == 200
        await wait_for(lambda: app.published.messages)
        await asyncio.sleep(0.05)
        (message, attributes), = app.published.messages
        assert message["eventId"] == event_id_for(user["id"])
        uuid.UUID(message["eventId"])
        assert message["eventType"] == "AccountCreated" and message["source"] == "okta-hook"
        assert message["userId"] == user["id"] and message["login"] == "ada@example.com"
        assert "password" not in json.dumps(message)


async def test_a_password_is_refused_the_activation_page_asks_for_it() -> None:
    async with running_app() as app:
        resp = await post(app, {**GOOD, "password": "Correct-Horse-9-Battery"})
        assert resp.status_code == 422
        assert resp.json()["errors"] == [{"field": "password", "code": "error.field.unknown"}]
        assert app.okta.users == {}


async def test_locale_defaults_from_accept_language() -> None:
    async with running_app() as app:
        body = {k: v for k, v in GOOD.items() if k != "locale"}
        assert (
            await post(app, body, headers={"Accept-Language": "de-CH, de;q=0.9, en;q=0.5"})
        ).status_code == 201
        (user,) = app.okta.users.values()
        assert user["profile"]["locale"] == "de"


async def test_taken_email_is_409_with_a_field_error() -> None:
    okta = FakeOktaApi()
    okta.add_user("ada@example.com")
    async with running_app(okta=okta) as app:
        resp = await post(app, GOOD)
        assert resp.status_code == 409
        assert resp.headers["content-type"] == "application/problem+json"
        assert resp.json()["errors"] == [{"field": "email", "code": "error.email.taken"}]
        assert app.published.messages == []


async def test_okta_failure_is_502_without_leaking() -> None:
    okta = FakeOktaApi(queued=[okta_error("E0000009", "Internal Server Error", status=500)])
    async with running_app(okta=okta) as app:
        resp = await post(app, GOOD)
        assert resp.status_code == 502
        assert "oaeSECRETERRORID123" not in resp.text and "E0000" not in resp.text
        assert "Internal Server Error" not in resp.text


HOSTILE: list[tuple[str, Any, int, list[dict[str, str]] | None]] = [
    (
        "script in first name",
        {**GOOD, "firstName": "<script>alert(1)</script>"},
        422,
        [{"field": "firstName", "code": "error.firstName.invalid"}],
    ),
    (
        "bidi override in last name",
        {**GOOD, "lastName": "Smith\u202egnp.exe"},
        422,
        [{"field": "lastName", "code": "error.lastName.invalid"}],
    ),
    (
        "full-width markup",
        {**GOOD, "firstName": "＜img src=x＞"},
        422,
        [{"field": "firstName", "code": "error.firstName.invalid"}],
    ),
    (
        "oversized name",
        {**GOOD, "firstName": "A" * 5000},
        422,
        [{"field": "firstName", "code": "error.firstName.tooLong"}],
    ),
    (
        "invalid email",
        {**GOOD, "email": "ada@@example"},
        422,
        [{"field": "email", "code": "error.email.invalid"}],
    ),
    ("email as number", {**GOOD, "email": 12345}, 422, [{"field": "email", "code": "error.email.invalid"}]),
    (
        "names as objects",
        {**GOOD, "firstName": {"$gt": ""}, "lastName": ["x"]},
        422,
        [
            {"field": "firstName", "code": "error.firstName.invalid"},
            {"field": "lastName", "code": "error.lastName.invalid"},
        ],
    ),
    (
        "missing everything",
        {},
        422,
        [
            {"field": "email", "code": "error.email.required"},
            {"field": "firstName", "code": "error.firstName.required"},
            {"field": "lastName", "code": "error.lastName.required"},
            {"field": "company", "code": "error.company.required"},
        ],
    ),
    (
        "unknown field",
        {**GOOD, "isAdmin": True, "groupIds": ["00gadmins"]},
        422,
        [
            {"field": "isAdmin", "code": "error.field.unknown"},
            {"field": "groupIds", "code": "error.field.unknown"},
        ],
    ),
    (
        "terms not accepted",
        {**GOOD, "terms": False},
        422,
        [{"field": "terms", "code": "error.terms.required"}],
    ),
    (
        "locale malformed",
        {**GOOD, "locale": "../../etc"},
        422,
        [{"field": "locale", "code": "error.locale.invalid"}],
    ),
    (
        "federated domain",
        {**GOOD, "email": "x@partner.test"},
        422,
        [{"field": "email", "code": "error.email.domain"}],
    ),
    ("JSON array", [GOOD], 400, None),
    ("JSON string", "hello", 400, None),
    ("JSON null", None, 400, None),
    ("truncated JSON", b'{"email": "a@b.co"', 400, None),
    ("duplicate keys", b'{"email": "a@b.co", "email": "admin@b.co"}', 400, None),
    ("NaN", b'{"email": NaN}', 400, None),
    ("invalid UTF-8", b'{"email": "\xff\xfe"}', 400, None),
    ("deep nesting", b'{"a":' * 50 + b"1" + b"}" * 50, 400, None),
    ("oversized body", {**GOOD, "pad": "x" * 20_000}, 413, None),
]


@pytest.mark.parametrize(("case", "body", "status", "errors"), HOSTILE, ids=[h[0] for h in HOSTILE])
async def test_hostile_input_is_a_precise_4xx(
    case: str, body: Any, status: int, errors: list[dict[str, str]] | None
) -> None:
    async with running_app(signup_settings(BFF_OKTA_IDP_DISCOVERY="partner.test=0oapartner")) as app:
        resp = await post(app, body)
        assert resp.status_code == status, resp.text
        assert resp.headers["content-type"] == "application/problem+json"
        problem = resp.json()
        assert problem["status"] == status and problem["type"].startswith("https://")
        if errors is not None:
            assert problem["errors"] == errors
        assert "Traceback" not in resp.text
        assert app.okta.users == {}


async def test_media_type_csrf_and_methods() -> None:
    async with running_app() as app:
        form = await app.client.post("/bff/signup", data={"email": "a@b.co"}, headers=CSRF)
        assert form.status_code == 415
        text = await post(app, GOOD, headers={"Content-Type": "text/plain"})
        assert text.status_code == 415
        no_csrf = await app.client.post("/bff/signup", json=GOOD)
        assert no_csrf.status_code == 403 and no_csrf.json()["code"] == "csrf"
        cross = await post(app, GOOD, headers={"Origin": "https://evil.test"})
        assert cross.status_code == 403
        put = await app.client.put("/bff/signup", json=GOOD, headers=CSRF)
        assert put.status_code == 405
        lying = await post(app, GOOD, headers={"Content-Length": "999999"})
        assert lying.status_code == 413
        assert app.okta.users == {}


async def test_streamed_body_over_the_cap_is_413() -> None:
    async with running_app() as app:

        async def chunks() -> Any:
            for _ in range(40):
                yield b"x" * 1024

        resp = await app.client.post(
            "/bff/signup", content=chunks(), headers={**CSRF, "Content-Type": "application/json"}
        )
        assert resp.status_code == 413


async def test_rate_limit_per_email_and_per_ip() -> None:
    settings = signup_settings(
        BFF_SIGNUP_RATE_PER_EMAIL="2", BFF_SIGNUP_RATE_PER_IP="5", BFF_SIGNUP_RATE_WINDOW="600"
    )
    okta = FakeOktaApi()
    okta.add_user("ada@example.com")
    async with running_app(settings, okta=okta) as app:
        assert (await post(app, GOOD)).status_code == 409
        assert (await post(app, {**GOOD, "email": "ADA@example.com"})).status_code == 409
        limited = await post(app, GOOD)
        assert limited.status_code == 429
        assert 590 <= int(limited.headers["Retry-After"]) <= 600
        assert limited.json()["code"] == "rate_limited"
        assert (await post(app, {**GOOD, "email": "eve@example.com"})).status_code == 201
        # Every attempt from the IP counts, even a malformed one: the 5th is served, the 6th refused.
        assert (await post(app, b"not json")).status_code == 400
        requests_to_okta = len(okta.requests)
        assert (await post(app, {**GOOD, "email": "zed@example.com"})).status_code == 429
        assert len(okta.requests) == requests_to_okta


async def test_not_configured_is_503() -> None:
    settings = signup_settings(BFF_OKTA_API_TOKEN="")
    async with running_app(settings) as app:
        resp = await post(app, GOOD)
        assert resp.status_code == 503
        form = await app.client.get("/bff/signup")
        assert form.status_code == 200


async def test_form_description_for_the_spa() -> None:
    async with running_app(
        signup_settings(BFF_SIGNUP_ORG="invitation")
    ) as app:
        form = (await app.client.get("/bff/signup")).json()
        assert form["fields"] == [
            "email",
            "firstName",
            "lastName",
            "invitationCode",
            "terms",
            "locale",
        ]
        assert form["required"] == ["email", "firstName", "lastName", "invitationCode"]
        assert form["passwordMode"] == "none" and form["passwordPolicy"] is None


async def test_invitation_is_reserved_at_sign_up_and_redeemed_on_activation() -> None:
    settings = signup_settings(BFF_SIGNUP_ORG="invitation")
    body = {"email": "ada@example.com", "firstName": "Ada", "lastName": "Lovelace"}
    async with running_app(settings) as app:
        issued = await app.signup.invitations.issue("acme", "Ada@Example.com", invited_by="00uadmin")
        code = issued.code
        missing = await post(app, body)
        assert missing.json()["errors"] == [
            {"field": "invitationCode", "code": "error.invitationCode.required"}
        ]
        forged = await post(app, {**body, "invitationCode": code[:-2] + "xx"})
        assert forged.status_code == 422 and forged.json()["code"] == "invitation_unknown"
        assert forged.json()["errors"] == [
            {"field": "invitationCode", "code": "error.invitationCode.unknown"}]
        other = await post(app, {**body, "email": "eve@example.com", "invitationCode": code})
        assert other.json()["code"] == "invitation_email"
        assert app.okta.users == {}
        ok = await post(app, {**body, "email": "ADA@example.com", "invitationCode": code})
        assert ok.status_code == 201
        (user,) = app.okta.users.values()
        assert "orgId" not in user["profile"]  # not before the address is verified
        again = await post(app, {**body, "email": "ada@example.com", "invitationCode": code})
        assert again.json()["code"] == "invitation_used"
        user["status"] = "ACTIVE"  # the activation link was opened
        await app.client.post("/bff/hooks/okta", json=activated(user["id"]),
                              headers={"Authorization": HOOK_SECRET})
        assert user["profile"]["orgId"] == "acme"
        (listed,) = await app.signup.invitations.list("acme")
        assert (listed.status, listed.redeemed_by, listed.invited_by) == ("redeemed", user["id"], "00uadmin")


async def test_sns_failure_keeps_the_event_pending_then_delivers() -> None:
    publisher = MemoryPublisher(fail=RuntimeError("sns down"))
    async with running_app(publisher=publisher) as app:
        app.signup.relay.backoff.base = 0.05
        app.signup.relay.backoff.cap = 0.1
        assert (await post(app, GOOD)).status_code == 201
        (user,) = app.okta.users.values()
        user["status"] = "ACTIVE"  # the activation link was opened
        await app.client.post("/bff/hooks/okta", json=activated(user["id"]),
                              headers={"Authorization": HOOK_SECRET})
        await wait_for(lambda: app.signup.relay.failures >= 1)
        assert (await app.signup.outbox.counts())["pending"] == 1
        publisher.fail = None
        await wait_for(lambda: publisher.messages)
        assert (await app.signup.outbox.counts()) == {"pending": 0, "sent": 1, "dead": 0}


# -- event hook ---------------------------------------------------------------------------------


def activated(user_id: str) -> dict[str, Any]:
    """Okta's hook delivery of ``user_id``'s activation (its address verified)."""
    return hook_delivery(create_event(user_id, "ada@example.com"))


def hook_delivery(*events: dict[str, Any]) -> dict[str, Any]:
    return {
        "eventType": "com.okta.event_hook",
        "eventTypeVersion": "1.0",
        "cloudEventsVersion": "0.1",
        "source": "https://okta.example.test/api/v1/eventHooks/who1",
        "eventId": str(uuid.uuid4()),
        "eventTime": "2025-01-31T12:00:00.000Z",
        "contentType": "application/json",
        "data": {"events": list(events)},
    }


def create_event(user_id: str, login: str, event_uuid: str | None = None) -> dict[str, Any]:
    return {
        "uuid": event_uuid or str(uuid.uuid4()),
        "published": "2025-01-31T12:00:00.000Z",
        "eventType": "user.lifecycle.activate",
        "version": "0",
        "severity": "INFO",
        "actor": {"id": "0oaadmin", "type": "PublicClientApp"},
        "outcome": {"result": "SUCCESS"},
        "target": [{"id": user_id, "type": "User", "alternateId": login, "displayName": "Ada Lovelace"}],
    }


async def test_hook_verification_challenge() -> None:
    async with running_app() as app:
        ok = await app.client.get("/bff/hooks/okta", headers={"x-okta-verification-challenge": "abc123"})
        assert ok.status_code == 200 and ok.json() == {"verification": "abc123"}
        wrong = await app.client.get(
            "/bff/hooks/okta", headers={"x-okta-verification-challenge": "abc", "Authorization": "nope"}
        )
        assert wrong.status_code == 403
        missing = await app.client.get("/bff/hooks/okta")
        assert missing.status_code == 400


async def test_hook_authentication() -> None:
    async with running_app() as app:
        body = hook_delivery(create_event("00uhook1", "h@example.com"))
        assert (await app.client.post("/bff/hooks/okta", json=body)).status_code == 401
        assert (
            await app.client.post("/bff/hooks/okta", json=body, headers={"Authorization": "x"})
        ).status_code == 403
        assert (
            await app.client.post("/bff/hooks/okta", json=body, headers={"Authorization": HOOK_SECRET + " "})
        ).status_code == 403
        assert await app.signup.outbox.counts() == {"pending": 0, "sent": 0, "dead": 0}


async def test_hook_secret_rotation_accepts_the_old_and_the_new_secret() -> None:
    """BFF_OKTA_HOOK_SECRET="new,old" while Okta still sends the old one: no gap in deliveries."""
    new, old = "rotated-hook-secret-new-0123456789", HOOK_SECRET
    async with running_app(signup_settings(BFF_OKTA_HOOK_SECRET=f" {new} , {old} ")) as app:
        assert app.app.state.settings.signup.hook_secrets == (new, old)
        for n, secret in enumerate((old, new)):
            rotated = app.okta.add_user(f"r{n}@example.com")
            body = hook_delivery(create_event(rotated["id"], f"r{n}@example.com"))
            accepted = await app.client.post("/bff/hooks/okta", json=body, headers={"Authorization": secret})
            assert accepted.status_code == 200 and accepted.json()["accepted"] == 1, accepted.text
            challenge = await app.client.get(
                "/bff/hooks/okta", headers={"x-okta-verification-challenge": f"c{n}", "Authorization": secret}
            )
            assert challenge.status_code == 200 and challenge.json() == {"verification": f"c{n}"}
        body = hook_delivery(create_event("00urotx", "x@example.com"))
        assert (await app.client.post("/bff/hooks/okta", json=body)).status_code == 401
        for wrong in ("retired-hook-secret-0123456789", f"{new},{old}", new + old):
            refused = await app.client.post("/bff/hooks/okta", json=body, headers={"Authorization": wrong})
            assert refused.status_code == 403
            assert refused.headers["content-type"] == "application/problem+json"
            assert new not in refused.text and old not in refused.text
        assert sum((await app.signup.outbox.counts()).values()) == 2  # the two accepted, nothing else


async def test_hook_not_configured_is_404() -> None:
    async with running_app(signup_settings(BFF_OKTA_HOOK_SECRET="")) as app:
        assert (
            await app.client.get("/bff/hooks/okta", headers={"x-okta-verification-challenge": "x"})
        ).status_code == 404


async def test_hook_creates_one_enriched_event_per_user_and_dedupes() -> None:
    okta = FakeOktaApi()
    user = okta.add_user(
        "grace@example.com", firstName="Grace", lastName="Hopper", orgId="navy", locale="en_US"
    )
    async with running_app(okta=okta) as app:
        auth = {"Authorization": HOOK_SECRET}
        event = create_event(user["id"], "grace@example.com")
        other = {**create_event("00uother", "x@example.com"), "eventType": "user.lifecycle.create"}
        failed = {**create_event("00ufailed", "y@example.com"), "outcome": {"result": "FAILURE"}}
        first = await app.client.post(
            "/bff/hooks/okta", json=hook_delivery(event, other, failed), headers=auth
        )
        assert first.status_code == 200
        assert first.json() == {"received": 3, "accepted": 1, "duplicates": 0}
        again = await app.client.post("/bff/hooks/okta", json=hook_delivery(event), headers=auth)
        assert again.json() == {"received": 1, "accepted": 0, "duplicates": 1}
        await wait_for(lambda: app.published.messages)
        await asyncio.sleep(0.05)
        assert len(app.published.messages) == 1
        message, attributes = app.published.messages[0]
        assert message["source"] == "okta-hook" and message["userId"] == user["id"]
        assert (message["firstName"], message["lastName"], message["orgId"], message["locale"]) == (
            "Grace",
            "Hopper",
            "navy",
            "en-US",
        )
        assert message["eventId"] == event_id_for(user["id"])
        assert attributes["source"] == "okta-hook"


@pytest.mark.parametrize("body", [b"[]", b'{"data": {}}', b'{"data": {"events": "x"}}', b"{"])
async def test_malformed_hook_bodies_are_400(body: bytes) -> None:
    async with running_app() as app:
        resp = await app.client.post(
            "/bff/hooks/okta",
            content=body,
            headers={"Authorization": HOOK_SECRET, "Content-Type": "application/json"},
        )
        assert resp.status_code == 400


# -- profile ------------------------------------------------------------------------------------


def with_sessions(okta: FakeOktaApi, login: str = "bob@acme.test") -> tuple[FakeSessions, str, Any]:
    user = okta.add_user(login, firstName="Bob", lastName="Test", title="Buyer")
    sessions = FakeSessions()
    sessions.add("cookie-bob", principal(user_id=user["id"], login=login))

    def install(services: Services) -> Services:
        return dataclasses.replace(services, sessions=sessions)

    return sessions, user["id"], install


async def test_profile_read_and_partial_update() -> None:
    okta = FakeOktaApi()
    _, uid, install = with_sessions(okta)
    async with running_app(okta=okta, extra=install) as app:
        app.client.cookies.set("__Host-bff", "cookie-bob")
        view = (await app.client.get("/bff/profile")).json()
        assert view["fields"] == ["company", "title", "mobilePhone", "preferredLanguage"]
        assert view["values"] == {
            "company": None,
            "title": "Buyer",
            "mobilePhone": None,
            "preferredLanguage": None,
        }
        assert view["missing"] == ["company", "mobilePhone", "preferredLanguage"]
        resp = await app.client.post(
            "/bff/profile", json={"mobilePhone": "+44 7700 900123", "title": None}, headers=CSRF
        )
        assert resp.status_code == 200, resp.text
        assert resp.json()["values"]["mobilePhone"] == "+44 7700 900123"
        assert okta.users[uid]["profile"].get("title") is None
        assert json.loads(okta.requests[-1].content) == {
            "profile": {"mobilePhone": "+44 7700 900123", "title": None}
        }


async def test_profile_validation_csrf_and_auth() -> None:
    okta = FakeOktaApi()
    _, uid, install = with_sessions(okta)
    async with running_app(okta=okta, extra=install) as app:
        assert (await app.client.get("/bff/profile")).status_code == 401
        app.client.cookies.set("__Host-bff", "cookie-bob")
        assert (await app.client.post("/bff/profile", json={"title": "x"})).status_code == 403
        bad = await app.client.post(
            "/bff/profile",
            json={"title": "<script>", "mobilePhone": "123", "login": "admin@acme.test"},
            headers=CSRF,
        )
        assert bad.status_code == 422
        assert bad.json()["errors"] == [
            {"field": "login", "code": "error.field.unknown"},
            {"field": "title", "code": "error.title.invalid"},
            {"field": "mobilePhone", "code": "error.mobilePhone.invalid"},
        ]
        assert okta.users[uid]["profile"]["title"] == "Buyer"
        assert (
            await app.client.post(
                "/bff/profile", content=b"[1]", headers={**CSRF, "Content-Type": "application/json"}
            )
        ).status_code == 400


def notice_event(event_type: str, user_id: str, event_uuid: str) -> dict[str, Any]:
    return {**create_event(user_id, "hana@acme.test", event_uuid), "eventType": event_type,
            "actor": {"id": user_id, "type": "User", "alternateId": "hana@acme.test"}}


async def test_hook_account_notices_are_published_once_per_okta_event() -> None:
    async with running_app() as app:
        user = app.okta.add_user("hana@acme.test", firstName="Hana", lastName="Sato", locale="ja_JP")
        user["status"] = "LOCKED_OUT"
        delivery = hook_delivery(notice_event("user.account.lock", user["id"], "lock-1"),
                                 notice_event("user.account.update_password", user["id"], "pw-1"),
                                 notice_event("user.mfa.factor.activate", user["id"], "mfa-1"))
        auth = {"Authorization": HOOK_SECRET}
        first = await app.client.post("/bff/hooks/okta", json=delivery, headers=auth)
        assert first.status_code == 200 and first.json()["notices"] == 3
        again = await app.client.post("/bff/hooks/okta", json=delivery, headers=auth)
        assert again.json()["notices"] == 0 and again.json()["noticeDuplicates"] == 3
        await wait_for(lambda: len(app.published.messages) == 3)
        await asyncio.sleep(0.05)
        by_type = {m["eventType"]: (m, a) for m, a in app.published.messages}
        assert set(by_type) == {"AccountLocked", "PasswordChanged", "FactorAdded"}
        locked, attributes = by_type["AccountLocked"]
        assert attributes == {"eventType": "AccountLocked", "source": "okta-hook"}
        assert (locked["userId"], locked["oktaEventId"], locked["locale"], locked["firstName"]) == \
            (user["id"], "lock-1", "ja-JP", "Hana")
        assert len(app.published.messages) == 3  # nothing more came of the redelivery
