"""open_store: BFF_SESSION_STORE → adapter, and one clear line for every bad URL. Nothing here
contacts a server (constructing the Redis/DynamoDB adapters does not connect)."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from bff.config import ConfigError
from bff.sessions import open_store
from bff.sessions.dynamodb import DynamoDBStore
from bff.sessions.memory import MemoryStore
from bff.sessions.redis import RedisStore
from bff.sessions.sqlite import SQLiteStore
from bff.settings import Settings
from tests.support.env import make_settings


def with_store(url: str) -> Settings:
    """Settings with an arbitrary store URL (bypassing Settings' own scheme check)."""
    settings = make_settings()
    return replace(settings, session=replace(settings.session, store=url))


async def test_memory() -> None:
    store = open_store(make_settings(BFF_SESSION_STORE="memory://"))
    assert isinstance(store, MemoryStore)


async def test_sqlite_absolute_path_and_parent_dirs(tmp_path: Path) -> None:
    target = tmp_path / "x" / "y" / "sessions.db"
    store = open_store(make_settings(BFF_SESSION_STORE=f"sqlite:///{target}"))
    assert isinstance(store, SQLiteStore)
    assert store.path == target
    assert target.parent.is_dir()
    await store.close()


async def test_sqlite_relative_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    store = open_store(make_settings(BFF_SESSION_STORE="sqlite:///./data/s.db"))
    assert isinstance(store, SQLiteStore)
    assert store.path == Path("data/s.db")
    assert (tmp_path / "data").is_dir()
    await store.close()


@pytest.mark.parametrize("url,prefix", [
    ("redis://127.0.0.1:6379/0", "bff:"),
    ("rediss://user:pw@cache.example.internal:6380/2", "bff:"),
    ("redis://localhost?prefix=app1:", "app1:"),
])
async def test_redis(url: str, prefix: str) -> None:
    store = open_store(make_settings(BFF_SESSION_STORE=url))
    assert isinstance(store, RedisStore)
    assert store.prefix == prefix
    await store.close()


async def test_dynamodb_uses_aws_settings() -> None:
    store = open_store(make_settings(BFF_SESSION_STORE="dynamodb://bff-sessions", BFF_AWS_REGION="us-east-2",
                                     BFF_AWS_ENDPOINT_URL="http://127.0.0.1:1"))
    assert isinstance(store, DynamoDBStore)
    assert store.table == "bff-sessions"
    assert store._db.meta.region_name == "us-east-2"
    assert store._db.meta.endpoint_url == "http://127.0.0.1:1"
    await store.close()


@pytest.mark.parametrize("url,message", [
    ("memory://somewhere", "memory:// takes no"),
    ("sqlite://relative.db", "three slashes"),
    ("sqlite:///", "needs a file path"),
    ("sqlite:///data/dir/", "needs a file path"),
    ("sqlite:///s.db?mode=ro", "takes no options"),
    ("redis://", "needs a host"),
    ("redis://:6379", "needs a host"),
    ("redis://host:notaport/0", "invalid host or port"),
    ("redis://host:6379/zero", "must be a number"),
    ("redis://host:6379/0?ssl_cert_reqs=none", "unknown option"),
    ("redis://host:6379/0?prefix=", "must not be empty"),
    ("dynamodb://", "table name"),
    ("dynamodb://ab", "table name"),
    ("dynamodb://bad name!", "table name"),
    ("dynamodb://table/extra", "no path or options"),
])
def test_bad_urls_are_one_clear_line(url: str, message: str) -> None:
    with pytest.raises(ConfigError) as info:
        open_store(with_store(url))
    assert len(info.value.lines) == 1
    assert info.value.lines[0].startswith("BFF_SESSION_STORE ")
    assert message in info.value.lines[0]


def test_bad_url_never_echoes_a_password() -> None:
    with pytest.raises(ConfigError) as info:
        open_store(with_store("redis://user:s3cr3t-pw@host:6379/x"))
    assert "s3cr3t-pw" not in str(info.value)
    assert "***" in str(info.value)


def test_sqlite_path_that_is_a_directory(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="not a file"):
        open_store(make_settings(BFF_SESSION_STORE=f"sqlite:///{tmp_path}"))


def test_unknown_scheme() -> None:
    with pytest.raises(ConfigError, match="use sqlite:///path"):
        open_store(with_store("postgres://db/sessions"))
