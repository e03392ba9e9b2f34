"""Tokens at rest: Fernet ciphertext only, key rotation, no plaintext in reprs."""

from __future__ import annotations

import pytest
from cryptography.fernet import Fernet
from django.test import override_settings

from grantsconsole.accounts import crypto


def test_round_trip_and_ciphertext_hides_plaintext() -> None:
    token = "eyJhbGciOiJSUzI1NiJ9.secret-access-token.sig"
    sealed = crypto.encrypt(token)
    assert token not in sealed
    assert crypto.decrypt(sealed) == token
    assert crypto.encrypt("") == ""
    assert crypto.decrypt("") == ""


def test_key_rotation_old_ciphertext_still_readable() -> None:
    old, new = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    with override_settings(TOKEN_ENCRYPTION_KEY=old):
        sealed = crypto.encrypt("refresh-token-value")
    with override_settings(TOKEN_ENCRYPTION_KEY=f"{new},{old}"):
        assert crypto.decrypt(sealed) == "refresh-token-value"
        resealed = crypto.encrypt("refresh-token-value")
    with (
        override_settings(TOKEN_ENCRYPTION_KEY=new),
        pytest.raises(crypto.TokenDecryptionError) as info,
    ):
        crypto.decrypt(sealed)
    assert "refresh-token-value" not in str(info.value)
    with override_settings(TOKEN_ENCRYPTION_KEY=new):
        assert crypto.decrypt(resealed) == "refresh-token-value"


def test_tampered_ciphertext_is_refused() -> None:
    sealed = crypto.encrypt("access-token")
    tampered = sealed[:-4] + ("AAAA" if not sealed.endswith("AAAA") else "BBBB")
    with pytest.raises(crypto.TokenDecryptionError):
        crypto.decrypt(tampered)
