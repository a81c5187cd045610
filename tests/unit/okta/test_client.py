"""bff.okta.client: OktaClient and AsyncOktaClient over httpx.MockTransport (no I/O). Every
scenario runs on both: they are one client with two transports."""

from __future__ import annotations

import inspect
import json
from collections.abc import Callable
from email.utils import formatdate
from typing import Any

import httpx
import pytest

from bff.okta import (
    AsyncOktaClient,
    OktaApiError,
    OktaAuthError,
    OktaClient,
    OktaForbidden,
    OktaInvalid,
    OktaNotFound,
    OktaProtocolError,
    OktaRateLimited,
    OktaServerError,
    OktaTimeout,
    OktaTransportError,
    Page,
    RetryPolicy,
    SswsAuth,
)
from bff.okta.retry import MAX_RESET_WAIT

ORG = "https://acme.okta.test"
TOKEN = "00SSWS-contract-token-0123456789abcdef"
NOW = 1_700_000_000
Handler = Callable[[httpx.Request], httpx.Response]


class Okta:
    """One of the two clients, called the same way: ``await okta("get_user", "00u1")``."""

    def __init__(self, flavour: str, handler: Handler, *, retry: RetryPolicy | None = None,
                 clock: Callable[[], float] = lambda: NOW + 3600.0, max_pages: int = 200) -> None:
        self.sleeps: list[float] = []
        self.client: OktaClient | AsyncOktaClient
        if flavour == "sync":
            self.client = OktaClient(ORG, http=httpx.Client(transport=httpx.MockTransport(handler)),
                                     auth=SswsAuth(TOKEN), retry=retry, sleep=self.sleeps.append, clock=clock,
                                     max_pages=max_pages)
        else:
            async def sleep(seconds: float) -> None:
                self.sleeps.append(seconds)

            self.client = AsyncOktaClient(ORG, http=httpx.AsyncClient(transport=httpx.MockTransport(handler)),
                                          auth=SswsAuth(TOKEN), retry=retry, sleep=sleep, clock=clock,
                                          max_pages=max_pages)

    async def __call__(self, method: str, *args: Any, **kwargs: Any) -> Any:
        result = getattr(self.client, method)(*args, **kwargs)
        return await result if inspect.isawaitable(result) else result


@pytest.fixture(params=["sync", "async"])
def flavour(request: pytest.FixtureRequest) -> str:
    return str(request.param)


class Script:
    """Answers in order (the last one repeats), recording what was sent."""

    def __init__(self, *answers: httpx.Response | Exception) -> None:
        self.answers = list(answers)
        self.sent: list[tuple[str, str, str]] = []  # method, url, authorization

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.sent.append((request.method, str(request.url), request.headers.get("authorization", "")))
        answer = self.answers.pop(0) if len(self.answers) > 1 else self.answers[0]
        if isinstance(answer, Exception):
            raise answer
        return answer

    @property
    def methods(self) -> list[str]:
        return [m for m, _, _ in self.sent]


def okta_error(status: int, code: str, summary: str, causes: tuple[str, ...] = (),
               headers: dict[bytes, bytes] | None = None) -> httpx.Response:
    return httpx.Response(status, headers=headers, json={
        "errorCode": code, "errorSummary": summary, "errorLink": code, "errorId": "oaeXYZ",
        "errorCauses": [{"errorSummary": c} for c in causes]})


def limited(reset: str, *, date: int | None = NOW) -> httpx.Response:
    """A 429 as on the wire: header values are bytes (UTF-8 here: httpx decodes them back)."""
    headers = {b"X-Rate-Limit-Limit": b"600", b"X-Rate-Limit-Remaining": b"0",
               b"X-Rate-Limit-Reset": reset.encode()}
    if date is not None:
        headers[b"Date"] = formatdate(date, usegmt=True).encode()
    return okta_error(429, "E0000047", "API call exceeded rate limit.", headers=headers)


def user() -> httpx.Response:
    return httpx.Response(200, json={"id": "00u1", "status": "ACTIVE", "profile": {"login": "a@b.test"}})


# -- requests -------------------------------------------------------------------------------------


