"""The page's Content-Security-Policy."""

from __future__ import annotations

import base64
import hashlib

import pytest

from bff.spa.csp import build_policy, new_nonce, script_hash
from tests.support.env import make_settings
from tests.unit.spa.support import csp_directives


def test_nonces_are_random_and_long() -> None:
    nonces = {new_nonce() for _ in range(100)}
    assert len(nonces) == 100
    assert all(len(n) >= 22 for n in nonces)


def test_a_policy_needs_a_nonce_or_hashes() -> None:
    with pytest.raises(ValueError):
        build_policy(make_settings())


def test_hash_policy_for_the_static_variant() -> None:
    source = 'import "/assets/js/main.abc.js";'
    expected = "'sha256-" + base64.b64encode(hashlib.sha256(source.encode()).digest()).decode() + "'"
    assert script_hash(source) == expected
    d = csp_directives(build_policy(make_settings(), hashes=[expected]))
    assert d["script-src"] == ["'self'", expected]  # no strict-dynamic: it would void 'self'
    assert "'unsafe-inline'" not in d["script-src"]


def test_upgrade_insecure_requests_only_over_https() -> None:
    https = csp_directives(build_policy(make_settings(), nonce="n"))
    local = csp_directives(build_policy(make_settings(BFF_PUBLIC_URL="http://localhost:8000",
                                                      BFF_OKTA_ISSUER="http://localhost:9001/oauth2/default"),
                                        nonce="n"))
    assert "upgrade-insecure-requests" in https
    assert "upgrade-insecure-requests" not in local
    assert local["form-action"] == ["'self'", "http://localhost:9001"]


def test_reporting_can_be_left_out() -> None:
    d = csp_directives(build_policy(make_settings(), nonce="n", report=False))
    assert "report-uri" not in d and "report-to" not in d
