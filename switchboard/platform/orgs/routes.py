"""`/api/v1/orgs/…` and `/api/v1/invitations/…`: orgs, members, invitations, groups."""

from __future__ import annotations

from quart import Blueprint
from quart_schema import validate_request, validate_response

from switchboard.platform.auth import current_principal, require_user
from switchboard.platform.openapi import no_content
from switchboard.platform.orgs import service
from switchboard.platform.orgs.models import GroupMember, Membership, Org
from switchboard.platform.orgs.schemas import (
    GroupIn,
    GroupMemberIn,
    GroupMemberOut,
    GroupOut,
    GroupPatch,
    InvitationCreated,
    InvitationIn,
    InvitationOut,
    MemberOut,
    OrgIn,
    OrgOut,
    RoleIn,
)
from switchboard.platform.web import runtime

orgs = Blueprint("orgs", __name__, url_prefix="/api/v1/orgs")
invitations = Blueprint("invitations", __name__, url_prefix="/api/v1/invitations")


def _org(org: Org, role: str) -> OrgOut:
    return OrgOut(id=org.id, name=org.name, personal=org.personal, role=role, created_at=org.created_at)


def _member(m: Membership) -> MemberOut:
    user = m.user
    return MemberOut(
        user_id=user.id,
        email=user.email,
        name=user.name,
        role=m.role,
        joined_at=m.created_at,
    )


def _group_member(m: GroupMember) -> GroupMemberOut:
    user = m.user
    return GroupMemberOut(user_id=user.id, email=user.email, name=user.name, role=m.role)


@orgs.get("")
@require_user
@validate_response(list[OrgOut])
async def list_orgs() -> list[OrgOut]:
    """Orgs the caller belongs to."""
    return [_org(org, role) for org, role in await service.list_orgs(current_principal())]


@orgs.post("")
@require_user
@validate_request(OrgIn)
@validate_response(OrgOut, 201)
async def create_org(data: OrgIn) -> tuple[OrgOut, int]:
    """A new org owned by the caller."""
    return _org(await service.create_org(current_principal(), data.name), "owner"), 201


@orgs.post("/<org_id>/switch")
@require_user
@validate_response(OrgOut)
async def switch_org(org_id: str) -> OrgOut:
    """Make this org the active one."""
    principal = current_principal()
    org = await service.switch_org(principal, org_id)
    acting = await service.in_org(principal, org_id)
    return _org(org, acting.role)


@orgs.get("/<org_id>/members")
@require_user
@validate_response(list[MemberOut])
async def list_members(org_id: str) -> list[MemberOut]:
    """Members of the org."""
    return [_member(m) for m in await service.list_members(current_principal(), org_id)]


@orgs.patch("/<org_id>/members/<user_id>")
@require_user
@validate_request(RoleIn)
@validate_response(MemberOut)
async def change_role(org_id: str, user_id: str, data: RoleIn) -> MemberOut:
    """Change a member's role (admins; ownership by owners)."""
    return _member(await service.change_role(current_principal(), org_id, user_id, data.role))


@orgs.delete("/<org_id>/members/<user_id>")
@require_user
@no_content("Removed from the org")
async def remove_member(org_id: str, user_id: str) -> tuple[str, int]:
    """Remove a member from the org."""
    await service.remove_member(current_principal(), org_id, user_id)
    return "", 204


@orgs.post("/<org_id>/invitations")
@require_user
@validate_request(InvitationIn)
@validate_response(InvitationCreated, 201)
async def invite(org_id: str, data: InvitationIn) -> tuple[InvitationCreated, int]:
    """Invite someone by email (admins)."""
    rt = runtime()
    invitation, raw = await service.invite(
        current_principal(), org_id, data.email, data.role, mailer=rt.mailer, settings=rt.settings
    )
    base = InvitationOut.model_validate(invitation, from_attributes=True).model_dump()
    return InvitationCreated(**base, token=raw), 201


