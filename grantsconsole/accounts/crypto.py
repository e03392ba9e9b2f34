"""Encryption at rest for Okta tokens (Fernet: AES-128-CBC + HMAC-SHA256).

``settings.TOKEN_ENCRYPTION_KEY`` holds one Fernet key (urlsafe base64 of 32 bytes)
or several separated by commas: the first encrypts, all decrypt, so a key can be
rotated by prepending the new one. No function here logs or echoes plaintext.
"""

from __future__ import annotations

from functools import lru_cache

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured


class TokenDecryptionError(Exception):
    """A stored token could not be decrypted (wrong or rotated-away key, or tampering)."""


@lru_cache(maxsize=4)
def _fernet_for(keys: str) -> MultiFernet:
    parts = [k.strip() for k in keys.split(",") if k.strip()]
    if not parts:
        raise ImproperlyConfigured("TOKEN_ENCRYPTION_KEY is empty.")
    try:
        return MultiFernet([Fernet(k) for k in parts])
    except ValueError:
        raise ImproperlyConfigured(
            "TOKEN_ENCRYPTION_KEY must be Fernet keys (urlsafe base64 of 32 bytes), "
            "comma-separated; generate one with "
            "`python -c 'from cryptography.fernet import Fernet; "
            "print(Fernet.generate_key().decode())'`."
        ) from None


def _fernet() -> MultiFernet:
    return _fernet_for(settings.TOKEN_ENCRYPTION_KEY)


def encrypt(plaintext: str) -> str:
    """Encrypt ``plaintext`` with the first configured key; "" stays ""."""
    if not plaintext:
        return ""
    return _fernet().encrypt(plaintext.encode()).decode()


def decrypt(ciphertext: str) -> str:
    """Decrypt a value made by :func:`encrypt`; "" stays "".

    Raises TokenDecryptionError (without the ciphertext) when no key fits.
    """
    if not ciphertext:
        return ""
    try:
        return _fernet().decrypt(ciphertext.encode()).decode()
    except InvalidToken:
        raise TokenDecryptionError(
            "A stored Okta token could not be decrypted with TOKEN_ENCRYPTION_KEY."
        ) from None
