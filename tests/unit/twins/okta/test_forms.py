from __future__ import annotations

import pytest

from bff_dev.twins.okta.errors import OAuthError
from bff_dev.twins.okta.forms import parse_pairs


def test_parses_urlencoded_pairs() -> None:
    assert parse_pairs(b"a=1&b=x+y&c=") == {"a": "1", "b": "x y", "c": ""}


@pytest.mark.parametrize(
    "body", [b"a=1&a=2", b"a=\xff", b"a=%00", b"&".join(b"k%d=v" % i for i in range(150))]
)
def test_rejects_repeated_malformed_and_flooding_bodies(body: bytes) -> None:
    with pytest.raises(OAuthError) as err:
        parse_pairs(body)
    assert err.value.error == "invalid_request" and err.value.status == 400
