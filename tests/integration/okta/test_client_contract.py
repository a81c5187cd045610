"""The contract of bff.okta's clients, run against the local Okta twin over loopback AND the
in-process fake (tests/support/fake_okta.py), with the sync and the async client: the same
assertions must hold for all four. What passes here is what every caller (sign-up, ``bff
okta``, the Lambda functions) may rely on, whichever Okta is behind it.

The sync client runs in a worker thread: the twin is served by this test's event loop."""

from __future__ import annotations

import asyncio
import functools
import inspect
import secrets
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from joserfc.jwk import RSAKey

from bff.okta import (
    AsyncOktaClient,
    OktaAuthError,
    OktaClient,
    OktaForbidden,
    OktaInvalid,
    OktaNotFound,
    OktaRateLimited,
    OktaServerError,
    PrivateKeyJwtAuth,
    RetryPolicy,
    SswsAuth,
)
from bff_dev.twins.okta import OktaTwin
from tests.support.fake_okta import FakeOktaOrg
from tests.support.okta import running_okta_twin

TOKEN = "contract-ssws-token-0123456789abcdef"
PASSWORD = "Correct-Horse-9"
RETRY = RetryPolicy(attempts=3, max_wait=3.0, margin=0.0, backoff=0.01)


@dataclass
class Backend:
    name: str
    org: OktaTwin | FakeOktaOrg  # add_api_token, register_service_app, fail_next: the same on both
    transport: httpx.MockTransport | None  # None: real loopback HTTP

    @property
    def base_url(self) -> str:
        return self.org.base_url


@pytest.fixture(params=["twin", "fake"])
async def backend(request: pytest.FixtureRequest) -> AsyncIterator[Backend]:
    if request.param == "twin":
        async with running_okta_twin() as twin:
            twin.add_api_token(TOKEN)
            yield Backend("twin", twin, None)
    else:
        fake = FakeOktaOrg()
        fake.add_api_token(TOKEN)
        yield Backend("fake", fake, fake.transport())


class Okta:
    """The sync or the async client on a backend, called alike: ``await okta("get_user", uid)``."""

    def __init__(self, flavour: str, backend: Backend, auth: httpx.Auth | None = None) -> None:
        self.sleeps: list[float] = []
        self.sent: list[str] = []  # "METHOD /path" of every request, token requests included
        self.flavour = flavour
        auth = auth or SswsAuth(TOKEN)
        self.client: OktaClient | AsyncOktaClient
        if flavour == "sync":
            http = httpx.Client(transport=backend.transport, timeout=10,
                                event_hooks={"request": [self._record]})
            self.client = OktaClient(backend.base_url, http=http, auth=auth, retry=RETRY,
                                     sleep=self.sleeps.append)
        else:
            async def record(request: httpx.Request) -> None:
                self._record(request)

            async def sleep(seconds: float) -> None:
                self.sleeps.append(seconds)

            ahttp = httpx.AsyncClient(transport=backend.transport, timeout=10,
                                      event_hooks={"request": [record]})
            self.client = AsyncOktaClient(backend.base_url, http=ahttp, auth=auth, retry=RETRY, sleep=sleep)

    def _record(self, request: httpx.Request) -> None:
        self.sent.append(f"{request.method} {request.url.path}")

    async def __call__(self, method: str, *args: Any, **kwargs: Any) -> Any:
        function = getattr(self.client, method)
        if inspect.iscoroutinefunction(function):
            return await function(*args, **kwargs)
        return await asyncio.to_thread(functools.partial(function, *args, **kwargs))


@pytest.fixture(params=["sync", "async"])
def flavour(request: pytest.FixtureRequest) -> str:
    return str(request.param)


def person(tag: str) -> dict[str, str]:
    email = f"ada.{tag}.{secrets.token_hex(3)}@contract.test"
    return {"login": email, "email": email, "firstName": "Ada", "lastName": "Lovelace"}


async def test_users_are_created_read_updated_and_deactivated(backend: Backend, flavour: str) -> None:
    okta = Okta(flavour, backend)
    staged = await okta("create_user", person("staged"), activate=False)
    active = await okta("create_user", person("active"), password=PASSWORD)
    assert staged["status"] == "STAGED" and active["status"] == "ACTIVE"
    assert (await okta("get_user", active["id"]))["profile"]["login"] == active["profile"]["login"]

    updated = await okta("update_profile", active["id"], {"title": "Countess"})
    assert updated["profile"]["title"] == "Countess" and updated["profile"]["firstName"] == "Ada"  # partial
    cleared = await okta("update_profile", active["id"], {"title": None})
    assert "title" not in cleared["profile"]

    assert await okta("lifecycle", staged["id"], "deactivate") is None
    assert (await okta("get_user", staged["id"]))["status"] == "DEPROVISIONED"


async def test_a_users_sessions_are_cleared(backend: Backend, flavour: str) -> None:
    okta = Okta(flavour, backend)
    user = await okta("create_user", person("sessions"), password=PASSWORD)
    assert await okta("clear_sessions", user["id"]) is None
    assert okta.sent[-1] == f"DELETE /api/v1/users/{user['id']}/sessions"
    with pytest.raises(OktaNotFound):
        await okta("clear_sessions", "00unosuchuser")


