"""No token, cookie, password, passcode, email address or query-string value in any span.

Full journeys run with the in-memory exporter: a redirect sign-in and proxied calls (with the
due refresh), an embedded sign-in through ``/bff/signin`` (a wrong passcode, then the right
one), a sign-up through ``/bff/signup`` (activated by its link, announced by Okta's event
hook, relayed to SNS). Then every name, attribute and event attribute of every exported span
is scanned."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Iterable, Iterator
from pathlib import Path

from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from tests.integration.observability.conftest import Traced
from tests.integration.signup.stack import API_TOKEN, HOOK_SECRET, signup_stack
from tests.integration.signup.test_signup_flow import activate
from tests.support.okta import PASSWORD

EMAIL = re.compile(r"[^\s@/]+@[^\s@/]+\.[A-Za-z]{2,}")
CREDENTIAL = re.compile(r"(?i)eyJ[A-Za-z0-9_-]{5,}\.|bearer |ssws |__Host-bff|password|passcode|cookie")
SIGNUP_PASSWORD = "Correct-Horse-9-Battery"
QUERY_VALUE = "private-query-value"
FORBIDDEN = (PASSWORD, SIGNUP_PASSWORD, QUERY_VALUE, API_TOKEN, HOOK_SECRET, "test-client-secret-value")


def _strings(spans: Iterable[ReadableSpan]) -> Iterator[tuple[str, str]]:
    for span in spans:
        yield span.name, span.name
        for key, value in (span.attributes or {}).items():
            yield f"{span.name} {key}", str(value)
        for event in span.events:
            yield f"{span.name} event", event.name
            for key, value in (event.attributes or {}).items():
                yield f"{span.name} event {key}", str(value)
        for link in span.links:
            for key, value in (link.attributes or {}).items():
                yield f"{span.name} link {key}", str(value)
        if span.status.description:
            yield f"{span.name} status", span.status.description


def assert_clean(spans: tuple[ReadableSpan, ...], *secrets: str) -> None:
    assert spans, "the journey exported no span"
    for where, value in _strings(spans):
        assert not EMAIL.search(value), (where, value)
        assert not CREDENTIAL.search(value), (where, value)
        for secret in (*FORBIDDEN, *secrets):
            assert secret not in value, (where, value)


async def test_redirect_sign_in_and_proxied_calls(traced: Traced) -> None:
    cookie = await traced.login()
    for _ in range(2):  # each refreshes first (30 s tokens)
        response = await traced.get(
            cookie, f"/api/admin/users/alice@acme.test?q={QUERY_VALUE}&email=a@b.test"
        )
        assert response.status_code == 200, response.text
    assert (await traced.get(cookie, "/bff/user")).status_code == 200
    spans = traced.spans()
    names = {s.name for s in spans}
    assert {
        "GET /bff/callback",
        "okta token authorization_code",
        "okta token refresh_token",
        "upstream api",
        "session.refresh",
    } <= names, names
    assert_clean(spans, cookie)


async def test_embedded_sign_in(traced: Traced) -> None:
    csrf = {"X-CSRF": "1"}
    r = await traced.client.post("/bff/signin", json={"returnTo": "/home"}, headers=csrf)
    assert r.status_code == 200, r.text
    r = await traced.client.post("/bff/signin/identify", json={"identifier": "bob@acme.test"}, headers=csrf)
    assert r.json()["step"] == "challenge-authenticator", r.text
    r = await traced.client.post(
        "/bff/signin/challenge-authenticator",
        json={"credentials.passcode": "wrong-passcode-123"},
        headers=csrf,
    )
    assert r.json()["step"] == "challenge-authenticator"
    r = await traced.client.post(
        "/bff/signin/challenge-authenticator", json={"credentials.passcode": PASSWORD}, headers=csrf
    )
    assert r.json()["step"] == "success", r.text
    cookie = traced.client.cookies["__Host-bff"]
    spans = traced.spans()
    steps = [s for s in spans if s.name == "signin.step"]
    assert [(s.attributes or {}).get("bff.signin.outcome") for s in steps] == ["next", "next", "success"]
    assert {"okta_idx identify", "okta_idx challenge-authenticator", "okta token interaction_code"} <= {
        s.name for s in spans
    }
    assert_clean(spans, cookie, "wrong-passcode-123")


async def test_sign_up(tmp_path: Path) -> None:
    """POST /bff/signup, the activation link (the password is chosen on Okta's page), Okta's
    event hook announcing the account, the relay completing it from Okta and publishing it."""
    exporter = InMemorySpanExporter()
    async with signup_stack(tmp_path, span_exporter=exporter) as stack:
        body = {"email": "new.user@example.com", "firstName": "Zoë", "lastName": "Müller",
                "company": "Acme", "locale": "de"}
        response = await stack.post_signup(body)
        assert response.status_code == 201, response.text
        await activate(stack, "new.user@example.com", SIGNUP_PASSWORD)
        async with asyncio.timeout(20):
            while not any(s.name == "sns publish" for s in exporter.get_finished_spans()):  # noqa: ASYNC110
                await asyncio.sleep(0.05)
            await stack.okta.idle()
        spans = exporter.get_finished_spans()
        names = {s.name for s in spans}
        assert {"POST /bff/signup", "okta_management create user", "POST /bff/hooks/okta",
                "okta_management get user", "outbox.relay", "sns publish"} <= names, names
        assert_clean(spans)
