"""bff_dev.serving.free_port: ports a server can bind a moment later, which outgoing connections
(that take their source ports from the kernel's ephemeral range) cannot have taken meanwhile."""

from __future__ import annotations

import socket

import pytest

from bff_dev import serving


def test_ports_are_outside_the_ephemeral_range_distinct_and_bindable() -> None:
    low, high = serving._ephemeral_range()
    ports = [serving.free_port() for _ in range(50)]
    assert len(set(ports)) == 50
    for port in ports:
        assert not low <= port <= high
        with socket.socket() as s:
            s.bind(("127.0.0.1", port))


def test_a_port_something_listens_on_is_never_handed_out(monkeypatch: pytest.MonkeyPatch) -> None:
    # a 40-port window below the ephemeral range; every port in it but a few gets a listener
    monkeypatch.setattr(serving, "_ephemeral_range", lambda: (10040, 60999))
    monkeypatch.setattr(serving, "_handed_out", set())
    listeners: list[socket.socket] = []
    left: list[int] = []
    try:
        for port in range(10000, 10040):
            s = socket.socket()
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                s.close()
                continue
            if len(left) < 3:
                s.close()
                left.append(port)
            else:
                s.listen()
                listeners.append(s)
        handed = {serving.free_port() for _ in range(len(left))}
        assert handed == set(left)
        with pytest.raises(RuntimeError, match="no free loopback port"):
            serving.free_port()  # the rest listen, the free ones were handed out already
    finally:
        for s in listeners:
            s.close()
