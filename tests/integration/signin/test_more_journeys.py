"""The phone, Okta Verify and federated journeys through the BFF's public sign-in API against
the Okta twin's IDX over loopback: paula (password, then phone or email), erin enrolling a
phone, oscar (Okta Verify first, password the other way), uma (Okta Verify only: the redirect
flow), and ``redirect-idp`` (Okta's IdP buttons) through ``/bff/login?idp=`` to a session."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from bff_dev.twins.okta import OktaTwin
from bff_dev.twins.okta.idx import TwinIdp
from tests.integration.signin.conftest import start, submit
from tests.support.login import SESSION_COOKIE, _set_cookie_values
from tests.support.okta import PASSWORD, browser_sign_in

PAULA_PHONE = "+15550100199"


def _idx_calls(okta: OktaTwin) -> int:
    return sum(v for k, v in okta.counters.items() if k.startswith("idx:"))


def _problem(r: httpx.Response, status: int, code: str) -> dict[str, Any]:
    assert r.status_code == status, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    body = r.json()
    assert body["code"] == code, body
    return body


def texts(okta: OktaTwin, to: str, channel: str = "sms") -> list[dict[str, str]]:
    return [m for m in okta.idx.outbox if m["to"] == to and m["channel"] == channel]


async def follow_redirect_flow(client: httpx.AsyncClient, location: str, username: str) -> httpx.Response:
    """A browser following a ``redirect`` step: /bff/login → the twin's /authorize (its
    sign-in page) → /bff/callback. Returns the callback's answer."""
    login = await client.get(location)
    assert login.status_code == 302, login.text
    binding = _set_cookie_values(login).get(f"{SESSION_COOKIE}-login")
    async with httpx.AsyncClient(timeout=10.0) as browser:
        back = await browser_sign_in(browser, login.headers["location"], username=username)
    assert back.status_code == 302, back.text
    target = urlsplit(back.headers["location"])
    return await client.get(f"{target.path}?{target.query}",
                            headers={"Cookie": f"{SESSION_COOKIE}-login={binding}"})


# -- phone ---------------------------------------------------------------------------------------


async def test_paula_password_then_choose_phone_sms_with_resend(client: httpx.AsyncClient,
                                                                okta: OktaTwin) -> None:
    await start(client, identifier="paula@acme.test")
    step = (await submit(client, "challenge-authenticator", {"credentials.passcode": PASSWORD})).json()
    assert step["step"] == "select-authenticator-authenticate"
    assert [c["key"] for c in step["choices"]] == ["phone_number", "okta_email"]
    phone = step["choices"][0]
    assert phone["methodTypes"] == ["sms", "voice"]
    assert phone["profile"] == {"phoneNumber": "+1 XXX-XXX-0199"}  # masked as Okta does
    assert "enrollmentId" in phone and "unsupported" not in step
    names = {f["name"]: f for f in step["fields"]}
    assert names["authenticator.id"]["required"] is True
    assert names["authenticator.methodType"]["options"] == ["sms", "voice", "email"]
    assert texts(okta, PAULA_PHONE) == []  # nothing sent before she chooses

    step = (await submit(client, "select-authenticator-authenticate",
                         {"authenticator.id": phone["id"], "authenticator.methodType": "sms"})).json()
    assert step["step"] == "challenge-authenticator"
    assert step["authenticator"]["key"] == "phone_number"
    assert step["authenticator"]["methods"] == ["sms"]
    assert step["authenticator"]["profile"] == {"phoneNumber": "+1 XXX-XXX-0199"}
    assert step["authenticator"]["resend"] is True and step["authenticator"]["poll"] is False
    assert step["fields"] == [{"name": "credentials.passcode", "type": "string", "required": False,
                               "secret": False}]
    assert "resend" in step["alternatives"] and "select-authenticator-authenticate" in step["alternatives"]
    first = texts(okta, PAULA_PHONE)[-1]["code"]
    assert len(texts(okta, PAULA_PHONE)) == 1

    r = await submit(client, "resend", {})
    assert r.json()["step"] == "challenge-authenticator"
    assert len(texts(okta, PAULA_PHONE)) == 2
    second = texts(okta, PAULA_PHONE)[-1]["code"]
    if first != second:  # the resent code replaces the first one
        wrong = (await submit(client, "challenge-authenticator", {"credentials.passcode": first})).json()
        assert [m["key"] for m in wrong["messages"]] == ["api.authn.error.PASSCODE_INVALID"]
        assert wrong["messages"][0]["field"] == "credentials.passcode"
    r = await submit(client, "challenge-authenticator", {"credentials.passcode": second})
    assert r.json()["step"] == "success", r.text
    assert (await client.get("/bff/user")).json()["email"] == "paula@acme.test"


