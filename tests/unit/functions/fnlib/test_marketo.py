"""MarketoClient against scripted Marketo answers (httpx.MockTransport, fake clock and sleep)."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from fnlib.marketo import (
    MarketoAuthError,
    MarketoClient,
    MarketoRecordError,
    MarketoRequestError,
    MarketoRetryableError,
)

SECRET = "client-secret-value-xyz"


class Script:
    """Answers lead calls from a list (token calls always succeed unless told otherwise)."""

    def __init__(self, answers: list[Any], *, token_status: int = 200) -> None:
        self.answers = list(answers)
        self.token_status = token_status
        self.tokens_issued = 0
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        if request.url.path.endswith("/oauth/token"):
            if self.token_status != 200:
                return httpx.Response(
                    self.token_status,
                    json={"error": "unauthorized", "error_description": "Bad client credentials"},
                )
            self.tokens_issued += 1
            return httpx.Response(
                200,
                json={
                    "access_token": f"tok-{self.tokens_issued}",
                    "token_type": "bearer",
                    "expires_in": 3599,
                    "scope": "api@x",
                },
            )
        answer = self.answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        if isinstance(answer, httpx.Response):
            return answer
        return httpx.Response(200, json=answer)

    def lead_requests(self) -> list[httpx.Request]:
        return [r for r in self.requests if r.url.path.endswith("/leads.json")]


def ok(lead_id: int = 7, status: str = "created") -> dict[str, Any]:
    return {"requestId": "a#b", "success": True, "result": [{"id": lead_id, "status": status}]}


def err(code: str) -> dict[str, Any]:
    return {"requestId": "a#b", "success": False, "errors": [{"code": code, "message": "x"}]}


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def client(
    script: Script,
    *,
    clock: Callable[[], float] | None = None,
    sleeps: list[float] | None = None,
    identity: str = "https://123-abc.mktorest.com/identity",
    rest: str = "https://123-abc.mktorest.com/rest",
) -> MarketoClient:
    slept = sleeps if sleeps is not None else []
    return MarketoClient(
        identity,
        rest,
        "cid",
        SECRET,
        http=httpx.Client(transport=httpx.MockTransport(script)),
        clock=clock or Clock(),
        sleep=slept.append,
        backoff_attempts=3,
        backoff_base=1.0,
        backoff_cap=8.0,
    )


def test_upsert_sends_create_or_update_by_email_with_bearer_token() -> None:
    script = Script([ok(42)])
    lead_id = client(script).upsert_lead("ada@x.test", "Ada", "Lovelace", {"leadSource": "web"})
    assert lead_id == 42
    token_req, lead_req = script.requests
    assert token_req.method == "POST" and token_req.url.path == "/identity/oauth/token"
    assert dict(token_req.url.params) == {
        "grant_type": "client_credentials",
        "client_id": "cid",
        "client_secret": SECRET,
    }
    assert lead_req.url.path == "/rest/v1/leads.json"
    assert lead_req.headers["authorization"] == "Bearer tok-1"
    assert json.loads(lead_req.content) == {
        "action": "createOrUpdate",
        "lookupField": "email",
        "input": [{"leadSource": "web", "email": "ada@x.test", "firstName": "Ada", "lastName": "Lovelace"}],
    }


@pytest.mark.parametrize(
    ("identity", "rest"),
    [
        ("https://i.mktorest.com", "https://i.mktorest.com"),
        ("https://i.mktorest.com/identity/", "https://i.mktorest.com/rest/"),
    ],
)
def test_accepts_instance_urls_with_or_without_the_segment(identity: str, rest: str) -> None:
    script = Script([ok()])
    client(script, identity=identity, rest=rest).upsert_lead("a@x.test", "A", "B")
    assert [r.url.path for r in script.requests] == ["/identity/oauth/token", "/rest/v1/leads.json"]


def test_token_is_cached_until_shortly_before_expiry() -> None:
    clock = Clock()
    script = Script([ok(), ok(), ok()])
    c = client(script, clock=clock)
    c.upsert_lead("a@x.test", "A", "B")
    clock.now += 3000  # 3599 - 60 s skew not reached yet
    c.upsert_lead("a@x.test", "A", "B")
    assert script.tokens_issued == 1
    clock.now += 600  # past expires_in - skew
    c.upsert_lead("a@x.test", "A", "B")
    assert script.tokens_issued == 2
    assert script.lead_requests()[-1].headers["authorization"] == "Bearer tok-2"


@pytest.mark.parametrize("code", ["601", "602"])
def test_invalid_or_expired_token_gets_a_new_token_and_retries(code: str) -> None:
    script = Script([err(code), ok(9)])
    c = client(script)
    assert c.upsert_lead("a@x.test", "A", "B") == 9
    assert script.tokens_issued == 2
    assert [r.headers["authorization"] for r in script.lead_requests()] == ["Bearer tok-1", "Bearer tok-2"]


def test_token_refusals_are_bounded() -> None:
    script = Script([err("601"), err("601"), err("601")])
    with pytest.raises(MarketoRequestError) as info:
        client(script).upsert_lead("a@x.test", "A", "B")
    assert info.value.codes == ("601",)
    assert len(script.lead_requests()) == 3


@pytest.mark.parametrize("code", ["606", "607", "615"])
def test_limits_back_off_then_succeed(code: str) -> None:
    sleeps: list[float] = []
    script = Script([err(code), err(code), ok(5)])
    assert client(script, sleeps=sleeps).upsert_lead("a@x.test", "A", "B") == 5
    assert len(sleeps) == 2
    assert 0.5 <= sleeps[0] <= 1.0 and 1.0 <= sleeps[1] <= 2.0  # doubling, with jitter


def test_back_off_is_bounded_then_raises_a_retryable_error() -> None:
    sleeps: list[float] = []
    script = Script([err("606")] * 4)
    with pytest.raises(MarketoRetryableError) as info:
        client(script, sleeps=sleeps).upsert_lead("a@x.test", "A", "B")
    assert info.value.retryable and info.value.codes == ("606",)
    assert len(sleeps) == 3 and all(s <= 8.0 for s in sleeps)
    assert len(script.lead_requests()) == 4


@pytest.mark.parametrize(
    "answer",
    [
        httpx.Response(503, text="down"),
        httpx.Response(429),
        httpx.ReadTimeout("slow"),
        httpx.ConnectError("refused"),
        httpx.Response(200, text="<html>"),
    ],
)
def test_transient_failures_are_retried_then_retryable(answer: Any) -> None:
    script = Script([answer] * 4)
    with pytest.raises(MarketoRetryableError):
        client(script).upsert_lead("a@x.test", "A", "B")
    assert len(script.lead_requests()) == 4


def test_skipped_record_is_an_error_with_the_reason_codes() -> None:
    script = Script(
        [
            {
                "requestId": "a#b",
                "success": True,
                "result": [
                    {"status": "skipped", "reasons": [{"code": "1006", "message": "Field 'foo' not found"}]}
                ],
            }
        ]
    )
    with pytest.raises(MarketoRecordError) as info:
        client(script).upsert_lead("a@x.test", "A", "B", {"foo": 1})
    assert info.value.codes == ("1006",) and "Field 'foo' not found" in str(info.value)
    assert not info.value.retryable


@pytest.mark.parametrize(
    "answer",
    [
        err("1003"),
        err("603"),
        {"requestId": "a#b", "success": True, "result": []},
        {"requestId": "a#b", "success": True, "result": [{"status": "created"}]},
        httpx.Response(413),
        httpx.Response(400),
    ],
)
def test_other_failures_are_request_errors(answer: Any) -> None:
    with pytest.raises(MarketoRequestError):
        client(Script([answer])).upsert_lead("a@x.test", "A", "B")


def test_updated_status_returns_the_existing_id() -> None:
    assert client(Script([ok(77, "updated")])).upsert_lead("a@x.test", "A", "B") == 77


def test_bad_client_credentials_never_leak_the_secret() -> None:
    script = Script([], token_status=401)
    with pytest.raises(MarketoAuthError) as info:
        client(script).upsert_lead("a@x.test", "A", "B")
    assert SECRET not in str(info.value) and "tok-" not in str(info.value)
    assert script.lead_requests() == []
