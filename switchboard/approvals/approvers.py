"""Who may decide an approval: listed users, members of listed groups, holders of listed roles."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from tortoise.expressions import Q

from switchboard.approvals.models import Approval
from switchboard.platform.auth import Principal
from switchboard.platform.errors import ValidationFailed
from switchboard.platform.orgs.models import ROLES, GroupMember, Membership


@dataclass(frozen=True)
class Eligible:
    """A person who may decide, and where to mail them."""

    user_id: uuid.UUID
    email: str


def normalise(approvers: dict[str, Any]) -> dict[str, list[str]]:
    """`{users, groups, roles}` as lists of strings (ids as text), unknown keys and roles refused."""
    unknown = set(approvers) - {"users", "groups", "roles"}
    if unknown:
        raise ValidationFailed(
            "Approvers are given as users, groups and roles",
            details=[{"field": f"approvers.{key}", "message": "unknown approver kind"} for key in sorted(unknown)],
        )
    result: dict[str, list[str]] = {}
    for key in ("users", "groups", "roles"):
        values = [str(v) for v in approvers.get(key) or []]
        if key != "roles":
            for value in values:
                try:
                    uuid.UUID(value)
                except ValueError:
                    detail = {"field": f"approvers.{key}", "message": f"not an id: {value}"}
                    raise ValidationFailed("Approvers must be ids", details=[detail]) from None
        elif bad := [v for v in values if v not in ROLES]:
            raise ValidationFailed(
                "Unknown role", details=[{"field": "approvers.roles", "message": f"not a role: {', '.join(bad)}"}]
            )
        result[key] = sorted(set(values))
    return result


def may_decide(approval: Approval, principal: Principal) -> bool:
    """Whether the caller is one of the approval's approvers (self-approval is checked apart)."""
    listed = approval.approvers
    return (
        str(principal.user_id) in listed.get("users", [])
        or any(str(group) in listed.get("groups", []) for group in principal.group_ids)
        or principal.role in listed.get("roles", [])
    )


async def resolve(org_id: uuid.UUID, approvers: dict[str, list[str]]) -> list[Eligible]:
    """The org's members the approvers name, as they are now (someone who left the org is nobody)."""
    in_groups = GroupMember.filter(group_id__in=approvers["groups"], group__org_id=org_id).values_list(
        "user_id", flat=True
    )
    named = Q(user_id__in=approvers["users"]) | Q(role__in=approvers["roles"]) | Q(user_id__in=await in_groups)
    rows = await Membership.filter(named, org_id=org_id).values_list("user_id", "user__email")
    return sorted({Eligible(user_id, email) for user_id, email in rows}, key=lambda e: e.email)
