"""`/api/v1/auth/…`: sign-in, sessions, profile, passwords, API keys, account export and deletion."""

from __future__ import annotations

import json

from quart import Blueprint, Response, jsonify, request
from quart_schema import document_response, validate_request, validate_response

from switchboard.platform.auth import REFRESH_COOKIE, SESSION_COOKIE, client_ip, current_principal, require_user
from switchboard.platform.identity import apikeys, service, twofactor
from switchboard.platform.identity.schemas import (
    Accepted,
    ApiKeyCreated,
    ApiKeyIn,
    ApiKeyOut,
    CodeIn,
    DeleteAccountIn,
    DeletionScheduled,
    DisableTwoFactorIn,
    EmailIn,
    LoginIn,
    MeOut,
    PasswordChangeIn,
    ProfileIn,
    RecoveryCodes,
    RegisterIn,
    ResetPasswordIn,
    SettingsIn,
    SettingsOut,
    TokenIn,
    TokenOut,
    TwoFactorSetup,
    UserOut,
)
from switchboard.platform.openapi import attachment, ends_session, no_content
from switchboard.platform.orgs import service as orgs
from switchboard.platform.orgs.schemas import GroupOut, OrgOut
from switchboard.platform.web import runtime

auth = Blueprint("auth", __name__, url_prefix="/api/v1/auth")
mine = Blueprint("me", __name__, url_prefix="/api/v1/me")


def _secret() -> str:
    return runtime().settings.resolved_secret_key()


def _secure_cookies() -> bool:
    public = runtime().settings.public_url
    return bool(public and public.startswith("https://"))


def _signed_in(result: service.SignIn) -> Response:
    response = jsonify(TokenOut(access_token=result.access_token, expires_in=result.expires_in).model_dump())
    return set_session_cookies(response, result.refresh_token, result.session_token)


def set_session_cookies(response: Response, refresh_token: str, session_token: str | None) -> Response:
    """The refresh cookie (auth routes only) and, for browsers, the session cookie of a sign-in."""
    secure = _secure_cookies()
    response.set_cookie(
        REFRESH_COOKIE,
        refresh_token,
        httponly=True,
        secure=secure,
        samesite="Strict",
        path="/api/v1/auth",
        max_age=service.SESSION_DAYS * 86400,
    )
    if session_token:
        response.set_cookie(
            SESSION_COOKIE,
            session_token,
            httponly=True,
            secure=secure,
            samesite="Lax",
            path="/",
            max_age=service.SESSION_DAYS * 86400,
        )
    return response


@auth.post("/register")
@validate_request(RegisterIn)
@validate_response(UserOut, 201)
async def register(data: RegisterIn) -> tuple[UserOut, int]:
    """Create an account and its personal org."""
    rt = runtime()
    await rt.limiter.hit("register", client_ip() or "unknown")
    user = await service.register(
        data.email,
        data.password,
        data.name,
        mailer=rt.mailer,
        settings=rt.settings,
        ip=client_ip(),
        invitation_token=data.invitation_token,
    )
    return UserOut.model_validate(user, from_attributes=True), 201


@auth.post("/login")
@validate_request(LoginIn)
@document_response(TokenOut)
async def login(data: LoginIn) -> Response:
    """Exchange credentials for an access token, a refresh cookie and a session cookie."""
    rt = runtime()
    result = await service.login(
        data.email,
        data.password,
        secret_key=_secret(),
        limiter=rt.limiter,
        ip=client_ip(),
        otp=data.otp,
        settings=rt.settings,
    )
    return _signed_in(result)


@auth.post("/refresh")
@document_response(TokenOut)
async def refresh() -> Response:
    """Rotate the refresh cookie and mint a new access token."""
    result = await service.refresh(request.cookies.get(REFRESH_COOKIE), secret_key=_secret(), ip=client_ip())
    return _signed_in(result)


@auth.post("/logout")
@require_user
@ends_session
@document_response(Accepted)
async def logout() -> Response:
    """End this sign-in and clear its cookies."""
    await service.logout(
        current_principal(),
        refresh_raw=request.cookies.get(REFRESH_COOKIE),
        session_raw=request.cookies.get(SESSION_COOKIE),
    )
    response = jsonify(Accepted(message="Signed out").model_dump())
    response.delete_cookie(REFRESH_COOKIE, path="/api/v1/auth")
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