async def test_paula_can_take_a_voice_call_or_the_email_instead(client: httpx.AsyncClient,
                                                                okta: OktaTwin) -> None:
    await start(client, identifier="paula@acme.test")
    step = (await submit(client, "challenge-authenticator", {"credentials.passcode": PASSWORD})).json()
    phone, email = step["choices"]
    step = (await submit(client, "select-authenticator-authenticate",
                         {"authenticator.id": phone["id"], "authenticator.methodType": "voice"})).json()
    assert step["authenticator"]["methods"] == ["voice"]
    assert texts(okta, PAULA_PHONE, "voice")
    # not an option of the phone: refused before Okta
    before = _idx_calls(okta)
    _problem(await submit(client, "select-authenticator-authenticate",
                          {"authenticator.id": phone["id"], "authenticator.methodType": "email"}),
             400, "invalid_submission")
    _problem(await submit(client, "select-authenticator-authenticate",
                          {"authenticator.id": phone["id"], "authenticator.methodType": "sms",
                           "authenticator.enrollmentId": "pae-someone-else"}), 400, "invalid_submission")
    assert _idx_calls(okta) == before
    step = (await submit(client, "select-authenticator-authenticate",
                         {"authenticator.id": email["id"], "authenticator.methodType": "email"})).json()
    assert step["authenticator"]["key"] == "okta_email"
    code = [m for m in okta.idx.outbox if m["to"] == "paula@acme.test"][-1]["code"]
    assert (await submit(client, "challenge-authenticator", {"credentials.passcode": code})).json()["step"] \
        == "success"


async def test_erin_enrols_a_phone_instead_of_totp(client: httpx.AsyncClient, okta: OktaTwin) -> None:
    await start(client, identifier="erin@acme.test")
    step = (await submit(client, "challenge-authenticator", {"credentials.passcode": PASSWORD})).json()
    assert step["step"] == "select-authenticator-enroll"
    assert [c["key"] for c in step["choices"]] == ["google_otp", "phone_number"]
    phone = step["choices"][1]
    assert phone["methodTypes"] == ["sms", "voice"]
    fields = {f["name"]: f for f in step["fields"]}
    assert fields["authenticator.phoneNumber"] == {"name": "authenticator.phoneNumber", "type": "string",
                                                   "required": False, "secret": False}
    # Okta checks the number: a wrong one shows the step again with Okta's message
    step = (await submit(client, "select-authenticator-enroll", {
        "authenticator.id": phone["id"], "authenticator.methodType": "sms",
        "authenticator.phoneNumber": "555"})).json()
    assert step["step"] == "select-authenticator-enroll" and step["messages"][0]["class"] == "ERROR"
    step = (await submit(client, "select-authenticator-enroll", {
        "authenticator.id": phone["id"], "authenticator.methodType": "sms",
        "authenticator.phoneNumber": "+44 7700 900123"})).json()
    assert step["step"] == "enroll-authenticator"
    assert step["authenticator"]["key"] == "phone_number" and step["authenticator"]["resend"] is True
    assert "enrollment" not in step["authenticator"]
    code = texts(okta, "+447700900123")[-1]["code"]
    r = await submit(client, "enroll-authenticator", {"credentials.passcode": code})
    assert r.json()["step"] == "success", r.text
    # enrolled: the next sign-in asks for the phone as her second factor
    await start(client, identifier="erin@acme.test")
    step = (await submit(client, "challenge-authenticator", {"credentials.passcode": PASSWORD})).json()
    assert step["step"] == "challenge-authenticator" and step["authenticator"]["key"] == "phone_number"


