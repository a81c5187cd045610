"""The payload 2.0 event builder and response mapper, checked field by field against the real
sample (shared/fixtures/aws/powertools_apiGatewayProxyV2Event.json, from powertools-lambda-python)."""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

import pytest
from aws_lambda_powertools.utilities.data_classes import APIGatewayProxyEventV2

from bff.proxy.apigw_event import (
    MalformedLambdaResponse,
    build_http_api_event,
    claim_scopes,
    claim_string,
    map_response,
)

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "aws"
FIXTURE = FIXTURES / "powertools_apiGatewayProxyV2Event.json"
SAMPLE: dict[str, Any] = json.loads(FIXTURE.read_text())


def _sample_event() -> dict[str, Any]:
    """Our builder fed the inputs the sample describes."""
    ctx = SAMPLE["requestContext"]
    return build_http_api_event(
        method=ctx["http"]["method"],
        path=SAMPLE["rawPath"],
        raw_query=SAMPLE["rawQueryString"],
        headers=[("Header1", "value1"), ("Header2", "value1"), ("Header2", "value2"),
                 ("Cookie", "cookie1; cookie2"), ("User-Agent", "agent")],
        body=SAMPLE["body"].encode(),
        route_key=SAMPLE["routeKey"],
        path_parameters=SAMPLE["pathParameters"],
        claims={"claim1": "value1", "claim2": "value2", "scp": ["scope1", "scope2"]},
        source_ip="192.168.0.1/32",
        request_id=ctx["requestId"],
        domain_name=ctx["domainName"],
        api_id=ctx["apiId"],
        account_id=ctx["accountId"],
        stage=ctx["stage"],
        stage_variables=SAMPLE["stageVariables"],
        now=ctx["timeEpoch"] / 1000,
    )


def test_top_level_fields_match_the_sample() -> None:
    event = _sample_event()
    for key in ("version", "routeKey", "rawPath", "rawQueryString", "cookies", "queryStringParameters",
                "pathParameters", "stageVariables", "body", "isBase64Encoded"):
        assert event[key] == SAMPLE[key], key
    # Same keys, same order as API Gateway's (the sample adds nothing we do not build).
    assert list(event) == [k for k in SAMPLE if k in event]
    assert set(SAMPLE) - set(event) == set()


def test_headers_are_lower_case_and_repeats_comma_joined() -> None:
    event = _sample_event()
    # The sample spells Header1/Header2 with capitals; API Gateway delivers lower-case names
    # (AWS developer guide: "All header names are lowercase"). Values must match exactly.
    expected = {k.lower(): v for k, v in SAMPLE["headers"].items()}
    for key, value in expected.items():
        assert event["headers"][key] == value
    assert "cookie" not in event["headers"]  # moved to `cookies`
    assert all(k == k.lower() for k in event["headers"])


def test_request_context_fields_match_the_sample() -> None:
    ctx, want = _sample_event()["requestContext"], SAMPLE["requestContext"]
    for key in ("accountId", "apiId", "domainName", "domainPrefix", "requestId", "routeKey", "stage",
                "timeEpoch"):
        assert ctx[key] == want[key], key
    # `time` renders the same instant as `timeEpoch` in API Gateway's CLF format. (The sample is
    # hand-edited: its date, 12/Mar, disagrees with its own timeEpoch, 04/Mar; the clock part and
    # the format agree.)
    assert ctx["time"] == "04/Mar/2020:19:03:58 +0000"
    assert ctx["time"][2:] == want["time"][2:]
    assert ctx["http"] == want["http"]
    assert ctx["authorizer"] == want["authorizer"] | {
        "jwt": {"claims": want["authorizer"]["jwt"]["claims"] | {"scp": "[scope1 scope2]"},
                "scopes": want["authorizer"]["jwt"]["scopes"]}}
    # `authentication` exists only for mutual-TLS custom domains; everything else is present.
    assert set(want) - set(ctx) == {"authentication"}
    assert list(ctx) == [k for k in want if k in ctx]


def test_types_match_the_sample_recursively() -> None:
    def shape(value: Any) -> Any:
        if isinstance(value, dict):
            return {k: shape(v) for k, v in value.items()}
        if isinstance(value, list):
            return [shape(v) for v in value[:1]]
        return type(value).__name__

    event, sample = shape(_sample_event()), shape(SAMPLE)
    sample["requestContext"].pop("authentication")
    event["requestContext"]["authorizer"]["jwt"]["claims"].pop("scp")
    # header names: lower-case, and API Gateway adds host/content-length (see the test above)
    assert set(event.pop("headers").values()) == set(sample.pop("headers").values()) == {"str"}
    assert event == sample


