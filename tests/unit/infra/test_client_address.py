"""The deployed client address (issue 12 §2): CloudFront forwards CloudFront-Viewer-Address to
the BFF on every behaviour that reaches it, and proves each request came through the
distribution with the origin secret the function expects; the function believes the viewer
address only then (bff/http/client_ip.py)."""

from __future__ import annotations

from typing import Any

import pytest
from cfnlint.decode import decode

from tests.unit.infra.test_template_settings import TEMPLATE, _function_env

#: Managed-AllViewerExceptHostHeader: all viewer headers but Host, plus CloudFront's headers
#: (CloudFront-Viewer-Address among them).
ALL_VIEWER_EXCEPT_HOST = "b689b0a8-53d0-40ab-baf2-68738e2966ac"


@pytest.fixture(scope="module")
def template() -> dict[str, Any]:
    tpl, matches = decode(str(TEMPLATE))
    assert not matches, matches
    assert tpl is not None
    return dict(tpl)


def _distribution(template: dict[str, Any]) -> dict[str, Any]:
    config: dict[str, Any] = template["Resources"]["SpaDistribution"]["Properties"]["DistributionConfig"]
    return config


def test_every_bff_behaviour_forwards_the_viewer_address(template: dict[str, Any]) -> None:
    behaviours = [b for b in _distribution(template)["CacheBehaviors"] if b["TargetOriginId"] == "bff"]
    assert {b["PathPattern"] for b in behaviours} >= {"/bff/*", "/api/*", "/bff/content/*"}
    for behaviour in behaviours:
        policy = behaviour["OriginRequestPolicyId"]
        if policy == ALL_VIEWER_EXCEPT_HOST:
            continue
        config = template["Resources"][policy["Ref"]]["Properties"]["OriginRequestPolicyConfig"]
        headers = config["HeadersConfig"]
        assert headers["HeaderBehavior"] in {"whitelist", "allViewerAndWhitelistCloudFront"}, behaviour
        assert "CloudFront-Viewer-Address" in headers["Headers"], behaviour["PathPattern"]


def test_the_bff_origin_proves_the_hop_with_the_secret_the_function_expects(template: dict[str, Any]) -> None:
    (origin,) = [o for o in _distribution(template)["Origins"] if o["Id"] == "bff"]
    (header,) = [h for h in origin["OriginCustomHeaders"] if h["HeaderName"] == "X-BFF-Origin-Verify"]
    props = template["Resources"]["BffFunction"]["Properties"]["Environment"]["Variables"]
    assert props["BFF_TRUSTED_PROXIES"] == "cloudfront"
    assert props["BFF_CLOUDFRONT_ORIGIN_SECRET"] == header["HeaderValue"]  # the same secret, resolved
    assert "OriginVerifySecret" in str(header["HeaderValue"])
    generated = template["Resources"]["OriginVerifySecret"]["Properties"]["GenerateSecretString"]
    assert generated["PasswordLength"] >= 32
    settings_env = _function_env(template, "BffFunction")
    assert settings_env["BFF_TRUSTED_PROXIES"] == "cloudfront"
