from __future__ import annotations

from typing import Any

import pytest

from bff_dev.twins.okta import search

RECORD: dict[str, Any] = {
    "status": "ACTIVE",
    "profile.orgId": "acme",
    "profile.firstName": "Gina",
    "profile.adminGroups": ["acme-sales", "acme-support"],
    "profile.count": 3,
    "lastUpdated": "2024-05-01T10:00:00.000Z",
}


def match(expr: str) -> bool:
    return search.matches(search.parse(expr), RECORD.get)


@pytest.mark.parametrize(
    ("expr", "expected"),
    [
        ('status eq "ACTIVE"', True),
        ('status eq "active"', True),  # case-insensitive
        ('status eq "SUSPENDED"', False),
        ('profile.firstName sw "gi"', True),
        ('profile.firstName co "in"', True),
        ('profile.firstName ew "na"', True),
        ("profile.orgId pr", True),
        ("profile.adminRole pr", False),
        ('profile.adminGroups eq "acme-support"', True),
        ('profile.adminGroups eq "globex-ops"', False),
        ('status eq "ACTIVE" and profile.orgId eq "globex"', False),
        ('status eq "SUSPENDED" or profile.orgId eq "acme"', True),
        ('(status eq "SUSPENDED" or profile.orgId eq "acme") and not (profile.firstName eq "Bob")', True),
        ('lastUpdated gt "2024-01-01T00:00:00.000Z"', True),
        ('lastUpdated lt "2024-01-01T00:00:00.000Z"', False),
        ("profile.count ge 3", True),
        ("profile.count gt 3", False),
        ('profile.orgId ne "acme"', False),
        ('profile.firstName eq "Gi\\"na"', False),
    ],
)
def test_expressions(expr: str, expected: bool) -> None:
    assert match(expr) is expected


@pytest.mark.parametrize(
    "expr",
    [
        "status eq",
        'status like "x"',
        '(status eq "A"',
        'status eq "A" and',
        'status eq "A" junk',
        "!!",
        "(" * 1500,
    ],
)
def test_malformed_expressions(expr: str) -> None:
    with pytest.raises(search.SearchError):
        search.parse(expr)


def test_allowed_restricts_attributes_and_operators() -> None:
    allowed = {"status": {"eq"}}
    search.parse('status eq "ACTIVE"', allowed=allowed)
    with pytest.raises(search.SearchError):
        search.parse('profile.orgId eq "acme"', allowed=allowed)
    with pytest.raises(search.SearchError):
        search.parse('status sw "A"', allowed=allowed)