async def test_requests_carry_the_credential_ask_for_json_and_escape_ids(flavour: str) -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json={"id": "x", "profile": {}})

    okta = Okta(flavour, handler)
    await okta("get_user", "bob@acme.test/../x")
    await okta("update_profile", "00u1", {"title": "Buyer", "mobilePhone": None})
    first, second = seen
    assert first.url.raw_path == b"/api/v1/users/bob%40acme.test%2F..%2Fx"
    assert first.headers["authorization"] == f"SSWS {TOKEN}" and first.headers["accept"] == "application/json"
    assert second.method == "POST" and second.url.path == "/api/v1/users/00u1"
    assert json.loads(second.content) == {"profile": {"title": "Buyer", "mobilePhone": None}}


async def test_the_typed_calls_send_okta_s_shapes(flavour: str) -> None:
    script = Script(httpx.Response(200, json={"id": "00u9", "profile": {}}), httpx.Response(200, json={}),
                    httpx.Response(200, json=[]), httpx.Response(204), httpx.Response(204))
    okta = Okta(flavour, script)
    await okta("create_user", {"login": "a@b.test"}, password="Pw-123456789", activate=False)
    await okta("lifecycle", "00u9", "deactivate")
    await okta("list_users", search='profile.orgId eq "acme"', limit=50)
    assert await okta("add_to_group", "00g1", "00u9") is None
    assert await okta("remove_from_group", "00g1", "00u9") is None
    assert [(m, u) for m, u, _ in script.sent] == [
        ("POST", f"{ORG}/api/v1/users?activate=false"),
        ("POST", f"{ORG}/api/v1/users/00u9/lifecycle/deactivate?sendEmail=false"),
        ("GET", f"{ORG}/api/v1/users?search=profile.orgId+eq+%22acme%22&limit=50"),
        ("PUT", f"{ORG}/api/v1/groups/00g1/users/00u9"),
        ("DELETE", f"{ORG}/api/v1/groups/00g1/users/00u9"),
    ]


# -- rate limits ------------------------------------------------------------------------------------


async def test_a_429_waits_for_the_reset_by_okta_s_clock_then_retries(flavour: str) -> None:
    script = Script(limited(str(NOW + 2)), user())  # the local clock is an hour fast: Date wins
    okta = Okta(flavour, script)
    assert (await okta("get_user", "00u1"))["id"] == "00u1"
    assert script.methods == ["GET", "GET"] and okta.sleeps == [pytest.approx(2.1)]


async def test_without_a_date_the_local_clock_measures_the_wait(flavour: str) -> None:
    script = Script(limited(str(NOW + 4), date=None), user())
    okta = Okta(flavour, script, clock=lambda: NOW + 1.0)
    await okta("get_user", "00u1")
    assert okta.sleeps == [pytest.approx(3.1)]


@pytest.mark.parametrize("reset", ["²", "١٢", "12.5", "soon", ""])
async def test_an_unreadable_reset_waits_the_default_and_is_never_a_crash(flavour: str, reset: str) -> None:
    script = Script(limited(reset), user())
    okta = Okta(flavour, script, retry=RetryPolicy(default_wait=0.75))
    assert (await okta("get_user", "00u1"))["id"] == "00u1"
    assert okta.sleeps == [0.75]


@pytest.mark.parametrize("reset", [str(NOW + 10**9), "9" * 40, "9" * 5000])
async def test_a_huge_reset_is_clamped_and_not_waited_for(flavour: str, reset: str) -> None:
    script = Script(limited(reset))
    okta = Okta(flavour, script, retry=RetryPolicy(max_wait=5.0, margin=0.0))
    with pytest.raises(OktaRateLimited) as info:
        await okta("get_user", "00u1")
    assert okta.sleeps == [] and script.methods == ["GET"]
    assert info.value.retry_after == MAX_RESET_WAIT and info.value.code == "E0000047"


async def test_rate_limit_retries_are_bounded(flavour: str) -> None:
    script = Script(limited(str(NOW + 1)))
    okta = Okta(flavour, script, retry=RetryPolicy(attempts=3))
    with pytest.raises(OktaRateLimited) as info:
        await okta("create_user", {"login": "a@b.test"})
    assert script.methods == ["POST"] * 3 and len(okta.sleeps) == 2  # a 429 is retried for writes too
    assert info.value.retry_after == pytest.approx(1.1) and info.value.retryable


# -- 5xx, timeouts, connection errors -------------------------------------------------------------


async def test_reads_are_retried_on_5xx_with_backoff(flavour: str) -> None:
    script = Script(okta_error(500, "E0000009", "Internal Server Error"), okta_error(503, "E0000009", "x"),
                    user())
    okta = Okta(flavour, script, retry=RetryPolicy(attempts=3, backoff=0.5))
    assert (await okta("get_user", "00u1"))["id"] == "00u1"
    assert script.methods == ["GET"] * 3 and okta.sleeps == [0.5, 1.0]


