"""bff.okta.paging: Link rel="next", followed on the org's own origin only."""

from __future__ import annotations

import httpx
import pytest

from bff.okta.errors import OktaProtocolError
from bff.okta.paging import Page, next_link, origin

ORG = "https://acme.okta.test"


def answer(link: str | None) -> httpx.Response:
    return httpx.Response(200, json=[], headers={"Link": link} if link else {})


def test_the_next_link_among_others() -> None:
    response = answer(f'<{ORG}/api/v1/users?limit=2>; rel="self", <{ORG}/api/v1/users?after=00u2&limit=2>; '
                      'rel="next"')
    url = next_link(response, origin(ORG), method="GET", path="/api/v1/users")
    assert url == f"{ORG}/api/v1/users?after=00u2&limit=2"
    assert Page([], url).after == "00u2"


def test_the_last_page_has_no_next() -> None:
    assert next_link(answer(f'<{ORG}/api/v1/users>; rel="self"'), origin(ORG), method="GET", path="/") is None
    assert next_link(answer(None), origin(ORG), method="GET", path="/") is None
    assert Page([{"id": "1"}]).after is None
    assert Page([], f"{ORG}/api/v1/users?limit=2").after is None


@pytest.mark.parametrize("elsewhere", [
    "https://evil.test/api/v1/users?after=x",
    "http://acme.okta.test/api/v1/users?after=x",  # downgraded scheme
    "https://acme.okta.test:8443/api/v1/users?after=x",  # another port
    "/api/v1/users?after=x",  # relative: Okta's are absolute; nothing to compare
])
def test_a_next_link_to_another_origin_is_refused(elsewhere: str) -> None:
    with pytest.raises(OktaProtocolError, match="another origin"):
        next_link(answer(f'<{elsewhere}>; rel="next"'), origin(ORG), method="GET", path="/api/v1/users")


def test_origins_compare_without_case() -> None:
    assert origin("HTTPS://Acme.Okta.Test/x") == origin(ORG)
