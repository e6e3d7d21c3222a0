"""Organizations, members, invitations and groups. Another org's things are always NotFound."""

from __future__ import annotations

import uuid
from dataclasses import replace
from datetime import UTC, datetime, timedelta

from tortoise.exceptions import IntegrityError
from tortoise.transactions import in_transaction

from switchboard.config import Settings
from switchboard.platform import links
from switchboard.platform.audit import service as audit
from switchboard.platform.auth import Principal
from switchboard.platform.errors import Conflict, Forbidden, Gone, NotFound
from switchboard.platform.identity.models import User
from switchboard.platform.ids import parse_id
from switchboard.platform.mailer import Mailer
from switchboard.platform.orgs.models import Group, GroupMember, Invitation, Membership, Org
from switchboard.platform.security import hash_token, new_token

INVITATION_DAYS = 7


async def in_org(principal: Principal, org_id: str) -> Principal:
    """The caller acting in `org_id`; NotFound unless they are a member."""
    key = parse_id(org_id, "Organization")
    if key == principal.org_id:
        return principal
    membership = await Membership.get_or_none(org_id=key, user_id=principal.user_id)
    if membership is None:
        raise NotFound("Organization not found")
    groups = await GroupMember.filter(user_id=principal.user_id, group__org_id=key).values_list("group_id", flat=True)
    return replace(principal, org_id=key, role=membership.role, group_ids=frozenset(groups))  # type: ignore[arg-type]


async def member_principal(acting: Principal, user_id: str | uuid.UUID) -> Principal:
    """The principal of another member of the acting org (admins only); NotFound for anyone else."""
    if str(user_id) == str(acting.user_id):
        return acting
    if not acting.is_admin:
        raise Forbidden("Only an organization admin can look at another member's access")
    try:
        key = user_id if isinstance(user_id, uuid.UUID) else uuid.UUID(str(user_id))
    except ValueError:
        raise NotFound("Member not found") from None
    membership = await Membership.get_or_none(org_id=acting.org_id, user_id=key).select_related("user")
    if membership is None:
        raise NotFound("Member not found")
    groups = await GroupMember.filter(user_id=key, group__org_id=acting.org_id).values_list("group_id", flat=True)
    return Principal(
        user_id=key,
        email=membership.user.email,
        org_id=acting.org_id,
        role=membership.role,
        group_ids=frozenset(groups),  # type: ignore[arg-type]
        auth_method=acting.auth_method,
        is_superadmin=membership.user.is_superadmin,
    )


def require_admin(principal: Principal) -> None:
    """Forbidden unless owner or admin of the org acted in."""
    if not principal.is_admin:
        raise Forbidden("Only an organization admin can do this")


async def list_orgs(principal: Principal) -> list[tuple[Org, str]]:
    """Orgs the caller belongs to, with their role in each."""
    memberships = await Membership.filter(user_id=principal.user_id).select_related("org").order_by("created_at")
    return [(m.org, m.role) for m in memberships]


async def create_org(principal: Principal, name: str) -> Org:
    """A new org owned by the caller."""
    async with in_transaction():
        org = await Org.create(name=name.strip())
        await Membership.create(org=org, user_id=principal.user_id, role="owner")
    await audit.record("org.created", actor=principal, org_id=org.id, target_type="org", target_id=org.id)
    return org


async def switch_org(principal: Principal, org_id: str) -> Org:
    """Make `org_id` the caller's active org."""
    acting = await in_org(principal, org_id)
    await User.filter(id=principal.user_id).update(active_org_id=acting.org_id)
    await audit.record("org.switched", actor=acting, target_type="org", target_id=acting.org_id)
    return await Org.get(id=acting.org_id)


async def list_members(principal: Principal, org_id: str) -> list[Membership]:
    """Members of an org the caller belongs to."""
    acting = await in_org(principal, org_id)
    return await Membership.filter(org_id=acting.org_id).select_related("user").order_by("created_at")


async def _membership(org_id: uuid.UUID, user_id: str) -> Membership:
    membership = await Membership.get_or_none(org_id=org_id, user_id=parse_id(user_id, "Member")).select_related("user")
    if membership is None:
        raise NotFound("Member not found")
    return membership


async def _other_owners(org_id: uuid.UUID, user_id: uuid.UUID) -> bool:
    return await Membership.filter(org_id=org_id, role="owner").exclude(user_id=user_id).exists()