def test_powertools_reads_our_event() -> None:
    event = APIGatewayProxyEventV2(_sample_event())
    assert event.raw_path == "/my/path"
    assert event.request_context.http.method == "POST"
    assert event.request_context.authorizer.jwt_claim == {"claim1": "value1", "claim2": "value2",
                                                          "scp": "[scope1 scope2]"}
    assert event.request_context.authorizer.jwt_scopes == ["scope1", "scope2"]
    assert event.cookies == ["cookie1", "cookie2"]
    assert event.json_body == {"message": "hello world", "username": "tom"}
    assert event.query_string_parameters == {"parameter1": "value1,value2", "parameter2": "value"}


def _event(**overrides: Any) -> dict[str, Any]:
    args: dict[str, Any] = dict(method="GET", path="/x", raw_query="", headers=[], body=b"",
                                route_key="$default", path_parameters=None, claims=None, source_ip="1.2.3.4",
                                request_id="r", domain_name="d.example", api_id="a", account_id="1")
    args.update(overrides)
    return build_http_api_event(**args)


def test_claims_are_strings_like_api_gateway() -> None:
    assert claim_string("alice@acme.test") == "alice@acme.test"
    assert claim_string(1612061676) == "1612061676"
    assert claim_string(1612061676.0) == "1612061676"
    assert claim_string(True) == "true"
    assert claim_string(["openid", "admin"]) == "[openid admin]"
    assert claim_string([]) == "[]"
    assert claim_string({"b": 1, "a": ["x"]}) == "map[a:[x] b:1]"


def test_scopes_come_from_scp_or_scope_or_are_null() -> None:
    assert claim_scopes({"scp": ["openid", "admin"]}) == ["openid", "admin"]
    assert claim_scopes({"scope": "openid admin"}) == ["openid", "admin"]
    assert claim_scopes({"sub": "x"}) is None
    event = _event(claims={"sub": "x", "exp": 1})
    assert event["requestContext"]["authorizer"]["jwt"] == {"claims": {"sub": "x", "exp": "1"},
                                                            "scopes": None}


def test_absent_collections_are_left_out() -> None:
    event = _event(headers=[("Accept", "*/*")], domain_name="api.example.com")
    for key in ("cookies", "queryStringParameters", "pathParameters", "stageVariables", "body"):
        assert key not in event
    assert "authorizer" not in event["requestContext"]
    assert event["isBase64Encoded"] is False
    assert event["headers"]["host"] == "api.example.com"
    assert event["requestContext"]["domainPrefix"] == "api"


def test_query_parameters_are_decoded_raw_query_is_not() -> None:
    event = _event(raw_query="q=a%20b&q=c%2Cd&flag&n=%C3%A9")
    assert event["rawQueryString"] == "q=a%20b&q=c%2Cd&flag&n=%C3%A9"
    assert event["queryStringParameters"] == {"q": "a b,c,d", "flag": "", "n": "é"}


def test_binary_body_is_base64() -> None:
    body = bytes(range(256))
    event = _event(method="PUT", headers=[("content-type", "application/octet-stream")], body=body)
    assert event["isBase64Encoded"] is True
    assert base64.b64decode(event["body"]) == body
    assert event["headers"]["content-length"] == "256"


# ---------------------------------------------------------------------------------------- responses


def test_structured_response_with_cookies_and_base64() -> None:
    mapped = map_response(json.dumps({
        "statusCode": 201,
        "headers": {"Content-Type": "image/png", "X-Thing": "1"},
        "cookies": ["a=1; Path=/", "b=2; Path=/"],
        "body": base64.b64encode(b"\x89PNG").decode(),
        "isBase64Encoded": True,
    }).encode())
    assert mapped.status == 201
    assert mapped.body == b"\x89PNG"
    assert mapped.headers == [("content-type", "image/png"), ("x-thing", "1"),
                              ("set-cookie", "a=1; Path=/"), ("set-cookie", "b=2; Path=/")]


@pytest.mark.parametrize("payload", [b'{"users": []}', b'[1, 2]', b'"hello"', b"42", b"null"])
def test_bare_json_return_is_200_json(payload: bytes) -> None:
    mapped = map_response(payload)
    assert mapped.status == 200
    assert mapped.headers == [("content-type", "application/json")]
    assert mapped.body == payload


def test_structured_without_body_has_no_content_type_added() -> None:
    mapped = map_response(b'{"statusCode": 204}')
    assert (mapped.status, mapped.body, mapped.headers) == (204, b"", [])


@pytest.mark.parametrize("payload", [
    b"not json",
    b'{"statusCode": "200"}',
    b'{"statusCode": 99}',
    b'{"statusCode": 200, "headers": []}',
    b'{"statusCode": 200, "headers": {"bad name": "x"}}',
    b'{"statusCode": 200, "headers": {"x": "a\\r\\nSet-Cookie: evil=1"}}',
    b'{"statusCode": 200, "body": {"a": 1}}',
    b'{"statusCode": 200, "cookies": "a=1"}',
    b'{"statusCode": 200, "body": "***", "isBase64Encoded": true}',
])
def test_malformed_responses_are_refused(payload: bytes) -> None:
    with pytest.raises(MalformedLambdaResponse):
        map_response(payload)
