"""Two-factor sign-in: set up with an authenticator, sign in with a code or a recovery code, turn it off."""

from __future__ import annotations

import base64

import pyotp

from switchboard.platform.identity.models import User
from tests.support.accounts import PASSWORD


async def _turn_on(account) -> tuple[pyotp.TOTP, list[str]]:
    setup = await (await account.post("/api/v1/auth/2fa/setup")).get_json()
    assert setup["otpauth_uri"].startswith("otpauth://totp/Switchboard:")
    assert base64.b64decode(setup["qr_data_url"].split(",", 1)[1]).startswith(b"<?xml")
    totp = pyotp.TOTP(setup["secret"])
    wrong = await account.post("/api/v1/auth/2fa/enable", json={"code": "000000"})
    assert wrong.status_code == 401 and (await wrong.get_json())["error"] == "invalid_otp"
    enabled = await account.post("/api/v1/auth/2fa/enable", json={"code": totp.now()})
    assert enabled.status_code == 200
    codes = (await enabled.get_json())["recovery_codes"]
    assert len(codes) == 10 and len(set(codes)) == 10
    return totp, codes


async def test_sign_in_needs_the_code_once_two_factor_is_on(signup, client):
    ada = await signup()
    totp, codes = await _turn_on(ada)
    creds = {"email": ada.email, "password": PASSWORD}
    missing = await client.post("/api/v1/auth/login", json=creds)
    assert missing.status_code == 401 and (await missing.get_json())["error"] == "otp_required"
    assert "access_token" not in await missing.get_data(as_text=True)
    wrong = await client.post("/api/v1/auth/login", json={**creds, "otp": "123456"})
    assert wrong.status_code == 401 and (await wrong.get_json())["error"] == "invalid_otp"
    ok = await client.post("/api/v1/auth/login", json={**creds, "otp": totp.now()})
    assert ok.status_code == 200 and (await ok.get_json())["access_token"]
    # a recovery code works once
    recovered = await client.post("/api/v1/auth/login", json={**creds, "otp": codes[0]})
    assert recovered.status_code == 200
    reused = await client.post("/api/v1/auth/login", json={**creds, "otp": codes[0]})
    assert reused.status_code == 401


async def test_seed_is_stored_encrypted(signup):
    ada = await signup()
    setup = await (await ada.post("/api/v1/auth/2fa/setup")).get_json()
    user = await User.get(email=ada.email)
    assert user.totp_secret_encrypted and setup["secret"] not in user.totp_secret_encrypted
    assert not user.totp_enabled, "not active until confirmed with a code"


async def test_turning_it_off_needs_password_and_code(signup, client):
    ada = await signup()
    totp, _ = await _turn_on(ada)
    no_password = await ada.post("/api/v1/auth/2fa/disable", json={"password": "not it", "code": totp.now()})
    assert no_password.status_code == 401
    assert (await ada.post("/api/v1/auth/2fa/verify", json={"code": totp.now()})).status_code == 200
    off = await ada.post("/api/v1/auth/2fa/disable", json={"password": PASSWORD, "code": totp.now()})
    assert off.status_code == 200
    plain = await client.post("/api/v1/auth/login", json={"email": ada.email, "password": PASSWORD})
    assert plain.status_code == 200
    logs = await (await ada.get("/api/v1/audit/my-logs")).get_json()
    actions = {e["action"] for e in logs["items"]}
    assert {"user.2fa_enabled", "user.2fa_disabled"} <= actions
