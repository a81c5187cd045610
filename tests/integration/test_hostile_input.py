"""Every endpoint of the assembled product answers malformed, hostile or oversized input with a
precise 4xx problem+json (or its normal answer) — never a 5xx, a stack trace, a token or a secret.

Runs against the full local stack (``run_stack``: the BFF with every area and every twin, over
real loopback HTTP), anonymously and signed in, walking the app's OWN route table so a new
route is covered the day it is added.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import pytest_asyncio
from starlette.routing import BaseRoute, Mount, Route

from bff.app import create_app
from bff.settings import PLACEHOLDER_MARKER, Settings
from bff_dev.devstack import StackInfo, run_stack
from bff_dev.serving import free_ports
from tests.support.env import base_env
from tests.support.login import login_as

pytestmark = pytest.mark.asyncio(loop_scope="module")

SAME_ORIGIN = {"X-CSRF": "1", "Sec-Fetch-Site": "same-origin"}
NESTED = ("[" * 100_000 + "]" * 100_000).encode()
BODIES: list[tuple[str, bytes | None, str | None]] = [
    ("none", None, None),
    ("invalid json", b'{"email": ', "application/json"),
    ("json array", b"[1, 2, 3]", "application/json"),
    ("wrong types", b'{"email": 5, "firstName": ["x"], "enabled": "yes", "lastName": {"a": 1},'
                    b' "locale": null, "password": 12}', "application/json"),
    ("hostile strings", b'{"email": "a@b.c<script>alert(1)</script>", "firstName": "\\u0000\\u202e<img>",'
                        b' "lastName": "Robert\'); DROP TABLE users;--", "company": "%00../../etc/passwd"}',
     "application/json"),
    ("deeply nested", NESTED, "application/json"),
    # small enough to pass every body cap (1 KB and up) yet deeper than the JSON parser's
    # recursion limit: a RecursionError is not a ValueError and used to escape as a 500
    ("nested under the caps", b"[" * 1000, "application/json"),
    ("nested object", b'{"a":' * 600 + b"1" + b"}" * 600, "application/json"),
    ("not utf-8", b"\xff\xfe\xfa{", "application/json"),
    ("form encoded", b"email=x&enabled=true", "application/x-www-form-urlencoded"),
    ("oversized", b'{"email": "' + b"a" * (3 * 1024 * 1024) + b'"}', "application/json"),
]
PATH_PARAMS = ["signin", "..%2F..%2Fetc%2Fpasswd", "%00", "a" * 3000, "%F0%9F%92%A9", "<script>"]
QUERIES = ["", "?returnTo=//evil.example&locale=%3Cscript%3E&scope=admin%20okta.users.manage",
           "?locale=" + "x" * 5000, "?path=/content/dam/../../etc&variation=%00&prompt=bogus"]
JWT = re.compile(r"eyJ[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{10,}")
TRACE = re.compile(r"Traceback|File \"/|\.py\", line \d+")


def _paths() -> list[tuple[str, frozenset[str]]]:
    """(path, methods) of every route the app serves, from its own route table."""
    app = create_app(Settings.from_env(base_env()))
    out: list[tuple[str, frozenset[str]]] = []

    def walk(routes: list[BaseRoute], prefix: str) -> None:
        for route in routes:
            if isinstance(route, Mount) and not route.routes:
                api_methods = frozenset({"GET", "POST", "PUT", "DELETE"})
                out.append((prefix + route.path + "/admin/users", api_methods))
            elif isinstance(route, Mount):
                walk(list(route.routes), prefix + route.path)
            elif isinstance(route, Route):
                out.append((prefix + route.path, frozenset(route.methods or {"GET"})))

    walk(list(app.routes), "")
    return out


def _concrete(path: str) -> list[str]:
    if "{" not in path:
        return [path]
    return [re.sub(r"\{[^}]+\}", value, path) for value in PATH_PARAMS]


@pytest_asyncio.fixture(loop_scope="module", scope="module")
async def stack(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[StackInfo]:
    data_dir: Path = tmp_path_factory.mktemp("hostile")
    async with run_stack(free_ports(), data_dir) as info:
        yield info


def _check(answer: httpx.Response, what: str, stack: StackInfo) -> None:
    assert answer.status_code < 500, f"{what}: {answer.status_code} {answer.text[:300]}"
    body = answer.text
    if what == "logout" and answer.status_code == 200:
        # RP-initiated logout: the end-session URL the browser follows must carry the ID token as
        # id_token_hint (Okta requires it); the session is already gone and the refresh token
        # revoked. That one parameter is the only place a JWT may appear.
        body = re.sub(r"id_token_hint=[^&\"]+", "id_token_hint=-", body)
    assert not TRACE.search(body), f"{what}: a stack trace leaked"
    assert not JWT.search(body), f"{what}: a token leaked"
    assert PLACEHOLDER_MARKER not in body, f"{what}: a secret leaked"
    path = str(answer.request.url.path)
    if answer.status_code >= 400 and path.startswith(("/bff/", "/api/")):
        assert answer.headers["content-type"].startswith("application/problem+json"), \
            f"{what}: {answer.status_code} is not problem+json"
        if answer.request.method != "HEAD":  # HEAD: the headers only
            assert answer.json()["status"] == answer.status_code


async def _spray(client: httpx.AsyncClient, stack: StackInfo, *, skip: set[str]) -> int:
    sent = 0
    for path, methods in _paths():
        if path in skip:
            continue
        for concrete, query in itertools.product(_concrete(path), QUERIES):
            for method in sorted(methods | {"DELETE"}):
                bodies = BODIES if method in {"POST", "PUT", "PATCH", "DELETE"} else BODIES[:1]
                for name, body, ctype in bodies:
                    headers = dict(SAME_ORIGIN)
                    if ctype:
                        headers["Content-Type"] = ctype
                    answer = await client.request(method, concrete + query, content=body, headers=headers)
                    _check(answer, f"{method} {concrete}{query[:40]} [{name}]", stack)
                    sent += 1
    return sent


async def test_anonymous_hostile_input_never_gets_a_5xx(stack: StackInfo) -> None:
    async with httpx.AsyncClient(base_url=stack.url, timeout=30) as client:
        assert await _spray(client, stack, skip=set()) > 1000


async def test_signed_in_hostile_input_never_gets_a_5xx(stack: StackInfo) -> None:
    async with httpx.AsyncClient(base_url=stack.url, timeout=30) as client:
        await login_as(client, "carol@acme.test")  # a content author: preview is reachable too
        sent = await _spray(client, stack, skip={"/bff/logout"})
        assert sent > 1000
        still: Any = (await client.get("/bff/user")).json()
        assert still["login"] == "carol@acme.test"  # nothing above ended the session by accident
        _check(await client.post("/bff/logout", content=NESTED, headers=SAME_ORIGIN), "logout", stack)


HOSTILE_FORWARDING: list[dict[str, str | bytes]] = [
    {"X-Forwarded-For": "1.2.3.4, <script>, " + "9" * 5000},
    {"X-Forwarded-For": ",,,,", "CloudFront-Viewer-Address": "[::1]:99999999"},
    {"CloudFront-Viewer-Address": "fe80::1%eth0:80", "X-BFF-Origin-Verify": "x" * 8000},
    {"CloudFront-Viewer-Address": b"\xff" * 40, "X-Forwarded-For": "::ffff:999.1.1.1"},
]
AEM_HOOK_INPUTS: list[tuple[str, bytes | None, dict[str, str]]] = [
    ("GET", None, {}),
    ("POST", b'{"specversion":"1.0","id":"1","source":"s","type":"aem.sites.contentFragment.published",'
             b'"time":"9999-99-99","recipientclientid":["x"],"data":{"path":"/content/dam/bff/en/ui-copy/signin"}}',
     {"Content-Type": "application/cloudevents+json", "X-Webhook-Secret": "wrong"}),
    ("POST", b"[" + b'{"specversion":"1.0","id":"1","source":"s","type":"t",'
     b'"time":"1970-01-01T00:00:00Z"},' * 50 + b"{}]",
     {"Content-Type": "application/cloudevents-batch+json"}),
    ("POST", b"{}", {"Content-Type": "application/json", "x-adobe-digital-signature-1": "%%%",
                     "x-adobe-public-key1-path": "/../../etc/passwd"}),
    ("POST", b"{}", {"Content-Type": "application/json", "x-adobe-digital-signature-1": "AAAA",
                     "x-adobe-public-key1-path": "/prod/keys/pub-key-" + "a" * 64 + ".pem"}),
]
ISSUE_12_PATHS = [
    "/bff/hooks/aem?challenge=%3Cscript%3E", "/bff/hooks/aem?challenge=" + "a" * 5000,
    "/bff/hooks/aem?challenge=a&challenge=b", "/bff/hooks/aem?challenge=%0d%0aX:%20y",
    "/bff/content/signin?variation=" + "v" * 64, "/bff/content/signin?variation=autumn&variation=summer",
    "/bff/content/signin?variation=%00", "/preview?path=/content/dam/bff/en/ui-copy/signin&variation=nope",
    "/api/admin/..;/users", "/api/admin/users;jsessionid=ABC", "/api/admin/users%3Bx", "/api/;/admin",
    "/bff/login?scope=admin&prompt=none&max_age=0&acr_values=urn:okta:loa:1fa:any",
    "/bff/login?scope=admin%20admin", "/bff/callback?code=x&state=y&error=step_up_required",
]


async def test_issue_12_inputs_never_get_a_5xx(stack: StackInfo) -> None:
    """Issue 12 §2-§6's new inputs: forged forwarding headers on every route, the webhook's
    recipient/time/challenge/key-path, unknown variations, ; path parameters, step-up logins."""
    async with httpx.AsyncClient(base_url=stack.url, timeout=30) as client:
        for (path, methods), headers in itertools.product(_paths(), HOSTILE_FORWARDING):
            concrete = _concrete(path)[0]
            for method in sorted(methods):
                answer = await client.request(method, concrete, headers={**SAME_ORIGIN, **headers})
                _check(answer, f"{method} {concrete} [forwarding]", stack)
        for method, body, headers in AEM_HOOK_INPUTS:
            answer = await client.request(method, "/bff/hooks/aem", content=body, headers=headers)
            _check(answer, f"{method} /bff/hooks/aem", stack)
            assert answer.status_code in {400, 401, 403, 413, 415}, answer.text
        await login_as(client, "alice@acme.test", scope="admin")
        for path in ISSUE_12_PATHS:
            for method in ("GET", "POST"):
                answer = await client.request(method, path, headers=SAME_ORIGIN)
                _check(answer, f"{method} {path[:60]}", stack)
        for path in ("/api/admin/..;/users", "/api/admin/users;jsessionid=ABC", "/api/admin/users%3Bx"):
            answer = await client.get(path, headers=SAME_ORIGIN)
            assert answer.status_code == 400 and answer.json()["code"] == "bad_path", path
        unknown = await client.get("/bff/content/signin?variation=autumn")
        assert unknown.json()["code"] == "unknown_variation"
        challenge = await client.get("/bff/hooks/aem?challenge=8ec8d794-e0ab-42df")
        assert challenge.text == "8ec8d794-e0ab-42df"
        assert challenge.headers["content-type"].startswith("text/plain")
