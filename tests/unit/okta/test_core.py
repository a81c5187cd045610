"""bff.okta.core: the decisions without I/O (the clients' loops are tested in test_client.py)."""

from __future__ import annotations

import httpx
import pytest

from bff.okta.core import Call, OktaCore
from bff.okta.errors import OktaProtocolError, OktaRateLimited
from bff.okta.retry import RetryPolicy

ORG = "https://acme.okta.test"


def core(**policy: float) -> OktaCore:
    return OktaCore(ORG + "/", retry=RetryPolicy(**policy), clock=lambda: 1000.0)  # type: ignore[arg-type]


def test_paths_resolve_under_the_org_and_links_only_on_its_origin() -> None:
    c = core()
    assert c.url(Call("GET", "/api/v1/users")) == f"{ORG}/api/v1/users"
    assert c.url(Call("GET", f"{ORG}/api/v1/users?after=x")) == f"{ORG}/api/v1/users?after=x"
    with pytest.raises(OktaProtocolError, match="another origin"):
        c.url(Call("GET", "https://evil.test/api/v1/users"))


def test_messages_name_the_path_without_the_query() -> None:
    assert OktaCore.path(Call("GET", f"{ORG}/api/v1/users?search=Lovelace")) == "/api/v1/users"
    assert OktaCore.path(Call("GET", "/api/v1/users?q=Ada")) == "/api/v1/users"


def test_retry_decisions() -> None:
    c = core(attempts=3, max_wait=5.0, margin=0.5, backoff=1.0)
    get, post = Call("GET", "/x"), Call("POST", "/x")
    soon = httpx.Response(429, headers={"X-Rate-Limit-Reset": "1002"})
    late = httpx.Response(429, headers={"X-Rate-Limit-Reset": "1060"})
    assert c.after_response(post, 1, soon) == 2.5
    assert c.after_response(post, 3, soon) is None  # attempts spent
    assert c.after_response(get, 1, late) is None  # beyond max_wait: fail now, say when
    edge = httpx.Response(429, headers={"X-Rate-Limit-Reset": "1005"})
    assert c.after_response(get, 1, edge) == 5.5  # max_wait bounds the reset; the margin comes on top
    assert c.after_response(get, 2, httpx.Response(500)) == 2.0
    assert c.after_response(post, 1, httpx.Response(500)) is None
    assert c.after_response(get, 1, httpx.Response(404)) is None
    assert c.after_error(get, 1, httpx.ConnectTimeout("x")) == 1.0
    assert c.after_error(post, 1, httpx.ConnectTimeout("x")) is None
    assert c.after_error(get, 1, httpx.TooManyRedirects("x")) is None  # not a transport failure


def test_the_final_rate_limit_says_when_to_come_back() -> None:
    c = core(margin=0.5)
    with pytest.raises(OktaRateLimited) as info:
        c.check(Call("GET", "/x"), httpx.Response(429, headers={"X-Rate-Limit-Reset": "1060"}))
    assert info.value.retry_after == 60.5


def test_an_empty_answer_decodes_to_none() -> None:
    assert core().json(Call("DELETE", "/x"), httpx.Response(204)) is None
