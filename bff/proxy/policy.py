"""The route policy: which ``/api/*`` requests the proxy forwards, where, and to whom.

The policy is a TOML file named by ``BFF_API_ROUTES``::

    [upstreams.admin]
    url = "https://abc123.execute-api.eu-west-1.amazonaws.com"   # API Gateway over HTTPS
    # or: lambda = "arn:aws:lambda:eu-west-1:123456789012:function:admin-api"
    timeout = 10

    [[routes]]
    path = "/api/admin/{rest:path}"      # Starlette-style template: the allow-list
    upstream = "admin"
    methods = ["GET", "POST", "PUT", "DELETE"]
    scopes = ["admin"]                   # ALL required (access token ``scp``)
    roles = ["org_admin", "group_admin"] # ANY of (``adminRole`` claim)

It is parsed once at start-up. Every problem (unknown key, unknown upstream, bad template,
bad URL or ARN, ...) becomes one line of :class:`~bff.config.ConfigError`, all reported
together (the reader is :class:`bff.config.TableReader`). Matching is strict: templates
compile to anchored regular expressions, the first listed route that matches wins, and a
request path that could be read differently by an upstream (dot segments, encoded slashes or
backslashes, empty segments) never matches.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from starlette.convertors import CONVERTOR_TYPES, Convertor
from starlette.routing import compile_path

from bff.config import ConfigError, TableReader

METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
IDEMPOTENT = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "DELETE"})

_TOP_KEYS = frozenset({"upstreams", "routes"})
_UPSTREAM_KEYS = frozenset({"url", "lambda", "timeout", "endpoint_url"})
_ROUTE_KEYS = frozenset({"path", "upstream", "methods", "scopes", "roles"})
_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_-]{0,63}$")
_PARAM = re.compile(r"{([^{}]*)}")
_PARAM_BODY = re.compile(r"^([A-Za-z_][A-Za-z0-9_]*)(?::([A-Za-z_]+))?$")
_TEMPLATE_CHARS = re.compile(r"^[A-Za-z0-9._~!$&'()*+,;=:@/{}-]+$")
_LAMBDA_ARN = re.compile(
    r"^arn:(?P<partition>aws[a-z-]*):lambda:(?P<region>[a-z]{2}(?:-[a-z]+)+-\d):(?P<account>\d{12}):"
    r"function:(?P<name>[A-Za-z0-9_-]{1,64})(?::(?P<qualifier>\$LATEST|[A-Za-z0-9_-]{1,128}))?$"
)
MAX_TIMEOUT = 900.0  # the longest a Lambda function can run


@dataclass(frozen=True)
class Upstream:
    """Where matched requests go: an HTTPS base URL, or a Lambda function invoked directly."""

    name: str
    timeout: float
    url: str | None = None  # base URL, no trailing slash (may carry a base path, e.g. a stage)
    lambda_arn: str | None = None
    endpoint_url: str | None = None  # Lambda API endpoint override (local twin); None = AWS

    @property
    def kind(self) -> str:
        return "lambda" if self.lambda_arn else "http"

    @property
    def region(self) -> str | None:
        match = _LAMBDA_ARN.match(self.lambda_arn or "")
        return match["region"] if match else None

    @property
    def account_id(self) -> str | None:
        match = _LAMBDA_ARN.match(self.lambda_arn or "")
        return match["account"] if match else None


@dataclass(frozen=True)
class ApiRoute:
    path: str  # the template as written
    upstream: Upstream
    methods: frozenset[str]  # as listed, plus HEAD when GET is listed
    scopes: tuple[str, ...]  # all required
    roles: tuple[str, ...]  # any of; empty = no role needed
    regex: re.Pattern[str]
    convertors: Mapping[str, Convertor[Any]]

    @property
    def route_key_path(self) -> str:
        """The template in API Gateway syntax: ``{rest:path}`` → ``{rest+}``, ``{id:int}`` → ``{id}``."""

        def repl(match: re.Match[str]) -> str:
            name, _, kind = match[1].partition(":")
            return "{" + name + ("+" if kind == "path" else "") + "}"

        return _PARAM.sub(repl, self.path)

    def allow_header(self) -> str:
        return ", ".join(sorted(self.methods))

    def missing(self, scopes: frozenset[str], role: str | None) -> tuple[list[str], list[str]]:
        """(scopes that are missing, roles of which one is required) — both empty when allowed."""
        missing_scopes = [s for s in self.scopes if s not in scopes]
        need_roles = [] if not self.roles or (role is not None and role in self.roles) else list(self.roles)
        return missing_scopes, need_roles


@dataclass(slots=True)
class RouteMatch:
    route: ApiRoute
    params: dict[str, str]


@dataclass(frozen=True)
class RoutePolicy:
    upstreams: Mapping[str, Upstream]
    routes: tuple[ApiRoute, ...]
    source: str | None = None

    def match(self, path: str) -> RouteMatch | None:
        """The first route whose template matches the (percent-decoded) ``path``, if any."""
        for route in self.routes:
            found = route.regex.match(path)
            if found is None:
                continue
            return RouteMatch(route, found.groupdict())
        return None


EMPTY_POLICY = RoutePolicy(upstreams={}, routes=())




def _parse_upstream(r: TableReader, name: str, raw: Any, *, dev: bool) -> Upstream | None:
    """The upstream, or None when anything about it was reported."""
    where = f"[upstreams.{name}]"
    if not _NAME.match(name):
        r.add(where, "upstream names are letters, digits, '-' and '_' (starting with a letter)")
        return None
    if not isinstance(raw, dict):
        r.add(where, "must be a table")
        return None
    before = len(r.errors)
    r.keys(raw, where, _UPSTREAM_KEYS)
    url, arn = raw.get("url"), raw.get("lambda")
    if (url is None) == (arn is None):
        r.add(where, "needs exactly one of 'url' (API Gateway / HTTPS) or 'lambda' (function ARN)")
        return None
    timeout = raw.get("timeout", 10)
    if isinstance(timeout, bool) or not isinstance(timeout, int | float) or not 0 < timeout <= MAX_TIMEOUT:
        r.add(where, f"timeout must be a number of seconds in (0, {MAX_TIMEOUT:g}], got {timeout!r}")
    # Paths are appended to a base URL: it carries no query (nor, as any URL, a fragment or credentials).
    checked_url = checked_endpoint = None
    if url is not None:
        checked_url = r.url(url, f"{where} url", allow_http=dev, allow_query=False).rstrip("/")
        if "endpoint_url" in raw:
            r.add(where, "'endpoint_url' applies only to 'lambda' upstreams")
    else:
        if not isinstance(arn, str) or not _LAMBDA_ARN.match(arn):
            r.add(where, "lambda must be a Lambda function ARN "
                         f"(arn:aws:lambda:REGION:ACCOUNT:function:NAME), got {arn!r}")
        if "endpoint_url" in raw:
            checked_endpoint = r.url(raw["endpoint_url"], f"{where} endpoint_url", allow_http=dev,
                                     allow_query=False).rstrip("/")
    if len(r.errors) > before:
        return None
    return Upstream(name=name, timeout=float(timeout), url=checked_url,
                    lambda_arn=arn if isinstance(arn, str) else None, endpoint_url=checked_endpoint)


_Compiled = tuple[re.Pattern[str], dict[str, Convertor[Any]]]


def _check_template(r: TableReader, where: str, path: Any) -> _Compiled | None:
    if not isinstance(path, str):
        r.add(where, f"must be a string template, got {path!r}")
        return None
    problems: list[str] = []
    if not path.startswith("/api/"):
        problems.append("must start with /api/ (only /api/* is proxied)")
    if not _TEMPLATE_CHARS.match(path):
        problems.append("contains characters outside the URL path alphabet")
    segments = path.split("/")[1:]
    if any(s in {"", ".", ".."} for s in segments[:-1]) or segments[-1] in {".", ".."}:
        problems.append("must not contain empty, '.' or '..' segments")
    params = list(_PARAM.finditer(path))
    stripped = _PARAM.sub("", path)
    if "{" in stripped or "}" in stripped:
        problems.append("has unbalanced braces")
    seen: set[str] = set()
    for i, param in enumerate(params):
        body = _PARAM_BODY.match(param[1])
        if body is None:
            problems.append(f"parameter {{{param[1]}}} is not {{name}} or {{name:type}}")
            continue
        name, kind = body[1], body[2] or "str"
        if kind not in CONVERTOR_TYPES:
            problems.append(f"parameter {{{param[1]}}} has unknown type {kind!r} "
                            f"(known: {', '.join(sorted(CONVERTOR_TYPES))})")
        if name in seen:
            problems.append(f"parameter {name!r} appears twice")
        seen.add(name)
        if kind == "path" and (i != len(params) - 1 or param.end() != len(path)):
            problems.append(f"{{{param[1]}}} (greedy) must be the last thing in the template")
        before = path[param.start() - 1] if param.start() else ""
        after = path[param.end()] if param.end() < len(path) else "/"
        if before != "/" or after != "/":
            problems.append(f"parameter {{{param[1]}}} must span a whole path segment")
    if problems:
        for problem in problems:
            r.add(where, f"{path!r} {problem}")
        return None
    regex, _, convertors = compile_path(path)
    return regex, dict(convertors)


def _parse_route(r: TableReader, i: int, raw: Any, upstreams: Mapping[str, Upstream],
                 declared: set[str]) -> ApiRoute | None:
    """The route, or None when anything about it was reported."""
    where = f"routes[{i}]"
    if not isinstance(raw, dict):
        r.add(where, "must be a table ([[routes]])")
        return None
    before = len(r.errors)
    r.keys(raw, where, _ROUTE_KEYS)
    compiled = _check_template(r, f"{where}.path", raw.get("path"))
    name = raw.get("upstream")
    upstream = upstreams.get(name) if isinstance(name, str) else None
    if not isinstance(name, str):
        r.add(f"{where}.upstream", f"is required (the name of an [upstreams.NAME] table), got {name!r}")
    elif name not in declared:
        known = ", ".join(sorted(declared)) or "none declared"
        r.add(f"{where}.upstream", f"unknown upstream {name!r} (known: {known})")
    methods = tuple(m.upper() for m in r.strings(raw, "methods", where, non_empty=False))
    if raw.get("methods") == []:
        r.add(f"{where}.methods", "must list at least one method")
    bad = [m for m in methods if m not in METHODS]
    if bad:
        r.add(f"{where}.methods",
              f"unknown method(s) {', '.join(bad)} (allowed: {', '.join(sorted(METHODS))})")
    scopes = r.strings(raw, "scopes", where, (), non_empty=False)
    roles = r.strings(raw, "roles", where, (), non_empty=False)
    if len(r.errors) > before or compiled is None or upstream is None:
        return None
    allowed = set(methods)
    if "GET" in allowed:
        allowed.add("HEAD")
    return ApiRoute(path=raw["path"], upstream=upstream, methods=frozenset(allowed), scopes=scopes,
                    roles=roles, regex=compiled[0], convertors=compiled[1])


def parse_policy(text: str, *, source: str = "BFF_API_ROUTES", dev: bool = False,
                 upstream_overrides: Mapping[str, str] | None = None) -> RoutePolicy:
    """Parse and validate a policy document; raises ConfigError listing every problem.

    ``upstream_overrides`` (``BFF_API_UPSTREAMS``: name → https URL or Lambda function ARN)
    sets where a named upstream lives at deploy time, so one policy file serves every stage and
    a template can pass URLs it only knows once the stack exists. An override replaces the
    file's ``url``/``lambda`` of that upstream (its ``timeout`` stays); naming an upstream the
    file does not define is an error.
    """
    r = TableReader(source)
    try:
        doc = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError([f"{source}: not valid TOML: {exc}"]) from None
    r.keys(doc, "top level", _TOP_KEYS)
    raw_upstreams = doc.get("upstreams", {})
    if not isinstance(raw_upstreams, dict):
        r.add("upstreams", "must be a table of [upstreams.NAME] tables")
        raw_upstreams = {}
    for name, target in (upstream_overrides or {}).items():
        current = raw_upstreams.get(name)
        if not isinstance(current, dict):
            r.add("BFF_API_UPSTREAMS", f"names upstream {name!r}, which the policy does not define")
            continue
        current = {k: v for k, v in current.items() if k not in {"url", "lambda", "endpoint_url"}}
        current["lambda" if target.startswith("arn:") else "url"] = target
        raw_upstreams[name] = current
    upstreams: dict[str, Upstream] = {}
    for name, raw in raw_upstreams.items():
        parsed = _parse_upstream(r, name, raw, dev=dev)
        if parsed is not None:
            upstreams[name] = parsed
    raw_routes = doc.get("routes", [])
    if not isinstance(raw_routes, list):
        r.add("routes", "must be an array of tables ([[routes]])")
        raw_routes = []
    routes: list[ApiRoute] = []
    for i, raw in enumerate(raw_routes):
        route = _parse_route(r, i, raw, upstreams, set(raw_upstreams))
        if route is not None:
            routes.append(route)
    r.raise_errors()
    return RoutePolicy(upstreams=upstreams, routes=tuple(routes), source=source)


def load_policy(path: str | None, *, dev: bool = False,
                upstream_overrides: Mapping[str, str] | None = None) -> RoutePolicy:
    """Read the file named by ``BFF_API_ROUTES``; no file configured → an empty policy (all 404)."""
    if path is None:
        if upstream_overrides:
            raise ConfigError(["BFF_API_UPSTREAMS is set but BFF_API_ROUTES names no route policy"])
        return EMPTY_POLICY
    label = f"BFF_API_ROUTES ({path})"
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError([f"{label}: cannot read the route policy: {type(exc).__name__}: {exc}"]) from None
    return parse_policy(text, source=label, dev=dev, upstream_overrides=upstream_overrides)


_UNSAFE_RAW = re.compile(rb"%(?:2[fF]|5[cC]|00)")
_CONTROL = re.compile(r"[\x00-\x1f\x7f\\]")


def unsafe_path(path: str, raw_path: bytes | None) -> str | None:
    """Why a request path must not be matched (upstreams could normalise it differently), or None.

    ``path`` is the percent-decoded path, ``raw_path`` the bytes as sent. Rejected: dot
    segments (``/api/admin/../x``), ``;`` path parameters, raw or encoded (``/..;/x``,
    ``/users;jsessionid=1``: Tomcat, Spring and some gateways strip them before routing, so
    ``/api/public/..;/admin`` could reach what the policy never matched), empty segments
    (``//``), backslashes, control characters, and encoded ``/``, ``\\`` or NUL in the raw form.
    (On the hot path: plain substring tests.)
    """
    if "/." in path and ("/./" in path or "/../" in path or path.endswith(("/.", "/.."))):
        return "dot segments"
    if ";" in path:  # the decoded path: %3B is caught here too
        return "path parameters (;)"
    if "//" in path:
        return "empty segments"
    if _CONTROL.search(path):
        return "backslash or control characters"
    if raw_path is not None and b"%" in raw_path and _UNSAFE_RAW.search(raw_path):
        return "encoded slash, backslash or NUL"
    return None
