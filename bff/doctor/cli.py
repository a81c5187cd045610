"""The ``bff doctor`` command: one line per check, exit 0 only when every check passes.

Configured like ``bff serve`` (``BFF_*`` variables, ``BFF_SECRETS_ARN``); ``bff dev`` adds a
``bff dev-doctor`` that runs the same checks against the local stack's settings.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Callable

import httpx

from bff.config import ConfigError
from bff.doctor.checks import diagnose
from bff.settings import Settings, load_environment

EXIT_OK, EXIT_FAILED, EXIT_CONFIG = 0, 1, 2


async def run(
    settings: Settings,
    *,
    per_call: float = 10.0,
    out: Callable[[str], None] = print,
    http: httpx.AsyncClient | None = None,
) -> int:
    """Print one line per check and a summary; 0 when every check passed, else 1. ``per_call``
    bounds each HTTP call (seconds)."""
    async with (
        httpx.AsyncClient(timeout=per_call, follow_redirects=False, headers={"User-Agent": "bff-doctor/0.1"})
        if http is None
        else _borrowed(http) as client
    ):
        results = await diagnose(settings, client)
    for result in results:
        out(result.line())
    failed = [r for r in results if not r.ok]
    out(
        f"{len(results) - len(failed)} of {len(results)} checks passed"
        + (f"; failing: {', '.join(r.name for r in failed)}" if failed else "")
    )
    return EXIT_FAILED if failed else EXIT_OK


class _borrowed:
    """An injected client, left open for its owner."""

    def __init__(self, http: httpx.AsyncClient) -> None:
        self.http = http

    async def __aenter__(self) -> httpx.AsyncClient:
        return self.http

    async def __aexit__(self, *exc: object) -> None:
        return None


def doctor_cli(args: argparse.Namespace, *, dev: bool = False, env: dict[str, str] | None = None) -> int:
    try:
        settings = Settings.from_env(env if env is not None else load_environment(), dev=dev)
    except ConfigError as exc:
        for line in exc.lines:
            print(f"FAIL config              {line}", file=sys.stderr)
        return EXIT_CONFIG
    return asyncio.run(run(settings, per_call=float(getattr(args, "timeout", 10.0))))
