from __future__ import annotations

from pathlib import Path

import pytest

from bff.config import ConfigError
from bff.proxy.policy import load_policy, parse_policy, unsafe_path

GOOD = """
[upstreams.admin]
url = "https://abc123.execute-api.eu-west-1.amazonaws.com"
timeout = 10

[upstreams.billing]
lambda = "arn:aws:lambda:eu-west-1:123456789012:function:billing-api"
timeout = 3.5

[[routes]]
path = "/api/admin/{rest:path}"
upstream = "admin"
methods = ["GET", "POST", "PUT", "DELETE"]
scopes = ["admin"]
roles = ["org_admin", "group_admin"]

[[routes]]
path = "/api/invoices/{id:int}"
upstream = "billing"
methods = ["get"]
"""


def _errors(text: str, *, dev: bool = False) -> list[str]:
    with pytest.raises(ConfigError) as info:
        parse_policy(text, source="routes.toml", dev=dev)
    return info.value.lines


def test_good_policy_parses() -> None:
    policy = parse_policy(GOOD)
    admin, invoices = policy.routes
    assert admin.upstream.url == "https://abc123.execute-api.eu-west-1.amazonaws.com"
    assert admin.methods == {"GET", "HEAD", "POST", "PUT", "DELETE"}
    assert admin.scopes == ("admin",) and admin.roles == ("org_admin", "group_admin")
    assert invoices.methods == {"GET", "HEAD"}  # methods are case-insensitive; HEAD follows GET
    billing = policy.upstreams["billing"]
    assert billing.kind == "lambda" and billing.timeout == 3.5
    assert billing.region == "eu-west-1" and billing.account_id == "123456789012"
    assert admin.route_key_path == "/api/admin/{rest+}"
    assert invoices.route_key_path == "/api/invoices/{id}"


def test_matching_is_anchored_and_typed() -> None:
    policy = parse_policy(GOOD)
    m = policy.match("/api/admin/users/00u1")
    assert m is not None and m.params == {"rest": "users/00u1"}
    m = policy.match("/api/invoices/42")
    assert m is not None and m.params == {"id": "42"}
    assert policy.match("/api/invoices/abc") is None
    assert policy.match("/api/invoices/42/extra") is None
    assert policy.match("/api/adminx/users") is None
    assert policy.match("/api/other") is None
    assert policy.match("/apix/admin/users") is None


def test_first_listed_route_wins() -> None:
    policy = parse_policy("""
[upstreams.a]
url = "https://a.example.com"
[upstreams.b]
url = "https://b.example.com"
[[routes]]
path = "/api/x/special"
upstream = "a"
methods = ["GET"]
[[routes]]
path = "/api/x/{rest:path}"
upstream = "b"
methods = ["GET"]
""")
    special = policy.match("/api/x/special")
    other = policy.match("/api/x/other")
    assert special is not None and special.route.upstream.name == "a"
    assert other is not None and other.route.upstream.name == "b"


def test_unknown_upstream_one_line() -> None:
    lines = _errors("""
[upstreams.admin]
url = "https://a.example.com"
[[routes]]
path = "/api/x"
upstream = "billing"
methods = ["GET"]
""")
    assert lines == ["routes.toml: routes[0].upstream: unknown upstream 'billing' (known: admin)"]


def test_unknown_keys_each_reported() -> None:
    lines = _errors("""
retries = 3
[upstreams.admin]
url = "https://a.example.com"
verify = false
[[routes]]
path = "/api/x"
upstream = "admin"
methods = ["GET"]
scope = ["admin"]
""")
    assert len(lines) == 3
    assert "top level: unknown key 'retries'" in lines[0]
    assert "[upstreams.admin]: unknown key 'verify'" in lines[1]
    assert "routes[0]: unknown key 'scope'" in lines[2]


@pytest.mark.parametrize(("template", "fragment"), [
    ("/admin/{rest:path}", "must start with /api/"),
    ("/api/{rest:path}/x", "greedy"),
    ("/api/x/{id:uuidx}", "unknown type 'uuidx'"),
    ("/api/x/{id", "unbalanced braces"),
    ("/api/x/{a}/{a}", "appears twice"),
    ("/api/x/pre{id}", "whole path segment"),
    ("/api/../x", "'.' or '..' segments"),
    ("/api//x", "empty"),
    ("/api/x y", "URL path alphabet"),
    ("/api/x/{1bad}", "is not {name}"),
])
def test_bad_templates(template: str, fragment: str) -> None:
    lines = _errors(f"""
[upstreams.admin]
url = "https://a.example.com"
[[routes]]
path = "{template}"
upstream = "admin"
methods = ["GET"]
""")
    assert len(lines) >= 1
    assert all(line.startswith("routes.toml: routes[0].path:") for line in lines)
    assert any(fragment in line for line in lines), lines


def test_every_problem_reported_at_once() -> None:
    lines = _errors("""
[upstreams.a]
url = "http://api.example.com"
timeout = 0
[upstreams.b]
lambda = "arn:aws:lambda:eu-west-1:123:function:x"
[upstreams.c]
url = "https://c.example.com"
lambda = "arn:aws:lambda:eu-west-1:123456789012:function:x"
[[routes]]
path = "/api/a"
upstream = "a"
methods = ["FETCH"]
[[routes]]
path = "/api/b"
upstream = "b"
methods = []
roles = "org_admin"
""")
    joined = "\n".join(lines)
    assert "[upstreams.a]: timeout must be a number" in joined
    assert "[upstreams.a] url: must use https" in joined
    assert "[upstreams.b]: lambda must be a Lambda function ARN" in joined
    assert "[upstreams.c]: needs exactly one of 'url'" in joined
    assert "routes[0].methods: unknown method(s) FETCH" in joined
    assert "routes[1].methods: must list at least one method" in joined
    assert "routes[1].roles: must be a list of non-empty strings" in joined
    assert all(line.startswith("routes.toml: ") for line in lines)


