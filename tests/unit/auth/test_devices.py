from __future__ import annotations

import pytest

from bff.auth.devices import HANDLE_PATTERN, UNKNOWN_DEVICE, SessionHandles, coarse_network, device_label


@pytest.mark.parametrize(("ua", "label"), [
    ("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
     "Chrome/126.0.0.0 Safari/537.36", "Chrome on Windows"),
    ("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
     "Chrome/126.0.0.0 Safari/537.36 Edg/126.0.2592.68", "Edge on Windows"),
    ("Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) "
     "Version/17.5 Safari/605.1.15", "Safari on macOS"),
    ("Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
     "Version/17.5 Mobile/15E148 Safari/604.1", "Safari on iOS"),
    ("Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
     "CriOS/126.0.6478.54 Mobile/15E148 Safari/604.1", "Chrome on iOS"),
    ("Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) "
     "Chrome/126.0.6478.71 Mobile Safari/537.36", "Chrome on Android"),
    ("Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0", "Firefox on Linux"),
    ("Mozilla/5.0 (X11; CrOS x86_64 14541.0.0) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 "
     "Safari/537.36", "Chrome on ChromeOS"),
    ("Mozilla/5.0 (Windows NT 10.0) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126 Safari/537.36 OPR/111",
     "Opera on Windows"),
    ("curl/8.5.0", UNKNOWN_DEVICE),
    ("", UNKNOWN_DEVICE),
    (None, UNKNOWN_DEVICE),
    ("Mozilla/5.0 (Windows NT 10.0) SomethingNew/1.0", "Browser on Windows"),
])
def test_device_labels_are_coarse(ua: str | None, label: str) -> None:
    assert device_label(ua) == label


def test_a_huge_or_hostile_user_agent_is_bounded_and_never_echoed() -> None:
    hostile = "<script>alert(1)</script>" + "A" * 100_000 + " Firefox/1"
    label = device_label(hostile)
    assert label == UNKNOWN_DEVICE and "<" not in label  # the tail beyond 512 chars is not read


@pytest.mark.parametrize(("address", "network"), [
    ("203.0.113.77", "203.0.113.0/24"),
    ("2001:db8:1234:5678::1", "2001:db8:1234::/48"),
    ("::ffff:198.51.100.9", "198.51.100.0/24"),
    (" 10.1.2.3 ", "10.1.2.0/24"),
    ("not-an-ip", None),
    ("", None),
    (None, None),
    ("203.0.113.77/8", None),
])
def test_networks_are_truncated(address: str | None, network: str | None) -> None:
    assert coarse_network(address) == network


def test_handles_are_keyed_fixed_size_and_distinct() -> None:
    handles = SessionHandles(("k1-" + "x" * 40, "k0-" + "y" * 40))
    a, b = handles.handle("session-a"), handles.handle("session-b")
    assert a != b and HANDLE_PATTERN.fullmatch(a) and HANDLE_PATTERN.fullmatch(b)
    assert SessionHandles(("k1-" + "x" * 40,)).handle("session-a") == a  # only the newest key counts
    assert SessionHandles(("k2-" + "z" * 40,)).handle("session-a") != a
    with pytest.raises(ValueError):
        SessionHandles(())
