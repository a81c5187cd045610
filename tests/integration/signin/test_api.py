"""The sign-in API's refusals and edges: CSRF, submissions checked before anything is sent,
ended and expired transactions, tabs, Okta failures, attempt limits, the magic link, modes,
and a scan proving no secret reaches the browser or the logs."""

from __future__ import annotations

import asyncio
import logging
import uuid

import httpx
import pytest
from starlette.applications import Starlette

from bff.app import create_app
from bff_dev.twins.okta import OktaTwin
from tests.integration.signin.conftest import CSRF, email_code, register_embedded_client, start, submit
from tests.support.env import make_settings
from tests.support.login import bff_client
from tests.support.okta import PASSWORD


def other_browser(app: Starlette) -> httpx.AsyncClient:
    """A second browser (its own cookie jar) on the SAME running app (one lifespan, one store)."""
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="https://app.example.test")


def _idx_calls(okta: OktaTwin) -> int:
    return sum(v for k, v in okta.counters.items() if k.startswith("idx:"))


def _problem(r: httpx.Response, status: int, code: str | None = None) -> dict:
    assert r.status_code == status, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    body = r.json()
    if code is not None:
        assert body["code"] == code, body
    return body


# -- CSRF and validation: nothing is sent to Okta ---------------------------------------------------


async def test_every_post_needs_the_csrf_header(client: httpx.AsyncClient, okta: OktaTwin) -> None:
    _problem(await client.post("/bff/signin", json={"returnTo": "/"}), 403, "csrf")
    assert okta.counters["idx:interact"] == 0
    await start(client, identifier="bob@acme.test")
    before = _idx_calls(okta)
    _problem(await client.post("/bff/signin/challenge-authenticator",
                               json={"credentials.passcode": PASSWORD}), 403, "csrf")
    _problem(await client.post("/bff/signin/cancel", json={}), 403, "csrf")
    _problem(await client.post("/bff/signin/challenge-authenticator", json={"credentials.passcode": PASSWORD},
                               headers={**CSRF, "Origin": "https://evil.example"}), 403, "csrf")
    assert _idx_calls(okta) == before


async def test_a_step_not_offered_or_an_undeclared_field_is_refused_before_okta(
        client: httpx.AsyncClient, okta: OktaTwin) -> None:
    await start(client, identifier="bob@acme.test")
    before = _idx_calls(okta)
    _problem(await submit(client, "identify", {"identifier": "alice@acme.test"}), 409, "step_not_offered")
    _problem(await submit(client, "enroll-profile", {}), 409, "step_not_offered")
    body = _problem(await submit(client, "challenge-authenticator",
                                 {"credentials.passcode": PASSWORD, "stateHandle": "x"}), 400,
                    "invalid_submission")
    assert body["errors"] == [{"field": "stateHandle", "code": "unknown_field"}]
    _problem(await submit(client, "challenge-authenticator", {"credentials.passcode": 12}), 400,
             "invalid_submission")
    _problem(await client.post("/bff/signin/challenge-authenticator", content=b"[1]",
                               headers={**CSRF, "Content-Type": "application/json"}), 400)
    assert _idx_calls(okta) == before
    assert PASSWORD not in body.get("detail", "")


async def test_start_rules_match_bff_login(client: httpx.AsyncClient, okta: OktaTwin) -> None:
    _problem(await start(client, scope="okta.users.manage"), 400, "scope_not_allowed")
    _problem(await start(client, extra="x"), 400, "invalid_submission")
    _problem(await start(client, identifier=""), 400, "invalid_identifier")
    assert okta.counters["idx:interact"] == 0
    r = await client.post("/bff/signin", headers=CSRF,
                          json={"returnTo": "https://evil.example/", "identifier": "bob@acme.test"})
    r = await submit(client, "challenge-authenticator", {"credentials.passcode": PASSWORD})
    assert r.json()["location"] == "/"  # an unsafe returnTo falls back, as for /bff/login


