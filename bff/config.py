"""Reading configuration: the one error-collecting reader and the one :class:`ConfigError`.

Every configuration source is read the same way: the ``BFF_*`` environment
(:mod:`bff.settings`), the Okta set-up file of ``bff okta plan|apply``
(:mod:`bff.ops.okta_config`) and the API route policy (:mod:`bff.proxy.policy`). A reader
records one human line per problem and goes on reading (with the default in place of the bad
value), then :meth:`ConfigReader.raise_errors` raises them all as one :class:`ConfigError`,
so an operator fixes a deployment in one pass instead of one restart per mistake::

    ConfigReader    collects the lines (prefixed with the source, when it names one)
    ├── EnvReader   strings of an environment mapping: "BFF_X must be an integer, got 'ten'"
    └── TableReader typed values of a TOML/JSON document: "scopes[0].name: must be a non-empty string"

A line names the variable or the path of the value and says what was expected; it may quote
the bad value (``got ...``), so a secret belongs in a variable whose check never echoes it
(``BFF_SECRET_KEYS`` reports lengths, not keys). URLs are checked by one rule,
:func:`url_problem`, whichever source they come from.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Collection, Mapping
from typing import Any
from urllib.parse import urlsplit


class ConfigError(Exception):
    """Configuration is invalid. ``lines`` holds one human sentence per problem."""

    def __init__(self, lines: list[str]) -> None:
        self.lines = lines
        super().__init__("\n".join(lines))


def is_local_host(host: str | None) -> bool:
    """``localhost`` or a loopback address: where plain http is tolerated."""
    if not host:
        return False
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def url_problem(value: str, *, allow_http: bool = False, allow_query: bool = True,
                origin_only: bool = False) -> str | None:
    """What is wrong with a configured URL, or None. Always: absolute ``http(s)`` with a host,
    https unless the host is local (or ``allow_http``), no credentials (they would end up in
    logs) and no fragment. ``allow_query=False``: a base URL that paths are appended to;
    ``origin_only``: ``scheme://host[:port]`` and nothing else."""
    parts = urlsplit(value)
    if parts.scheme not in {"http", "https"} or not parts.hostname:
        return f"must be an absolute http(s) URL, got {value!r}"
    if parts.scheme == "http" and not (allow_http or is_local_host(parts.hostname)):
        return f"must use https (http is allowed only for localhost), got {value!r}"
    if parts.username or parts.password or parts.fragment or (parts.query and not allow_query):
        carried = "a fragment or credentials" if allow_query else "a query, fragment or credentials"
        return f"must not carry {carried}, got {value!r}"
    if origin_only and (parts.path not in {"", "/"} or parts.query):
        return f"must be an origin (scheme://host[:port]), got {value!r}"
    return None


class ConfigReader:
    """Collects one line per problem of one configuration source. ``source`` (a file name,
    ``"BFF_API_ROUTES (routes.toml)"``) prefixes every line; the environment needs none, its
    lines start with the variable's name."""

    def __init__(self, source: str = "") -> None:
        self.source = source
        self.errors: list[str] = []

    def error(self, line: str) -> None:
        self.errors.append(f"{self.source}: {line}" if self.source else line)

    def check(self, ok: bool, line: str) -> bool:
        """Record ``line`` unless ``ok``; returns ``ok``."""
        if not ok:
            self.error(line)
        return ok

    def raise_errors(self) -> None:
        """Raise every line recorded so far as one :class:`ConfigError` (nothing when none)."""
        if self.errors:
            raise ConfigError(list(self.errors))


class EnvReader(ConfigReader):
    """Typed values of an environment mapping (``BFF_*`` names to strings). A blank value
    counts as unset; a bad one is reported and its default used."""

    def __init__(self, env: Mapping[str, str]) -> None:
        super().__init__()
        self.env = env

    def raw(self, name: str) -> str | None:
        value = self.env.get(name)
        if value is None:
            return None
        value = value.strip()
        return value or None

    def text(self, name: str, default: str | None = None, *, required: bool = False) -> str:
        value = self.raw(name)
        if value is None:
            if required and default is None:
                self.error(f"{name} is required")
                return ""
            return default or ""
        return value

    def opt(self, name: str) -> str | None:
        return self.raw(name)

    def integer(self, name: str, default: int, *, minimum: int = 0, maximum: int | None = None) -> int:
        value = self.raw(name)
        if value is None:
            return default
        try:
            parsed = int(value)
        except ValueError:
            self.error(f"{name} must be an integer, got {value!r}")
            return default
        if parsed < minimum or (maximum is not None and parsed > maximum):
            hi = "" if maximum is None else f" and at most {maximum}"
            self.error(f"{name} must be at least {minimum}{hi}, got {parsed}")
            return default
        return parsed

    def number(self, name: str, default: float, *, minimum: float = 0.0) -> float:
        value = self.raw(name)
        if value is None:
            return default
        try:
            parsed = float(value)
        except ValueError:
            self.error(f"{name} must be a number, got {value!r}")
            return default
        if not parsed >= minimum:  # also refuses "nan"
            self.error(f"{name} must be at least {minimum}, got {parsed}")
            return default
        return parsed

    def flag(self, name: str, default: bool) -> bool:
        value = self.raw(name)
        if value is None:
            return default
        lowered = value.lower()
        if lowered in {"1", "true", "yes", "on"}:
            return True
        if lowered in {"0", "false", "no", "off"}:
            return False
        self.error(f"{name} must be true or false, got {value!r}")
        return default

    def items(self, name: str, default: tuple[str, ...] = (), *, sep: str | None = ",") -> tuple[str, ...]:
        value = self.raw(name)
        if value is None:
            return default
        parts = value.split(sep) if sep else value.split()
        return tuple(p.strip() for p in parts if p.strip())

    def mapping(self, name: str) -> dict[str, str]:
        """``a=b,c=d`` → ``{"a": "b", "c": "d"}`` (keys lower-cased)."""
        out: dict[str, str] = {}
        for item in self.items(name):
            key, sep, val = item.partition("=")
            if not sep or not key.strip() or not val.strip():
                self.error(f"{name} must be a comma-separated list of key=value, got {item!r}")
                continue
            out[key.strip().lower()] = val.strip()
        return out

    def url(self, name: str, default: str | None = None, *, required: bool = False,
            https_unless_local: bool = True) -> str:
        """The URL without a trailing slash (``""`` when unset); see :func:`url_problem`."""
        value = self.text(name, default, required=required)
        if not value:
            return ""
        problem = url_problem(value, allow_http=not https_unless_local)
        if problem is not None:
            self.error(f"{name} {problem}")
        return value.rstrip("/")

    def choice(self, name: str, default: str, choices: tuple[str, ...]) -> str:
        value = self.text(name, default)
        if value not in choices:
            self.error(f"{name} must be one of {', '.join(choices)}, got {value!r}")
            return default
        return value


