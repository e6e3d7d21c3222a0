"""Passwords, tokens and keys: argon2id for passwords, SHA-256 for high-entropy tokens, HS256 JWTs."""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time
from typing import Any

import jwt
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

_hasher = PasswordHasher()  # argon2id with the library's recommended parameters

ACCESS_TOKEN_SECONDS = 15 * 60
API_KEY_PREFIX = "sbk_"


def hash_password(password: str) -> str:
    """An argon2id hash of `password`."""
    return _hasher.hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    """True when `password` matches the argon2id hash."""
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


# A hash to verify against when the user does not exist, so timing does not reveal who has an account.
DUMMY_PASSWORD_HASH = hash_password(secrets.token_urlsafe(16))


def new_token(nbytes: int = 32) -> str:
    """A random URL-safe token."""
    return secrets.token_urlsafe(nbytes)


def hash_token(token: str) -> str:
    """SHA-256 of a random token (the token itself is never stored)."""
    return hashlib.sha256(token.encode()).hexdigest()


def new_api_key() -> tuple[str, str, str]:
    """(raw key, display prefix, hash) of a new `sbk_` key."""
    raw = API_KEY_PREFIX + secrets.token_urlsafe(32)
    return raw, raw[:12], hash_token(raw)


def _derived(secret_key: str, purpose: str) -> bytes:
    return hmac.new(secret_key.encode(), purpose.encode(), hashlib.sha256).digest()


def issue_access_token(secret_key: str, user_id: str, token_version: int) -> tuple[str, int]:
    """A short-lived access JWT and its lifetime in seconds."""
    now = int(time.time())
    claims = {"sub": user_id, "ver": token_version, "iat": now, "exp": now + ACCESS_TOKEN_SECONDS, "typ": "access"}
    return jwt.encode(claims, _derived(secret_key, "access-jwt"), algorithm="HS256"), ACCESS_TOKEN_SECONDS


def read_access_token(secret_key: str, token: str) -> dict[str, Any] | None:
    """The claims of a valid, unexpired access token, else None."""
    try:
        claims: dict[str, Any] = jwt.decode(
            token, _derived(secret_key, "access-jwt"), algorithms=["HS256"], options={"require": ["exp", "sub"]}
        )
    except jwt.PyJWTError:
        return None
    return claims if claims.get("typ") == "access" else None
