"""Request and response shapes of the org, member, invitation and group routes."""

from __future__ import annotations

from datetime import datetime
from typing import Literal
from uuid import UUID

from pydantic import BaseModel, EmailStr, Field

Role = Literal["owner", "admin", "member"]
GroupRole = Literal["member", "admin"]


class OrgIn(BaseModel):
    """A new org."""

    name: str = Field(min_length=1, max_length=200)


class OrgOut(BaseModel):
    """An org and the caller's role in it."""

    id: UUID
    name: str
    personal: bool
    role: str
    created_at: datetime


class MemberOut(BaseModel):
    """A member of an org."""

    user_id: UUID
    email: str
    name: str
    role: str
    joined_at: datetime


class RoleIn(BaseModel):
    """A new role."""

    role: Role


class InvitationIn(BaseModel):
    """An invitation."""

    email: EmailStr
    role: Role = "member"


class InvitationOut(BaseModel):
    """An invitation, without its token."""

    id: UUID
    email: str
    role: str
    expires_at: datetime
    created_at: datetime


class InvitationCreated(InvitationOut):
    """A new invitation with its token, shown this once (it is also mailed)."""

    token: str


class GroupIn(BaseModel):
    """A new group."""

    name: str = Field(min_length=1, max_length=200)
    description: str = Field("", max_length=2000)


class GroupPatch(BaseModel):
    """Group changes."""

    name: str | None = Field(None, min_length=1, max_length=200)
    description: str | None = Field(None, max_length=2000)


class GroupOut(BaseModel):
    """A group."""

    id: UUID
    name: str
    description: str
    created_at: datetime


class GroupMemberIn(BaseModel):
    """A group membership."""

    role: GroupRole = "member"


class GroupMemberOut(BaseModel):
    """A member of a group."""

    user_id: UUID
    email: str
    name: str
    role: str
