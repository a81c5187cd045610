from __future__ import annotations

from bff_dev.twins.okta.mgmt import password_problems

PROFILE = {"login": "jane.doe@acme.test", "firstName": "Jane", "lastName": "Doe"}


def test_password_policy() -> None:
    assert password_problems("Str0ng-Secret", PROFILE) == []
    for weak in (
        "short1A",
        "alllowercase1",
        "ALLUPPER1",
        "NoDigitsHere",
        "Jane.Doe123",
        "",
        None,
        "A1a" * 30,
    ):
        problems = password_problems(weak, PROFILE)
        assert problems and problems[0].startswith("password: "), weak
