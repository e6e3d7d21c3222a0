"""Accounts: registration, sign-in, sessions, passwords, verification, export and deletion."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from tortoise.exceptions import IntegrityError
from tortoise.expressions import Q
from tortoise.transactions import in_transaction

from switchboard.config import Settings
from switchboard.platform import links
from switchboard.platform.audit import service as audit
from switchboard.platform.auth import Principal
from switchboard.platform.errors import (
    Conflict,
    Forbidden,
    Gone,
    InvalidCode,
    InvalidCredentials,
    NotFound,
    RefreshReused,
    Unauthorized,
    ValidationFailed,
)
from switchboard.platform.identity import twofactor
from switchboard.platform.identity.models import ApiKey, OneTimeToken, RefreshToken, Session, User
from switchboard.platform.identity.schemas import MAX_SETTINGS
from switchboard.platform.mailer import Mailer
from switchboard.platform.orgs.models import Invitation, Membership, Org
from switchboard.platform.ratelimit import RateLimiter
from switchboard.platform.security import (
    hash_password,
    hash_token,
    issue_access_token,
    new_token,
    password_needs_rehash,
    verify_password,
    verify_sign_in,
)

SESSION_DAYS = 30
VERIFY_HOURS = 48
RESET_MINUTES = 60
DELETION_GRACE_DAYS = 30


@dataclass(frozen=True)
class SignIn:
    """What a successful sign-in or refresh hands the client."""

    user: User
    access_token: str
    expires_in: int
    refresh_token: str
    session_token: str | None


def _now() -> datetime:
    return datetime.now(UTC)


def normalise_email(email: str) -> str:
    """Emails compare case-insensitively."""
    return email.strip().lower()


async def register(
    email: str,
    password: str,
    name: str,
    *,
    mailer: Mailer,
    settings: Settings,
    ip: str | None,
    invitation_token: str | None = None,
) -> User:
    """A new user with a personal org they own; sends a verification mail.

    An open invitation's token for this address confirms the address (no mail). With `SIGNUP=invited` the
    token is required: 403 `signup_by_invitation` without one that fits.
    """
    email = normalise_email(email)
    invited = bool(invitation_token) and await _invited(email, invitation_token or "")
    if settings.signup == "invited" and not invited:
        raise Forbidden(
            "Accounts here are made by invitation: open the link in your invitation mail to create yours",
            code="signup_by_invitation",
        )
    try:
        async with in_transaction():
            user = await User.create(
                email=email, name=name.strip(), password_hash=hash_password(password), email_verified=invited
            )
            org = await Org.create(name=f"{user.name or email}'s workspace", personal=True)
            await Membership.create(org=org, user=user, role="owner")
            user.active_org = org
            await user.save(update_fields=["active_org_id"])
    except IntegrityError:
        raise Conflict("An account with this email already exists", code="email_taken") from None
    await audit.record(
        "user.registered",
        org_id=org.id,
        actor_id=user.id,
        actor_email=email,
        target_type="user",
        target_id=user.id,
        ip=ip,
    )
    if not invited:
        await send_verification(user, mailer, settings)
    return user


async def _invited(email: str, token: str) -> bool:
    """Whether `token` is an open invitation (neither accepted, revoked nor expired) to this address."""
    return await Invitation.filter(
        token_hash=hash_token(token), email=email, accepted_at=None, revoked_at=None, expires_at__gt=datetime.now(UTC)
    ).exists()


async def send_verification(user: User, mailer: Mailer, settings: Settings) -> None:
    """Mail a fresh email-verification link (and its token, for the API)."""
    raw = await _one_time_token(user, "verify_email", timedelta(hours=VERIFY_HOURS))
    await mailer.send(
        user.email,
        "Verify your Switchboard email",
        f"Confirm your address here (the link is valid {VERIFY_HOURS} hours):\n\n"
        f"{links.token_url(settings, '/verify-email', raw)}\n\nOr confirm it with this token:\n\n{raw}\n",
    )


async def _one_time_token(user: User, purpose: str, ttl: timedelta) -> str:
    raw = new_token()
    await OneTimeToken.create(user=user, purpose=purpose, token_hash=hash_token(raw), expires_at=_now() + ttl)
    return raw


async def _consume(raw: str, purpose: str) -> User:
    """The user of an unused, unexpired token; 404 unknown, 410 expired, 409 used."""
    token = await OneTimeToken.get_or_none(token_hash=hash_token(raw), purpose=purpose).select_related("user")
    if token is None:
        raise NotFound("This link is not valid", code="token_not_found")
    if token.used_at is not None:
        raise Conflict("This link was already used", code="token_used")
    if token.expires_at < _now():
        raise Gone("This link has expired", code="token_expired")
    updated = await OneTimeToken.filter(id=token.id, used_at=None).update(used_at=_now())
    if not updated:  # a concurrent request used it first
        raise Conflict("This link was already used", code="token_used")
    return token.user


async def _open_session(user: User) -> tuple[str, str]:
    session_raw, refresh_raw = new_token(), new_token()
    session = await Session.create(
        user=user, session_token_hash=hash_token(session_raw), expires_at=_now() + timedelta(days=SESSION_DAYS)
    )
    await RefreshToken.create(session=session, token_hash=hash_token(refresh_raw))
    return session_raw, refresh_raw


async def login(
    email: str,
    password: str,
    *,
    secret_key: str,
    limiter: RateLimiter,
    ip: str | None,
    otp: str | None = None,
    settings: Settings | None = None,
) -> SignIn:
    """Check the password and, when on, the second factor (with lockout after repeated failures); open a session."""
    email = normalise_email(email)
    await limiter.hit("login", ip or "unknown")
    await limiter.check("login_failures", email, "Too many failed sign-ins; try again later")
    user = await User.get_or_none(email=email)
    # argon2 is slow on purpose: off the event loop
    valid = await asyncio.to_thread(verify_sign_in, user.password_hash if user else None, password)
    if user is None or not valid:
        await limiter.hit("login_failures", email, "Too many failed sign-ins; try again later")
        await audit.record(
            "auth.login",
            outcome="failure",
            actor_id=user.id if user else None,
            actor_email=email,
            org_id=user.active_org_id if user else None,
            ip=ip,
            details={"reason": "invalid_credentials"},
        )
        raise InvalidCredentials()
    if user.totp_enabled:
        assert settings is not None
        try:
            await twofactor.check(user, otp, settings)
        except InvalidCode:
            await limiter.hit("login_failures", email, "Too many failed sign-ins; try again later")
            await audit.record(
                "auth.login",
                outcome="failure",
                actor_id=user.id,
                actor_email=email,
                ip=ip,
                org_id=user.active_org_id,
                details={"reason": "invalid_otp"},
            )
            raise
    await limiter.clear("login_failures", email)
    if password_needs_rehash(user.password_hash):  # the hashing cost changed: the stored hash follows it
        rehashed = await asyncio.to_thread(hash_password, password)
        # only over the hash just checked: a password changed meanwhile stays changed
        await User.filter(id=user.id, password_hash=user.password_hash).update(password_hash=rehashed)
    if user.delete_requested_at is not None:
        user.delete_requested_at = None
        await user.save(update_fields=["delete_requested_at"])
        await audit.record(
            "account.deletion_cancelled", actor_id=user.id, actor_email=email, ip=ip, org_id=user.active_org_id
        )
    session_raw, refresh_raw = await _open_session(user)
    await audit.record("auth.login", actor_id=user.id, actor_email=email, org_id=user.active_org_id, ip=ip)
    access, expires = issue_access_token(secret_key, str(user.id), user.token_version)
    return SignIn(user, access, expires, refresh_raw, session_raw)


async def refresh(raw: str | None, *, secret_key: str, ip: str | None) -> SignIn:
    """Rotate a refresh token; a reused one revokes its whole family (the session)."""
    if not raw:
        raise Unauthorized("No refresh token")
    token = await RefreshToken.get_or_none(token_hash=hash_token(raw)).select_related("session", "session__user")
    if token is None:
        raise Unauthorized("Invalid refresh token")
    session = token.session
    if session.revoked_at is not None or session.expires_at < _now():
        raise Unauthorized("Your session has ended; sign in again")
    rotated = await RefreshToken.filter(id=token.id, used_at=None).update(used_at=_now())
    if not rotated:
        session.revoked_at = _now()
        await session.save(update_fields=["revoked_at"])
        await audit.record(
            "auth.refresh_reused",
            outcome="failure",
            actor_id=session.user.id,
            actor_email=session.user.email,
            org_id=session.user.active_org_id,
            ip=ip,
            target_type="session",
            target_id=session.id,
        )
        raise RefreshReused()
    new_raw = new_token()
    await RefreshToken.create(session=session, token_hash=hash_token(new_raw))
    user = session.user
    access, expires = issue_access_token(secret_key, str(user.id), user.token_version)
    return SignIn(user, access, expires, new_raw, None)


async def logout(principal: Principal, *, refresh_raw: str | None, session_raw: str | None) -> None:
    """Revoke the session named by either cookie."""
    sessions = Session.filter(user_id=principal.user_id, revoked_at=None)
    if session_raw:
        await sessions.filter(session_token_hash=hash_token(session_raw)).update(revoked_at=_now())
    if refresh_raw:
        token = await RefreshToken.get_or_none(token_hash=hash_token(refresh_raw))
        if token is not None:
            await sessions.filter(id=token.session_id).update(revoked_at=_now())
    await audit.record("auth.logout", actor=principal)


async def get_user(principal: Principal) -> User:
    """The caller's user row."""
    return await User.get(id=principal.user_id)


