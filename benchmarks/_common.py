"""Helpers every benchmark program shares: waiting for a server, whether Redis is up, the
machine's load and a process's CPU time. (The load generators stay in bench_proxy.py, the
servers in each program: they are what the programs differ in.)"""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
import time
from pathlib import Path


async def wait_ready(url: str, within: float = 30.0) -> None:
    """Until ``url`` answers anything (a connection refused is retried), at most ``within`` s."""
    import httpx

    deadline = time.monotonic() + within
    async with httpx.AsyncClient() as client:
        while time.monotonic() < deadline:
            with contextlib.suppress(httpx.HTTPError):
                await client.get(url)
                return
            await asyncio.sleep(0.1)
    raise RuntimeError(f"{url} did not start")


def redis_up(host: str = "127.0.0.1", port: int = 6379) -> bool:
    with contextlib.suppress(OSError), socket.create_connection((host, port), timeout=0.5) as s:
        s.sendall(b"PING\r\n")
        return s.recv(16).startswith(b"+PONG")
    return False


def load_average() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far (Linux /proc)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return float("nan")
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
