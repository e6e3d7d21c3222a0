"""Every Tortoise model of the platform context (the `platform` app)."""

from switchboard.platform.audit.models import AuditLog
from switchboard.platform.identity.models import ApiKey, OneTimeToken, OutboxMail, RefreshToken, Session, User
from switchboard.platform.orgs.models import Group, GroupMember, Invitation, Membership, Org
from switchboard.platform.system.models import SystemCheck

__models__ = [
    AuditLog,
    ApiKey,
    Group,
    GroupMember,
    Invitation,
    Membership,
    OneTimeToken,
    Org,
    OutboxMail,
    RefreshToken,
    Session,
    SystemCheck,
    User,
]