async def change_role(principal: Principal, org_id: str, user_id: str, role: str) -> Membership:
    """Set a member's role; only owners grant or take ownership, and an org keeps at least one owner."""
    acting = await in_org(principal, org_id)
    require_admin(acting)
    membership = await _membership(acting.org_id, user_id)
    if "owner" in (role, membership.role) and acting.role != "owner":
        raise Forbidden("Only an owner can grant or remove ownership")
    if membership.role == "owner" and role != "owner" and not await _other_owners(acting.org_id, membership.user.id):
        raise Conflict("An organization needs at least one owner", code="last_owner")
    before = membership.role
    membership.role = role
    await membership.save(update_fields=["role"])
    await audit.record(
        "member.role_changed",
        actor=acting,
        target_type="user",
        target_id=membership.user.id,
        details={"from": before, "to": role},
    )
    return membership


async def remove_member(principal: Principal, org_id: str, user_id: str) -> None:
    """Remove a member (and their group memberships in the org)."""
    acting = await in_org(principal, org_id)
    require_admin(acting)
    membership = await _membership(acting.org_id, user_id)
    if membership.role == "owner" and acting.role != "owner":
        raise Forbidden("Only an owner can remove an owner")
    if membership.role == "owner" and not await _other_owners(acting.org_id, membership.user.id):
        raise Conflict("An organization needs at least one owner", code="last_owner")
    async with in_transaction():
        await GroupMember.filter(user_id=membership.user.id, group__org_id=acting.org_id).delete()
        await membership.delete()
        await User.filter(id=membership.user.id, active_org_id=acting.org_id).update(active_org_id=None)
    await audit.record("member.removed", actor=acting, target_type="user", target_id=membership.user.id)


async def invite(
    principal: Principal, org_id: str, email: str, role: str, *, mailer: Mailer, settings: Settings
) -> tuple[Invitation, str]:
    """Invite `email` with `role`; the raw token is mailed and returned once."""
    acting = await in_org(principal, org_id)
    require_admin(acting)
    if role == "owner" and acting.role != "owner":
        raise Forbidden("Only an owner can invite an owner")
    email = email.strip().lower()
    if await Membership.filter(org_id=acting.org_id, user__email=email).exists():
        raise Conflict("This person is already a member", code="already_member")
    raw = new_token()
    invitation = await Invitation.create(
        org_id=acting.org_id,
        email=email,
        role=role,
        token_hash=hash_token(raw),
        invited_by_id=acting.user_id,
        expires_at=datetime.now(UTC) + timedelta(days=INVITATION_DAYS),
    )
    org = await Org.get(id=acting.org_id)
    await mailer.send(
        email,
        f"You are invited to {org.name} on Switchboard",
        f"{org.name} invites you to join it. Accept here (the link is valid {INVITATION_DAYS} days):\n\n"
        f"{links.token_url(settings, '/invitations/', raw)}\n\nOr accept with this token:\n\n{raw}\n",
    )
    await audit.record(
        "invitation.created",
        actor=acting,
        target_type="invitation",
        target_id=invitation.id,
        details={"email": email, "role": role},
    )
    return invitation, raw


async def list_invitations(principal: Principal, org_id: str) -> list[Invitation]:
    """Pending invitations of the org."""
    acting = await in_org(principal, org_id)
    require_admin(acting)
    return await Invitation.filter(org_id=acting.org_id, accepted_at=None, revoked_at=None).order_by("-created_at")


async def revoke_invitation(principal: Principal, org_id: str, invitation_id: str) -> None:
    """Revoke a pending invitation."""
    acting = await in_org(principal, org_id)
    require_admin(acting)
    invitation = await Invitation.get_or_none(id=parse_id(invitation_id, "Invitation"), org_id=acting.org_id)
    if invitation is None:
        raise NotFound("Invitation not found")
    if invitation.accepted_at is not None:
        raise Conflict("This invitation was already accepted", code="invitation_accepted")
    invitation.revoked_at = datetime.now(UTC)
    await invitation.save(update_fields=["revoked_at"])
    await audit.record("invitation.revoked", actor=acting, target_type="invitation", target_id=invitation.id)


