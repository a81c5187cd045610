"""bff.http.body: the size cap and the Content-Length checks; the strict JSON reader."""

from __future__ import annotations

import json

import pytest
from starlette.requests import Request
from starlette.types import Message

from bff.errors import BadRequest, PayloadTooLarge, UnsupportedMediaType
from bff.http.body import parse_json, parse_json_object, read_json_object, read_limited


def request(body: bytes, content_length: bytes | None) -> Request:
    headers = [(b"content-length", content_length)] if content_length is not None else []
    chunks = [body[i:i + 4] for i in range(0, len(body), 4)] or [b""]

    async def receive() -> Message:
        chunk = chunks.pop(0)
        return {"type": "http.request", "body": chunk, "more_body": bool(chunks)}

    return Request({"type": "http", "method": "POST", "path": "/", "headers": headers}, receive)


async def test_reads_a_body_within_the_limit() -> None:
    assert await read_limited(request(b"0123456789", b"10"), 10) == b"0123456789"
    assert await read_limited(request(b"0123456789", None), 10) == b"0123456789"  # chunked


async def test_over_the_limit_is_413_by_header_or_while_streaming() -> None:
    with pytest.raises(PayloadTooLarge):
        await read_limited(request(b"", b"11"), 10)
    with pytest.raises(PayloadTooLarge):
        await read_limited(request(b"0123456789A", None), 10)


@pytest.mark.parametrize("value", [b"", b"-1", b"+5", b" 5", b"1_0", b"abc", b"\xb2", b"\xb9\xb2"])
async def test_a_malformed_content_length_is_400(value: bytes) -> None:
    # b"\xb2" is "²" in latin-1: str.isdigit() says yes, int() says no (was a 500)
    with pytest.raises(BadRequest):
        await read_limited(request(b"", value), 10)


# -- the strict JSON reader -------------------------------------------------------------------


def test_an_object_parses() -> None:
    parsed = parse_json_object(b'{"a": [1, {"b": "\\u00e9"}], "n": -1.5e3}')
    assert parsed == {"a": [1, {"b": "é"}], "n": -1500.0}
    assert parse_json(b" [1, true, null] ") == [1, True, None]


@pytest.mark.parametrize(
    ("raw", "detail"),
    [
        (b"", "not valid JSON: Expecting value (line 1, column 1)"),
        (b"{", "not valid JSON: Expecting property name enclosed in double quotes (line 1, column 2)"),
        (b'{"a": 1}{}', "not valid JSON: Extra data (line 1, column 9)"),
        (b"{'a': 1}", "not valid JSON"),
        (b'{"a": NaN}', "contains NaN, which is not JSON"),
        (b'{"a": Infinity}', "contains Infinity, which is not JSON"),
        (b'{"a": [-Infinity]}', "contains -Infinity, which is not JSON"),
        (b'{"a": 1e999}', "number out of range (1e999)"),
        (b'{"a": -1e999}', "number out of range (-1e999)"),
        (b'{"a": ' + b"1" * 5000 + b"}", "number out of range"),
        (b'{"a": 1, "a": 2}', "repeats the key 'a'"),
        (b'{"x": [{"email": 1, "email": 2}]}', "repeats the key 'email'"),
        (b"\xff", "not UTF-8 (byte 0)"),
        (b'{"a": "\xed\xa0\x80"}', "not UTF-8 (byte 7)"),  # an encoded surrogate
        (b"\xef\xbb\xbf{}", "byte-order mark"),
        ('{"a": 1}'.encode("utf-16"), "not UTF-8"),
        (b'{"a":' * 9 + b"1" + b"}" * 9, "nested deeper than 8 levels"),
        (b"[" * 9 + b"]" * 9, "nested deeper than 8 levels"),
        (b"[" * 100_000, "nested deeper than 8 levels"),  # the parser's own recursion limit
    ],
)
def test_every_refusal_is_a_400_that_says_why(raw: bytes, detail: str) -> None:
    with pytest.raises(BadRequest) as info:
        parse_json(raw)
    assert info.value.status == 400 and info.value.instance_code == "bad_request"
    assert info.value.detail is not None and detail in info.value.detail, info.value.detail


def test_depth_is_counted_in_objects_and_arrays() -> None:
    assert parse_json(b'{"a":' * 8 + b"1" + b"}" * 8) is not None  # 8 levels: at the limit
    assert parse_json(b"[" * 8 + b"]" * 8) == [[[[[[[[]]]]]]]]
    assert parse_json(b"[[[1]]]", max_depth=3) == [[[1]]]
    with pytest.raises(BadRequest, match="deeper than 2 levels"):
        parse_json(b"[[[1]]]", max_depth=2)
    assert parse_json(b'"scalar"', max_depth=0) == "scalar"


def test_the_caller_picks_the_code() -> None:
    with pytest.raises(BadRequest) as info:
        parse_json(b'{"a": NaN}', code="invalid_event")
    assert info.value.instance_code == "invalid_event"


@pytest.mark.parametrize("raw", [b"null", b"[]", b'"x"', b"1", b"true"])
def test_an_object_is_required_at_the_top(raw: bytes) -> None:
    assert parse_json(raw) == json.loads(raw)
    with pytest.raises(BadRequest, match="must be a JSON object"):
        parse_json_object(raw)


def json_request(body: bytes, content_type: bytes | None) -> Request:
    headers = [(b"content-type", content_type)] if content_type is not None else []
    sent = False

    async def receive() -> Message:
        nonlocal sent
        assert not sent
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    return Request({"type": "http", "method": "POST", "path": "/", "headers": headers}, receive)


@pytest.mark.parametrize("content_type", [b"application/json", b"Application/JSON; charset=utf-8",
                                          b"application/merge-patch+json"])
async def test_read_json_object_takes_json_media_types(content_type: bytes) -> None:
    assert await read_json_object(json_request(b'{"a": 1}', content_type), 64) == {"a": 1}


@pytest.mark.parametrize("content_type", [None, b"text/plain", b"application/x-www-form-urlencoded",
                                          b"application/jsonp"])
async def test_read_json_object_refuses_other_media_types_before_reading(content_type: bytes | None) -> None:
    with pytest.raises(UnsupportedMediaType):
        await read_json_object(json_request(b'{"a": 1}', content_type), 64)


async def test_read_json_object_caps_then_parses() -> None:
    with pytest.raises(PayloadTooLarge):
        await read_json_object(json_request(b'{"a": "' + b"x" * 64 + b'"}', b"application/json"), 64)
    with pytest.raises(BadRequest, match="repeats the key"):
        await read_json_object(json_request(b'{"a": 1, "a": 1}', b"application/json"), 64)
