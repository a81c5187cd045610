"""Invitations from the admin screen, end to end on loopback: the BFF (uvicorn, invitation mode,
embedded sign-in) → the proxy → the API Gateway twin → admin_api (in-process) → back to the BFF's
``/bff/internal/invitations`` (bearer secret) → the invitation store; then the invited address
signs up through the embedded sign-up on the Okta twin (``POST /bff/signin`` with
``invitation``). Every redemption failure (another address, used twice, expired, revoked) is a
precise 422 and leaves no account in any organisation."""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette

from bff.app import create_app
from bff_dev.serving import free_port, serve_asgi
from bff_dev.twins.apigw.admin import DEV_ROUTES, AdminApi, start_admin_api
from bff_dev.twins.aws.server import start_aws
from bff_dev.twins.aws.topology import TopologySpec
from bff_dev.twins.okta import OktaTwin
from tests.integration.functions.admin_api.conftest import API_TOKEN, CSRF
from tests.integration.signin.conftest import register_embedded_client
from tests.support.env import make_settings, organisation_settings
from tests.support.login import _set_cookie_values, login_as
from tests.support.okta import running_okta_twin

ALICE, GINA, BOB, OLGA = "alice@acme.test", "gina@acme.test", "bob@acme.test", "olga@globex.test"
SECRET = "it-invitations-secret-0123456789abcdef"
PASSWORD = "Correct-Horse-9"


@dataclass
class Stack:
    okta: OktaTwin
    api: AdminApi
    app: Starlette
    url: str
    cookies: dict[str, str]

    def client(self) -> httpx.AsyncClient:
        return httpx.AsyncClient(base_url=self.url, timeout=20)

    async def login(self, email: str) -> None:
        async with self.client() as c:
            self.cookies[email] = await login_as(c, email, scope="admin")

    async def call(self, who: str, method: str, path: str, **kwargs: Any) -> httpx.Response:
        async with self.client() as c:
            headers = {**CSRF, "Cookie": f"__Host-bff={self.cookies[who]}", **kwargs.pop("headers", {})}
            return await c.request(method, f"/api/admin{path}", headers=headers, **kwargs)

    @property
    def store(self) -> Any:
        return self.app.state.services.signup.invitations.invitations


@contextlib.asynccontextmanager
async def stack(moto_url: str, tmp_path: Path, org_mode: str = "invitation") -> AsyncIterator[Stack]:
    async with contextlib.AsyncExitStack() as es:
        okta = await es.enter_async_context(running_okta_twin())
        okta.add_api_token(API_TOKEN)
        aws = await start_aws(es, endpoint_url=moto_url,
                              spec=TopologySpec(prefix=f"t{uuid.uuid4().hex[:8]}-"))
        port = free_port()
        url = f"http://127.0.0.1:{port}"
        api = await start_admin_api(
            es, port=free_port(), issuer=okta.issuer, aws=aws, okta_url=okta.base_url,
            marketo_url="http://127.0.0.1:9",
            secret={"OKTA_API_TOKEN": API_TOKEN, "BFF_INVITATIONS_SECRET": SECRET},
            extra_env={"BFF_INTERNAL_URL": url})
        routes = tmp_path / "routes.toml"
        routes.write_text(DEV_ROUTES.format(url=api.url))
        env = {"BFF_PUBLIC_URL": url, "BFF_OKTA_ISSUER": okta.issuer, "BFF_API_ROUTES": str(routes),
               "BFF_OKTA_API_TOKEN": API_TOKEN, "BFF_INVITATIONS_SECRET": SECRET, "BFF_OKTA_TIMEOUT": "5"}
        settings = (organisation_settings(**env) if org_mode == "organisation"  # as bff dev runs
                    else make_settings(BFF_SIGNUP_ORG=org_mode, **env))
        register_embedded_client(okta, settings)
        app = create_app(settings)
        await serve_asgi(es, app, port, name="bff-invitations")
        yield Stack(okta, api, app, url, {})


@pytest.fixture
async def s(moto_url: str, tmp_path: Path) -> AsyncIterator[Stack]:
    async with stack(moto_url, tmp_path) as st:
        yield st


# -- the SPA's embedded sign-up ------------------------------------------------------------------


