from __future__ import annotations

import re

import pytest
from itsdangerous import Signer

from bff.sessions.cookies import CookieSigner, new_session_id

OLD = "old-secret-key-0123456789abcdef-0123456789"
NEW = "new-secret-key-0123456789abcdef-0123456789"


def test_new_session_id_is_256_random_bits_urlsafe() -> None:
    ids = {new_session_id() for _ in range(200)}
    assert len(ids) == 200
    for sid in ids:
        assert re.fullmatch(r"[A-Za-z0-9_-]{43}", sid)


def test_round_trip() -> None:
    signer = CookieSigner([NEW])
    sid = new_session_id()
    value = signer.sign(sid)
    assert value.startswith(sid + ".")
    assert signer.unsign(value) == sid


def test_signs_with_the_first_configured_key() -> None:
    """BFF_SECRET_KEYS is newest first; itsdangerous signs with the LAST of its list."""
    value = CookieSigner([NEW, OLD]).sign("abc")
    assert CookieSigner([NEW]).unsign(value) == "abc"
    assert CookieSigner([OLD]).unsign(value) is None


def test_cookie_signed_with_old_key_verifies_after_rotation() -> None:
    value = CookieSigner([OLD]).sign("abc")
    assert CookieSigner([NEW, OLD]).unsign(value) == "abc"
    # ...and stops verifying once the old key is dropped
    assert CookieSigner([NEW]).unsign(value) is None


def test_uses_hmac_sha256() -> None:
    value = CookieSigner([NEW], salt="purpose").sign("abc")
    expected = Signer(NEW, salt="purpose", key_derivation="hmac", digest_method=__import__("hashlib").sha256)
    assert expected.unsign(value) == b"abc"


@pytest.mark.parametrize("mutate", [
    # a signature character changed (not the last one: its low bits are base64 padding)
    lambda v: v[:-5] + ("A" if v[-5] != "A" else "B") + v[-4:],
    lambda v: "X" + v[1:],  # id changed
    lambda v: v.split(".")[0],  # signature stripped
    lambda v: v + ".extra",
    lambda v: v.replace(".", ""),
])
def test_tampering_is_rejected(mutate: object) -> None:
    signer = CookieSigner([NEW])
    value = signer.sign(new_session_id())
    assert signer.unsign(mutate(value)) is None  # type: ignore[operator]


def test_wrong_salt_is_rejected() -> None:
    value = CookieSigner([NEW], salt="bff.login-transaction").sign("abc")
    assert CookieSigner([NEW]).unsign(value) is None
    assert CookieSigner([NEW], salt="bff.login-transaction").unsign(value) == "abc"


@pytest.mark.parametrize("garbage", [
    "", ".", "..", "abc", "abc.", ".sig", "a" * 5000, "ü.ö", "\x00.\x00", "abc.%%%", "abc.def.ghi",
    None, 42, b"abc.def",
])
def test_garbage_returns_none(garbage: object) -> None:
    assert CookieSigner([NEW]).unsign(garbage) is None  # type: ignore[arg-type]


def test_sign_refuses_values_that_cannot_round_trip() -> None:
    with pytest.raises(ValueError):
        CookieSigner([NEW]).sign("")
    with pytest.raises(ValueError):
        CookieSigner([NEW]).sign("a.b")


def test_bad_configuration_is_refused() -> None:
    with pytest.raises(ValueError):
        CookieSigner([])
    with pytest.raises(ValueError):
        CookieSigner([NEW], salt="")
    with pytest.raises(TypeError):
        CookieSigner(NEW)