@pytest.mark.parametrize(("method", "args"), [
    ("update_profile", ("00u1", {"a": 1})), ("put", ("/api/v1/groups/00g1", {})),
    ("delete", ("/api/v1/groups/00g1",)), ("add_to_group", ("00g1", "00u1")),
])
async def test_writes_are_not_retried_on_5xx(flavour: str, method: str, args: tuple[Any, ...]) -> None:
    script = Script(okta_error(500, "E0000009", "Internal Server Error"), user())
    okta = Okta(flavour, script)
    with pytest.raises(OktaServerError) as info:
        await okta(method, *args)
    assert len(script.sent) == 1 and okta.sleeps == []
    assert info.value.status == 500 and info.value.code == "E0000009" and info.value.retryable


async def test_a_5xx_read_gives_up_after_the_attempts(flavour: str) -> None:
    script = Script(okta_error(502, "E0000009", "x"))
    okta = Okta(flavour, script, retry=RetryPolicy(attempts=2))
    with pytest.raises(OktaServerError):
        await okta("get_user", "00u1")
    assert script.methods == ["GET", "GET"]


async def test_timeouts_are_retried_for_reads_only(flavour: str) -> None:
    script = Script(httpx.ReadTimeout("slow"), user())
    okta = Okta(flavour, script)
    assert (await okta("get_user", "00u1"))["id"] == "00u1"
    assert len(script.sent) == 2 and okta.sleeps == [0.5]

    script = Script(httpx.ReadTimeout("slow"), user())
    okta = Okta(flavour, script)
    with pytest.raises(OktaTimeout) as info:
        await okta("create_user", {"login": "a@b.test"})
    assert len(script.sent) == 1
    assert isinstance(info.value.__cause__, httpx.ReadTimeout)
    assert str(info.value) == "POST /api/v1/users: ReadTimeout: no answer in time"


async def test_connection_errors_become_transport_errors(flavour: str) -> None:
    script = Script(httpx.ConnectError("refused"))
    okta = Okta(flavour, script, retry=RetryPolicy(attempts=3))
    with pytest.raises(OktaTransportError) as info:
        await okta("get_user", "00u1")
    assert len(script.sent) == 3 and not isinstance(info.value, OktaTimeout)
    assert isinstance(info.value.__cause__, httpx.ConnectError) and info.value.retryable


# -- errors -------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("status", "code", "summary", "kind"), [
    (404, "E0000007", "Not found: Resource not found: 00u1 (User)", OktaNotFound),
    (400, "E0000001", "Api validation failed: login", OktaInvalid),
    (403, "E0000038", "This operation is not allowed in the user's current status.", OktaForbidden),
    (401, "E0000011", "Invalid token provided", OktaAuthError),
    (409, "E0000999", "Conflict", OktaApiError),
])
async def test_errors_map_to_the_tree_without_the_token(flavour: str, status: int, code: str, summary: str,
                                                        kind: type[OktaApiError]) -> None:
    answer = okta_error(status, code, summary, ("login: already exists",))
    okta = Okta(flavour, Script(answer))
    with pytest.raises(kind) as info:
        await okta("get_user", "00u1")
    error = info.value
    assert type(error) is kind and error.status == answer.status_code and error.error_id == "oaeXYZ"
    assert error.code == answer.json()["errorCode"] and error.summary == answer.json()["errorSummary"]
    assert str(error).startswith(f"GET /api/v1/users/00u1: HTTP {answer.status_code} ")
    for shown in (str(error), repr(error), repr(error.args), repr(okta.client), repr(okta.client.auth)):
        assert TOKEN not in shown and "SSWS " not in shown


async def test_the_query_string_stays_out_of_messages(flavour: str) -> None:
    okta = Okta(flavour, Script(okta_error(400, "E0000031", "Invalid search criteria.")))
    with pytest.raises(OktaInvalid) as info:
        await okta("list_users", search='profile.lastName eq "Lovelace"')
    assert "Lovelace" not in str(info.value) and str(info.value).startswith("GET /api/v1/users: HTTP 400")