class Browser:
    """As the SPA: the BFF's ``__Host-`` cookies are Secure, which httpx never sends over plain
    http, so this client carries them by hand."""

    def __init__(self, url: str) -> None:
        self.http = httpx.AsyncClient(base_url=url, timeout=20)
        self.jar: dict[str, str] = {}

    async def __aenter__(self) -> Browser:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.http.aclose()

    async def post(self, path: str, body: dict[str, Any]) -> httpx.Response:
        jar = "; ".join(f"{k}={v}" for k, v in self.jar.items())
        self.http.cookies.clear()
        resp = await self.http.post(path, json=body, headers={**CSRF, **({"Cookie": jar} if jar else {})})
        self.jar.update(_set_cookie_values(resp))
        return resp


async def _post(c: Browser, path: str, body: dict[str, Any]) -> httpx.Response:
    return await c.post(path, body)


async def sign_up(s: Stack, c: Browser, code: str, email: str) -> httpx.Response:
    """Start with the invitation, choose to register, send the profile; the answer of that step."""
    first = await _post(c, "/bff/signin", {"returnTo": "/home", "invitation": code})
    if first.status_code != 200:
        return first
    step = await _post(c, "/bff/signin/select-enroll-profile", {})
    assert step.json().get("step") == "enroll-profile", step.text
    return await _post(c, "/bff/signin/enroll-profile", {"userProfile.email": email,
                                                         "userProfile.firstName": "Ines",
                                                         "userProfile.lastName": "Vited"})


async def finish(s: Stack, c: Browser, email: str) -> dict[str, Any]:
    (mail, *_) = [m for m in reversed(s.okta.idx.outbox) if m["to"] == email]
    step = (await _post(c, "/bff/signin/enroll-authenticator",
                        {"credentials.passcode": mail["code"]})).json()
    assert step["step"] == "enroll-authenticator" and step["authenticator"]["key"] == "okta_password", step
    done: dict[str, Any] = (await _post(c, "/bff/signin/enroll-authenticator",
                                        {"credentials.passcode": PASSWORD})).json()
    return done


def refused(resp: httpx.Response, reason: str) -> None:
    assert resp.status_code == 422, resp.text
    assert resp.headers["content-type"] == "application/problem+json"
    body = resp.json()
    assert body["code"] == f"invitation_{reason}"
    assert body["errors"] == [{"field": "invitation", "code": f"error.invitationCode.{reason}"}]


def no_account_in_any_org(s: Stack, email: str) -> None:
    user = s.okta.directory.user(email)
    assert user is None or not user.profile.get("orgId"), user.profile if user else None


# -- admin API: invite, list, revoke --------------------------------------------------------------


async def test_an_org_admin_invites_lists_and_revokes(s: Stack) -> None:
    await s.login(ALICE)
    made = await s.call(ALICE, "POST", "/invitations", json={"email": "Ines@Example.test"})
    assert made.status_code == 201, made.text
    assert made.headers["cache-control"] == "no-store"
    code, inv = made.json()["code"], made.json()["invitation"]
    assert len(code) >= 40 and code not in str(inv)
    assert (inv["email"], inv["orgId"], inv["status"], inv["invitedBy"]) == ("ines@example.test", "acme",
                                                                            "pending", ALICE)
    listed = await s.call(ALICE, "GET", "/invitations")
    assert listed.status_code == 200
    assert [(i["id"], i["status"]) for i in listed.json()["invitations"]] == [(inv["id"], "pending")]
    assert code not in listed.text
    revoked = await s.call(ALICE, "POST", f"/invitations/{inv['id']}/revoke")
    assert revoked.status_code == 200, revoked.text
    assert revoked.json()["invitation"]["status"] == "revoked"
    assert revoked.json()["invitation"]["revokedBy"] == ALICE
    again = await s.call(ALICE, "GET", "/invitations")
    assert [i["status"] for i in again.json()["invitations"]] == ["revoked"]
    # the audit is the BFF's record
    (record,) = await s.store.list("acme")
    assert record.invited_by == ALICE and record.revoked_by == ALICE


