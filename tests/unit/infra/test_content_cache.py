"""CloudFront caches ``/bff/content/*`` with a key that is exactly what the BFF's answer depends
on (``bff.content.endpoints.CACHE_KEY_*``, held to the endpoint's behaviour by
tests/unit/content/test_cdn_contract.py), never the session cookie, and never stores a
``private, no-store`` (preview) answer."""

from __future__ import annotations

import fnmatch
from typing import Any

import pytest
from cfnlint.decode import decode

from bff.content.endpoints import CACHE_KEY_COOKIES, CACHE_KEY_HEADERS, CACHE_KEY_QUERY
from bff.settings import Settings
from tests.unit.infra.test_template_settings import TEMPLATE, _function_env, _secret_keys


@pytest.fixture(scope="module")
def template() -> dict[str, Any]:
    tpl, matches = decode(str(TEMPLATE))
    assert not matches, matches
    assert tpl is not None
    return dict(tpl)


def _behaviours(template: dict[str, Any]) -> list[dict[str, Any]]:
    config = template["Resources"]["SpaDistribution"]["Properties"]["DistributionConfig"]
    return list(config["CacheBehaviors"])


def _ref(value: Any) -> str:
    assert isinstance(value, dict) and set(value) == {"Ref"}, value
    return str(value["Ref"])


def _session_cookie(template: dict[str, Any]) -> str:
    """The session cookie name the deployed BFF uses (its settings from the template's env)."""
    env = _function_env(template, "BffFunction")
    for key in _secret_keys(template, env["BFF_SECRETS_ARN"].rsplit(":", 1)[-1]):
        env.setdefault(key, "s" * 48)
    return Settings.from_env(env).session.cookie_name


def test_content_requests_reach_their_own_behaviour_first(template: dict[str, Any]) -> None:
    behaviours = _behaviours(template)
    for path in ("/bff/content/signin", "/bff/content/fr-CA"):
        first = next(b for b in behaviours if fnmatch.fnmatchcase(path, b["PathPattern"]))
        assert first["PathPattern"] == "/bff/content/*", path
    patterns = [b["PathPattern"] for b in behaviours]
    assert patterns.index("/bff/content/*") < patterns.index("/bff/*")
    # The rest of /bff stays uncached.
    assert next(b for b in behaviours if b["PathPattern"] == "/bff/*")["CachePolicyId"] == \
        "4135ea2d-6df8-44a3-9df3-4b5a84be39ad"  # Managed-CachingDisabled


def test_the_content_behaviour_is_read_only_and_uses_the_content_policies(template: dict[str, Any]) -> None:
    content = next(b for b in _behaviours(template) if b["PathPattern"] == "/bff/content/*")
    assert content["TargetOriginId"] == "bff"
    assert sorted(content["AllowedMethods"]) == ["GET", "HEAD"]
    assert sorted(content["CachedMethods"]) == ["GET", "HEAD"]
    assert content["ViewerProtocolPolicy"] == "redirect-to-https" and content["Compress"] is True
    resources = template["Resources"]
    assert resources[_ref(content["CachePolicyId"])]["Type"] == "AWS::CloudFront::CachePolicy"
    assert resources[_ref(content["OriginRequestPolicyId"])]["Type"] == "AWS::CloudFront::OriginRequestPolicy"


def test_the_cache_key_is_exactly_what_the_answer_depends_on(template: dict[str, Any]) -> None:
    content = next(b for b in _behaviours(template) if b["PathPattern"] == "/bff/content/*")
    config = template["Resources"][_ref(content["CachePolicyId"])]["Properties"]["CachePolicyConfig"]
    # MinTTL 0 is what makes CloudFront honour "private, no-store" (preview); with no
    # Cache-Control at all nothing is stored either.
    assert config["MinTTL"] == 0 and config["DefaultTTL"] == 0 and config["MaxTTL"] >= 60
    key = config["ParametersInCacheKeyAndForwardedToOrigin"]
    assert key["EnableAcceptEncodingGzip"] is True and key["EnableAcceptEncodingBrotli"] is True
    assert key["QueryStringsConfig"]["QueryStringBehavior"] == "whitelist"
    assert sorted(key["QueryStringsConfig"]["QueryStrings"]) == sorted(CACHE_KEY_QUERY)
    assert key["HeadersConfig"]["HeaderBehavior"] == "whitelist"
    headers = sorted(h.lower() for h in key["HeadersConfig"]["Headers"])
    assert headers == sorted(h.lower() for h in CACHE_KEY_HEADERS)
    assert key["CookiesConfig"]["CookieBehavior"] == "whitelist"
    assert sorted(key["CookiesConfig"]["Cookies"]) == sorted(CACHE_KEY_COOKIES)
    session = _session_cookie(template)
    assert session not in key["CookiesConfig"]["Cookies"]
    assert "cookie" not in {h.lower() for h in key["HeadersConfig"]["Headers"]}


def test_only_the_session_cookie_is_forwarded_beyond_the_key(template: dict[str, Any]) -> None:
    content = next(b for b in _behaviours(template) if b["PathPattern"] == "/bff/content/*")
    config = template["Resources"][_ref(content["OriginRequestPolicyId"])]["Properties"][
        "OriginRequestPolicyConfig"]
    assert config["CookiesConfig"] == {"CookieBehavior": "whitelist", "Cookies": [_session_cookie(template)]}
    # never Host (API Gateway); only the viewer address CloudFront adds (bff/http/client_ip.py)
    assert config["HeadersConfig"] == {"HeaderBehavior": "whitelist",
                                       "Headers": ["CloudFront-Viewer-Address"]}
    assert config["QueryStringsConfig"]["QueryStringBehavior"] == "none"