async def test_interact_sends_pkce_s256_state_and_nonce(client: httpx.AsyncClient, okta: OktaTwin) -> None:
    await start(client)
    (ix,) = okta.idx.by_handle.values()
    assert len(ix.code_challenge) == 43 and ix.state and ix.nonce
    assert ix.scopes == ["openid", "profile", "email", "offline_access"]
    assert ix.acr is None
    assert ix.forwarded_for == ["127.0.0.1"]  # the BFF's view of the client, for Okta's risk rules
    await start(client, scope="admin")
    assert [i.acr for i in okta.idx.by_handle.values()][-1] == "urn:okta:loa:2fa:any"


# -- the current step, ended and expired transactions -----------------------------------------------


async def test_get_current_step(client: httpx.AsyncClient) -> None:
    _problem(await client.get("/bff/signin"), 404, "signin_not_found")
    first = (await start(client, identifier="bob@acme.test")).json()
    again = await client.get("/bff/signin")
    assert again.status_code == 200
    assert again.json() == first


async def test_a_step_after_success_is_gone_and_not_sent(client: httpx.AsyncClient, okta: OktaTwin) -> None:
    await start(client, identifier="bob@acme.test")
    r = await submit(client, "challenge-authenticator", {"credentials.passcode": PASSWORD})
    assert r.json()["step"] == "success"
    before = _idx_calls(okta)
    _problem(await submit(client, "challenge-authenticator", {"credentials.passcode": PASSWORD}), 410,
             "signin_ended")
    _problem(await client.get("/bff/signin"), 404)
    assert _idx_calls(okta) == before


async def test_cancel_ends_ours_and_oktas(client: httpx.AsyncClient, okta: OktaTwin) -> None:
    await start(client, identifier="bob@acme.test")
    r = await submit(client, "cancel", {})
    assert r.status_code == 200 and r.json()["step"] == "terminal"
    assert okta.counters["idx:cancelled"] == 1
    before = _idx_calls(okta)
    _problem(await submit(client, "challenge-authenticator", {"credentials.passcode": PASSWORD}), 410)
    _problem(await submit(client, "cancel", {}), 410)
    assert _idx_calls(okta) == before


async def test_expiry_follows_oktas_expires_at(client: httpx.AsyncClient, okta: OktaTwin) -> None:
    okta.idx.transaction_ttl = 1.0
    await start(client, identifier="bob@acme.test")
    await asyncio.sleep(1.2)
    before = _idx_calls(okta)
    _problem(await submit(client, "challenge-authenticator", {"credentials.passcode": PASSWORD}), 410,
             "signin_ended")
    assert _idx_calls(okta) == before


async def test_two_tabs_each_run_their_own(client: httpx.AsyncClient) -> None:
    tab_a = (await start(client, identifier="bob@acme.test")).json()["transaction"]
    tab_b = (await start(client, identifier="dave@acme.test")).json()["transaction"]
    assert tab_a != tab_b
    current = (await client.get("/bff/signin")).json()  # no header: the browser's latest
    assert current["authenticator"]["key"] == "okta_email"
    a = (await client.get("/bff/signin", headers={"X-BFF-Signin": tab_a})).json()
    assert a["authenticator"]["key"] == "okta_password"
    r = await submit(client, "challenge-authenticator", {"credentials.passcode": PASSWORD},
                     headers={"X-BFF-Signin": tab_a})
    assert r.json()["step"] == "success"
    b = await client.get("/bff/signin", headers={"X-BFF-Signin": tab_b})
    assert b.json()["authenticator"]["key"] == "okta_email"  # tab B is untouched
    _problem(await submit(client, "challenge-authenticator", {"credentials.passcode": PASSWORD},
                          headers={"X-BFF-Signin": tab_a}), 410, "signin_ended")  # tab A is done