async def test_tenancy_and_roles(s: Stack) -> None:
    for who in (ALICE, GINA, OLGA):
        await s.login(who)
    made = await s.call(ALICE, "POST", "/invitations", json={"email": "x@example.test"})
    inv_id = made.json()["invitation"]["id"]
    # a group admin cannot invite (an invitation grants the whole organisation), list or revoke
    for method, path, kw in (("POST", "/invitations", {"json": {"email": "y@example.test"}}),
                             ("GET", "/invitations", {}), ("POST", f"/invitations/{inv_id}/revoke", {})):
        denied = await s.call(GINA, method, path, **kw)
        assert denied.status_code == 403, denied.text
    # another org's admin sees none of acme's, cannot revoke them, and invites into globex only
    assert (await s.call(OLGA, "GET", "/invitations")).json()["invitations"] == []
    assert (await s.call(OLGA, "POST", f"/invitations/{inv_id}/revoke")).status_code == 404
    theirs = await s.call(OLGA, "POST", "/invitations", json={"email": "z@example.test", })
    assert theirs.json()["invitation"]["orgId"] == "globex"
    assert [i.status for i in await s.store.list("acme")] == ["pending"]
    # a plain user never reaches the admin API
    async with s.client() as c:
        bob = await login_as(c, BOB)
        plain = await c.get("/api/admin/invitations", headers={**CSRF, "Cookie": f"__Host-bff={bob}"})
        assert plain.status_code == 403


async def test_hostile_input_is_a_precise_4xx(s: Stack) -> None:
    await s.login(ALICE)
    cases: list[tuple[dict[str, str], str]] = [
        ({"email": "not an address"}, "email"), ({}, "email"),
        ({"email": "a@b.test", "orgId": "globex"}, "orgId"), ({"email": "x" * 200 + "@a.test"}, "email")]
    for body, field in cases:
        r = await s.call(ALICE, "POST", "/invitations", json=body)
        assert r.status_code == 422, (body, r.text)
        assert r.headers["content-type"] == "application/problem+json"
        assert field in {e["field"] for e in r.json()["errors"]}
    r = await s.call(ALICE, "POST", "/invitations", content=b"{nope",
                     headers={"Content-Type": "application/json"})
    assert r.status_code == 422
    r = await s.call(ALICE, "POST", "/invitations/..%2F..%2Fsessions/revoke")
    assert r.status_code == 400 and r.json()["code"] == "bad_path"  # the proxy refuses it
    for bad in ("ZZZZZZZZZZ", "1", "ab" * 40):
        r = await s.call(ALICE, "POST", f"/invitations/{bad}/revoke")
        assert r.status_code == 404, (bad, r.text)
    assert await s.store.list("acme") == [] and await s.store.list("globex") == []


async def test_the_internal_endpoints_need_the_secret(s: Stack) -> None:
    async with s.client() as c:
        assert (await c.get("/bff/internal/invitations", params={"orgId": "acme"})).status_code == 401
        wrong = await c.get("/bff/internal/invitations", params={"orgId": "acme"},
                            headers={"Authorization": "Bearer " + "x" * 40})
        assert wrong.status_code == 403 and wrong.headers["content-type"] == "application/problem+json"
        forged = await c.post("/bff/internal/invitations", json={"orgId": "acme", "email": "e@v.test",
                                                                 "invitedBy": "eve"},
                              headers={"Authorization": f"SSWS {SECRET}"})
        assert forged.status_code == 401
        ok = await c.get("/bff/internal/invitations", params={"orgId": "acme"},
                         headers={"Authorization": f"Bearer {SECRET}"})
        assert ok.status_code == 200 and ok.json() == {"invitations": []}
    assert await s.store.list("acme") == []


# -- redemption through the embedded sign-up ------------------------------------------------------


async def invite(s: Stack, email: str) -> tuple[str, str]:
    await s.login(ALICE)
    made = await s.call(ALICE, "POST", "/invitations", json={"email": email})
    assert made.status_code == 201, made.text
    return made.json()["code"], made.json()["invitation"]["id"]


async def test_the_invited_address_signs_up_into_the_org(s: Stack) -> None:
    code, _ = await invite(s, "ines@example.test")
    async with Browser(s.url) as c:
        step = await sign_up(s, c, code, "INES@example.test")
        assert step.status_code == 200, step.text
        done = await finish(s, c, "ines@example.test")
        assert done["step"] == "success", done
    user = s.okta.directory.user("ines@example.test")
    assert user is not None and user.status == "ACTIVE" and user.profile["orgId"] == "acme"
    (record,) = await s.store.list("acme")
    assert record.status == "redeemed" and record.redeemed_by == user.id


