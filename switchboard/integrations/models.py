"""Connections to providers, OAuth sign-ins in flight, the write ledger, chat settings and user mappings."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from tortoise import fields
from tortoise.models import Model


class Connection(Model):
    """A user's (or, with no user, the org's) account at a provider; its credentials only ever encrypted."""

    id = fields.UUIDField(primary_key=True)
    org_id = fields.UUIDField(db_index=True)
    user_id: uuid.UUID | None = fields.UUIDField(null=True, db_index=True)  # None: the whole org's (admins)
    connector = fields.CharField(max_length=32)
    auth = fields.CharField(max_length=16)  # token | basic | oauth2 | none
    account = fields.CharField(max_length=200, default="")  # who the provider says we are, for people
    settings: dict[str, Any] = fields.JSONField(default=dict)  # non-secret settings (base URL, allow-list)
    secret = fields.TextField()  # the credentials as JSON, encrypted (Fernet under SECRET_KEY)
    status = fields.CharField(max_length=16, default="active")  # active | needs_reconnect
    status_message = fields.CharField(max_length=500, default="")
    token_expires_at: datetime | None = fields.DatetimeField(null=True)
    created_at = fields.DatetimeField(auto_now_add=True)
    updated_at = fields.DatetimeField(auto_now=True)

    class Meta:
        table = "integration_connections"


class OAuthState(Model):
    """An OAuth sign-in in flight: its `state` (hashed), the PKCE verifier (encrypted) and who started it."""

    id = fields.UUIDField(primary_key=True)
    state_hash = fields.CharField(max_length=64, unique=True)
    org_id = fields.UUIDField()
    user_id = fields.UUIDField()
    connector = fields.CharField(max_length=32)
    org_wide = fields.BooleanField(default=False)
    settings: dict[str, Any] = fields.JSONField(default=dict)  # the connector's settings, checked at start
    verifier = fields.TextField()  # encrypted
    redirect_uri = fields.CharField(max_length=1000)
    expires_at = fields.DatetimeField()
    used_at: datetime | None = fields.DatetimeField(null=True)

    class Meta:
        table = "integration_oauth_states"


class WriteLedger(Model):
    """One row per (idempotency key, tool): a retried workflow step's write happens once."""

    id = fields.UUIDField(primary_key=True)
    org_id = fields.UUIDField()
    key = fields.CharField(max_length=200)
    tool = fields.CharField(max_length=64)
    status = fields.CharField(max_length=16, default="started")  # started | done
    result: Any = fields.JSONField(null=True)
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "integration_write_ledger"
        unique_together = (("key", "tool"),)


class ChatSetting(Model):
    """Which channels of a chat service reach which agent, per org."""

    id = fields.UUIDField(primary_key=True)
    org_id = fields.UUIDField()
    service = fields.CharField(max_length=32)
    enabled = fields.BooleanField(default=False)
    default_agent = fields.CharField(max_length=64, null=True)
    channels: dict[str, str] = fields.JSONField(default=dict)  # channel id -> agent name
    updated_at = fields.DatetimeField(auto_now=True)

    class Meta:
        table = "integration_chat_settings"
        unique_together = (("org_id", "service"),)


class UserMapping(Model):
    """Which provider account is which Switchboard user, per org."""

    id = fields.UUIDField(primary_key=True)
    org_id = fields.UUIDField(db_index=True)
    service = fields.CharField(max_length=32)
    external_id = fields.CharField(max_length=200)
    external_name = fields.CharField(max_length=200, default="")
    user_id = fields.UUIDField()
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "integration_user_mappings"
        unique_together = (("org_id", "service", "external_id"),)
