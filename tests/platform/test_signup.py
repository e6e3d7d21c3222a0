"""`SIGNUP=invited`: a private Switchboard makes accounts only for addresses someone invited."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from switchboard.platform.identity.models import User
from switchboard.platform.orgs.models import Invitation
from tests.support.accounts import PASSWORD, sign_up

REGISTER = "/api/v1/auth/register"


async def _invite(owner, email: str) -> str:
    invited = await owner.post(f"/api/v1/orgs/{owner.org_id}/invitations", json={"email": email, "role": "member"})
    assert invited.status_code == 201, await invited.get_data(as_text=True)
    return (await invited.get_json())["token"]


async def test_with_signup_by_invitation_only_an_invited_address_gets_an_account(
    app, signup, client, settings, monkeypatch
):
    owner = await signup(name="Olive Owner")
    monkeypatch.setattr(settings, "signup", "invited")

    stranger = await client.post(REGISTER, json={"email": "stranger@example.com", "password": PASSWORD})
    assert stranger.status_code == 403 and (await stranger.get_json())["error"] == "signup_by_invitation"
    assert not await User.filter(email="stranger@example.com").exists(), "a refusal leaves no account behind"

    # revoked and expired invitations open nothing
    await _invite(owner, "revoked@example.com")
    await Invitation.filter(email="revoked@example.com").update(revoked_at=datetime.now(UTC))
    await _invite(owner, "late@example.com")
    await Invitation.filter(email="late@example.com").update(expires_at=datetime.now(UTC) - timedelta(minutes=1))
    for email in ("revoked@example.com", "late@example.com"):
        refused = await client.post(REGISTER, json={"email": email, "password": PASSWORD})
        assert refused.status_code == 403, email

    # the invited address registers (its case as typed), accepts, and is a member of the org that asked
    token = await _invite(owner, "guest@example.com")
    guest = await sign_up(app, email="Guest@Example.com", name="Gus Guest")
    joined = await guest.post(f"/api/v1/invitations/{token}/accept")
    assert joined.status_code == 200, await joined.get_data(as_text=True)
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