async def update_profile(principal: Principal, name: str) -> User:
    """Change the display name."""
    user = await get_user(principal)
    user.name = name.strip()
    await user.save(update_fields=["name"])
    await audit.record("user.profile_updated", actor=principal, target_type="user", target_id=user.id)
    return user


async def update_settings(principal: Principal, changes: dict[str, Any]) -> User:
    """Merge `changes` into the user's settings (a null value removes a key)."""
    user = await get_user(principal)
    merged = {**user.settings, **changes}
    kept = {k: v for k, v in merged.items() if v is not None}
    if len(kept) > MAX_SETTINGS:
        raise ValidationFailed(
            details=[{"field": "settings", "message": f"At most {MAX_SETTINGS} settings are kept", "type": "too_long"}]
        )
    user.settings = kept
    await user.save(update_fields=["settings"])
    await audit.record(
        "user.settings_updated",
        actor=principal,
        target_type="user",
        target_id=user.id,
        details={"keys": sorted(changes)},
    )
    return user


async def _set_password(user: User, new_password: str) -> None:
    user.password_hash = hash_password(new_password)
    user.token_version += 1
    await user.save(update_fields=["password_hash", "token_version"])
    await Session.filter(user_id=user.id, revoked_at=None).update(revoked_at=_now())


async def change_password(principal: Principal, current: str, new: str) -> None:
    """Replace the password and end every session and access token of the user."""
    user = await get_user(principal)
    if not verify_password(user.password_hash, current):
        await audit.record(
            "user.password_changed", actor=principal, outcome="failure", details={"reason": "wrong_current_password"}
        )
        raise InvalidCredentials("The current password is wrong")
    await _set_password(user, new)
    await audit.record("user.password_changed", actor=principal, target_type="user", target_id=user.id)


