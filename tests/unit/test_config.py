"""bff.config: one error-collecting reader (environment strings, document tables), one URL rule,
one ConfigError. Its users' own tests (test_settings, ops/test_okta_config, proxy/test_policy)
check the lines they produce; these check the reader itself."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from bff.config import ConfigError, ConfigReader, EnvReader, TableReader, is_local_host, url_problem
from bff.ops import okta_config
from bff.proxy import policy


def test_every_reader_raises_the_one_config_error() -> None:
    assert not hasattr(okta_config, "OktaConfigError")
    with pytest.raises(ConfigError) as info:
        okta_config.parse_config({})
    assert info.value.lines
    with pytest.raises(ConfigError):
        policy.parse_policy("surprise = 1")


def test_lines_are_collected_then_raised_together() -> None:
    r = ConfigReader("routes.toml")
    r.raise_errors()  # nothing recorded: nothing raised
    assert r.check(True, "never recorded") is True
    assert r.check(False, "a: first") is False
    r.error("b: second")
    with pytest.raises(ConfigError) as info:
        r.raise_errors()
    assert info.value.lines == ["routes.toml: a: first", "routes.toml: b: second"]
    assert str(info.value) == "routes.toml: a: first\nroutes.toml: b: second"
    r.error("c: later")
    assert info.value.lines == ["routes.toml: a: first", "routes.toml: b: second"]  # a copy was raised


def test_the_environment_has_no_prefix() -> None:
    r = EnvReader({"BFF_N": "ten"})
    assert r.integer("BFF_N", 5) == 5
    assert r.errors == ["BFF_N must be an integer, got 'ten'"]


@pytest.mark.parametrize(
    ("env", "read", "expected", "line"),
    [
        ({}, lambda r: r.text("X", required=True), "", "X is required"),
        ({"X": "  "}, lambda r: r.text("X", "d"), "d", None),  # blank is unset
        ({"X": " v "}, lambda r: r.opt("X"), "v", None),
        ({"X": "7"}, lambda r: r.integer("X", 1, maximum=5), 1, "X must be at least 0 and at most 5, got 7"),
        ({"X": "-1"}, lambda r: r.integer("X", 1), 1, "X must be at least 0, got -1"),
        ({"X": "0.5"}, lambda r: r.number("X", 1.0, minimum=0.1), 0.5, None),
        ({"X": "nan"}, lambda r: r.number("X", 1.0, minimum=0.1), 1.0, "X must be at least 0.1, got nan"),
        ({"X": "Yes"}, lambda r: r.flag("X", False), True, None),
        ({"X": "maybe"}, lambda r: r.flag("X", False), False, "X must be true or false, got 'maybe'"),
        ({"X": "a, b,,c "}, lambda r: r.items("X"), ("a", "b", "c"), None),
        ({"X": "a  b"}, lambda r: r.items("X", sep=None), ("a", "b"), None),
        ({"X": "A=1, b"}, lambda r: r.mapping("X"), {"a": "1"},
         "X must be a comma-separated list of key=value, got 'b'"),
        ({"X": "blue"}, lambda r: r.choice("X", "red", ("red", "green")), "red",
         "X must be one of red, green, got 'blue'"),
        ({"X": "https://a.example/"}, lambda r: r.url("X"), "https://a.example", None),
        ({"X": "http://a.example"}, lambda r: r.url("X"), "http://a.example",
         "X must use https (http is allowed only for localhost), got 'http://a.example'"),
        ({"X": "http://a.example"}, lambda r: r.url("X", https_unless_local=False), "http://a.example", None),
        ({}, lambda r: r.url("X"), "", None),
    ],
)
def test_env_values(env: dict[str, str], read: Callable[[EnvReader], object], expected: object,
                    line: str | None) -> None:
    r = EnvReader(env)
    assert read(r) == expected
    assert r.errors == ([line] if line else [])


def test_tables_report_unknown_and_missing_keys_and_wrong_types() -> None:
    r = TableReader("okta.toml")
    assert r.table([1], "app", {"label"}) == {}
    t = r.table({"label": "x", "colour": 1}, "app", {"label", "uris"}, {"label", "uris"})
    assert t == {"label": "x", "colour": 1}
    assert r.keys({"label": "x"}, "app", {"label"}) is True
    assert r.errors == [
        "okta.toml: app: must be a table",
        "okta.toml: app: unknown key 'colour' (allowed: label, uris)",
        "okta.toml: app: uris is required",
    ]


@pytest.mark.parametrize(
    ("data", "kwargs", "expected", "lines"),
    [
        ({"k": [" a ", "b"]}, {}, ("a", "b"), []),
        ({}, {"default": ("d",)}, ("d",), []),
        ({}, {}, (), ["t.k is required (a list of strings)"]),
        ({"k": "a"}, {}, (), ["t.k: must be a list of non-empty strings, got 'a'"]),
        ({"k": ["a", " "]}, {}, (), ["t.k: must be a list of non-empty strings, got ['a', ' ']"]),
        ({"k": []}, {}, (), ["t.k: must not be empty"]),
        ({"k": []}, {"non_empty": False}, (), []),
        ({"k": ["a", "z"]}, {"allowed": ("a", "b")}, ("a", "z"), ["t.k: 'z' is not one of a, b"]),
        ({"k": ["a", "a "]}, {}, ("a", "a"), ["t.k: has duplicates"]),
    ],
)
def test_string_lists(data: dict[str, object], kwargs: dict[str, object], expected: tuple[str, ...],
                      lines: list[str]) -> None:
    r = TableReader()
    assert r.strings(data, "k", "t", **kwargs) == expected  # type: ignore[arg-type]
    assert r.errors == lines


def test_table_scalars() -> None:
    r = TableReader()
    assert r.text({"k": ""}, "k", "t") == ""
    assert r.text({}, "k", "t", "d") == "d"
    assert r.opt_text({"k": None}, "k", "t") is None
    assert r.integer({"k": True}, "k", "t", 3, 1, 9) == 3  # a bool is not an integer
    assert r.integer({"k": 4}, "k", "t", 3, 1, 9) == 4
    assert r.boolean({"k": "yes"}, "k", "t", False) is False
    assert r.choice({"k": "x"}, "k", "t", "a", ("a", "b")) == "a"
    assert r.array({"k": {}}, "k") == []
    r.unique(["a", "b", "a"], "groups", "name")
    assert r.errors == [
        "t.k: must be a non-empty string",
        "t.k: must be an integer from 1 to 9",
        "t.k: must be true or false",
        "t.k: must be one of a, b",
        "k: must be an array of tables ([[k]])",
        "groups: name 'a' appears twice",
    ]


def test_table_urls() -> None:
    r = TableReader()
    assert r.url(5, "u") == ""
    assert r.url("http://x.example", "u", allow_http=True) == "http://x.example"
    assert r.errors == ["u: must be a string URL, got 5"]


@pytest.mark.parametrize(
    ("value", "kwargs", "problem"),
    [
        ("https://a.example/base", {}, None),
        ("http://localhost:8000", {}, None),
        ("http://127.0.0.2:8000", {}, None),  # any loopback address
        ("http://[::1]:8000", {}, None),
        ("https://a.example/?x=1", {}, None),
        ("a.example", {}, "must be an absolute http(s) URL, got 'a.example'"),
        ("ftp://a.example", {}, "must be an absolute http(s) URL, got 'ftp://a.example'"),
        ("https:///path", {}, "must be an absolute http(s) URL, got 'https:///path'"),
        ("http://a.example", {}, "must use https (http is allowed only for localhost), got 'http://a.example'"),
        ("http://a.example", {"allow_http": True}, None),
        ("https://u:p@a.example", {}, "must not carry a fragment or credentials, got 'https://u:p@a.example'"),
        ("https://a.example/#top", {}, "must not carry a fragment or credentials, got 'https://a.example/#top'"),
        ("https://a.example/?x=1", {"allow_query": False},
         "must not carry a query, fragment or credentials, got 'https://a.example/?x=1'"),
        ("https://a.example:8443/", {"origin_only": True}, None),
        ("https://a.example/app", {"origin_only": True},
         "must be an origin (scheme://host[:port]), got 'https://a.example/app'"),
    ],
)
def test_one_url_rule(value: str, kwargs: dict[str, bool], problem: str | None) -> None:
    assert url_problem(value, **kwargs) == problem


@pytest.mark.parametrize(("host", "local"), [("localhost", True), ("127.0.0.1", True), ("::1", True),
                                             ("localhost.example", False), ("10.0.0.1", False),
                                             ("", False), (None, False)])
def test_is_local_host(host: str | None, local: bool) -> None:
    assert is_local_host(host) is local
