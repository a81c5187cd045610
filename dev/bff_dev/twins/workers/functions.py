"""Loading the Lambda functions of ``infra/functions`` in-process, as a cold start would.

A function module builds its clients at import time from its environment (Powertools style).
:func:`load_function` imports ``{package}.app`` afresh with that environment applied to
``os.environ`` for the duration of the import only (under a lock), so each local pipeline gets
its own module object bound to its own endpoint, tables and secrets.
"""

from __future__ import annotations

import contextlib
import importlib
import os
import sys
import threading
import time
import uuid
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from types import ModuleType

from bff.settings import REPO_ROOT

FUNCTIONS_DIR = REPO_ROOT / "infra" / "functions"
_ENV_LOCK = threading.Lock()


def ensure_functions_path() -> None:
    """Make ``infra/functions`` importable (the Lambda bundle's root: ``fnlib``, the functions)."""
    path = str(FUNCTIONS_DIR)
    if path not in sys.path:
        sys.path.append(path)


@contextlib.contextmanager
def _environ(env: Mapping[str, str]) -> Iterator[None]:
    saved = {k: os.environ.get(k) for k in env}
    os.environ.update(env)
    try:
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def lambda_runtime_env(function_name: str, *, region: str, endpoint_url: str | None) -> dict[str, str]:
    """The variables the Lambda runtime itself sets, plus fake credentials for moto."""
    env = {
        "AWS_REGION": region,
        "AWS_DEFAULT_REGION": region,
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_LAMBDA_FUNCTION_NAME": function_name,
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "512",
        "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
    }
    if endpoint_url:
        env["AWS_ENDPOINT_URL"] = endpoint_url
    return env


def load_function(package: str, env: Mapping[str, str]) -> ModuleType:
    """Import ``{package}.app`` afresh with ``env`` applied while its module code runs."""
    ensure_functions_path()
    name = f"{package}.app"
    with _ENV_LOCK, _environ(env):
        sys.modules.pop(name, None)
        return importlib.import_module(name)


@dataclass
class LambdaContext:
    """What the Lambda runtime passes as ``context`` (the attributes Powertools reads)."""

    function_name: str
    timeout: float = 30.0
    memory_limit_in_mb: int = 512
    function_version: str = "$LATEST"
    region: str = "eu-west-1"
    aws_request_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    started: float = field(default_factory=time.monotonic)

    @property
    def invoked_function_arn(self) -> str:
        return f"arn:aws:lambda:{self.region}:123456789012:function:{self.function_name}"

    @property
    def log_group_name(self) -> str:
        return f"/aws/lambda/{self.function_name}"

    @property
    def log_stream_name(self) -> str:
        return time.strftime("%Y/%m/%d/[$LATEST]") + self.aws_request_id.replace("-", "")

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self.timeout - (time.monotonic() - self.started)) * 1000))