async def verify_email(raw: str) -> None:
    """Mark the token's user verified."""
    user = await _consume(raw, "verify_email")
    user.email_verified = True
    await user.save(update_fields=["email_verified"])
    await audit.record("user.email_verified", actor_id=user.id, actor_email=user.email, org_id=user.active_org_id)


async def resend_verification(email: str, *, mailer: Mailer, settings: Settings, limiter: RateLimiter) -> None:
    """Send another verification mail; answers the same whether or not the account exists."""
    email = normalise_email(email)
    await limiter.hit("resend_verification", email)
    user = await User.get_or_none(email=email)
    if user is not None and not user.email_verified:
        await send_verification(user, mailer, settings)


async def forgot_password(
    email: str, *, mailer: Mailer, settings: Settings, limiter: RateLimiter, ip: str | None
) -> None:
    """Mail a reset token; answers the same whether or not the account exists."""
    email = normalise_email(email)
    await limiter.hit("forgot_password", email)
    user = await User.get_or_none(email=email)
    if user is None:
        return
    raw = await _one_time_token(user, "reset_password", timedelta(minutes=RESET_MINUTES))
    await mailer.send(
        email,
        "Reset your Switchboard password",
        f"Choose a new password here (the link is valid {RESET_MINUTES} minutes):\n\n"
        f"{links.token_url(settings, '/reset-password', raw)}\n\nOr use this token:\n\n{raw}\n",
    )
    await audit.record(
        "user.password_reset_requested", actor_id=user.id, actor_email=email, ip=ip, org_id=user.active_org_id
    )


async def reset_password(raw: str, new_password: str, *, ip: str | None) -> None:
    """Set a new password from a reset token; ends every session."""
    user = await _consume(raw, "reset_password")
    await _set_password(user, new_password)
    await audit.record(
        "user.password_reset", actor_id=user.id, actor_email=user.email, ip=ip, org_id=user.active_org_id
    )