async def test_another_browser_cannot_continue(client: httpx.AsyncClient, app: Starlette,
                                               okta: OktaTwin) -> None:
    txn = (await start(client, identifier="bob@acme.test")).json()["transaction"]
    async with other_browser(app) as other:
        before = _idx_calls(okta)
        _problem(await submit(other, "challenge-authenticator", {"credentials.passcode": PASSWORD},
                              headers={"X-BFF-Signin": txn}), 404)
        # a binding cookie of its own does not help either
        await start(other)
        _problem(await submit(other, "challenge-authenticator", {"credentials.passcode": PASSWORD},
                              headers={"X-BFF-Signin": txn}), 404)
        assert okta.counters["idx:challenge/answer"] == 0
        assert _idx_calls(okta) == before + 2  # only the other browser's own interact + introspect


# -- Okta failures keep the transaction ---------------------------------------------------------------


@pytest.mark.parametrize(("status", "headers", "expected", "retry"), [
    (429, {"X-Rate-Limit-Reset": "0", "Retry-After": "7"}, 429, "7"),
    (503, {"Retry-After": "3"}, 503, "3"),
    (500, {}, 503, None),
])
async def test_okta_errors_are_problems_and_the_transaction_is_kept(
        client: httpx.AsyncClient, okta: OktaTwin, status: int, headers: dict[str, str], expected: int,
        retry: str | None) -> None:
    await start(client, identifier="bob@acme.test")
    message = {"message": "Okta says slow down", "i18n": {"key": "tooManyRequests"}, "class": "ERROR"}
    okta.fail_next("/idp/idx/challenge/answer", status,
                   {"version": "1.0.0", "messages": {"type": "array", "value": [message]}}, headers)
    r = await submit(client, "challenge-authenticator", {"credentials.passcode": PASSWORD})
    _problem(r, expected)
    assert r.headers.get("retry-after") == retry
    assert "Okta says slow down" not in r.text
    r = await submit(client, "challenge-authenticator", {"credentials.passcode": PASSWORD})
    assert r.json()["step"] == "success"


async def test_okta_timeout_is_a_504_and_the_transaction_is_kept(client: httpx.AsyncClient,
                                                                  okta: OktaTwin) -> None:
    await start(client, identifier="bob@acme.test")
    okta.delay_next("/idp/idx/challenge/answer", 3.0)
    _problem(await submit(client, "challenge-authenticator", {"credentials.passcode": PASSWORD}), 504)
    await asyncio.sleep(0.5)  # the BFF's lock was released when it gave up
    r = await submit(client, "challenge-authenticator", {"credentials.passcode": PASSWORD})
    assert r.json()["step"] == "success", r.text


# -- attempt limits ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("env", [{"BFF_SIGNIN_RATE_PER_IDENTIFIER": "3"}])
async def test_attempt_limits_per_identifier_same_for_known_and_unknown(
        client: httpx.AsyncClient, okta: OktaTwin) -> None:
    answers = {}
    for identifier in ("bob@acme.test", "nobody@acme.test"):
        await start(client, identifier=identifier)  # 1
        await submit(client, "challenge-authenticator", {"credentials.passcode": "bad"})  # 2
        await submit(client, "challenge-authenticator", {"credentials.passcode": "bad"})  # 3
        before = _idx_calls(okta)
        r = await submit(client, "challenge-authenticator", {"credentials.passcode": PASSWORD})
        assert _idx_calls(okta) == before  # refused before Okta
        answers[identifier] = (r.status_code, r.json()["code"], r.headers.get("retry-after") is not None)
        _problem(await start(client, identifier=identifier.upper()), 429)  # normalised
    assert answers["bob@acme.test"] == answers["nobody@acme.test"] == (429, "signin_rate_limited", True)


@pytest.mark.parametrize("env", [{"BFF_SIGNIN_RATE_PER_IP": "2"}])
async def test_attempt_limits_per_client_ip(client: httpx.AsyncClient, okta: OktaTwin) -> None:
    await start(client)
    await start(client)
    r = await start(client)
    _problem(r, 429, "signin_rate_limited")
    assert int(r.headers["retry-after"]) >= 1
    assert okta.counters["idx:interact"] == 2