# -- Okta Verify (not supported by the BFF's screens) -------------------------------------------------


async def test_oscar_is_offered_the_password_instead_of_okta_verify(client: httpx.AsyncClient,
                                                                   okta: OktaTwin) -> None:
    step = (await start(client, identifier="oscar@acme.test")).json()
    assert step["step"] == "select-authenticator-authenticate"
    assert step["unsupported"] == "okta_verify"
    assert [c["key"] for c in step["choices"]] == ["okta_password"]
    assert step["alternatives"] == ["cancel", "redirect"]
    before = _idx_calls(okta)
    _problem(await submit(client, "challenge-poll", {}), 400, "step_not_supported")
    _problem(await submit(client, "select-authenticator-authenticate",
                          {"authenticator.id": "autoktaverify0000001"}), 400, "invalid_submission")
    assert _idx_calls(okta) == before
    step = (await submit(client, "select-authenticator-authenticate",
                         {"authenticator.id": step["choices"][0]["id"]})).json()
    assert step["step"] == "challenge-authenticator" and step["authenticator"]["key"] == "okta_password"
    assert (await submit(client, "challenge-authenticator", {"credentials.passcode": PASSWORD})).json()[
        "step"] == "success"


async def test_uma_has_only_okta_verify_and_signs_in_with_the_redirect_flow(client: httpx.AsyncClient,
                                                                          okta: OktaTwin) -> None:
    step = (await start(client, identifier="uma@acme.test", returnTo="/after")).json()
    assert step["step"] == "unsupported"
    assert step["unsupported"] == "okta_verify"
    assert step["fields"] == [] and "choices" not in step
    assert step["alternatives"] == ["cancel", "redirect"]
    assert (await client.get("/bff/signin")).json()["step"] == "unsupported"  # reload: the same
    # the last resort, as the SPA does it: end this sign-in, then the redirect flow
    assert (await submit(client, "cancel", {})).json()["step"] == "terminal"
    done = await follow_redirect_flow(client, "/bff/login?returnTo=%2Fafter", "uma@acme.test")
    assert done.status_code == 302 and done.headers["location"] == "/after"
    assert (await client.get("/bff/user")).json()["email"] == "uma@acme.test"


# -- redirect-idp --------------------------------------------------------------------------------------


PARTNER = TwinIdp("0oapartneridp", "Partner SSO", "SAML2")


@pytest.fixture
def env() -> dict[str, str]:
    return {"BFF_OKTA_IDP_DISCOVERY": "partner.test=0oapartneridp", "BFF_OKTA_IDPS": "0oasocialidp"}


async def test_okta_idps_are_listed_and_lead_to_the_redirect_flow(client: httpx.AsyncClient,
                                                                   okta: OktaTwin) -> None:
    okta.idx.idps = [PARTNER, TwinIdp("0oaunknownidp", "Not configured here", "GOOGLE")]
    step = (await start(client, returnTo="/deals?x=1", scope="admin")).json()
    assert step["step"] == "identify"
    # only the IdP the BFF is configured for; the other one is left out ("redirect" is offered)
    assert step["idps"] == [{"id": "0oapartneridp", "name": "Partner SSO", "type": "SAML2"}]
    assert "redirect-idp" in step["alternatives"] and step["alternatives"][-1] == "redirect"
    before = _idx_calls(okta)
    for body in ({"idp": "0oaunknownidp"}, {"idp": "0oasocialidp"}, {"idp": 1}, {}, {"idp": "x", "y": 1},
                 {"identifier": "a"}):
        body_problem = _problem(await submit(client, "redirect-idp", body), 400, "invalid_submission")
        assert "0oaunknownidp" not in str(body_problem)  # never echoed
    assert _idx_calls(okta) == before  # nothing sent
    r = await submit(client, "redirect-idp", {"idp": "0oapartneridp"})
    assert r.status_code == 200, r.text
    step = r.json()
    assert step == {"step": "redirect", "fields": [], "alternatives": [], "messages": [],
                    "location": "/bff/login?idp=0oapartneridp&returnTo=%2Fdeals%3Fx%3D1&scope=admin"}
    assert okta.counters["idx:cancelled"] == 1  # Okta's transaction cancelled
    _problem(await client.get("/bff/signin"), 404, "signin_not_found")  # ours ended
    _problem(await submit(client, "redirect-idp", {"idp": "0oapartneridp"}), 410, "signin_ended")


