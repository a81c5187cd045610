from __future__ import annotations

import pytest

from bff.sessions.crypto import DecryptError, TokenCipher

OLD = "old-secret-key-0123456789abcdef-0123456789"
NEW = "new-secret-key-0123456789abcdef-0123456789"
OTHER = "other-secret-key-0123456789abcdef-012345678"
SID = b"session-id-1"


def test_round_trip_with_aad() -> None:
    cipher = TokenCipher([NEW])
    blob = cipher.encrypt(b'{"refresh_token": "rt"}', aad=SID)
    assert b"refresh_token" not in blob
    assert cipher.decrypt(blob, aad=SID) == b'{"refresh_token": "rt"}'


def test_each_encryption_uses_a_fresh_nonce() -> None:
    cipher = TokenCipher([NEW])
    assert cipher.encrypt(b"x", aad=SID) != cipher.encrypt(b"x", aad=SID)


def test_data_under_an_old_key_decrypts_after_a_new_key_is_prepended() -> None:
    blob = TokenCipher([OLD]).encrypt(b"secret", aad=SID)
    rotated = TokenCipher([NEW, OLD])
    assert rotated.decrypt(blob, aad=SID) == b"secret"
    assert not rotated.is_current(blob)
    fresh = rotated.encrypt(b"secret", aad=SID)
    assert rotated.is_current(fresh)
    # new data is under the NEW key: a cipher that only knows NEW reads it, one with only OLD cannot
    assert TokenCipher([NEW]).decrypt(fresh, aad=SID) == b"secret"
    with pytest.raises(DecryptError, match="no longer"):
        TokenCipher([OLD]).decrypt(fresh, aad=SID)


def test_retired_key_no_longer_decrypts() -> None:
    blob = TokenCipher([OLD]).encrypt(b"secret")
    with pytest.raises(DecryptError, match="no longer in BFF_SECRET_KEYS"):
        TokenCipher([NEW]).decrypt(blob)


@pytest.mark.parametrize("index", [0, 5, 12, 25, -1])
def test_any_flipped_byte_is_detected(index: int) -> None:
    cipher = TokenCipher([NEW, OLD])
    blob = bytearray(cipher.encrypt(b"some tokens here", aad=SID))
    blob[index] ^= 0x01
    with pytest.raises(DecryptError):
        cipher.decrypt(bytes(blob), aad=SID)


def test_aad_mismatch_is_detected() -> None:
    """A record copied into another session (another id) does not decrypt."""
    cipher = TokenCipher([NEW])
    blob = cipher.encrypt(b"tokens", aad=b"session-a")
    with pytest.raises(DecryptError, match="integrity"):
        cipher.decrypt(blob, aad=b"session-b")
    with pytest.raises(DecryptError):
        cipher.decrypt(blob)


@pytest.mark.parametrize("blob", [b"", b"\x01", b"\x02" + b"\x00" * 40, b"\x01" + b"\x00" * 20, "text"])
def test_garbage_is_a_decrypt_error(blob: object) -> None:
    with pytest.raises(DecryptError):
        TokenCipher([NEW]).decrypt(blob)  # type: ignore[arg-type]


def test_truncated_blob_is_a_decrypt_error() -> None:
    cipher = TokenCipher([NEW])
    blob = cipher.encrypt(b"tokens")
    with pytest.raises(DecryptError):
        cipher.decrypt(blob[:-1])


def test_error_messages_carry_no_secrets() -> None:
    blob = TokenCipher([OLD]).encrypt(b"plain-secret-token")
    with pytest.raises(DecryptError) as info:
        TokenCipher([NEW]).decrypt(blob)
    text = str(info.value)
    assert OLD not in text and NEW not in text and "plain-secret-token" not in text


def test_keys_are_independent() -> None:
    blob = TokenCipher([NEW]).encrypt(b"x")
    with pytest.raises(DecryptError):
        TokenCipher([OTHER]).decrypt(blob)


@pytest.mark.parametrize("keys", [[], ["short"], [NEW, "short"]])
def test_bad_key_lists_are_refused(keys: list[str]) -> None:
    with pytest.raises(ValueError):
        TokenCipher(keys)


def test_a_single_string_is_refused() -> None:
    with pytest.raises(TypeError):
        TokenCipher(NEW)
