"""The AEM client: Adobe's persisted-query encoding, the real response shapes, retries only on
timeouts/5xx, and 200-with-errors treated as a failure."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import httpx
import pytest

from bff.content.aem import (
    AemClient,
    ImsClientCredentials,
    StaticToken,
    graphql_items,
    parse_copy,
    persisted_query_path,
)
from bff.errors import BadGateway, GatewayTimeout, Unavailable
from bff.settings import REPO_ROOT

FIXTURES = REPO_ROOT / "tests" / "fixtures" / "aem"  # real AEM responses (provenance: README)


def fixture(name: str) -> Any:
    return json.loads((FIXTURES / name).read_text(encoding="utf-8"))


# -- encoding: the vectors of Adobe's JS client tests (fixtures/README.md) ----------------------


def test_encoding_vector_one_variable() -> None:
    assert (
        persisted_query_path("wknd", "persist-query-name", {"name": "test"})
        == "/graphql/execute.json/wknd/persist-query-name%3Bname%3Dtest;"
    )


def test_encoding_vector_two_variables() -> None:
    assert (
        persisted_query_path("wknd", "persist-query-name", {"name": "test", "locale": "en"})
        == "/graphql/execute.json/wknd/persist-query-name%3Bname%3Dtest%3Blocale%3Den;"
    )


def test_encoding_docs_example_slashes() -> None:
    docs = (
        "/graphql/execute.json/wknd/adventure-by-path%3BadventurePath%3D%2Fcontent%2Fdam%2Fwknd%2Fen"
        "%2Fadventures%2Fbali-surf-camp%2Fbali-surf-camp"
    )
    path = persisted_query_path(
        "wknd",
        "adventure-by-path",
        {"adventurePath": "/content/dam/wknd/en/adventures/bali-surf-camp/bali-surf-camp"},
    )
    assert path == docs + ";"  # Adobe's client appends the literal ';' the docs example omits


def test_encoding_utf8_and_no_variables() -> None:
    assert persisted_query_path("bff", "ui-copy") == "/graphql/execute.json/bff/ui-copy"
    assert (
        persisted_query_path("bff", "q", {"v": "é;=/ x"})
        == "/graphql/execute.json/bff/q%3Bv%3D%C3%A9%3B%3D%2F%20x;"
    )


# -- the real response shapes ----------------------------------------------------------------


def test_parses_list_shape_of_wknd() -> None:
    items = graphql_items(fixture("adventures-all.wknd-ios-testdata.json"))
    assert [i["slug"] for i in items] == ["bali-surf-camp", "beervana-portland"]


def test_parses_by_path_shapes() -> None:
    city = graphql_items(fixture("city-by-path.docs.json"))
    assert city[0]["_path"] == "/content/dam/sample-content-fragments/cities/berlin"
    team = graphql_items(fixture("team-by-adventure-path.docs.json"))
    assert team[0]["instructorTeam"]["_metadata"]["stringMetadata"][0]["value"] == "Yosemite Team"
    by_slug = graphql_items(fixture("adventure-by-slug.wknd-ios-testdata.json"))
    assert len(by_slug) == 1


def test_parses_list_with_metadata() -> None:
    awards = graphql_items(fixture("award-list-metadata.docs.json"))
    assert awards[0]["_metadata"]["stringMetadata"][0] == {"name": "title", "value": "Gameblitz Award"}


def test_errors_body_is_a_failure_even_with_data() -> None:
    # graphql-errors.java-client-test.json carries both ``errors`` and ``data``: never content.
    with pytest.raises(BadGateway) as err:
        graphql_items(fixture("graphql-errors.java-client-test.json"))
    assert err.value.instance_code == "aem_query_error"


def test_paginated_shape() -> None:
    body = {
        "data": {
            "uiCopyPaginated": {
                "edges": [{"cursor": "a", "node": {"journey": "signin"}}],
                "pageInfo": {"endCursor": "a", "hasNextPage": False},
            }
        }
    }
    assert graphql_items(body) == [{"journey": "signin"}]


@pytest.mark.parametrize(
    "body",
    [
        [],
        "html",
        {"data": None},
        {"data": {"a": {}, "b": {}}},
        {"data": {"uiCopyList": {"nope": 1}}},
        {"data": {"uiCopyList": [1, 2]}},
    ],
)
def test_unknown_shapes_are_bad_gateway(body: Any) -> None:
    with pytest.raises(BadGateway):
        graphql_items(body)


def test_parse_copy_picks_the_fragment_at_the_expected_path() -> None:
    body = {
        "data": {
            "uiCopyList": {
                "items": [
                    {
                        "_path": "/content/dam/bff/en/old/ui-copy/signin",
                        "_variation": "master",
                        "journey": "signin",
                        "strings": {"title": "old"},
                    },
                    {
                        "_path": "/content/dam/bff/en/ui-copy/signin",
                        "_variation": "master",
                        "journey": "signin",
                        "strings": json.dumps({"title": "Sign in", "bad": 3}),
                    },  # JSON Object sent as a string
                ]
            }
        }
    }
    fragment = parse_copy(body, journey="signin", expected_path="/content/dam/bff/en/ui-copy/signin")
    assert fragment is not None
    assert dict(fragment.strings) == {"title": "Sign in"}  # non-string values dropped
    assert parse_copy({"data": {"uiCopyList": {"items": []}}}, journey="signin") is None


# -- the client over a mock transport --------------------------------------------------------


def _copy_body(strings: dict[str, str]) -> dict[str, Any]:
    return {
        "data": {
            "uiCopyList": {
                "items": [
                    {
                        "_path": "/content/dam/bff/en/ui-copy/signin",
                        "_variation": "master",
                        "journey": "signin",
                        "strings": strings,
                    }
                ]
            }
        }
    }


class Script:
    """Answers scripted responses in order and records requests."""

    def __init__(self, *answers: Any) -> None:
        self.answers = list(answers)
        self.requests: list[httpx.Request] = []

    async def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        answer = self.answers.pop(0) if len(self.answers) > 1 else self.answers[0]
        if isinstance(answer, Exception):
            raise answer
        if callable(answer):
            return await answer(request)  # type: ignore[no-any-return]
        return answer  # type: ignore[no-any-return]


def client(script: Script, **kwargs: Any) -> AemClient:
    sleeps: list[float] = []

    async def no_sleep(seconds: float) -> None:
        sleeps.append(seconds)

    c = AemClient(
        httpx.AsyncClient(transport=httpx.MockTransport(script)),
        "https://publish.test",
        "bff",
        sleep=no_sleep,
        **kwargs,
    )
    c.sleeps = sleeps  # type: ignore[attr-defined]
    return c


async def test_fetch_copy_builds_the_encoded_url() -> None:
    script = Script(httpx.Response(200, json=_copy_body({"title": "Sign in"})))
    fragment = await client(script).fetch_copy("signin", "fr_ca", "summer")
    assert fragment is not None and fragment.strings == {"title": "Sign in"}
    assert (
        script.requests[0].url.raw_path
        == b"/graphql/execute.json/bff/ui-copy%3Bjourney%3Dsignin%3Blocale%3Dfr_ca%3Bvariation%3Dsummer;"
    )
    assert "authorization" not in script.requests[0].headers


async def test_retries_5xx_with_backoff_then_succeeds() -> None:
    script = Script(
        httpx.Response(503), httpx.Response(502), httpx.Response(200, json=_copy_body({"a": "b"}))
    )
    c = client(script, retries=2, backoff=0.1)
    assert (await c.fetch_copy("signin", "en")) is not None
    assert len(script.requests) == 3
    sleeps = c.sleeps  # type: ignore[attr-defined]
    assert len(sleeps) == 2 and 0.05 <= sleeps[0] <= 0.1 and 0.1 <= sleeps[1] <= 0.2


async def test_retries_timeouts_and_connection_errors() -> None:
    script = Script(
        httpx.ReadTimeout("slow"), httpx.ConnectError("refused"), httpx.Response(200, json=_copy_body({}))
    )
    assert (await client(script, retries=2).fetch_copy("signin", "en")) is not None
    assert len(script.requests) == 3


async def test_gives_up_after_the_retries() -> None:
    script = Script(httpx.Response(503))
    with pytest.raises(Unavailable):
        await client(script, retries=2).fetch_copy("signin", "en")
    assert len(script.requests) == 3


@pytest.mark.parametrize(
    ("answer", "code"),
    [
        (httpx.Response(404, text="No suitable endpoint found"), "aem_bad_status"),
        (httpx.Response(400, text="Bad suffix"), "aem_bad_status"),
        (
            httpx.Response(200, json={"errors": [{"message": "Validation error"}], "data": None}),
            "aem_query_error",
        ),
        (httpx.Response(200, text="<html>maintenance</html>"), "aem_bad_response"),
        (httpx.Response(200, text="[" * 5000), "aem_bad_response"),  # deeper than the parser recurses
        (
            httpx.Response(
                200,
                json={"data": {"uiCopyList": {"items": [{"journey": "signin", "strings": "[" * 5000}]}}},
            ),
            "aem_bad_response",
        ),
        (
            httpx.Response(
                200, json={"data": {"uiCopyList": {"items": [{"journey": "signin", "strings": 5}]}}}
            ),
            "aem_bad_response",
        ),
    ],
)
async def test_no_retry_on_client_errors_errors_bodies_or_garbage(answer: httpx.Response, code: str) -> None:
    script = Script(answer)
    with pytest.raises(BadGateway) as err:
        await client(script, retries=3).fetch_copy("signin", "en")
    assert err.value.instance_code == code
    assert len(script.requests) == 1


async def test_overall_timeout_bounds_a_slow_drip() -> None:
    async def slow(request: httpx.Request) -> httpx.Response:
        await asyncio.sleep(1.0)
        return httpx.Response(200, json=_copy_body({}))

    script = Script(slow)
    with pytest.raises(GatewayTimeout):
        await client(script, retries=1, timeout=0.05).fetch_copy("signin", "en")
    assert len(script.requests) == 2


async def test_oversized_body_is_refused() -> None:
    script = Script(httpx.Response(200, content=b"[" + b"1," * 1_100_000 + b"1]"))
    with pytest.raises(BadGateway):
        await client(script).fetch_copy("signin", "en")


async def test_author_tier_sends_the_bearer_token() -> None:
    script = Script(httpx.Response(200, json=_copy_body({})))
    await client(script, auth=StaticToken("secret-author-token"), tier="author").fetch_copy("signin", "en")
    assert script.requests[0].headers["authorization"] == "Bearer secret-author-token"


async def test_ims_client_credentials_cached_and_refreshed_on_401() -> None:
    tokens = iter(["tok-1", "tok-2"])
    ims_calls: list[dict[str, list[str]]] = []

    async def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/ims/token/v3":
            from urllib.parse import parse_qs

            ims_calls.append(parse_qs(request.content.decode()))
            return httpx.Response(
                200, json={"access_token": next(tokens), "token_type": "bearer", "expires_in": 86399}
            )
        if request.headers["authorization"] == "Bearer tok-1":  # revoked meanwhile
            return httpx.Response(401)
        return httpx.Response(200, json=_copy_body({"ok": "yes"}))

    http = httpx.AsyncClient(transport=httpx.MockTransport(handler))
    ims = ImsClientCredentials(http, "https://ims-na1.adobelogin.com", "cid", "csecret")
    c = AemClient(
        http,
        "https://author.test",
        "bff",
        auth=ims,
        tier="author",
        retries=1,
        sleep=lambda s: asyncio.sleep(0),
    )
    await asyncio.gather(*(ims.token() for _ in range(10)))
    assert len(ims_calls) == 1  # single-flight, then cached
    assert ims_calls[0]["grant_type"] == ["client_credentials"] and ims_calls[0]["client_secret"] == [
        "csecret"
    ]
    fragment = await c.fetch_copy("signin", "en")  # 401 with tok-1 → new token → success
    assert fragment is not None and fragment.strings == {"ok": "yes"}
    assert len(ims_calls) == 2


async def test_ims_failures_map_to_upstream_errors() -> None:
    http = httpx.AsyncClient(
        transport=httpx.MockTransport(lambda r: httpx.Response(400, json={"error": "x"}))
    )
    with pytest.raises(BadGateway):
        await ImsClientCredentials(http, "https://ims.test", "a", "b").token()


def test_fixture_dir_is_there() -> None:
    assert Path(FIXTURES).is_dir()