@pytest.mark.parametrize(("answer", "message"), [
    (lambda: httpx.Response(200, text="<html>not json</html>"), "not JSON"),
    (lambda: httpx.Response(200, json=["a", "list"]), "expected a JSON object"),
    (lambda: httpx.Response(302, headers={"Location": "https://login.example/"}), "unexpected redirect"),
])
async def test_answers_that_break_the_contract(flavour: str, answer: Callable[[], httpx.Response],
                                               message: str) -> None:
    okta = Okta(flavour, Script(answer()))
    with pytest.raises(OktaProtocolError, match=message):
        await okta("get_user", "00u1")


# -- paging -------------------------------------------------------------------------------------------


def three_pages(seen: list[str], *, elsewhere: str | None = None) -> Handler:
    pages = {None: (["00g1", "00g2"], "00g2"), "00g2": (["00g3", "00g4"], "00g4"), "00g4": (["00g5"], None)}

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(str(request.url))
        assert request.url.host == "acme.okta.test", "the credential went elsewhere"
        ids, after = pages[request.url.params.get("after")]
        base = elsewhere or f"{ORG}/api/v1/groups"
        links = [f'<{ORG}/api/v1/groups?limit=2>; rel="self"']
        if after:
            links.append(f'<{base}?limit=2&after={after}>; rel="next"')
        return httpx.Response(200, json=[{"id": i} for i in ids], headers={"Link": ", ".join(links)})

    return handler


async def test_list_all_follows_next_links_over_three_pages(flavour: str) -> None:
    seen: list[str] = []
    okta = Okta(flavour, three_pages(seen))
    groups = await okta("list_all", "/api/v1/groups", {"limit": "2"})
    assert [g["id"] for g in groups] == ["00g1", "00g2", "00g3", "00g4", "00g5"]
    assert seen == [f"{ORG}/api/v1/groups?limit=2", f"{ORG}/api/v1/groups?limit=2&after=00g2",
                    f"{ORG}/api/v1/groups?limit=2&after=00g4"]
    seen.clear()
    assert len(await okta("all_groups")) == 5 and len(seen) == 3


async def test_one_page_at_a_time_with_the_after_cursor(flavour: str) -> None:
    okta = Okta(flavour, three_pages([]))
    first = await okta("list_groups", limit=2)
    assert isinstance(first, Page) and [g["id"] for g in first.items] == ["00g1", "00g2"]
    assert first.after == "00g2"
    last = await okta("list_groups", limit=2, after="00g4")
    assert [g["id"] for g in last.items] == ["00g5"] and last.after is None and last.next_url is None


async def test_a_next_link_to_another_origin_is_not_followed(flavour: str) -> None:
    seen: list[str] = []
    okta = Okta(flavour, three_pages(seen, elsewhere="https://evil.test/steal"))
    with pytest.raises(OktaProtocolError, match="another origin"):
        await okta("list_all", "/api/v1/groups")
    assert len(seen) == 1


async def test_paging_stops_at_max_pages(flavour: str) -> None:
    def forever(request: httpx.Request) -> httpx.Response:
        after = int(request.url.params.get("after", "0")) + 1
        return httpx.Response(200, json=[{"id": str(after)}],
                              headers={"Link": f'<{ORG}/api/v1/groups?after={after}>; rel="next"'})

    okta = Okta(flavour, forever, max_pages=4)
    with pytest.raises(OktaProtocolError, match="more than 4 pages"):
        await okta("all_groups")


async def test_a_list_answer_that_is_not_a_list(flavour: str) -> None:
    okta = Okta(flavour, Script(httpx.Response(200, json={"id": "00g1"})))
    with pytest.raises(OktaProtocolError, match="expected a JSON array"):
        await okta("user_groups", "00u1")


# -- the two clients are one ----------------------------------------------------------------------------


def test_both_clients_offer_the_same_calls() -> None:
    def public(cls: type) -> dict[str, Any]:
        return {n: f for n, f in vars(cls).items() if not n.startswith("_") and callable(f)}

    sync, asynchronous = public(OktaClient), public(AsyncOktaClient)
    assert set(sync) == set(asynchronous)
    for name, function in asynchronous.items():
        assert inspect.iscoroutinefunction(function), name
        assert not inspect.iscoroutinefunction(sync[name]), name
        assert list(inspect.signature(function).parameters) == list(inspect.signature(sync[name]).parameters)


def test_the_org_url_must_be_absolute() -> None:
    with pytest.raises(ValueError):
        OktaClient("acme.okta.com", http=httpx.Client(), auth=SswsAuth(TOKEN))
