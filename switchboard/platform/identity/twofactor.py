"""Two-factor sign-in with TOTP (authenticator apps), with single-use recovery codes."""

from __future__ import annotations

import base64
import io

import pyotp
import segno

from switchboard.config import Settings
from switchboard.platform.audit import service as audit
from switchboard.platform.auth import Principal
from switchboard.platform.crypto import TOTP_SEEDS, SecretBox
from switchboard.platform.errors import CodeRequired, Conflict, InvalidCode
from switchboard.platform.identity.models import User
from switchboard.platform.security import hash_token, new_token, verify_password

ISSUER = "Switchboard"
RECOVERY_CODES = 10


def _box(settings: Settings) -> SecretBox:
    return SecretBox.from_settings(settings, TOTP_SEEDS)


def _totp(user: User, settings: Settings) -> pyotp.TOTP:
    assert user.totp_secret_encrypted
    return pyotp.TOTP(_box(settings).decrypt(user.totp_secret_encrypted))


def _qr_data_url(uri: str) -> str:
    buffer = io.BytesIO()
    segno.make(uri, error="m").save(buffer, kind="svg", scale=4)
    return "data:image/svg+xml;base64," + base64.b64encode(buffer.getvalue()).decode()


async def setup(principal: Principal, settings: Settings) -> dict[str, str]:
    """A new seed (not active until confirmed with `enable`), as text, otpauth URI and QR code."""
    user = await User.get(id=principal.user_id)
    if user.totp_enabled:
        raise Conflict("Two-factor sign-in is already on; turn it off first", code="otp_enabled")
    seed = pyotp.random_base32()
    user.totp_secret_encrypted = _box(settings).encrypt(seed)
    await user.save(update_fields=["totp_secret_encrypted"])
    uri = pyotp.TOTP(seed).provisioning_uri(name=user.email, issuer_name=ISSUER)
    return {"secret": seed, "otpauth_uri": uri, "qr_data_url": _qr_data_url(uri)}


async def enable(principal: Principal, code: str, settings: Settings) -> list[str]:
    """Turn two-factor sign-in on with a first valid code; returns recovery codes, shown this once."""
    user = await User.get(id=principal.user_id)
    if user.totp_enabled:
        raise Conflict("Two-factor sign-in is already on", code="otp_enabled")
    if not user.totp_secret_encrypted:
        raise Conflict("Start with /auth/2fa/setup", code="otp_not_set_up")
    if not _totp(user, settings).verify(code, valid_window=1):
        raise InvalidCode()
    codes = [new_token(9) for _ in range(RECOVERY_CODES)]
    user.totp_enabled = True
    user.recovery_code_hashes = [hash_token(c) for c in codes]
    await user.save(update_fields=["totp_enabled", "recovery_code_hashes"])
    await audit.record("user.2fa_enabled", actor=principal, target_type="user", target_id=user.id)
    return codes


async def check(user: User, code: str | None, settings: Settings) -> None:
    """For sign-in: a valid TOTP code or an unused recovery code (which is then spent)."""
    if not user.totp_enabled:
        return
    if not code:
        raise CodeRequired()
    code = code.strip().replace(" ", "")
    if code.isdigit() and _totp(user, settings).verify(code, valid_window=1):
        return
    hashed = hash_token(code)
    if hashed in user.recovery_code_hashes:
        user.recovery_code_hashes = [h for h in user.recovery_code_hashes if h != hashed]
        await user.save(update_fields=["recovery_code_hashes"])
        return
    raise InvalidCode()


async def verify(principal: Principal, code: str, settings: Settings) -> None:
    """Check a code for the signed-in user (e.g. before a sensitive change)."""
    user = await User.get(id=principal.user_id)
    if not user.totp_enabled:
        raise Conflict("Two-factor sign-in is off", code="otp_not_enabled")
    await check(user, code, settings)


async def disable(principal: Principal, password: str, code: str, settings: Settings) -> None:
    """Turn two-factor sign-in off; needs the password and a current code."""
    user = await User.get(id=principal.user_id)
    if not user.totp_enabled:
        raise Conflict("Two-factor sign-in is off", code="otp_not_enabled")
    if not verify_password(user.password_hash, password):
        raise InvalidCode("The password is wrong")
    await check(user, code, settings)
    user.totp_enabled = False
    user.totp_secret_encrypted = None
    user.recovery_code_hashes = []
    await user.save(update_fields=["totp_enabled", "totp_secret_encrypted", "recovery_code_hashes"])
    await audit.record("user.2fa_disabled", actor=principal, target_type="user", target_id=user.id)
