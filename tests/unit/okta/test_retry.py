"""bff.okta.retry: X-Rate-Limit-Reset read strictly, measured by Okta's clock, clamped."""

from __future__ import annotations

from email.utils import formatdate

import pytest

from bff.okta.retry import (
    DEFAULT_WAIT,
    MAX_RESET_WAIT,
    RetryPolicy,
    parse_reset,
    rate_limit_wait,
    reset_wait,
    server_time,
)

NOW = 1_700_000_000


def local_clock() -> float:
    return NOW + 3600.0  # the caller's clock is an hour fast


@pytest.mark.parametrize(("raw", "expected"), [
    ("1700000042", 1700000042),
    (" 1700000042 ", 1700000042),
    ("0", 0),
    ("²", None),  # str.isdigit() says yes, int() raises
    ("١٢", None),  # Arabic-Indic digits: int() would read 12
    ("１２", None),  # fullwidth digits
    ("12.5", None),
    ("-1", None),
    ("+12", None),
    ("", None),
    ("0x10", None),
    (None, None),
])
def test_parse_reset_accepts_ascii_digits_only(raw: str | None, expected: int | None) -> None:
    assert parse_reset(raw) == expected


def test_a_reset_with_more_digits_than_any_epoch_second_reads_as_very_far() -> None:
    assert parse_reset("9" * 40) == 10**18
    assert parse_reset("9" * 5000) == 10**18  # int() would refuse a string this long


def test_the_wait_is_measured_against_the_response_date_not_the_local_clock() -> None:
    headers = {"x-rate-limit-reset": str(NOW + 7), "date": formatdate(NOW, usegmt=True)}
    assert reset_wait(headers, local_clock) == 7.0


def test_without_a_date_the_local_clock_is_used() -> None:
    headers = {"x-rate-limit-reset": str(NOW + 7)}
    assert reset_wait(headers, lambda: NOW + 2.5) == 4.5


@pytest.mark.parametrize("date", ["yesterday", "Mon, 99 Foo 2023 99:99:99 GMT", "", "Tue, 06 Jun 2023 05:"])
def test_an_unreadable_date_falls_back_to_the_local_clock(date: str) -> None:
    headers = {"x-rate-limit-reset": str(NOW + 7), "date": date}
    assert reset_wait(headers, lambda: float(NOW)) == 7.0


def test_a_date_without_zone_is_utc() -> None:
    assert server_time({"date": formatdate(NOW).replace("+0000", "-0000")}) == NOW
    assert server_time({}) is None


def test_waits_are_clamped_between_zero_and_the_maximum() -> None:
    at = {"date": formatdate(NOW, usegmt=True)}
    assert reset_wait({**at, "x-rate-limit-reset": str(NOW - 30)}, local_clock) == 0.0
    assert reset_wait({**at, "x-rate-limit-reset": str(NOW + 10**9)}, local_clock) == MAX_RESET_WAIT
    assert reset_wait({**at, "x-rate-limit-reset": "9" * 40}, local_clock) == MAX_RESET_WAIT


def test_no_readable_reset_means_the_default_wait() -> None:
    policy = RetryPolicy(default_wait=1.5, margin=0.25)
    assert reset_wait({"x-rate-limit-reset": "²"}, local_clock) is None
    assert rate_limit_wait({"x-rate-limit-reset": "²"}, local_clock, policy) == 1.5
    assert rate_limit_wait({}, local_clock, RetryPolicy()) == DEFAULT_WAIT
    headers = {"x-rate-limit-reset": str(NOW + 2), "date": formatdate(NOW, usegmt=True)}
    assert rate_limit_wait(headers, local_clock, policy) == 2.25  # the margin past a readable reset


def test_backoff_doubles_up_to_its_ceiling() -> None:
    policy = RetryPolicy(backoff=0.5, max_backoff=3.0)
    assert [policy.backoff_wait(n) for n in range(1, 6)] == [0.5, 1.0, 2.0, 3.0, 3.0]
