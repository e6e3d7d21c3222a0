"""Request and response shapes of the account routes."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any
from uuid import UUID

from pydantic import BaseModel, EmailStr, Field, StringConstraints

Password = Field(min_length=8, max_length=256)

MAX_SETTINGS = 100
SettingKey = Annotated[str, StringConstraints(min_length=1, max_length=64)]
# the one shape of a user's stored settings: what a write may leave behind is what /auth/me promises
UserSettings = Annotated[dict[SettingKey, Any], Field(max_length=MAX_SETTINGS)]


class RegisterIn(BaseModel):
    """A new account."""

    email: EmailStr
    password: str = Password
    name: str = Field("", max_length=200)
    invitation_token: str | None = Field(
        None,
        max_length=200,
        description="The token of an invitation to this address: required when sign-up is by invitation "
        "(`SIGNUP=invited`); it also confirms the address.",
    )


class LoginIn(BaseModel):
    """Credentials (and the authenticator code, or a recovery code, when two-factor sign-in is on)."""

    email: EmailStr
    password: str = Field(min_length=1, max_length=256)
    otp: str | None = Field(None, max_length=32)


class TokenOut(BaseModel):
    """An access token (the refresh token travels in an httpOnly cookie)."""

    access_token: str
    token_type: str = "bearer"  # noqa: S105
    expires_in: int


class OrgRef(BaseModel):
    """An org, briefly."""

    id: UUID
    name: str


class GroupRef(BaseModel):
    """A group, briefly."""

    id: UUID
    name: str


class MeOut(BaseModel):
    """The caller."""

    id: UUID
    email: str
    name: str
    role: str
    email_verified: bool
    is_superadmin: bool
    org: OrgRef
    groups: list[GroupRef]
    settings: UserSettings
    auth_method: str
    two_factor: bool = Field(False, description="Whether two-factor sign-in is on for this account.")


class UserOut(BaseModel):
    """A user."""

    id: UUID
    email: str
    name: str
    email_verified: bool
    created_at: datetime


class ProfileIn(BaseModel):
    """Profile changes."""

    name: str = Field(min_length=1, max_length=200)


class SettingsIn(BaseModel):
    """Settings to merge (null removes a key); keys of 1-64 characters, at most 100 kept."""

    settings: UserSettings


class SettingsOut(BaseModel):
    """The caller's settings after the change."""

    settings: UserSettings


class PasswordChangeIn(BaseModel):
    """A password change."""

    current_password: str = Field(min_length=1, max_length=256)
    new_password: str = Password


class TokenIn(BaseModel):
    """A token from a mail."""

    token: str = Field(min_length=1, max_length=200)


class EmailIn(BaseModel):
    """An address."""

    email: EmailStr


class ResetPasswordIn(BaseModel):
    """A reset token and the new password."""

    token: str = Field(min_length=1, max_length=200)
    new_password: str = Password


class Accepted(BaseModel):
    """The request was taken (the same answer whatever the account state)."""

    status: str = "ok"
    message: str


class ApiKeyIn(BaseModel):
    """A new API key."""

    name: str = Field(min_length=1, max_length=200)


class ApiKeyOut(BaseModel):
    """An API key, without its secret."""

    id: UUID
    name: str
    prefix: str
    created_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None
    disabled_at: datetime | None = None


class ApiKeyCreated(ApiKeyOut):
    """A new API key with its raw value, shown this once."""

    key: str


class DeleteAccountIn(BaseModel):
    """Confirmation of account deletion."""

    password: str = Field(min_length=1, max_length=256)


class DeletionScheduled(BaseModel):
    """When the account will be purged."""

    status: str = "scheduled"
    purge_after: datetime


class TwoFactorSetup(BaseModel):
    """A new authenticator seed: type the secret or scan the QR code, then confirm with /enable."""

    secret: str
    otpauth_uri: str
    qr_data_url: str


class CodeIn(BaseModel):
    """A code from the authenticator app (or a recovery code)."""

    code: str = Field(min_length=6, max_length=32)


class RecoveryCodes(BaseModel):
    """Single-use codes for when the authenticator is lost, shown this once."""

    recovery_codes: list[str]


class DisableTwoFactorIn(BaseModel):
    """Turning two-factor sign-in off."""

    password: str = Field(min_length=1, max_length=256)
    code: str = Field(min_length=6, max_length=32)