@orgs.get("/<org_id>/invitations")
@require_user
@validate_response(list[InvitationOut])
async def list_invitations(org_id: str) -> list[InvitationOut]:
    """Pending invitations (admins)."""
    found = await service.list_invitations(current_principal(), org_id)
    return [InvitationOut.model_validate(i, from_attributes=True) for i in found]


@orgs.delete("/<org_id>/invitations/<invitation_id>")
@require_user
@no_content("Revoked")
async def revoke_invitation(org_id: str, invitation_id: str) -> tuple[str, int]:
    """Revoke a pending invitation (admins)."""
    await service.revoke_invitation(current_principal(), org_id, invitation_id)
    return "", 204


@invitations.post("/<token>/accept")
@require_user
@validate_response(OrgOut)
async def accept_invitation(token: str) -> OrgOut:
    """Join the org of an invitation addressed to the caller."""
    principal = current_principal()
    org = await service.accept_invitation(principal, token)
    acting = await service.in_org(principal, str(org.id))
    return _org(org, acting.role)


@orgs.get("/<org_id>/groups")
@require_user
@validate_response(list[GroupOut])
async def list_groups(org_id: str) -> list[GroupOut]:
    """Groups of the org (admins)."""
    return [
        GroupOut.model_validate(g, from_attributes=True) for g in await service.list_groups(current_principal(), org_id)
    ]


@orgs.post("/<org_id>/groups")
@require_user
@validate_request(GroupIn)
@validate_response(GroupOut, 201)
async def create_group(org_id: str, data: GroupIn) -> tuple[GroupOut, int]:
    """A new group (admins)."""
    group = await service.create_group(current_principal(), org_id, data.name, data.description)
    return GroupOut.model_validate(group, from_attributes=True), 201


@orgs.get("/<org_id>/groups/<group_id>")
@require_user
@validate_response(GroupOut)
async def get_group(org_id: str, group_id: str) -> GroupOut:
    """One group (admins)."""
    _, group = await service.get_group(current_principal(), org_id, group_id)
    return GroupOut.model_validate(group, from_attributes=True)


@orgs.patch("/<org_id>/groups/<group_id>")
@require_user
@validate_request(GroupPatch)
@validate_response(GroupOut)
async def update_group(org_id: str, group_id: str, data: GroupPatch) -> GroupOut:
    """Rename or describe a group (admins)."""
    group = await service.update_group(current_principal(), org_id, group_id, data.name, data.description)
    return GroupOut.model_validate(group, from_attributes=True)


@orgs.delete("/<org_id>/groups/<group_id>")
@require_user
@no_content("Deleted")
async def delete_group(org_id: str, group_id: str) -> tuple[str, int]:
    """Delete a group (admins)."""
    await service.delete_group(current_principal(), org_id, group_id)
    return "", 204


@orgs.get("/<org_id>/groups/<group_id>/members")
@require_user
@validate_response(list[GroupMemberOut])
async def list_group_members(org_id: str, group_id: str) -> list[GroupMemberOut]:
    """Members of a group (admins)."""
    return [_group_member(m) for m in await service.group_members(current_principal(), org_id, group_id)]


@orgs.put("/<org_id>/groups/<group_id>/members/<user_id>")
@require_user
@validate_request(GroupMemberIn)
@validate_response(GroupMemberOut)
async def put_group_member(org_id: str, group_id: str, user_id: str, data: GroupMemberIn) -> GroupMemberOut:
    """Add a member to a group or change their group role (admins)."""
    member = await service.put_group_member(current_principal(), org_id, group_id, user_id, data.role)
    await member.fetch_related("user")
    return _group_member(member)


@orgs.delete("/<org_id>/groups/<group_id>/members/<user_id>")
@require_user
@no_content("Removed from the group")
async def remove_group_member(org_id: str, group_id: str, user_id: str) -> tuple[str, int]:
    """Take a member out of a group (admins)."""
    await service.remove_group_member(current_principal(), org_id, group_id, user_id)
    return "", 204
