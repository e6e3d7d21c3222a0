"""`make screenshots`: PNGs of the workflows list, the editor, a live run with its timeline, the approvals
inbox, settings, the admin console and the entry pages, at 1280 and 390 px, written to docs/screens/. Not part of
`make test` (the file name is not test_*)."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

import httpx
import pytest
from playwright.async_api import Page, expect

from tests.support.hook import HookServer
from tests.web.conftest import Person, sign_in
from tests.web.workflow_support import colleague_of, create_workflow, review_definition, use_model

SCREENS = Path(os.environ.get("SCREENSHOTS_DIR", "docs/screens"))


async def _shoot(page: Page, name: str) -> None:
    for width in (1280, 390):
        await page.set_viewport_size({"width": width, "height": 900})
        await asyncio.sleep(0.3)  # the drawing re-fits to the width
        suffix = "" if width == 1280 else "-phone"
        await page.screenshot(path=str(SCREENS / f"{name}{suffix}.png"), full_page=True)


@pytest.mark.timeout(300)
async def test_screenshots(page: Page, person: Person, live_url: str, hook_server: HookServer, fake_model) -> None:
    SCREENS.mkdir(parents=True, exist_ok=True)
    use_model(person, fake_model.base_url, live_url)
    colleague_of(person, live_url)
    review = create_workflow(person, live_url, review_definition(hook_server.url))
    create_workflow(person, live_url, {**review_definition(hook_server.url, name="Weekly supplier digest")})
    headers = person.headers
    with httpx.Client(base_url=live_url, headers=headers, timeout=10) as client:
        assert client.post(f"/api/v1/workflows/{review['id']}/activate").is_success
        started = client.post(f"/api/v1/workflows/{review['id']}/run", json={"input": {"amount": 250}}).json()
    await sign_in(page, person, f"/workflows/{review['id']}/runs/{started['run_id']}")
    await expect(page.locator("#run-graph [data-node-id='review']")).to_have_attribute(
        "data-state", "waiting_approval", timeout=60_000
    )
    await _shoot(page, "run")

    await page.goto("/workflows")
    await expect(page.locator(".workflow-row .last-run .badge").first).to_have_text("awaiting approval")
    await _shoot(page, "workflows")

    await page.goto(f"/workflows/{review['id']}")
    await page.locator("#graph [data-node-id='review']").click()
    await expect(page.locator("#inspector-heading")).to_contain_text("Manager review")
    await _shoot(page, "editor")

    # the inbox as an approver sees it (the run's starter may not approve their own request)
    bob_context = await page.context.browser.new_context(base_url=live_url)  # type: ignore[union-attr]
    bob_page = await bob_context.new_page()
    try:
        bob = colleague_of(person, live_url, name="Bea")
        await sign_in(bob_page, bob, "/approvals")
        await expect(bob_page.locator(".approval").first).to_be_visible()
        await _shoot(bob_page, "approvals")
    finally:
        await bob_context.close()


@pytest.mark.timeout(300)
async def test_chat_and_documents_screenshots(page: Page, person: Person, live_url: str, fake_model) -> None:
    """The chat page with a Markdown answer and its cited sources, the documents page with a search, a document."""
    from tests.web.test_chat_page import HOTELS, MEALS, _upload, table_responder

    SCREENS.mkdir(parents=True, exist_ok=True)
    _upload(person, live_url, "meals.md", MEALS)
    _upload(person, live_url, "hotels.md", HOTELS)
    fake_model.responder = table_responder
    use_model(person, fake_model.base_url, live_url)
    await sign_in(page, person)
    await page.get_by_label("Mode").select_option("ask")
    await page.get_by_label("Your question").fill("What may I spend on meals and hotels?")
    await page.get_by_role("button", name="Send").click()
    await expect(page.locator(".message.assistant .citation")).to_have_count(2)
    await _shoot(page, "chat")

    await page.goto("/documents")
    await page.get_by_label("Search your documents").fill("meal allowance")
    await page.get_by_role("button", name="Search").click()
    await expect(page.locator("#search-results li").first).to_contain_text("similar")
    await _shoot(page, "documents")

    await page.get_by_role("link", name="meals.md").first.click()
    await expect(page.locator(".passage").first).to_be_visible()
    await _shoot(page, "document")


@pytest.mark.timeout(300)
async def test_console_screenshots(page: Page, person: Person, live_url: str, fake_model) -> None:
    """Settings, the admin console and the entry pages."""
    SCREENS.mkdir(parents=True, exist_ok=True)
    await page.goto("/signup")
    await _shoot(page, "signup")
    await page.goto("/login")
    await _shoot(page, "login")
    await page.goto("/forgot-password")
    await _shoot(page, "forgot-password")
    await page.goto("/verify-email?token=from-the-mail")
    await _shoot(page, "verify-email")
    use_model(person, fake_model.base_url, live_url)
    bea = colleague_of(person, live_url, name="Bea")
    with httpx.Client(base_url=live_url, headers=person.headers, timeout=10) as client:
        group = client.post(f"/api/v1/orgs/{person.org_id}/groups", json={"name": "Contractors"}).json()
        assert client.put(
            f"/api/v1/orgs/{person.org_id}/groups/{group['id']}/members/{_user_id(bea, live_url)}", json={}
        ).is_success
        assert client.put(
            f"/api/v1/admin/agents/orgs/{person.org_id}/groups/{group['id']}/agents/calculator", json={"access": "deny"}
        ).is_success
        assert client.post(
            f"/api/v1/orgs/{person.org_id}/invitations", json={"email": "carla@example.com", "role": "member"}
        ).is_success
        assert client.post("/api/v1/auth/api-keys", json={"name": "nightly report"}).is_success
    await sign_in(page, person, "/settings")
    await expect(page.locator("#model-state")).to_contain_text("fake-model")
    await _shoot(page, "settings")
    await page.goto("/admin/members")
    await expect(page.locator("#member-rows tr")).to_have_count(2)
    await _shoot(page, "admin-members")
    await page.goto("/admin/groups")
    await expect(page.locator("section.group")).to_have_count(1)
    await _shoot(page, "admin-groups")
    await page.goto(f"/admin/agents?user={_user_id(bea, live_url)}")
    await expect(page.locator("section.agent[data-agent='calculator'] .effective").first).to_contain_text("denied")
    await _shoot(page, "admin-agents")
    await page.goto("/admin/audit")
    await expect(page.locator("#audit-rows tr").first).to_be_visible()
    await _shoot(page, "admin-audit")
    await page.goto("/admin/usage")
    await expect(page.locator("#usage-rows tr").first).to_be_visible()
    await _shoot(page, "admin-usage")
    await page.goto("/integrations")
    await expect(page.locator("h1")).to_be_visible()
    await _shoot(page, "integrations")
    await page.goto("/no/such/page")
    await _shoot(page, "not-found")

    bea_context = await page.context.browser.new_context(base_url=live_url)  # type: ignore[union-attr]
    try:
        bea_page = await bea_context.new_page()
        await sign_in(bea_page, bea, "/settings/permissions")
        await expect(bea_page.locator("section.permission").first).to_be_visible()
        await _shoot(bea_page, "permissions")
    finally:
        await bea_context.close()


def _user_id(who: Person, live_url: str) -> str:
    me = httpx.get(f"{live_url}/api/v1/auth/me", headers=who.headers, timeout=10).json()
    return str(me["id"])
