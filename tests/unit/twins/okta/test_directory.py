from __future__ import annotations

import re

from bff_dev.twins.okta.directory import Directory, check_password, hash_password, iso, okta_id


def test_seed_file_has_the_users_the_project_relies_on() -> None:
    d = Directory.load(now=0)
    alice, gina, bob, carol = (d.user(f"{n}@acme.test") for n in ("alice", "gina", "bob", "carol"))
    assert alice and gina and bob and carol
    assert alice.profile["adminRole"] == "org_admin" and d.in_group(alice.id, "customer-admins")
    assert gina.profile["adminRole"] == "group_admin" and gina.profile["adminGroups"] == ["acme-sales"]
    assert d.in_group(gina.id, "customer-admins") and d.in_group(gina.id, "acme-sales")
    assert "adminRole" not in bob.profile and d.group_names(bob.id) == ["acme-sales"]
    assert d.group_names(carol.id) == ["content-authors"]
    olga, gary = d.user("olga@globex.test"), d.user("gary@globex.test")
    assert olga and gary and olga.profile["orgId"] == gary.profile["orgId"] == "globex"
    assert olga.profile["adminRole"] == "org_admin"
    for user in d.users.values():
        assert re.fullmatch(r"00u[A-Za-z0-9]{17}", user.id)
        assert {
            "firstName",
            "lastName",
            "email",
            "login",
            "orgId",
            "complianceStatus",
            "company",
            "title",
            "mobilePhone",
            "preferredLanguage",
            "locale",
        } <= set(user.profile)
        assert user.id in d.everyone.members
    for group in d.groups.values():
        assert re.fullmatch(r"00g[A-Za-z0-9]{17}", group.id)


def test_authenticate_only_active_users_with_the_right_password() -> None:
    d = Directory.load(now=0)
    assert d.authenticate("ALICE@acme.test", "Passw0rd!") is d.user("alice@acme.test")
    assert d.authenticate("alice@acme.test", "passw0rd!") is None
    assert d.authenticate("ivan@acme.test", "Passw0rd!") is None  # SUSPENDED
    assert d.authenticate("nobody@acme.test", "Passw0rd!") is None
    assert d.authenticate("", "") is None


def test_passwords_are_salted_hashes() -> None:
    a, b = hash_password("Passw0rd!"), hash_password("Passw0rd!")
    assert a != b and b"Passw0rd!" not in a
    assert (
        check_password(a, "Passw0rd!") and not check_password(a, "Passw0rd") and not check_password(None, "")
    )


def test_ids_and_timestamps_look_like_okta() -> None:
    assert re.fullmatch(r"00u[A-Za-z0-9]{17}", okta_id("00u"))
    assert iso(0.5) == "1970-01-01T00:00:00.500Z" and iso(None) is None
