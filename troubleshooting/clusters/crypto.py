"""Encryption at rest for kubeconfigs (Fernet, with key rotation through MultiFernet)."""

import base64
import hashlib

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings


class DecryptionError(Exception):
    """Stored secret unreadable with the configured keys (a key was removed too early)."""


DERIVED = "derived"  # in MESHKB_ENCRYPTION_KEYS: the key derived from SECRET_KEY


def _fernet(key: str) -> Fernet:
    if key and key != DERIVED:
        return Fernet(key.encode())
    # No key configured: derive one from SECRET_KEY, so a development instance works as is.
    digest = hashlib.sha256(b"meshkb-kubeconfig-encryption:" + settings.SECRET_KEY.encode()).digest()
    return Fernet(base64.urlsafe_b64encode(digest))


def cipher() -> MultiFernet:
    return MultiFernet([_fernet(key) for key in settings.MESHKB_ENCRYPTION_KEYS])


def encrypt(plaintext: str) -> str:
    return cipher().encrypt(plaintext.encode("utf-8")).decode("ascii")


def decrypt(token: str) -> str:
    try:
        return cipher().decrypt(token.encode("ascii")).decode("utf-8")
    except InvalidToken:
        raise DecryptionError(
            "the stored kubeconfig cannot be decrypted with MESHKB_ENCRYPTION_KEYS (was a key removed?)"
        ) from None


def rotate(token: str) -> str:
    """Re-encrypt with the newest key."""
    try:
        return cipher().rotate(token.encode("ascii")).decode("ascii")
    except InvalidToken:
        raise DecryptionError("a stored kubeconfig cannot be decrypted with any configured key") from None