async def test_refusals_are_typed_with_okta_s_codes(backend: Backend, flavour: str) -> None:
    okta = Okta(flavour, backend)
    someone = person("taken")
    await okta("create_user", someone, activate=False)
    with pytest.raises(OktaInvalid) as taken:
        await okta("create_user", someone, activate=False)
    assert taken.value.status == 400 and taken.value.code == "E0000001"
    assert any(c.startswith("login: ") and "already exists" in c for c in taken.value.causes)
    assert taken.value.error_id and taken.value.error_id.startswith("oae")

    with pytest.raises(OktaNotFound) as missing:
        await okta("get_user", "00unosuchuser0000001")
    assert missing.value.code == "E0000007" and "/api/v1/users/00unosuchuser0000001" in str(missing.value)

    with pytest.raises(OktaAuthError) as refused:
        await Okta(flavour, backend, SswsAuth("not-the-token"))("get_user", "00unosuchuser0000001")
    assert refused.value.status == 401 and refused.value.code == "E0000011"
    assert "not-the-token" not in str(refused.value) and TOKEN not in str(refused.value)


async def test_groups_membership_and_link_paging_over_three_pages(backend: Backend, flavour: str) -> None:
    okta = Okta(flavour, backend)
    prefix = f"contract-{secrets.token_hex(3)}"
    created = [await okta("post", "/api/v1/groups", {"profile": {"name": f"{prefix}-{n}"}}) for n in range(3)]

    first = await okta("list_groups", q=prefix, limit=1)
    assert len(first.items) == 1 and first.after is not None

    okta.sent.clear()
    everything = await okta("list_all", "/api/v1/groups", {"q": prefix, "limit": "1"})
    assert sorted(g["id"] for g in everything) == sorted(g["id"] for g in created)
    assert okta.sent == ["GET /api/v1/groups"] * 3  # one request per page, the next links followed

    member = await okta("create_user", person("member"), password=PASSWORD)
    gid = created[0]["id"]
    assert await okta("add_to_group", gid, member["id"]) is None
    assert gid in {g["id"] for g in await okta("user_groups", member["id"])}
    assert [u["id"] for u in await okta("all_group_users", gid)] == [member["id"]]
    await okta("remove_from_group", gid, member["id"])
    assert (await okta("group_users", gid)).items == []


async def test_a_service_app_gets_one_token_and_only_its_scopes(backend: Backend, flavour: str) -> None:
    key = RSAKey.generate_key(2048, parameters={"kid": "contract-key"}, private=True)
    pem = key.as_pem(private=True).decode()
    jwks = {"keys": [key.as_dict(private=False)]}  # kid "contract-key": Okta picks the key by it
    backend.org.register_service_app("0oacontract0000001", jwks=jwks,
                                     scopes=("okta.users.read", "okta.users.manage", "okta.groups.read"))
    auth = PrivateKeyJwtAuth(backend.base_url, "0oacontract0000001", pem, key_id="contract-key",
                             scopes=("okta.users.manage",))
    okta = Okta(flavour, backend, auth)
    user = await okta("create_user", person("app"), activate=False)
    for _ in range(3):
        assert (await okta("get_user", user["id"]))["id"] == user["id"]
    assert okta.sent.count("POST /oauth2/v1/token") == 1 and auth.fetches == 1

    with pytest.raises(OktaForbidden) as scope:  # no okta.groups.* in this token
        await okta("list_groups", limit=1)
    assert scope.value.status == 403 and scope.value.code == "E0000006"

    greedy = PrivateKeyJwtAuth(backend.base_url, "0oacontract0000001", pem, key_id="contract-key",
                               scopes=("okta.apps.manage",))
    with pytest.raises(OktaAuthError) as refused:
        await Okta(flavour, backend, greedy)("get_user", user["id"])
    assert refused.value.code == "invalid_scope" and "PRIVATE" not in str(refused.value)


async def test_rate_limits_are_waited_out_by_the_server_s_clock_or_passed_on(backend: Backend,
                                                                            flavour: str) -> None:
    okta = Okta(flavour, backend)
    user = await okta("create_user", person("limited"), activate=False)
    path = f"/api/v1/users/{user['id']}"

    backend.org.fail_next(path, 429, headers={"X-Rate-Limit-Reset": str(int(time.time()) + 2)})
    assert (await okta("get_user", user["id"]))["id"] == user["id"]
    assert len(okta.sleeps) == 1 and 0.0 < okta.sleeps[0] <= 3.0  # measured against the answer's Date

    backend.org.fail_next(path, 429, headers={"X-Rate-Limit-Reset": str(int(time.time()) + 50)})
    with pytest.raises(OktaRateLimited) as limited:
        await okta("get_user", user["id"])
    assert len(okta.sleeps) == 1 and 45 <= limited.value.retry_after <= 51  # too far: the caller decides

    backend.org.fail_next(path, 429, headers={"X-Rate-Limit-Reset": "²"})
    assert (await okta("get_user", user["id"]))["id"] == user["id"]
    assert okta.sleeps[-1] == RETRY.default_wait


async def test_server_errors_are_retried_for_reads_only(backend: Backend, flavour: str) -> None:
    okta = Okta(flavour, backend)
    user = await okta("create_user", person("flaky"), activate=False)
    path = f"/api/v1/users/{user['id']}"

    backend.org.fail_next(path, 503)
    assert (await okta("get_user", user["id"]))["id"] == user["id"]
    assert okta.sent[-2:] == [f"GET {path}", f"GET {path}"] and okta.sleeps == [0.01]

    backend.org.fail_next(path, 500)
    with pytest.raises(OktaServerError) as failed:
        await okta("update_profile", user["id"], {"title": "x"})
    assert failed.value.status == 500 and okta.sent[-1] == f"POST {path}" and okta.sleeps == [0.01]
    assert "title" not in (await okta("get_user", user["id"]))["profile"]  # the write was not repeated
