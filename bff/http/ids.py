"""Request and trace ids: unique, not secret.

A PRNG seeded from ``os.urandom`` (re-seeded in forked workers) costs no syscall per request,
unlike ``secrets.token_hex``; ids must not collide, nobody gains by guessing one.
"""

from __future__ import annotations

import os
import random
import re

_ids = random.Random()  # noqa: S311
os.register_at_fork(after_in_child=_ids.seed)

#: A client's ``X-Request-Id`` is kept when it looks like this; otherwise a new one is made.
REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{8,64}$")


def random_hex(bits: int) -> str:
    return f"{_ids.getrandbits(bits):0{bits // 4}x}"


def new_request_id() -> str:
    """A request id (32 hex digits) for a request that brought no usable ``X-Request-Id``."""
    return f"{_ids.getrandbits(128):032x}"


def request_id_from(incoming: bytes | None) -> str:
    """The client's id when well-formed (``incoming`` is the raw header value), else a new one."""
    if incoming is not None:
        candidate = incoming.decode("latin-1")
        if REQUEST_ID.match(candidate):
            return candidate
    return new_request_id()
