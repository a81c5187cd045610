from __future__ import annotations

import pytest
from starlette.requests import Request

from bff.auth.csrf import check_csrf
from bff.errors import CSRFRejected
from tests.support.env import make_settings

SETTINGS = make_settings()


def _req(headers: dict[str, str]) -> Request:
    raw = [(k.lower().encode(), v.encode()) for k, v in headers.items()]
    return Request({"type": "http", "method": "POST", "path": "/", "headers": raw})


def test_header_and_same_origin_pass() -> None:
    check_csrf(_req({"X-CSRF": "1", "Origin": "https://app.example.test", "Sec-Fetch-Site": "same-origin"}),
               SETTINGS)


@pytest.mark.parametrize("headers", [
    {},
    {"X-CSRF": "0"},
    {"X-CSRF": "1", "Origin": "https://evil.test"},
    {"X-CSRF": "1", "Origin": "null"},
    {"X-CSRF": "1", "Sec-Fetch-Site": "cross-site"},
    {"X-CSRF": "1", "Sec-Fetch-Site": "same-site"},
])
def test_rejections(headers: dict[str, str]) -> None:
    with pytest.raises(CSRFRejected):
        check_csrf(_req(headers), SETTINGS)


def test_header_name_and_value_are_configurable() -> None:
    settings = make_settings(BFF_CSRF_HEADER="X-Requested-By", BFF_CSRF_VALUE="spa")
    check_csrf(_req({"X-Requested-By": "spa"}), settings)
    with pytest.raises(CSRFRejected):
        check_csrf(_req({"X-CSRF": "1"}), settings)
