from __future__ import annotations

import pytest

from bff.observability.propagation import peer_is_trusted


@pytest.mark.parametrize(
    ("client", "trusted"),
    [
        (("127.0.0.1", 5000), True),
        (("::1", 5000), True),
        (("127.8.9.1", 1), True),
        (("10.0.0.5", 5000), False),
        (("203.0.113.9", 5000), False),
        (("testclient", 1), False),
        (None, False),
    ],
)
def test_only_loopback_peers_may_set_the_trace(client: tuple[str, int] | None, trusted: bool) -> None:
    assert peer_is_trusted({"type": "http", "client": client, "headers": []}) is trusted
