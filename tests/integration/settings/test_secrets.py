"""BFF_SECRETS_ARN: secrets come from Secrets Manager (moto server over loopback)."""

from __future__ import annotations

import json
from collections.abc import Iterator

import boto3
import pytest
from moto.server import ThreadedMotoServer

from bff.config import ConfigError
from bff.settings import Settings, load_environment
from bff_dev.serving import free_port
from tests.support.env import base_env


@pytest.fixture(scope="module")
def moto_url() -> Iterator[str]:
    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    yield f"http://127.0.0.1:{port}"
    server.stop()


def _secret(url: str, name: str, value: str) -> str:
    client = boto3.client("secretsmanager", region_name="eu-west-1", endpoint_url=url,
                          aws_access_key_id="test", aws_secret_access_key="test")
    return str(client.create_secret(Name=name, SecretString=value)["ARN"])


@pytest.fixture(autouse=True)
def _fake_credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "test")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "test")


def test_secret_values_fill_the_environment(moto_url: str) -> None:
    arn = _secret(moto_url, "bff/a", json.dumps({
        "BFF_OKTA_CLIENT_SECRET": "from-secrets-manager", "BFF_SECRET_KEYS": "k" * 40}))
    env = base_env(BFF_SECRETS_ARN=arn, BFF_AWS_ENDPOINT_URL=moto_url)
    del env["BFF_OKTA_CLIENT_SECRET"], env["BFF_SECRET_KEYS"]
    settings = Settings.from_env(load_environment(env))
    assert settings.okta.client_secret == "from-secrets-manager"
    assert settings.secret_keys == ("k" * 40,)


def test_explicit_environment_wins_over_the_secret(moto_url: str) -> None:
    arn = _secret(moto_url, "bff/b", json.dumps({"BFF_OKTA_CLIENT_SECRET": "from-secret"}))
    env = base_env(BFF_SECRETS_ARN=arn, BFF_AWS_ENDPOINT_URL=moto_url, BFF_OKTA_CLIENT_SECRET="pinned")
    assert load_environment(env)["BFF_OKTA_CLIENT_SECRET"] == "pinned"


@pytest.mark.parametrize("value, message", [
    ("not json", "must hold a JSON object"),
    ('["a"]', "must hold a JSON object"),
    ('{"AWS_SECRET": "x"}', "key 'AWS_SECRET' is not a BFF_* name"),
])
def test_bad_secret_is_a_clear_config_error(moto_url: str, value: str, message: str) -> None:
    arn = _secret(moto_url, f"bff/bad-{abs(hash(value))}", value)
    with pytest.raises(ConfigError) as info:
        load_environment(base_env(BFF_SECRETS_ARN=arn, BFF_AWS_ENDPOINT_URL=moto_url))
    assert message in info.value.lines[0]


def test_missing_secret_is_a_config_error_without_details(moto_url: str) -> None:
    with pytest.raises(ConfigError) as info:
        load_environment(base_env(BFF_SECRETS_ARN="arn:aws:secretsmanager:eu-west-1:123456789012:secret:nope",
                                  BFF_AWS_ENDPOINT_URL=moto_url))
    assert info.value.lines == ["BFF_SECRETS_ARN could not be read: ResourceNotFoundException"]
