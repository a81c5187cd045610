"""Schema fuzzing: schemathesis against the whole app on loopback (the local stack of ``bff dev``:
the BFF over uvicorn with the twins of Okta, AEM, API Gateway + the admin function, and moto),
from the document the app itself serves at ``/bff/openapi.json``.

Every operation is run anonymous and signed in (a session cookie from a real sign-in of the
org admin alice, ``scope=admin``, on the Okta twin, fresh per operation so one ``POST
/bff/logout`` does not sign the rest out), with :data:`EXAMPLES` examples each (positive and
negative data), and every answer must pass:

- no 5xx (``not_a_server_error``);
- the documented status, content type, headers and body schema (schemathesis's
  conformance checks);
- every 4xx is ``application/problem+json`` with a ``code`` and its ``status`` (:func:`problem_json`).

The whole module stays well under 3 minutes (~70 operations x :data:`EXAMPLES`).
"""

from __future__ import annotations

import asyncio
import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis import Case, GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from bff.openapi.document import build_document
from bff_dev.devstack import StackInfo
from tests.e2e.harness import StackThread
from tests.support.login import SESSION_COOKIE, login_as

#: Examples per operation and mode (anonymous / signed in).
EXAMPLES = int(os.environ.get("BFF_FUZZ_EXAMPLES", "25"))
CSRF = {"X-CSRF": "1"}


def problem_json(ctx: Any, response: Any, case: Case) -> bool | None:
    """Every 4xx is ``application/problem+json`` with a stable ``code`` and its own ``status``."""
    if 400 <= response.status_code < 500:
        media = response.headers.get("content-type", [""])
        media = media[0] if isinstance(media, list) else media
        assert media.split(";")[0].strip() == "application/problem+json", (
            f"{response.status_code} answered as {media!r}, not application/problem+json"
        )
        body = json.loads(response.content)
        assert isinstance(body.get("code"), str) and body["code"], "a problem without a code"
        assert body.get("status") == response.status_code, "the problem's status is not the response's"
    return None


CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    problem_json,
]


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[StackInfo]:
    thread = StackThread(tmp_path_factory.mktemp("fuzz-stack"))
    info = thread.start()
    yield info
    thread.stop()


@pytest.fixture(scope="module")
def contract(stack: StackInfo) -> Any:
    """The document the running app serves (not the one built here)."""
    return schemathesis.openapi.from_url(f"{stack.url}/bff/openapi.json")


#: One test per operation and mode. (schemathesis's own pytest plugin pokes at pytest internals
#: that pytest 9 removed, so each test drives the operation's Hypothesis strategy itself.)
def _negatable(operation: dict[str, Any]) -> bool:
    """Whether schemathesis can make this operation's input invalid: a path or query parameter,
    or a body with a schema (a header-only or input-less operation has nothing to negate)."""
    params = [p for p in operation.get("parameters", []) if p["in"] in ("path", "query")]
    bodies = operation.get("requestBody", {}).get("content", {}).values()
    return bool(params) or any(media.get("schema") for media in bodies)


CASES = [
    pytest.param(f"{method.upper()} {path}", mode, id=f"{method.upper()} {path}-{mode.value}")
    for path, item in build_document()["paths"].items()
    for method, operation in item.items()
    for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE)
    if mode is GenerationMode.POSITIVE or _negatable(operation)
]
fuzz_settings = settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=list(HealthCheck),
)


@pytest.fixture
def session_cookie(stack: StackInfo) -> str:
    async def sign_in() -> str:
        async with httpx.AsyncClient(base_url=stack.url, timeout=15.0) as client:
            return await login_as(client, "alice@acme.test", scope="admin")

    return asyncio.run(sign_in())


def _fuzz(contract: Any, label: str, mode: GenerationMode, stack: StackInfo, cookie: str | None) -> None:
    operation = contract.find_operation_by_label(label)
    assert operation is not None, f"the served document has no {label}"
    headers: dict[str, str] = {}
    if cookie is not None:
        headers["Cookie"] = f"{SESSION_COOKIE}={cookie}"
    seen: list[int] = []

    @fuzz_settings
    @given(case=operation.as_strategy(generation_mode=mode))
    def run(case: Case) -> None:
        response = case.call(base_url=stack.url, headers=headers, timeout=20)
        seen.append(response.status_code)
        case.validate_response(response, checks=CHECKS)

    run()
    assert seen, f"{label}: no request was sent"
    if cookie is not None and mode is GenerationMode.POSITIVE and operation.definition.raw.get("security"):
        # The session was really used: not every answer is "sign in again".
        assert set(seen) - {401}, f"{label}: every signed-in call answered 401"


@pytest.mark.parametrize(("label", "mode"), CASES)
def test_anonymous(contract: Any, label: str, mode: GenerationMode, stack: StackInfo) -> None:
    _fuzz(contract, label, mode, stack, None)


@pytest.mark.parametrize(("label", "mode"), CASES)
def test_signed_in(
    contract: Any, label: str, mode: GenerationMode, stack: StackInfo, session_cookie: str
) -> None:
    _fuzz(contract, label, mode, stack, session_cookie)


def test_the_served_document_is_the_one_fuzzed(stack: StackInfo, tmp_path: Path) -> None:
    """The fuzzing reads the live document: it has the admin API and the sign-in steps."""
    doc = httpx.get(f"{stack.url}/bff/openapi.json", timeout=10).json()
    assert "/api/admin/users" in doc["paths"] and "/bff/signin/{remediation}" in doc["paths"]
