"""Okta's profile and password rules (bff_dev.twins.okta.profile), shared by the Management API
and the registration page."""

from __future__ import annotations

from bff_dev.twins.okta.directory import Directory
from bff_dev.twins.okta.profile import password_problems, validate_profile

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


def test_profile_rules_with_okta_error_causes() -> None:
    directory = Directory.load(now=0.0)
    new = {"login": "new.person@acme.test", "email": "new.person@acme.test", "firstName": "New",
           "lastName": "Person"}
    assert validate_profile(new, directory) == []
    assert validate_profile({**new, "nickname": 3}, directory) == [
        "nickname: Property name 'nickname' is not defined in profile"]
    assert validate_profile({"login": "new.person@acme.test"}, directory) == [
        "email: The field cannot be left blank", "firstName: The field cannot be left blank",
        "lastName: The field cannot be left blank"]
    assert validate_profile({**new, "login": "no-at-sign", "email": "x@"}, directory) == [
        "email: Does not match required pattern",
        "login: Username must be in the form of an email address"]
    assert validate_profile("not a dict", directory) == ["profile: The field cannot be left blank"]


def test_the_login_must_be_free_except_for_the_user_being_updated() -> None:
    directory = Directory.load(now=0.0)
    alice = next(u for u in directory.users.values() if u.login == "alice@acme.test")
    taken = {**alice.profile, "login": "alice@acme.test"}
    assert validate_profile(taken, directory) == [
        "login: An object with this field already exists in the current organization"]
    assert validate_profile(taken, directory, except_id=alice.id) == []
    # a partial (POST) update is checked merged over the current profile
    assert validate_profile({"firstName": "Alicia"}, directory, except_id=alice.id, partial=True,
                            current=alice.profile) == []
    assert validate_profile({"firstName": "Alicia"}, directory) != []