@auth.get("/me")
@require_user
@validate_response(MeOut)
async def me() -> MeOut:
    """The caller, their active org and groups."""
    principal = current_principal()
    user = await service.get_user(principal)
    org = next(o for o, _ in await orgs.list_orgs(principal) if o.id == principal.org_id)
    groups = await orgs.groups_of(principal)
    return MeOut(
        id=user.id,
        email=user.email,
        name=user.name,
        role=principal.role,
        email_verified=user.email_verified,
        is_superadmin=user.is_superadmin,
        org={"id": org.id, "name": org.name},
        groups=[{"id": g.id, "name": g.name} for g in groups],
        settings=user.settings,
        auth_method=principal.auth_method,
        two_factor=user.totp_enabled,
    )


@auth.put("/profile")
@require_user
@validate_request(ProfileIn)
@validate_response(UserOut)
async def update_profile(data: ProfileIn) -> UserOut:
    """Change the display name."""
    user = await service.update_profile(current_principal(), data.name)
    return UserOut.model_validate(user, from_attributes=True)


@auth.patch("/settings")
@require_user
@validate_request(SettingsIn)
@validate_response(SettingsOut)
async def update_settings(data: SettingsIn) -> SettingsOut:
    """Merge settings (a null value removes a key)."""
    user = await service.update_settings(current_principal(), data.settings)
    return SettingsOut(settings=user.settings)


@auth.post("/password")
@require_user
@ends_session
@validate_request(PasswordChangeIn)
@validate_response(Accepted)
async def change_password(data: PasswordChangeIn) -> Accepted:
    """Change the password; every session and access token ends."""
    await service.change_password(current_principal(), data.current_password, data.new_password)
    return Accepted(message="Password changed; sign in again")


@auth.post("/verify-email")
@validate_request(TokenIn)
@validate_response(Accepted)
async def verify_email(data: TokenIn) -> Accepted:
    """Confirm an email address with the mailed token."""
    await service.verify_email(data.token)
    return Accepted(message="Email verified")


@auth.post("/resend-verification")
@validate_request(EmailIn)
@validate_response(Accepted)
async def resend_verification(data: EmailIn) -> Accepted:
    """Send the verification mail again (same answer whether or not the account exists)."""
    rt = runtime()
    await service.resend_verification(data.email, mailer=rt.mailer, settings=rt.settings, limiter=rt.limiter)
    return Accepted(message="If the account exists and is unverified, a mail is on its way")


@auth.post("/forgot-password")
@validate_request(EmailIn)
@validate_response(Accepted)
async def forgot_password(data: EmailIn) -> Accepted:
    """Mail a password reset token (same answer whether or not the account exists)."""
    rt = runtime()
    await service.forgot_password(
        data.email, mailer=rt.mailer, settings=rt.settings, limiter=rt.limiter, ip=client_ip()
    )
    return Accepted(message="If the account exists, a mail is on its way")


@auth.post("/reset-password")
@validate_request(ResetPasswordIn)
@validate_response(Accepted)
async def reset_password(data: ResetPasswordIn) -> Accepted:
    """Choose a new password with a reset token."""
    await runtime().limiter.hit("reset_password", client_ip() or "unknown")
    await service.reset_password(data.token, data.new_password, ip=client_ip())
    return Accepted(message="Password changed; sign in with the new one")


@auth.get("/api-keys")
@require_user
@validate_response(list[ApiKeyOut])
async def list_api_keys() -> list[ApiKeyOut]:
    """The caller's API keys (never their secret)."""
    return [ApiKeyOut.model_validate(k, from_attributes=True) for k in await apikeys.list_keys(current_principal())]


@auth.post("/api-keys")
@require_user
@validate_request(ApiKeyIn)
@validate_response(ApiKeyCreated, 201)
async def create_api_key(data: ApiKeyIn) -> tuple[ApiKeyCreated, int]:
    """A new API key; the raw key is in this answer only."""
    key, raw = await apikeys.create_key(current_principal(), data.name)
    out = ApiKeyCreated(**ApiKeyOut.model_validate(key, from_attributes=True).model_dump(), key=raw)
    return out, 201


