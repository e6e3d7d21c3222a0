"""`SIGNUP=invited`: a private Switchboard makes accounts only for addresses someone invited."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from switchboard.platform.identity.models import OutboxMail, User
from switchboard.platform.orgs.models import Invitation
from tests.support.accounts import PASSWORD, sign_in

REGISTER = "/api/v1/auth/register"


async def _invite(owner, email: str) -> str:
    invited = await owner.post(f"/api/v1/orgs/{owner.org_id}/invitations", json={"email": email, "role": "member"})
    assert invited.status_code == 201, await invited.get_data(as_text=True)
    return (await invited.get_json())["token"]


async def test_with_signup_by_invitation_only_the_invitations_token_makes_the_account(
    app, signup, client, settings, monkeypatch
):
    owner = await signup(name="Olive Owner")
    monkeypatch.setattr(settings, "signup", "invited")
    token = await _invite(owner, "guest@example.com")
    other = await _invite(owner, "other@example.com")

    def register(email: str, invitation_token: str | None = None):  # type: ignore[no-untyped-def]
        body = {"email": email, "password": PASSWORD, "name": "Gus Guest"}
        return client.post(REGISTER, json=body | ({"invitation_token": invitation_token} if invitation_token else {}))

    stranger = await register("stranger@example.com")
    assert stranger.status_code == 403 and (await stranger.get_json())["error"] == "signup_by_invitation"
    # knowing an invited address is not enough, nor is another address's invitation
    for refused in (await register("guest@example.com"), await register("guest@example.com", other)):
        assert refused.status_code == 403
    assert not await User.filter(email__in=["stranger@example.com", "guest@example.com"]).exists()

    # revoked and expired invitations open nothing
    revoked = await _invite(owner, "revoked@example.com")
    await Invitation.filter(email="revoked@example.com").update(revoked_at=datetime.now(UTC))
    late = await _invite(owner, "late@example.com")
    await Invitation.filter(email="late@example.com").update(expires_at=datetime.now(UTC) - timedelta(minutes=1))
    assert (await register("revoked@example.com", revoked)).status_code == 403
    assert (await register("late@example.com", late)).status_code == 403

    # the invited address with its token (in the case it was typed) registers, its address confirmed by the
    # invitation (no verification mail), and joins the org that asked
    made = await register("Guest@Example.com", token)
    assert made.status_code == 201, await made.get_data(as_text=True)
    guest = await sign_in(app, "guest@example.com")
    assert (await (await guest.get("/api/v1/auth/me")).get_json())["email_verified"] is True
    assert not await OutboxMail.filter(to="guest@example.com", subject__contains="Verify").exists()
    assert (await guest.post(f"/api/v1/invitations/{token}/accept")).status_code == 200
    members = await (await owner.get(f"/api/v1/orgs/{owner.org_id}/members")).get_json()
    assert "guest@example.com" in [m["email"] for m in members]


async def test_the_pages_offer_sign_up_only_where_it_can_succeed(signup, client, settings, monkeypatch):
    owner = await signup()
    token = await _invite(owner, "page-guest@example.com")
    assert "signup-form" in await (await client.get("/signup")).get_data(as_text=True)
    assert "Create an account" in await (await client.get("/login")).get_data(as_text=True)

    monkeypatch.setattr(settings, "signup", "invited")
    closed = await (await client.get("/signup")).get_data(as_text=True)
    assert "signup-form" not in closed and "Accounts here are made by invitation" in closed
    assert "Create an account" not in await (await client.get("/login")).get_data(as_text=True)
    # the invitation's own way in still offers the form
    on_the_way = await (await client.get(f"/signup?next=/invitations/{token}")).get_data(as_text=True)
    assert "signup-form" in on_the_way
