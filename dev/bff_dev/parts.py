"""The contract of a *dev part*: what each twin area plugs into the local stack.

A part is an async function taking the :class:`DevContext`. It starts its servers/workers
(registering their shutdown on ``ctx.stack``), may add to ``ctx.env`` (the BFF's environment)
and to ``ctx.routes`` (routes mounted in the BFF, e.g. ``/__dev/mail``), shares handles with
the parts after it through ``ctx.info``, and returns the lines ``bff dev`` prints.
"""

from __future__ import annotations

import contextlib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from starlette.routing import BaseRoute

from bff_dev.environment import DevPorts


@dataclass
class DevContext:
    ports: DevPorts
    data_dir: Path
    env: dict[str, str]
    stack: contextlib.AsyncExitStack
    info: dict[str, Any] = field(default_factory=dict)  # parts share handles here (e.g. "okta")
    routes: list[BaseRoute] = field(default_factory=list)  # create_app(..., extra_routes=routes)


DevPart = Callable[[DevContext], Awaitable[list[str]]]
