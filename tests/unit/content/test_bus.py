"""The cache bus's Redis URL: the BFF's own ``prefix=`` option never reaches redis-py."""

from __future__ import annotations

import pytest

from bff.config import ConfigError
from bff.content.bus import CHANNEL, DEDUPE_PREFIX, RedisBus, parse_bus_url


def test_without_options_the_url_and_the_historical_names_are_kept() -> None:
    target = parse_bus_url("redis://127.0.0.1:6379/0")
    assert target.url == "redis://127.0.0.1:6379/0"
    assert (target.prefix, target.channel, target.dedupe_prefix) == ("bff:", CHANNEL, DEDUPE_PREFIX)
    assert CHANNEL == "bff:content:evict" and DEDUPE_PREFIX == "bff:content:event:"


@pytest.mark.parametrize(("url", "clean", "prefix"), [
    ("redis://h:6379/0?prefix=acme:", "redis://h:6379/0", "acme:"),
    ("rediss://u:pw@h:6380/2?prefix=a%3Ab%20c", "rediss://u:pw@h:6380/2", "a:b c"),
    # other options are redis-py's: kept verbatim and in order
    ("redis://h/0?health_check_interval=3&prefix=x:&ssl_ca_certs=%2Fetc%2Fca.pem",
     "redis://h/0?health_check_interval=3&ssl_ca_certs=%2Fetc%2Fca.pem", "x:"),
    ("redis://h/0?prefix=first:&prefix=last:", "redis://h/0", "last:"),  # as open_store: last wins
])
def test_the_prefix_option_is_split_off(url: str, clean: str, prefix: str) -> None:
    target = parse_bus_url(url)
    assert (target.url, target.prefix) == (clean, prefix)
    assert target.channel == f"{prefix}content:evict"
    assert target.dedupe_prefix == f"{prefix}content:event:"


def test_an_empty_prefix_is_a_config_error_that_does_not_echo_the_password() -> None:
    with pytest.raises(ConfigError) as info:
        parse_bus_url("redis://user:s3cret-pw@h:6379/0?prefix=")
    assert "prefix=" in str(info.value) and "s3cret-pw" not in str(info.value)


async def test_the_bus_hands_redis_py_the_clean_url() -> None:
    # No I/O until start().
    bus = RedisBus("redis://127.0.0.1:1/3?prefix=tenant-a:", lambda journey, locale: 0)
    try:
        assert bus.url == "redis://127.0.0.1:1/3" and bus.channel == "tenant-a:content:evict"
        kwargs = bus.redis.connection_pool.connection_kwargs
        assert "prefix" not in kwargs and kwargs["db"] == 3
    finally:
        await bus.aclose()


async def test_an_option_redis_py_does_not_know_stops_start_up() -> None:
    # Before: accepted, then every publish (and the shutdown) raised TypeError.
    with pytest.raises(ConfigError) as info:
        RedisBus("redis://user:s3cret-pw@127.0.0.1:1/0?prefix=a:&bogus=1", lambda journey, locale: 0)
    assert "bogus" in str(info.value) and "s3cret-pw" not in str(info.value)