async def request_deletion(principal: Principal, password: str) -> datetime:
    """Schedule the account's purge after the grace period; signing in again cancels it."""
    user = await get_user(principal)
    if not verify_password(user.password_hash, password):
        raise InvalidCredentials("The password is wrong")
    user.delete_requested_at = _now()
    await user.save(update_fields=["delete_requested_at"])
    await Session.filter(user_id=user.id, revoked_at=None).update(revoked_at=_now())
    await ApiKey.filter(user_id=user.id, revoked_at=None).update(revoked_at=_now())
    await audit.record("account.deletion_requested", actor=principal, target_type="user", target_id=user.id)
    return user.delete_requested_at + timedelta(days=DELETION_GRACE_DAYS)


async def purge_deleted_accounts() -> int:
    """Delete accounts whose grace period has passed (and personal orgs left without members)."""
    cutoff = _now() - timedelta(days=DELETION_GRACE_DAYS)
    doomed = await User.filter(delete_requested_at__lt=cutoff).values_list("id", flat=True)
    for user_id in doomed:
        async with in_transaction():
            orgs = await Membership.filter(user_id=user_id, org__personal=True).values_list("org_id", flat=True)
            await User.filter(id=user_id).delete()
            for org_id in orgs:
                if not await Membership.filter(org_id=org_id).exists():
                    await Org.filter(id=org_id).delete()
    return len(doomed)


async def export(principal: Principal) -> dict[str, Any]:
    """Everything Switchboard keeps about the caller, as one JSON document."""
    from switchboard.platform.audit.models import AuditLog

    user = await get_user(principal)
    memberships = await Membership.filter(user_id=user.id).select_related("org")
    keys = await ApiKey.filter(user_id=user.id)
    sessions = await Session.filter(user_id=user.id)
    events = await AuditLog.filter(actor_id=user.id).order_by("created_at")
    return {
        "user": {
            "id": str(user.id),
            "email": user.email,
            "name": user.name,
            "email_verified": user.email_verified,
            "settings": user.settings,
            "created_at": user.created_at.isoformat(),
        },
        "memberships": [{"org_id": str(m.org.id), "org_name": m.org.name, "role": m.role} for m in memberships],
        "api_keys": [
            {
                "id": str(k.id),
                "name": k.name,
                "prefix": k.prefix,
                "created_at": k.created_at.isoformat(),
                "revoked_at": k.revoked_at.isoformat() if k.revoked_at else None,
            }
            for k in keys
        ],
        "sessions": [
            {
                "id": str(s.id),
                "created_at": s.created_at.isoformat(),
                "revoked_at": s.revoked_at.isoformat() if s.revoked_at else None,
            }
            for s in sessions
        ],
        "audit": [
            {"action": e.action, "outcome": e.outcome, "ip": e.ip, "created_at": e.created_at.isoformat()}
            for e in events
        ],
        "exported_at": _now().isoformat(),
    }


async def create_admin(email: str, password: str, name: str = "Admin", org_name: str = "Default") -> User:
    """A platform superadmin who owns a new org (the first admin, or `switchboard create-admin`)."""
    email = normalise_email(email)
    async with in_transaction():
        org = await Org.create(name=org_name)
        user = await User.create(
            email=email,
            name=name,
            password_hash=hash_password(password),
            email_verified=True,
            is_superadmin=True,
            active_org=org,
        )
        await Membership.create(org=org, user=user, role="owner")
    await audit.record(
        "user.admin_created", org_id=org.id, actor_id=user.id, actor_email=email, target_type="user", target_id=user.id
    )
    return user


async def has_users() -> bool:
    """True once anybody has an account."""
    return await User.exists()


DEAD_SESSION_DAYS = 30


async def purge_dead_sessions() -> int:
    """Delete sessions expired or revoked over DEAD_SESSION_DAYS ago (with their refresh tokens); how many."""
    cutoff = _now() - timedelta(days=DEAD_SESSION_DAYS)
    dead = await Session.filter(Q(expires_at__lt=cutoff) | Q(revoked_at__lt=cutoff)).values_list("id", flat=True)
    if not dead:
        return 0
    async with in_transaction():
        await RefreshToken.filter(session_id__in=dead).delete()
        return await Session.filter(id__in=dead).delete()


async def bootstrap_admin(email: str) -> tuple[str, str]:
    """The first-run link's work: the first superadmin, signed in (session and refresh tokens).

    Only while nobody has an account; the second use finds the first admin and is refused, and two
    uses at once cannot both create one (the email is unique).
    """
    if await has_users():
        raise NotFound("This link is not valid", code="bootstrap_disarmed")
    try:
        user = await create_admin(email, new_token())
    except IntegrityError:
        raise NotFound("This link is not valid", code="bootstrap_disarmed") from None
    return await _open_session(user)