class TableReader(ConfigReader):
    """Typed values of a parsed TOML/JSON document. ``where`` is the path of the table being
    read (``"access_policy.rules[0]"``); lines read ``{where}.{key}: {problem}``. A value of
    the wrong type is reported and the default (or an empty value) used."""

    def add(self, where: str, message: str) -> None:
        self.error(f"{where}: {message}")

    def keys(self, data: Mapping[str, Any], where: str, allowed: Collection[str],
             required: Collection[str] = ()) -> bool:
        """Report every key outside ``allowed`` and every missing ``required`` one; True when none."""
        before = len(self.errors)
        for key in sorted(set(data) - set(allowed)):
            self.add(where, f"unknown key {key!r} (allowed: {', '.join(sorted(allowed))})")
        for key in sorted(set(required) - set(data)):
            self.add(where, f"{key} is required")
        return len(self.errors) == before

    def table(self, data: Any, where: str, allowed: Collection[str],
              required: Collection[str] = ()) -> dict[str, Any]:
        if not isinstance(data, dict):
            self.add(where, "must be a table")
            return {}
        self.keys(data, where, allowed, required)
        return data

    def array(self, data: Mapping[str, Any], key: str) -> list[Any]:
        """An array of tables (``[[key]]``), empty when absent."""
        value = data.get(key, [])
        if not isinstance(value, list):
            self.add(key, f"must be an array of tables ([[{key}]])")
            return []
        return value

    def text(self, d: Mapping[str, Any], key: str, where: str, default: str | None = None) -> str:
        value = d.get(key, default)
        if not isinstance(value, str) or (not value.strip() and default is None):
            if key in d or default is None:
                self.add(f"{where}.{key}", "must be a non-empty string")
            return default or ""
        return value

    def opt_text(self, d: Mapping[str, Any], key: str, where: str) -> str | None:
        if key not in d or d[key] is None:
            return None
        return self.text(d, key, where)

    def strings(self, d: Mapping[str, Any], key: str, where: str, default: tuple[str, ...] | None = None,
                *, allowed: tuple[str, ...] | None = None, non_empty: bool = True) -> tuple[str, ...]:
        """A list of non-empty strings (stripped), each distinct and, with ``allowed``, one of
        those; required when there is no ``default``; with ``non_empty``, not ``[]``."""
        at = f"{where}.{key}"
        if key not in d:
            if default is None:
                self.error(f"{at} is required (a list of strings)")
                return ()
            return default
        value = d[key]
        if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
            self.add(at, f"must be a list of non-empty strings, got {value!r}")
            return ()
        stripped = tuple(v.strip() for v in value)
        if non_empty and not stripped:
            self.add(at, "must not be empty")
        if allowed is not None:
            for v in stripped:
                if v not in allowed:
                    self.add(at, f"{v!r} is not one of {', '.join(allowed)}")
        if len(set(stripped)) != len(stripped):
            self.add(at, "has duplicates")
        return stripped

    def integer(self, d: Mapping[str, Any], key: str, where: str, default: int, lo: int, hi: int) -> int:
        value = d.get(key, default)
        if isinstance(value, bool) or not isinstance(value, int) or not lo <= value <= hi:
            self.add(f"{where}.{key}", f"must be an integer from {lo} to {hi}")
            return default
        return value

    def boolean(self, d: Mapping[str, Any], key: str, where: str, default: bool) -> bool:
        value = d.get(key, default)
        if not isinstance(value, bool):
            self.add(f"{where}.{key}", "must be true or false")
            return default
        return value

    def choice(self, d: Mapping[str, Any], key: str, where: str, default: str,
               choices: tuple[str, ...]) -> str:
        value = d.get(key, default)
        if value not in choices:
            self.add(f"{where}.{key}", f"must be one of {', '.join(choices)}")
            return default
        return str(value)

    def url(self, value: Any, where: str, *, allow_http: bool = False, allow_query: bool = True,
            origin_only: bool = False) -> str:
        """``value`` as given (``""`` when not a string); see :func:`url_problem`."""
        if not isinstance(value, str):
            self.add(where, f"must be a string URL, got {value!r}")
            return ""
        problem = url_problem(value, allow_http=allow_http, allow_query=allow_query, origin_only=origin_only)
        if problem is not None:
            self.add(where, problem)
        return value

    def unique(self, values: list[str], where: str, what: str) -> None:
        """Report each value that appears more than once."""
        seen: set[str] = set()
        for value in values:
            if value in seen:
                self.add(where, f"{what} {value!r} appears twice")
            seen.add(value)