async def test_the_invitation_works_under_bff_devs_organisation_mode(moto_url: str, tmp_path: Path) -> None:
    """``bff dev`` runs BFF_SIGNUP_ORG=organisation (the Users-API form's typed company): the
    admin screen's invitation still signs its address up into the org through the embedded
    sign-up (it was refused as ``invitation_unknown`` there)."""
    async with stack(moto_url, tmp_path, org_mode="organisation") as st:
        code, _ = await invite(st, "ines@example.test")
        async with Browser(st.url) as c:
            refused(await sign_up(st, c, code, "eve@example.test"), "email")
            step = await sign_up(st, c, code, "ines@example.test")
            assert step.status_code == 200, step.text
            assert (await finish(st, c, "ines@example.test"))["step"] == "success"
        user = st.okta.directory.user("ines@example.test")
        assert user is not None and user.profile["orgId"] == "acme"


async def test_no_invitation_is_honoured_when_signups_join_no_org(moto_url: str, tmp_path: Path) -> None:
    async with stack(moto_url, tmp_path, org_mode="none") as st:
        code, _ = await invite(st, "ines@example.test")
        async with Browser(st.url) as c:
            refused(await sign_up(st, c, code, "ines@example.test"), "unknown")
        assert st.okta.directory.user("ines@example.test") is None


async def test_a_code_for_another_address_creates_no_account(s: Stack) -> None:
    code, _ = await invite(s, "ines@example.test")
    async with Browser(s.url) as c:
        refused(await sign_up(s, c, code, "eve@example.test"), "email")
    assert s.okta.directory.user("eve@example.test") is None
    no_account_in_any_org(s, "ines@example.test")


async def test_a_code_used_twice_is_refused_the_second_time(s: Stack) -> None:
    code, _ = await invite(s, "ines@example.test")
    async with Browser(s.url) as c:
        await sign_up(s, c, code, "ines@example.test")
        assert (await finish(s, c, "ines@example.test"))["step"] == "success"
    async with Browser(s.url) as c:
        refused(await sign_up(s, c, code, "ines@example.test"), "used")
    # the same code for a second address after the first one used it: refused too
    async with Browser(s.url) as c:
        refused(await sign_up(s, c, code, "ivy@example.test"), "used")
    assert s.okta.directory.user("ivy@example.test") is None


async def test_an_expired_code_creates_no_account(s: Stack) -> None:
    code, _ = await invite(s, "ines@example.test")
    real = s.store.clock
    s.store.clock = lambda: real() + 8 * 86400  # the default 7 days are over
    async with Browser(s.url) as c:
        refused(await sign_up(s, c, code, "ines@example.test"), "expired")
    assert s.okta.directory.user("ines@example.test") is None
    listed = await s.call(ALICE, "GET", "/invitations")
    assert [i["status"] for i in listed.json()["invitations"]] == ["expired"]


async def test_a_revoked_code_creates_no_account(s: Stack) -> None:
    code, inv_id = await invite(s, "ines@example.test")
    assert (await s.call(ALICE, "POST", f"/invitations/{inv_id}/revoke")).status_code == 200
    async with Browser(s.url) as c:
        refused(await sign_up(s, c, code, "ines@example.test"), "revoked")
    assert s.okta.directory.user("ines@example.test") is None


async def test_revoked_during_the_sign_up_joins_no_org(s: Stack) -> None:
    """Revoked after the profile was sent (the account exists, unverified): the sign-up may
    finish, but the redemption at success loses, so the account is in no organisation."""
    code, inv_id = await invite(s, "ines@example.test")
    async with Browser(s.url) as c:
        assert (await sign_up(s, c, code, "ines@example.test")).status_code == 200
        assert (await s.call(ALICE, "POST", f"/invitations/{inv_id}/revoke")).status_code == 200
        await finish(s, c, "ines@example.test")
    no_account_in_any_org(s, "ines@example.test")
    (record,) = await s.store.list("acme")
    assert record.status == "revoked" and record.redeemed_by is None


async def test_an_unknown_code_is_refused_before_okta(s: Stack) -> None:
    async with Browser(s.url) as c:
        refused(await sign_up(s, c, "made-up-code", "ines@example.test"), "unknown")
    assert s.okta.directory.user("ines@example.test") is None