async def test_limits_are_shared_across_instances_with_redis(okta: OktaTwin) -> None:
    prefix = f"test-signin-{uuid.uuid4().hex[:8]}:"
    settings = make_settings(BFF_OKTA_ISSUER=okta.issuer, BFF_SIGNIN_RATE_PER_IP="2",
                             BFF_SESSION_STORE=f"redis://127.0.0.1:6379/0?prefix={prefix}")
    register_embedded_client(okta, settings)
    one, two = create_app(settings), create_app(settings)
    async with bff_client(one) as a, bff_client(two) as b:
        # start on one instance, finish on the other (the transaction lives in the shared store)
        await start(a, identifier="bob@acme.test")
        b.cookies.update(a.cookies)
        r = await submit(b, "challenge-authenticator", {"credentials.passcode": PASSWORD})
        assert r.json()["step"] == "success", r.text
        _problem(await start(b), 429)  # the third start from this IP, counted across both


async def test_per_identifier_limits_are_shared_across_instances_with_redis(okta: OktaTwin) -> None:
    prefix = f"test-signin-{uuid.uuid4().hex[:8]}:"
    settings = make_settings(BFF_OKTA_ISSUER=okta.issuer, BFF_SIGNIN_RATE_PER_IDENTIFIER="3",
                             BFF_SESSION_STORE=f"redis://127.0.0.1:6379/0?prefix={prefix}")
    register_embedded_client(okta, settings)
    one, two = create_app(settings), create_app(settings)
    async with bff_client(one) as a, bff_client(two) as b:
        await start(a, identifier="bob@acme.test")  # 1 on one instance
        await start(b, identifier=" BOB@acme.test ")  # 2 on the other (the same identifier)
        await submit(b, "challenge-authenticator", {"credentials.passcode": "bad"})  # 3
        before = _idx_calls(okta)
        for browser in (a, b):  # the 4th on either instance: refused before Okta
            r = await submit(browser, "challenge-authenticator", {"credentials.passcode": PASSWORD})
            _problem(r, 429, "signin_rate_limited")
            assert int(r.headers["retry-after"]) >= 1
        _problem(await start(a, identifier="bob@acme.test"), 429, "signin_rate_limited")
        assert _idx_calls(okta) == before
        # per identifier, not per client: another identifier from the same browsers still goes through
        assert (await start(a, identifier="gina@acme.test")).json()["step"] == "challenge-authenticator"


# -- the email magic link ---------------------------------------------------------------------------------


async def test_magic_link_in_the_same_browser_signs_in(client: httpx.AsyncClient, okta: OktaTwin) -> None:
    await start(client, identifier="dave@acme.test", returnTo="/after")
    link = okta.idx.outbox[-1]["link"]
    assert link.startswith("https://app.example.test/bff/signin/email-callback?")
    r = await client.get(link.removeprefix("https://app.example.test"))
    assert r.status_code == 303
    assert r.headers["location"] == "/after"
    assert (await client.get("/bff/user")).json()["email"] == "dave@acme.test"


async def test_magic_link_in_another_browser_shows_the_code(client: httpx.AsyncClient, app: Starlette,
                                                            okta: OktaTwin) -> None:
    await start(client, identifier="dave@acme.test")
    link = okta.idx.outbox[-1]["link"].removeprefix("https://app.example.test")
    code = email_code(okta, "dave@acme.test")
    async with other_browser(app) as other:
        r = await other.get(link)
        assert r.status_code == 303
        assert r.headers["location"] == f"/signin/email-code#code={code}"
        page = await other.get("/signin/email-code")  # an SPA screen, not an error page
        assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
        assert (await other.get("/bff/user")).status_code == 401
    assert okta.counters["idx:challenge/answer"] == 0
    r = await submit(client, "challenge-authenticator", {"credentials.passcode": code})  # typed in the tab
    assert r.json()["step"] == "success"


