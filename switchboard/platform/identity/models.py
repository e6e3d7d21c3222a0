"""Users, their sign-in sessions, API keys, one-time tokens and outgoing mail."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from tortoise import fields
from tortoise.models import Model

from switchboard.platform.orgs.models import Org


class User(Model):
    """A person who signs in."""

    id = fields.UUIDField(primary_key=True)
    email = fields.CharField(max_length=320, unique=True)
    name = fields.CharField(max_length=200, default="")
    password_hash = fields.CharField(max_length=200)
    email_verified = fields.BooleanField(default=False)
    is_superadmin = fields.BooleanField(default=False)
    active_org: fields.ForeignKeyNullableRelation[Org] = fields.ForeignKeyField(
        "platform.Org", related_name=None, null=True, on_delete=fields.SET_NULL
    )
    active_org_id: uuid.UUID | None
    settings: dict[str, Any] = fields.JSONField(default=dict)
    # bumped on password change: every access token minted before it stops working
    token_version = fields.IntField(default=0)
    delete_requested_at: datetime | None = fields.DatetimeField(null=True)
    totp_enabled = fields.BooleanField(default=False)
    totp_secret_encrypted: str | None = fields.TextField(null=True)
    recovery_code_hashes: list[str] = fields.JSONField(default=list)
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "users"


class Session(Model):
    """One sign-in: the browser session cookie and the refresh-token family hang off it."""

    id = fields.UUIDField(primary_key=True)
    user: fields.ForeignKeyRelation[User] = fields.ForeignKeyField("platform.User", related_name="sessions")
    user_id: uuid.UUID
    session_token_hash = fields.CharField(max_length=64, unique=True)
    expires_at = fields.DatetimeField()
    revoked_at: datetime | None = fields.DatetimeField(null=True)
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "sessions"


class RefreshToken(Model):
    """One refresh token of a session; used once, then replaced."""

    id = fields.UUIDField(primary_key=True)
    session: fields.ForeignKeyRelation[Session] = fields.ForeignKeyField(
        "platform.Session", related_name="refresh_tokens"
    )
    session_id: uuid.UUID
    token_hash = fields.CharField(max_length=64, unique=True)
    used_at: datetime | None = fields.DatetimeField(null=True)
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "refresh_tokens"


class ApiKey(Model):
    """A long-lived credential for scripts; only its hash is stored."""

    id = fields.UUIDField(primary_key=True)
    user: fields.ForeignKeyRelation[User] = fields.ForeignKeyField("platform.User", related_name="api_keys")
    org: fields.ForeignKeyRelation[Org] = fields.ForeignKeyField("platform.Org", related_name="api_keys")
    user_id: uuid.UUID
    org_id: uuid.UUID
    name = fields.CharField(max_length=200)
    prefix = fields.CharField(max_length=16)
    key_hash = fields.CharField(max_length=64, unique=True)
    last_used_at: datetime | None = fields.DatetimeField(null=True)
    revoked_at: datetime | None = fields.DatetimeField(null=True)
    disabled_at: datetime | None = fields.DatetimeField(null=True)
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "api_keys"


class OneTimeToken(Model):
    """Email verification and password reset tokens: expiring, single use, stored hashed."""

    id = fields.UUIDField(primary_key=True)
    user: fields.ForeignKeyRelation[User] = fields.ForeignKeyField("platform.User", related_name="one_time_tokens")
    purpose = fields.CharField(max_length=32)
    token_hash = fields.CharField(max_length=64, unique=True)
    expires_at = fields.DatetimeField()
    used_at: datetime | None = fields.DatetimeField(null=True)
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "one_time_tokens"


class OutboxMail(Model):
    """Mail that was sent, or is waiting for an SMTP server; never silently dropped."""

    id = fields.UUIDField(primary_key=True)
    to = fields.CharField(max_length=320)
    subject = fields.CharField(max_length=300)
    body = fields.TextField()
    sent_at: datetime | None = fields.DatetimeField(null=True)
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "outbox_mail"