def test_http_upstream_allowed_for_loopback_and_in_dev() -> None:
    text = """
[upstreams.a]
url = "http://127.0.0.1:9003"
[upstreams.b]
url = "http://apigw.internal:9003"
"""
    parse_policy(text, dev=True)
    lines = _errors(text)
    assert lines == ["routes.toml: [upstreams.b] url: must use https (http is allowed only for localhost), "
                     "got 'http://apigw.internal:9003'"]


def test_invalid_toml_is_one_line() -> None:
    lines = _errors("[[routes]\npath = ")
    assert len(lines) == 1 and lines[0].startswith("routes.toml: not valid TOML:")


def test_missing_file_is_one_line(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as info:
        load_policy(str(tmp_path / "nope.toml"))
    assert len(info.value.lines) == 1
    assert "cannot read the route policy" in info.value.lines[0]


def test_no_file_means_no_routes() -> None:
    policy = load_policy(None)
    assert policy.routes == () and policy.match("/api/admin/x") is None


def test_example_file_is_valid() -> None:
    example = Path(__file__).resolve().parents[3] / "infra" / "routes.example.toml"
    policy = load_policy(str(example))
    assert policy.routes


@pytest.mark.parametrize(("path", "raw"), [
    ("/api/admin/../secret", b"/api/admin/../secret"),
    ("/api/admin/./users", b"/api/admin/./users"),
    ("/api/admin/../secret", b"/api/admin/%2e%2e/secret"),
    ("/api/admin//users", b"/api/admin//users"),
    ("/api/admin/a/b", b"/api/admin/a%2fb"),
    ("/api/admin/a\\b", b"/api/admin/a%5cb"),
    ("/api/admin/a\x00", b"/api/admin/a%00"),
    # issue 12 §6: ; path parameters, raw or encoded, alone or hiding a dot segment
    ("/api/admin/..;/secret", b"/api/admin/..;/secret"),
    ("/api/admin/users;jsessionid=1", b"/api/admin/users;jsessionid=1"),
    ("/api/admin/users;x", b"/api/admin/users%3bx"),
    ("/api/admin/;/users", b"/api/admin/;/users"),
])
def test_ambiguous_paths_are_refused(path: str, raw: bytes) -> None:
    assert unsafe_path(path, raw) is not None


def test_ordinary_paths_pass() -> None:
    assert unsafe_path("/api/admin/users/a b", b"/api/admin/users/a%20b") is None
    assert unsafe_path("/api/admin/", b"/api/admin/") is None


# --- BFF_API_UPSTREAMS: where upstreams live is set per stage --------------------------------

_STAGELESS = """
[upstreams.admin]
timeout = 7

[[routes]]
path = "/api/admin/{rest:path}"
upstream = "admin"
methods = ["GET"]
"""


def test_upstream_override_supplies_the_url_and_keeps_the_timeout() -> None:
    from bff.proxy.policy import parse_policy

    policy = parse_policy(_STAGELESS, upstream_overrides={"admin": "https://abc.execute-api.eu-west-1.amazonaws.com"})
    admin = policy.upstreams["admin"]
    assert admin.url == "https://abc.execute-api.eu-west-1.amazonaws.com"
    assert admin.timeout == 7


def test_upstream_override_can_switch_to_direct_lambda_invoke() -> None:
    from bff.proxy.policy import parse_policy

    text = _STAGELESS.replace("timeout = 7", 'url = "https://old.example.com"\ntimeout = 7')
    arn = "arn:aws:lambda:eu-west-1:123456789012:function:admin-api"
    admin = parse_policy(text, upstream_overrides={"admin": arn}).upstreams["admin"]
    assert admin.lambda_arn == arn and admin.url is None


def test_upstream_without_url_and_without_override_is_a_config_error() -> None:
    from bff.proxy.policy import parse_policy

    with pytest.raises(ConfigError) as info:
        parse_policy(_STAGELESS)
    assert any("needs exactly one of 'url'" in line for line in info.value.lines)


def test_override_naming_an_unknown_upstream_is_a_config_error() -> None:
    from bff.proxy.policy import parse_policy

    with pytest.raises(ConfigError) as info:
        parse_policy(_STAGELESS, upstream_overrides={"admin": "https://a.example.com",
                                                     "reports": "https://r.example.com"})
    assert len(info.value.lines) == 1
    assert "BFF_API_UPSTREAMS" in info.value.lines[0]
    assert "names upstream 'reports', which the policy does not define" in info.value.lines[0]


def test_override_url_is_checked_like_a_file_url() -> None:
    from bff.proxy.policy import parse_policy

    with pytest.raises(ConfigError) as info:
        parse_policy(_STAGELESS, upstream_overrides={"admin": "http://admin.example.com"})
    assert any("must use https" in line for line in info.value.lines)


def test_production_policy_file_is_valid_with_an_override() -> None:
    from pathlib import Path

    from bff.proxy.policy import load_policy

    path = Path(__file__).resolve().parents[3] / "infra" / "routes.toml"
    policy = load_policy(str(path), upstream_overrides={"admin": "https://x.execute-api.eu-west-1.amazonaws.com"})
    assert [r.path for r in policy.routes] == ["/api/admin/{proxy:path}"]
    assert set(policy.routes[0].scopes) == {"admin"}