async def test_a_broken_magic_link_is_never_an_error_page(client: httpx.AsyncClient) -> None:
    for query in ("", "?state=x&otp=12ab", "?state=" + "x" * 5000 + "&otp=123456", "?otp=123456"):
        r = await client.get("/bff/signin/email-callback" + query)
        assert r.status_code == 303, query
        assert r.headers["location"].startswith("/signin/email-code")


# -- modes -------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("env", [{"BFF_SIGNIN_MODE": "redirect"}])
async def test_redirect_mode_switches_the_routes_off(client: httpx.AsyncClient, okta: OktaTwin) -> None:
    _problem(await start(client), 404, "signin_disabled")
    _problem(await client.get("/bff/signin"), 404, "signin_disabled")
    _problem(await submit(client, "identify", {}), 404, "signin_disabled")
    assert (await client.get("/bff/login", params={"returnTo": "/"})).status_code == 302
    assert okta.counters["idx:interact"] == 0


# -- nothing secret reaches the browser or the logs ------------------------------------------------------


async def test_no_secret_in_any_answer_or_log_line(client: httpx.AsyncClient, okta: OktaTwin,
                                                  caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    answers: list[httpx.Response] = []
    answers.append(await start(client, identifier="alice@acme.test"))
    answers.append(await submit(client, "challenge-authenticator", {"credentials.passcode": "Wr0ngPass!x"}))
    answers.append(await submit(client, "challenge-authenticator", {"credentials.passcode": PASSWORD}))
    answers.append(await client.get("/bff/signin"))
    import pyotp

    totp = pyotp.TOTP(okta.idx.totp_secret("alice@acme.test") or "").at(okta.now())
    answers.append(await submit(client, "challenge-authenticator", {"credentials.passcode": totp}))
    assert answers[-1].json()["step"] == "success"
    (ix,) = okta.idx.by_handle.values()
    secrets = {"password": PASSWORD, "wrong password": "Wr0ngPass!x", "totp": totp,
               "totp secret": okta.idx.totp_secret("alice@acme.test") or "-",
               "state handle": ix.state_handle, "interaction handle": ix.handle,
               "interaction code": ix.interaction_code or "-", "oauth state": ix.state,
               "nonce": ix.nonce or "-"}
    browser = "\n".join([*(r.text for r in answers), *(str(r.headers) for r in answers)])
    logs = "\n".join(rec.getMessage() for rec in caplog.records)
    assert "httpx" in {rec.name for rec in caplog.records}  # the scan did see the outgoing calls
    for what, value in secrets.items():
        assert value not in browser, f"the {what} reached the browser"
        assert value not in logs, f"the {what} was logged"
    assert okta.base_url not in browser  # no Okta href either
    assert not any("Password is incorrect" in r.text for r in answers)  # Okta's text: never forwarded


# -- federated users ------------------------------------------------------------------------------------


@pytest.mark.parametrize("env", [{"BFF_OKTA_IDP_DISCOVERY": "partner.example=0oapartneridp"}])
async def test_a_federated_identifier_continues_with_the_redirect_flow(client: httpx.AsyncClient,
                                                                       okta: OktaTwin) -> None:
    r = await start(client, identifier="Pat@Partner.example", scope="admin")
    step = r.json()
    assert step["step"] == "redirect"
    assert step["location"].startswith("/bff/login?returnTo=%2Fhome&login_hint=Pat%40Partner.example")
    assert "scope=admin" in step["location"]
    assert okta.counters["idx:interact"] == 0
    login = await client.get(step["location"])
    assert login.status_code == 302 and "idp=0oapartneridp" in login.headers["location"]
    # the same when the identifier is typed on the identify step
    await start(client)
    step = (await submit(client, "identify", {"identifier": "pat@partner.example"})).json()
    assert step["step"] == "redirect"
    assert okta.counters["idx:identify"] == 0
    _problem(await submit(client, "identify", {"identifier": "bob@acme.test"}), 410)
