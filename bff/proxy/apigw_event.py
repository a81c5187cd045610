"""API Gateway HTTP API (payload format 2.0) events and responses, as API Gateway builds them.

Used by the proxy's direct Lambda transport and by the local API Gateway twin, so a function
sees the same event whichever way it is reached. The shape follows the AWS developer guide
("Create AWS Lambda proxy integrations for HTTP APIs") and the real sample in
``shared/fixtures/aws/powertools_apiGatewayProxyV2Event.json``; observed AWS behaviour the
guide does not spell out:

- header names are lower-case; repeated headers are joined with ``,``; ``Cookie`` headers
  move to ``cookies`` (one entry per ``name=value``);
- ``rawPath`` and ``requestContext.http.path`` are the percent-DECODED path, ``rawQueryString``
  stays encoded, ``queryStringParameters`` and ``pathParameters`` are decoded, repeated query
  keys are joined with ``,``; absent collections are left out (not ``{}``);
- JWT authorizer claims are all STRINGS: numbers as digits (``"exp": "1612061676"``), booleans
  ``"true"``, arrays flattened Go-style (``"[a b]"``), objects as ``"map[k:v]"``; ``scopes``
  comes from the ``scp``/``scope`` claim and is ``null`` when there is none;
- the body is a string, base64-encoded (``isBase64Encoded: true``) unless it is UTF-8 text of a
  textual (or absent) ``Content-Type``.

Responses (:func:`map_response`): a JSON object with ``statusCode`` is a structured
response (``headers``, ``cookies`` → one ``Set-Cookie`` each, ``body``, ``isBase64Encoded``);
any other valid JSON is "a bare return": 200, ``application/json``, the JSON as the body.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import unquote_plus

from bff.http.negotiation import media_type

_TEXT_TYPES = ("text/", "application/json", "application/xml", "application/javascript",
               "application/x-www-form-urlencoded", "application/graphql", "application/problem+json")


class MalformedLambdaResponse(ValueError):
    """The function returned something API Gateway would answer with a 500."""


def claim_string(value: Any) -> str:
    """One claim value the way an HTTP API JWT authorizer passes it on (Go ``fmt`` rendering)."""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return ""
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() and abs(value) < 1e21 else repr(value)
    if isinstance(value, list | tuple):
        return "[" + " ".join(claim_string(v) for v in value) + "]"
    if isinstance(value, Mapping):
        return "map[" + " ".join(f"{k}:{claim_string(value[k])}" for k in sorted(value)) + "]"
    return str(value)


def claim_scopes(claims: Mapping[str, Any]) -> list[str] | None:
    """``scopes`` of the event: from ``scp`` (list or space-separated) or ``scope``; else None."""
    for name in ("scp", "scope"):
        raw = claims.get(name)
        if isinstance(raw, list | tuple):
            return [str(s) for s in raw]
        if isinstance(raw, str) and raw.strip():
            text = raw.strip()
            if text.startswith("[") and text.endswith("]"):  # already flattened by an authorizer
                text = text[1:-1]
            return text.split()
    return None


def is_text(content_type: str | None) -> bool:
    ct = media_type(content_type)
    return ct.startswith(_TEXT_TYPES) or ct.endswith(("+json", "+xml"))


def _query_parameters(raw_query: str) -> dict[str, str] | None:
    params: dict[str, list[str]] = {}
    for part in raw_query.split("&"):
        if not part:
            continue
        key, _, value = part.partition("=")
        params.setdefault(unquote_plus(key), []).append(unquote_plus(value))
    return {k: ",".join(v) for k, v in params.items()} or None


def _format_time(now: float) -> str:
    return datetime.fromtimestamp(now, UTC).strftime("%d/%b/%Y:%H:%M:%S +0000")


def build_http_api_event(
    *,
    method: str,
    path: str,
    raw_query: str,
    headers: Iterable[tuple[str, str]],
    body: bytes,
    route_key: str,
    path_parameters: Mapping[str, str] | None,
    claims: Mapping[str, Any] | None,
    source_ip: str,
    request_id: str,
    domain_name: str,
    api_id: str,
    account_id: str,
    stage: str = "$default",
    stage_variables: Mapping[str, str] | None = None,
    protocol: str = "HTTP/1.1",
    now: float | None = None,
) -> dict[str, Any]:
    """The payload 2.0 event of one request.

    ``path`` is the percent-decoded path (as API Gateway delivers it), ``raw_query`` the query
    string as sent (no ``?``), ``claims`` the validated access-token claims (``None``: no
    authorizer on the route).
    """
    now = time.time() if now is None else now
    joined: dict[str, list[str]] = {}
    cookies: list[str] = []
    for name, value in headers:
        key = name.lower()
        if key == "cookie":
            cookies.extend(c.strip() for c in value.split(";") if c.strip())
            continue
        joined.setdefault(key, []).append(value)
    event_headers = {k: ",".join(v) for k, v in joined.items()}
    event_headers.setdefault("host", domain_name)
    if body:
        event_headers.setdefault("content-length", str(len(body)))

    request_context: dict[str, Any] = {
        "accountId": account_id,
        "apiId": api_id,
    }
    if claims is not None:
        request_context["authorizer"] = {
            "jwt": {
                "claims": {str(k): claim_string(v) for k, v in claims.items()},
                "scopes": claim_scopes(claims),
            }
        }
    request_context.update({
        "domainName": domain_name,
        "domainPrefix": domain_name.split(".", 1)[0],
        "http": {
            "method": method,
            "path": path,
            "protocol": protocol,
            "sourceIp": source_ip,
            "userAgent": event_headers.get("user-agent", ""),
        },
        "requestId": request_id,
        "routeKey": route_key,
        "stage": stage,
        "time": _format_time(now),
        "timeEpoch": int(now * 1000),
    })

    event: dict[str, Any] = {
        "version": "2.0",
        "routeKey": route_key,
        "rawPath": path,
        "rawQueryString": raw_query,
    }
    if cookies:
        event["cookies"] = cookies
    event["headers"] = event_headers
    query = _query_parameters(raw_query)
    if query:
        event["queryStringParameters"] = query
    event["requestContext"] = request_context
    is_b64 = False
    if body:
        text: str | None = None
        content_type = event_headers.get("content-type")
        if content_type is None or is_text(content_type):
            try:
                text = body.decode("utf-8")
            except UnicodeDecodeError:
                text = None
        is_b64 = text is None
        event["body"] = text if text is not None else base64.b64encode(body).decode("ascii")
    if path_parameters:
        event["pathParameters"] = dict(path_parameters)
    event["isBase64Encoded"] = is_b64
    if stage_variables:
        event["stageVariables"] = dict(stage_variables)
    return event


_TOKEN = re.compile(r"^[!#$%&'*+.^_`|~0-9A-Za-z-]+$")


def _header_name(name: Any) -> str:
    if not isinstance(name, str) or not _TOKEN.match(name):
        raise MalformedLambdaResponse(f"invalid header name {name!r}")
    return name.lower()


def _header_value(value: str) -> str:
    if any(ch in value for ch in "\r\n\0"):
        raise MalformedLambdaResponse("header values must not contain CR, LF or NUL")
    return value


@dataclass(frozen=True)
class MappedResponse:
    status: int
    headers: list[tuple[str, str]]
    body: bytes


def map_response(payload: bytes) -> MappedResponse:
    """Turn a function's raw return payload into the HTTP response API Gateway would send."""
    try:
        result = json.loads(payload) if payload.strip() else None
    except (ValueError, UnicodeDecodeError) as exc:
        raise MalformedLambdaResponse("the function returned invalid JSON") from exc
    if not (isinstance(result, dict) and "statusCode" in result):
        # "A bare return": any valid JSON without statusCode (null included) is the body.
        body = payload if payload.strip() else b"null"
        return MappedResponse(200, [("content-type", "application/json")], body)
    status = result.get("statusCode")
    if isinstance(status, bool) or not isinstance(status, int) or not 100 <= status <= 599:
        raise MalformedLambdaResponse(f"statusCode must be an HTTP status, got {status!r}")
    headers: list[tuple[str, str]] = []
    raw_headers = result.get("headers")
    raw_headers = {} if raw_headers is None else raw_headers
    if not isinstance(raw_headers, dict):
        raise MalformedLambdaResponse("headers must be an object")
    for name, value in raw_headers.items():
        if isinstance(value, bool) or not isinstance(value, str | int | float):
            raise MalformedLambdaResponse(f"header {name!r} must be a string")
        headers.append((_header_name(name), _header_value(claim_string(value))))
    multi = result.get("multiValueHeaders") or {}
    if isinstance(multi, dict):  # not part of 2.0, but harmless to honour
        for name, values in multi.items():
            if isinstance(values, list):
                headers.extend((_header_name(name), _header_value(str(v))) for v in values)
    cookies = result.get("cookies")
    cookies = [] if cookies is None else cookies
    if not isinstance(cookies, list) or not all(isinstance(c, str) for c in cookies):
        raise MalformedLambdaResponse("cookies must be a list of strings")
    cookies = [_header_value(c) for c in cookies]
    # API Gateway frames the response itself.
    headers = [(k, v) for k, v in headers if k not in {"content-length", "transfer-encoding", "connection"}]
    headers.extend(("set-cookie", c) for c in cookies)
    raw_body = result.get("body")
    if raw_body is None:
        body = b""
    elif isinstance(raw_body, str):
        if result.get("isBase64Encoded") is True:
            try:
                body = base64.b64decode(raw_body, validate=True)
            except (binascii.Error, ValueError) as exc:
                raise MalformedLambdaResponse("isBase64Encoded body is not valid base64") from exc
        else:
            body = raw_body.encode("utf-8")
    else:
        raise MalformedLambdaResponse("body must be a string")
    if body and not any(k == "content-type" for k, _ in headers):
        headers.append(("content-type", "application/json"))
    return MappedResponse(status, headers, body)