async def accept_invitation(principal: Principal, raw: str) -> Org:
    """Join the invitation's org; the invitation must be addressed to the caller's email."""
    invitation = await Invitation.get_or_none(token_hash=hash_token(raw))
    if invitation is None or invitation.email != principal.email.lower():
        raise NotFound("Invitation not found")
    if invitation.accepted_at is not None:
        raise Conflict("This invitation was already accepted", code="invitation_accepted")
    if invitation.revoked_at is not None or invitation.expires_at < datetime.now(UTC):
        raise Gone("This invitation has expired or was revoked", code="invitation_expired")
    async with in_transaction():
        try:
            await Membership.create(
                org_id=invitation.org_id,
                user_id=principal.user_id,
                role=invitation.role,
            )
        except IntegrityError:
            raise Conflict("You are already a member", code="already_member") from None
        invitation.accepted_at = datetime.now(UTC)
        await invitation.save(update_fields=["accepted_at"])
    await audit.record(
        "invitation.accepted",
        actor=principal,
        org_id=invitation.org_id,
        target_type="invitation",
        target_id=invitation.id,
    )
    return await Org.get(id=invitation.org_id)


async def list_groups(principal: Principal, org_id: str) -> list[Group]:
    """Groups of the org."""
    acting = await in_org(principal, org_id)
    require_admin(acting)
    return await Group.filter(org_id=acting.org_id).order_by("name")


async def get_group(principal: Principal, org_id: str, group_id: str) -> tuple[Principal, Group]:
    """A group of the org, or NotFound."""
    acting = await in_org(principal, org_id)
    require_admin(acting)
    group = await Group.get_or_none(id=parse_id(group_id, "Group"), org_id=acting.org_id)
    if group is None:
        raise NotFound("Group not found")
    return acting, group


async def create_group(principal: Principal, org_id: str, name: str, description: str) -> Group:
    """A new group in the org; names are unique per org."""
    acting = await in_org(principal, org_id)
    require_admin(acting)
    try:
        group = await Group.create(org_id=acting.org_id, name=name.strip(), description=description)
    except IntegrityError:
        raise Conflict("A group with this name already exists", code="group_name_taken") from None
    await audit.record(
        "group.created", actor=acting, target_type="group", target_id=group.id, details={"name": group.name}
    )
    return group


async def update_group(
    principal: Principal, org_id: str, group_id: str, name: str | None, description: str | None
) -> Group:
    """Rename or describe a group."""
    acting, group = await get_group(principal, org_id, group_id)
    if name is not None:
        group.name = name.strip()
    if description is not None:
        group.description = description
    try:
        await group.save()
    except IntegrityError:
        raise Conflict("A group with this name already exists", code="group_name_taken") from None
    await audit.record("group.updated", actor=acting, target_type="group", target_id=group.id)
    return group


async def delete_group(principal: Principal, org_id: str, group_id: str) -> None:
    """Delete a group and its memberships."""
    acting, group = await get_group(principal, org_id, group_id)
    await group.delete()
    await audit.record("group.deleted", actor=acting, target_type="group", target_id=group.id)


async def group_members(principal: Principal, org_id: str, group_id: str) -> list[GroupMember]:
    """Members of a group."""
    _, group = await get_group(principal, org_id, group_id)
    return await GroupMember.filter(group_id=group.id).select_related("user").order_by("created_at")


async def put_group_member(principal: Principal, org_id: str, group_id: str, user_id: str, role: str) -> GroupMember:
    """Add an org member to a group, or change their group role (one membership per group)."""
    acting, group = await get_group(principal, org_id, group_id)
    membership = await _membership(acting.org_id, user_id)
    member, created = await GroupMember.get_or_create(
        group_id=group.id, user_id=membership.user.id, defaults={"role": role}
    )
    if not created and member.role != role:
        member.role = role
        await member.save(update_fields=["role"])
    await audit.record(
        "group.member_set",
        actor=acting,
        target_type="group",
        target_id=group.id,
        details={"user_id": str(membership.user.id), "role": role},
    )
    return member


async def remove_group_member(principal: Principal, org_id: str, group_id: str, user_id: str) -> None:
    """Take a user out of a group."""
    acting, group = await get_group(principal, org_id, group_id)
    deleted = await GroupMember.filter(group_id=group.id, user_id=parse_id(user_id, "Member")).delete()
    if not deleted:
        raise NotFound("Member not found")
    await audit.record(
        "group.member_removed", actor=acting, target_type="group", target_id=group.id, details={"user_id": user_id}
    )


async def groups_of(principal: Principal) -> list[Group]:
    """The caller's groups in the active org."""
    return await Group.filter(org_id=principal.org_id, members__user_id=principal.user_id).order_by("name")


async def group_names(group_ids: list[uuid.UUID]) -> dict[str, str]:
    """The names of these groups, by id (ids the caller already holds: their own groups, a tier's group)."""
    return {str(gid): name for gid, name in await Group.filter(id__in=group_ids).values_list("id", "name")}
