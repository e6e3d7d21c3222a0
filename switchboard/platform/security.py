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

_hasher = PasswordHasher()  # argon2id with the library's recommended parameters (RFC 9106's second choice)

ACCESS_TOKEN_SECONDS = 15 * 60
API_KEY_PREFIX = "sbk_"


def hash_password(password: str) -> str:
    """An argon2id hash of `password`."""
    return _hasher.hash(password)


def configure_password_hashing(time_cost: int, memory_kib: int) -> None:
    """Hash new passwords (and old ones at their next sign-in) with this argon2id cost."""
    global _hasher, _dummy_hash
    if (time_cost, memory_kib) == (_hasher.time_cost, _hasher.memory_cost):
        return
    _hasher = PasswordHasher(time_cost=time_cost, memory_cost=memory_kib)
    _dummy_hash = hash_password(secrets.token_urlsafe(16))


def password_needs_rehash(password_hash: str) -> bool:
    """True for a hash made with another cost than the configured one (it is replaced at sign-in)."""
    try:
        return _hasher.check_needs_rehash(password_hash)
    except InvalidHashError:
        return False


def verify_password(password_hash: str, password: str) -> bool:
    """True when `password` matches the argon2id hash."""
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


# A hash to verify against when the user does not exist, so timing does not reveal who has an account
# (made with the configured cost, so it takes as long as a real one).
_dummy_hash = hash_password(secrets.token_urlsafe(16))


def verify_sign_in(password_hash: str | None, password: str) -> bool:
    """`verify_password` for a sign-in, taking as long when there is no such account (`password_hash` None)."""
    return verify_password(_dummy_hash if password_hash is None else password_hash, password) and (
        password_hash is not None
    )


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