@auth.delete("/api-keys/<key_id>")
@require_user
@ends_session
@no_content("Revoked")
async def revoke_api_key(key_id: str) -> tuple[str, int]:
    """Revoke a key; it fails from the next request on."""
    await apikeys.revoke_key(current_principal(), key_id)
    return "", 204


@auth.post("/api-keys/<key_id>/disable")
@require_user
@ends_session
@validate_response(ApiKeyOut)
async def disable_api_key(key_id: str) -> ApiKeyOut:
    """Disable a key: refused from the next request on, until enabled again (409 once revoked)."""
    key = await apikeys.set_disabled(current_principal(), key_id, True)
    return ApiKeyOut.model_validate(key, from_attributes=True)


@auth.post("/api-keys/<key_id>/enable")
@require_user
@validate_response(ApiKeyOut)
async def enable_api_key(key_id: str) -> ApiKeyOut:
    """Enable a disabled key again (409 once revoked)."""
    key = await apikeys.set_disabled(current_principal(), key_id, False)
    return ApiKeyOut.model_validate(key, from_attributes=True)


@mine.get("/organizations")
@require_user
@validate_response(list[OrgOut])
async def my_organizations() -> list[OrgOut]:
    """The orgs the caller belongs to, with their role in each."""
    return [
        OrgOut(id=o.id, name=o.name, personal=o.personal, role=role, created_at=o.created_at)
        for o, role in await orgs.list_orgs(current_principal())
    ]


@mine.get("/teams")
@require_user
@validate_response(list[GroupOut])
async def my_teams() -> list[GroupOut]:
    """The caller's groups (teams) in the active org."""
    return [GroupOut.model_validate(g, from_attributes=True) for g in await orgs.groups_of(current_principal())]


@auth.post("/account/delete")
@require_user
@ends_session
@validate_request(DeleteAccountIn)
@validate_response(DeletionScheduled, 202)
async def delete_account(data: DeleteAccountIn) -> tuple[DeletionScheduled, int]:
    """Schedule the account's deletion after a 30-day grace (signing in again cancels it)."""
    purge_after = await service.request_deletion(current_principal(), data.password)
    return DeletionScheduled(purge_after=purge_after), 202


@auth.get("/account/export")
@require_user
@attachment("application/json", "Everything kept about the caller", {"type": "object"})
async def export_account() -> Response:
    """Everything kept about the caller, as one JSON download."""
    document = await service.export(current_principal())
    response = Response(json.dumps(document, indent=2), mimetype="application/json")
    response.headers["Content-Disposition"] = 'attachment; filename="switchboard-account.json"'
    return response


@auth.post("/2fa/setup")
@require_user
@validate_response(TwoFactorSetup)
async def twofactor_setup() -> TwoFactorSetup:
    """Start two-factor sign-in: a new authenticator seed and its QR code."""
    return TwoFactorSetup(**await twofactor.setup(current_principal(), runtime().settings))


@auth.post("/2fa/enable")
@require_user
@ends_session
@validate_request(CodeIn)
@validate_response(RecoveryCodes)
async def twofactor_enable(data: CodeIn) -> RecoveryCodes:
    """Confirm the seed with a first code; answers the recovery codes once."""
    return RecoveryCodes(recovery_codes=await twofactor.enable(current_principal(), data.code, runtime().settings))


@auth.post("/2fa/verify")
@require_user
@validate_request(CodeIn)
@validate_response(Accepted)
async def twofactor_verify(data: CodeIn) -> Accepted:
    """Check a code (a recovery code is spent)."""
    await twofactor.verify(current_principal(), data.code, runtime().settings)
    return Accepted(message="The code is valid")


@auth.post("/2fa/disable")
@require_user
@ends_session
@validate_request(DisableTwoFactorIn)
@validate_response(Accepted)
async def twofactor_disable(data: DisableTwoFactorIn) -> Accepted:
    """Turn two-factor sign-in off (password and a current code)."""
    await twofactor.disable(current_principal(), data.password, data.code, runtime().settings)
    return Accepted(message="Two-factor sign-in is off")
