"""The integrations page in a real browser: the catalog, a connection that needs reconnecting, a refused
connect, disconnecting; at phone width, with no console errors and axe-clean."""

from __future__ import annotations

import uuid

import httpx
from playwright.async_api import Page, expect
from quart import Quart

from switchboard.integrations import Connection
from tests.web.conftest import Person, sign_in
from tests.web.workflow_support import axe_violations, horizontal_overflow


async def test_connections_show_their_status_refusals_are_explained_and_disconnect_works(
    page: Page, person: Person, app: Quart, live_url: str
):
    me = await _user_id(person, live_url)
    await Connection.create(
        org_id=uuid.UUID(person.org_id),
        user_id=me,
        connector="slack",
        auth="token",
        account="Acme / switchboard",
        settings={"base_url": "https://slack.com/api"},
        secret="not-a-real-secret",
        status="needs_reconnect",
        status_message="Slack refused the stored credentials (revoked or expired); connect Slack again",
    )
    console_errors: list[str] = []
    page.on("console", lambda message: console_errors.append(message.text) if message.type == "error" else None)
    await sign_in(page, person, "/integrations")
    card = page.locator(".connection").first
    await expect(card).to_contain_text("Needs reconnecting: Slack refused the stored credentials")
    await expect(page.locator(".connector[data-type='linear']")).to_contain_text("Linear")
    for width in (1280, 390):
        await page.set_viewport_size({"width": width, "height": 900})
        if width == 1280:  # an open connect form is part of what must fit
            await page.locator(".connector[data-type='webhook'] summary").click()
        scroll, client = await horizontal_overflow(page)
        assert scroll <= client, f"/integrations at {width} px scrolls sideways ({scroll} > {client})"
        assert await axe_violations(page) == [], f"/integrations at {width} px"
    assert console_errors == [], f"console errors: {console_errors}"

    # a receiver inside a private network is refused, and the page says why
    webhook = page.locator(".connector[data-type='webhook']")
    await webhook.get_by_label("url").fill("http://10.0.0.1/hook")
    await webhook.get_by_label("secret").fill("whsec_c2VjcmV0LXNlY3JldC1zZWNyZXQtc2VjcmV0")
    await webhook.get_by_role("button", name="Connect Outbound webhook").click()
    await expect(webhook.get_by_role("status")).to_contain_text("not allowed")

    await card.get_by_role("button", name="Disconnect").click()
    await expect(page.get_by_text("Nothing is connected yet.")).to_be_visible()
    assert await Connection.filter(user_id=me).count() == 0


async def _user_id(person: Person, live_url: str) -> uuid.UUID:
    async with httpx.AsyncClient(base_url=live_url, timeout=10) as client:
        me = (await client.get("/api/v1/auth/me", headers=person.headers)).json()
    return uuid.UUID(me["id"])
