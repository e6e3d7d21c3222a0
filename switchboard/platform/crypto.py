"""Encryption of secrets at rest (model API keys, 2FA seeds): Fernet under keys derived from SECRET_KEY.

The Fernet key is derived with HKDF-SHA256 from SECRET_KEY (and a purpose label), so the
secret key itself never encrypts anything and other purposes get independent keys. Keys
encrypted under an earlier SECRET_KEY (listed in SECRET_KEY_PREVIOUS) still decrypt, and
`rotate` re-encrypts them under the current one.
"""

from __future__ import annotations

import base64
from collections.abc import Sequence

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from switchboard.config import Settings
from switchboard.platform.errors import UndecryptableSecret

MODEL_API_KEYS = b"switchboard:model-api-keys:v1"
TOTP_SEEDS = b"switchboard:totp-seeds:v1"


__all__ = ["MODEL_API_KEYS", "TOTP_SEEDS", "SecretBox", "UndecryptableSecret", "derive_fernet_key"]


def derive_fernet_key(secret_key: str, purpose: bytes = MODEL_API_KEYS) -> bytes:
    """A Fernet key for one purpose, derived from the secret key with HKDF-SHA256."""
    raw = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=purpose).derive(secret_key.encode())
    return base64.urlsafe_b64encode(raw)


class SecretBox:
    """Encrypts with the current secret key; decrypts with the current or any earlier one."""

    def __init__(self, secret_key: str, previous: Sequence[str] = (), purpose: bytes = MODEL_API_KEYS) -> None:
        keys = [secret_key, *(k for k in previous if k and k != secret_key)]
        self._current = Fernet(derive_fernet_key(secret_key, purpose))
        self._all = MultiFernet([Fernet(derive_fernet_key(k, purpose)) for k in keys])

    @classmethod
    def from_settings(cls, settings: Settings, purpose: bytes = MODEL_API_KEYS) -> SecretBox:
        """The box for SECRET_KEY and SECRET_KEY_PREVIOUS, for one purpose."""
        previous = [k.strip() for k in (settings.secret_key_previous or "").split(",") if k.strip()]
        return cls(settings.resolved_secret_key(), previous, purpose)

    def encrypt(self, plaintext: str) -> str:
        """A token of `plaintext` under the current key."""
        return self._current.encrypt(plaintext.encode()).decode()

    def decrypt(self, token: str) -> str:
        """The plaintext of a token made under the current or an earlier key."""
        try:
            return self._all.decrypt(token.encode()).decode()
        except InvalidToken:
            raise UndecryptableSecret() from None

    def is_current(self, token: str) -> bool:
        """True when the token was made under the current key (no re-encryption needed)."""
        try:
            self._current.decrypt(token.encode())
        except InvalidToken:
            return False
        return True

    def rotate(self, token: str) -> str:
        """The same secret, re-encrypted under the current key."""
        try:
            return self._all.rotate(token.encode()).decode()
        except InvalidToken:
            raise UndecryptableSecret() from None
