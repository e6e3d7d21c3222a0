"""The links in Switchboard's mails open the page that finishes the job: a forgotten password is replaced
from the reset mail, an address is confirmed from the welcome mail, an invitation opens its own page."""

from __future__ import annotations

import re
import uuid

import httpx
from playwright.async_api import Page, expect
from quart import Quart

from switchboard.platform.identity.models import OutboxMail
from tests.web.conftest import Person

LINK = re.compile(r"^(http://127\.0\.0\.1:\d+/\S+)$", re.MULTILINE)


async def _link_in_last_mail(to: str, subject: str) -> str:
    mail = await OutboxMail.filter(to=to, subject__contains=subject).order_by("-created_at").first()
    assert mail is not None, f"no mail to {to} about {subject}"
    found = LINK.search(mail.body)
    assert found, mail.body
    return found.group(1)


async def test_a_forgotten_password_is_replaced_from_the_link_in_the_mail(
    page: Page, person: Person, app: Quart, live_url: str
):
    await page.goto("/forgot-password")
    await page.get_by_label("Email").fill(person.email)
    await page.get_by_role("button", name="Send the reset mail").click()
    await expect(page.locator("#form-done")).to_contain_text("Open the link it carries")
    link = await _link_in_last_mail(person.email, "Reset your Switchboard password")
    assert link.startswith(live_url + "/reset-password?token="), "the mail names this server, not a guess"

    await page.goto(link)
    await expect(page.get_by_label("Token from the mail")).to_be_hidden()  # the link carried it
    await page.get_by_label("New password").fill("a brand new passphrase")
    await page.get_by_role("button", name="Set the password").click()
    await expect(page.locator("#form-done")).to_contain_text("Password changed")
    async with httpx.AsyncClient(base_url=live_url, timeout=10) as client:
        new = await client.post(
            "/api/v1/auth/login", json={"email": person.email, "password": "a brand new passphrase"}
        )
        old = await client.post("/api/v1/auth/login", json={"email": person.email, "password": person.password})
    assert new.status_code == 200 and old.status_code == 401


async def test_an_address_is_confirmed_from_the_link_in_the_welcome_mail(
    page: Page, person: Person, app: Quart, live_url: str
):
    link = await _link_in_last_mail(person.email, "Verify your Switchboard email")
    assert link.startswith(live_url + "/verify-email?token=")
    await page.goto(link)
    await page.get_by_role("button", name="Confirm the address").click()
    await expect(page.locator("#form-done")).to_contain_text("The address this mail was sent to is confirmed")
    assert "token" not in page.url, "the token leaves the address bar once it is in the form"
    async with httpx.AsyncClient(base_url=live_url, timeout=10) as client:
        me = (await client.get("/api/v1/auth/me", headers=person.headers)).json()
    assert me["email_verified"] is True
    # a link used once is spent: opened again, it says so instead of confirming twice
    await page.goto(link)
    await page.get_by_role("button", name="Confirm the address").click()
    await expect(page.locator("#form-error")).to_be_visible()
    await expect(page.get_by_label("Token from the mail")).to_be_visible()  # another one may be typed in


async def test_an_invitation_mail_links_to_its_invitation_page(page: Page, person: Person, app: Quart, live_url: str):
    email = f"web-{uuid.uuid4().hex[:10]}@example.com"
    async with httpx.AsyncClient(base_url=live_url, timeout=10) as client:
        invited = await client.post(
            f"/api/v1/orgs/{person.org_id}/invitations", headers=person.headers, json={"email": email, "role": "member"}
        )
    assert invited.status_code == 201, invited.text
    link = await _link_in_last_mail(email, "You are invited")
    assert link == f"{live_url}/invitations/{invited.json()['token']}"
    await page.goto(link)
    await expect(page.get_by_role("link", name="Create an account")).to_be_visible()
