"""The dev port layout and embedded defaults (bff_dev.environment): valid in dev only, every
placeholder refused outside it, and the SPA build's defaults kept equal to them."""

from __future__ import annotations

from pathlib import Path

import pytest

import bff_dev.environment as environment
from bff.config import ConfigError
from bff.settings import PLACEHOLDER_MARKER, Settings
from bff.spa.assets import AssetCatalog
from bff.spa.build import BUILD_DEFAULTS, SOURCE_DIR, render_static
from bff_dev.environment import DevPorts, dev_environment


def test_dev_environment_is_valid_in_dev_mode_only() -> None:
    env = dev_environment(DevPorts(), Path("/tmp/bff-dev-test"))
    assert Settings.from_env(env, dev=True).dev
    with pytest.raises(ConfigError):
        Settings.from_env(env)


def test_every_dev_secret_is_a_placeholder_the_product_refuses() -> None:
    secrets = {name: value for name, value in vars(environment).items()
               if name.startswith("DEV_") and isinstance(value, str)}
    assert len(secrets) >= 6 and all(PLACEHOLDER_MARKER in value for value in secrets.values())


def test_the_ports_follow_the_documented_layout() -> None:
    ports = DevPorts()
    assert (ports.bff, ports.okta, ports.aem, ports.apigw, ports.moto) == (8000, 9001, 9002, 9003, 9004)
    env = dev_environment(DevPorts(bff=8100, okta=9101), Path("/tmp/bff-dev-test"))
    assert env["BFF_PUBLIC_URL"] == "http://localhost:8100"
    assert env["BFF_OKTA_ISSUER"] == "http://localhost:9101/oauth2/default"


def test_a_build_without_configuration_is_the_local_stacks_client() -> None:
    """``bff build-spa`` without a BFF_* environment (bff.spa.build.BUILD_DEFAULTS, which cannot
    import this package) renders exactly what the local stack's settings render."""
    catalog = AssetCatalog.from_source(SOURCE_DIR)
    built = render_static(SOURCE_DIR, catalog, Settings.from_env(BUILD_DEFAULTS, dev=True))
    local = Settings.from_env(dev_environment(DevPorts(), Path("/tmp/bff-dev-test")), dev=True)
    assert built == render_static(SOURCE_DIR, catalog, local)
