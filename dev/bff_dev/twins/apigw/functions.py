"""Running Lambda handlers in-process, the way the Lambda runtime calls them.

A :class:`LocalFunction` imports ``module:function`` (the SAM ``Handler`` setting, with
``infra/functions`` on ``sys.path`` like the deployed bundle) after applying its environment
variables, and invokes it on a worker thread with a real-looking :class:`LambdaContext`, one
invocation at a time (like one warm Lambda instance: Powertools' resolvers keep the current
event on module-level objects, which concurrent calls in one process would share).

Caveat of running in-process: the function's environment variables are set in THIS process's
``os.environ`` (functions read them at import, as Powertools examples do). Only the names a
function declares are touched.
"""

from __future__ import annotations

import asyncio
import importlib
import json
import os
import sys
import threading
import time
import traceback
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from bff.settings import REPO_ROOT

FUNCTIONS_DIR = REPO_ROOT / "infra" / "functions"
Handler = Callable[[dict[str, Any], Any], Any]


class LambdaContext:
    """The attributes of the Lambda runtime's context object that Powertools and handlers read."""

    def __init__(self, function_name: str, arn: str, memory_mb: int, timeout: float) -> None:
        self.function_name = function_name
        self.function_version = "$LATEST"
        self.invoked_function_arn = arn
        self.memory_limit_in_mb = memory_mb
        self.aws_request_id = str(uuid.uuid4())
        self.log_group_name = f"/aws/lambda/{function_name}"
        self.log_stream_name = time.strftime("%Y/%m/%d/[$LATEST]") + uuid.uuid4().hex
        self.identity = None
        self.client_context = None
        self._deadline = time.monotonic() + timeout

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self._deadline - time.monotonic()) * 1000))


class FunctionTimeout(Exception):
    pass


@dataclass
class InvokeResult:
    payload: bytes
    error: str | None = None  # "Unhandled" as the Lambda API reports it
    request_id: str = ""


@dataclass
class LocalFunction:
    name: str
    handler: str | Handler  # "module:function" (SAM's "module.function" also accepted) or a callable
    env: Mapping[str, str] = field(default_factory=dict)
    timeout: float = 30.0
    memory_mb: int = 512
    region: str = "eu-west-1"
    account_id: str = "123456789012"
    _callable: Handler | None = field(default=None, init=False, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, init=False, repr=False)

    @property
    def arn(self) -> str:
        return f"arn:aws:lambda:{self.region}:{self.account_id}:function:{self.name}"

    def load(self, *, reload: bool = False) -> Handler:
        """Import the handler (applying ``env`` first). ``reload`` re-runs the module's top level,
        so module-level clients pick up a changed environment."""
        if callable(self.handler):
            return self.handler
        if self._callable is not None and not reload:
            return self._callable
        ref = self.handler
        module_name, sep, func = ref.partition(":")
        if not sep:
            module_name, _, func = ref.rpartition(".")
        if str(FUNCTIONS_DIR) not in sys.path:
            sys.path.insert(0, str(FUNCTIONS_DIR))
        os.environ.update(self.env)
        module = importlib.import_module(module_name)
        if reload:
            module = importlib.reload(module)
        self._callable = getattr(module, func)
        return self._callable

    def _run(self, event: Any) -> InvokeResult:
        handler = self.load()
        context = LambdaContext(self.name, self.arn, self.memory_mb, self.timeout)
        with self._lock:
            try:
                result = handler(event, context)
            except Exception as exc:  # the Lambda runtime's "Unhandled" error document
                body = {
                    "errorMessage": str(exc),
                    "errorType": type(exc).__name__,
                    "requestId": context.aws_request_id,
                    "stackTrace": traceback.format_tb(exc.__traceback__),
                }
                return InvokeResult(_json(body), "Unhandled", context.aws_request_id)
        return InvokeResult(_json(result), None, context.aws_request_id)

    async def invoke(self, event: Any) -> InvokeResult:
        """Run the handler on a worker thread; FunctionTimeout after ``timeout`` seconds."""
        try:
            return await asyncio.wait_for(asyncio.to_thread(self._run, event), timeout=self.timeout)
        except TimeoutError:
            raise FunctionTimeout(f"{self.name} timed out after {self.timeout:g} seconds") from None


def _json(value: Any) -> bytes:
    return json.dumps(value, separators=(",", ":"), default=str).encode()
