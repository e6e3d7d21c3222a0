"""Organizations, memberships, groups and invitations."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import TYPE_CHECKING

from tortoise import fields
from tortoise.models import Model

if TYPE_CHECKING:
    from switchboard.platform.identity.models import User

ROLES = ("owner", "admin", "member")
GROUP_ROLES = ("member", "admin")


class Org(Model):
    """A tenant: everything in Switchboard belongs to one."""

    id = fields.UUIDField(primary_key=True)
    name = fields.CharField(max_length=200)
    personal = fields.BooleanField(default=False)
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "orgs"


class Membership(Model):
    """A user's role in an org."""

    id = fields.UUIDField(primary_key=True)
    org: fields.ForeignKeyRelation[Org] = fields.ForeignKeyField("platform.Org", related_name="memberships")
    user: fields.ForeignKeyRelation[User] = fields.ForeignKeyField("platform.User", related_name="memberships")
    org_id: uuid.UUID
    user_id: uuid.UUID
    role = fields.CharField(max_length=16, default="member")
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "memberships"
        unique_together = (("org", "user"),)


class Group(Model):
    """A named set of an org's members, used to grant or deny agents and tools."""

    id = fields.UUIDField(primary_key=True)
    org: fields.ForeignKeyRelation[Org] = fields.ForeignKeyField("platform.Org", related_name="groups")
    org_id: uuid.UUID
    name = fields.CharField(max_length=200)
    description = fields.TextField(default="")
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "groups"
        unique_together = (("org", "name"),)


class GroupMember(Model):
    """One membership of a user in a group (one per group)."""

    id = fields.UUIDField(primary_key=True)
    group: fields.ForeignKeyRelation[Group] = fields.ForeignKeyField("platform.Group", related_name="members")
    user: fields.ForeignKeyRelation[User] = fields.ForeignKeyField("platform.User", related_name="group_memberships")
    group_id: uuid.UUID
    user_id: uuid.UUID
    role = fields.CharField(max_length=16, default="member")
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "group_members"
        unique_together = (("group", "user"),)


class Invitation(Model):
    """An offer to join an org with a role; the raw token only ever goes to the invitee."""

    id = fields.UUIDField(primary_key=True)
    org: fields.ForeignKeyRelation[Org] = fields.ForeignKeyField("platform.Org", related_name="invitations")
    org_id: uuid.UUID
    email = fields.CharField(max_length=320)
    role = fields.CharField(max_length=16, default="member")
    token_hash = fields.CharField(max_length=64, unique=True)
    invited_by: fields.ForeignKeyNullableRelation[User] = fields.ForeignKeyField(
        "platform.User", related_name=None, null=True, on_delete=fields.SET_NULL
    )
    expires_at = fields.DatetimeField()
    accepted_at: datetime | None = fields.DatetimeField(null=True)
    revoked_at: datetime | None = fields.DatetimeField(null=True)
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "invitations"
