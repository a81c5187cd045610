from __future__ import annotations

import pytest

from bff_dev.twins.okta.errors import OAuthError
from bff_dev.twins.okta.tokens import AccessRecord, Grant, TokenStore, check_refresh, rotate_refresh


def grant_in(store: TokenStore, **overrides: object) -> Grant:
    grant = Grant(
        id="g1",
        client_id="c1",
        user_id="u1",
        scopes=["openid", "offline_access"],
        auth_time=0,
        sid=None,
        amr=["pwd"],
        idp="00o",
        refresh_expires_at=1000.0,
    )
    for name, value in overrides.items():
        setattr(grant, name, value)
    store.grants[grant.id] = grant
    return grant


def test_rotation_keeps_the_previous_token_for_the_leeway() -> None:
    store = TokenStore()
    grant = grant_in(store)
    first = rotate_refresh(store, grant, now=0)
    assert check_refresh(store, first, "c1", now=1, leeway=30) is grant
    second = rotate_refresh(store, grant, now=10)
    assert second != first
    assert check_refresh(store, first, "c1", now=40, leeway=30) is grant  # 30 s after rotation: still ok
    assert check_refresh(store, second, "c1", now=40, leeway=30) is grant


def test_reuse_after_leeway_revokes_the_grant_and_its_access_tokens() -> None:
    store = TokenStore()
    grant = grant_in(store)
    first = rotate_refresh(store, grant, now=0)
    second = rotate_refresh(store, grant, now=10)
    store.access["AT.1"] = AccessRecord("AT.1", grant.id, exp=5000)
    grant.access_jtis.add("AT.1")
    with pytest.raises(OAuthError) as err:
        check_refresh(store, first, "c1", now=41, leeway=30)
    assert err.value.error == "invalid_grant"
    assert grant.revoked and store.access["AT.1"].revoked
    with pytest.raises(OAuthError):
        check_refresh(store, second, "c1", now=42, leeway=30)


@pytest.mark.parametrize(
    ("token", "client", "now"), [("unknown", "c1", 1), ("RT", "other", 1), ("RT", "c1", 1000)]
)
def test_invalid_refresh_tokens(token: str, client: str, now: float) -> None:
    store = TokenStore()
    grant = grant_in(store)
    real = rotate_refresh(store, grant, now=0)
    with pytest.raises(OAuthError) as err:
        check_refresh(store, real if token == "RT" else token, client, now=now, leeway=30)
    assert err.value.error == "invalid_grant" and not grant.revoked