async def test_redirect_idp_ends_signed_in_through_the_idp(client: httpx.AsyncClient, okta: OktaTwin) -> None:
    okta.idx.idps = [PARTNER]
    await start(client, returnTo="/deals")
    location = (await submit(client, "redirect-idp", {"idp": "0oapartneridp"})).json()["location"]
    login = await client.get(location)
    assert login.status_code == 302
    authorize = urlsplit(login.headers["location"])
    assert parse_qs(authorize.query)["idp"] == ["0oapartneridp"]  # Okta is asked for that IdP
    done = await follow_redirect_flow(client, location, "pat@partner.test")
    assert done.status_code == 302 and done.headers["location"] == "/deals"
    assert (await client.get("/bff/user")).json()["email"] == "pat@partner.test"


async def test_bff_login_accepts_only_configured_idps(client: httpx.AsyncClient) -> None:
    for idp in ("0oaunknownidp", "", "0oapartneridp&prompt=none", "x" * 300):
        r = await client.get("/bff/login", params={"idp": idp, "returnTo": "/"})
        _problem(r, 400, "idp_not_allowed")
        assert "location" not in r.headers
    r = await client.get("/bff/login?idp=0oapartneridp&idp=0oasocialidp")
    assert r.status_code == 400 and "location" not in r.headers  # never sent on to Okta
    for idp in ("0oapartneridp", "0oasocialidp"):  # discovery's and BFF_OKTA_IDPS's
        r = await client.get("/bff/login", params={"idp": idp})
        assert r.status_code == 302 and parse_qs(urlsplit(r.headers["location"]).query)["idp"] == [idp]


async def test_hostile_redirect_idp_bodies_are_4xx_problems_and_nothing_is_sent(
        client: httpx.AsyncClient, okta: OktaTwin) -> None:
    okta.idx.idps = [PARTNER]
    await start(client)
    before = _idx_calls(okta)
    bodies: list[tuple[bytes, str]] = [
        (b"", "application/json"), (b'{"idp": ', "application/json"), (b"[1, 2]", "application/json"),
        (b'{"idp": null}', "application/json"), (b'{"idp": ["0oapartneridp"]}', "application/json"),
        (b'{"idp": "0oapartneridp\\u0000"}', "application/json"), (b"\xff\xfe{", "application/json"),
        (b"idp=0oapartneridp", "application/x-www-form-urlencoded"),
        (b'{"idp": "' + b"a" * 20_000 + b'"}', "application/json"), (b"[" * 1000, "application/json"),
        (b'{"' + b"k" * 300 + b'": 1, "idp": "0oapartneridp"}', "application/json"),
    ]
    for body, ctype in bodies:
        r = await client.post("/bff/signin/redirect-idp", content=body,
                              headers={"X-CSRF": "1", "Content-Type": ctype})
        assert 400 <= r.status_code < 500, (body[:40], r.status_code, r.text)
        assert r.headers["content-type"].startswith("application/problem+json")
        assert "k" * 100 not in r.text and "a" * 100 not in r.text  # nothing echoed
    assert _idx_calls(okta) == before
    # the transaction is untouched: the real thing still works
    assert (await submit(client, "redirect-idp", {"idp": "0oapartneridp"})).json()["step"] == "redirect"
