"""The console in a real browser: a new person signs up and secures the account, an admin runs the org, every page
fits a phone and passes axe."""

from __future__ import annotations

import re
import uuid
from pathlib import Path

import httpx
import pyotp
import pytest
from playwright.async_api import Browser, Page, expect

from tests.fakes.openai_server import Turn
from tests.support.accounts import PASSWORD
from tests.support.hook import HookServer
from tests.web.conftest import Person, sign_in
from tests.web.workflow_support import axe_violations, create_workflow, horizontal_overflow, review_definition

NEW_PASSWORD = "a much longer passphrase"


async def _log_in(page: Page, email: str, password: str, otp: str | None = None) -> None:
    await page.get_by_label("Email").fill(email)
    await page.get_by_label("Password").fill(password)
    await page.get_by_role("button", name="Sign in").click()
    if otp is not None:
        await expect(page.get_by_role("alert")).to_have_text("Enter the code from your authenticator app")
        await page.get_by_label("Code from your authenticator app").fill(otp)
        await page.get_by_role("button", name="Sign in").click()


@pytest.mark.timeout(240)
async def test_a_new_person_signs_up_secures_the_account_and_connects_a_model(page: Page, live_url: str, fake_model):
    email = f"new-{uuid.uuid4().hex[:10]}@example.com"
    await page.goto("/login")
    await page.get_by_role("link", name="Create an account").click()
    await page.get_by_label("Your name").fill("Nina")
    await page.get_by_label("Email").fill(email)
    await page.get_by_label("Password").fill(PASSWORD)
    await page.get_by_role("button", name="Create account").click()
    await expect(page).to_have_url(re.compile(r"/chat$"))

    # the password: every sign-in ends, then the new one works
    await page.goto("/settings")
    await expect(page.get_by_label("Name", exact=True)).to_have_value("Nina")
    await page.get_by_label("Current password").fill(PASSWORD)
    await page.get_by_label("New password").fill(NEW_PASSWORD)
    await page.get_by_role("button", name="Change password").click()
    await expect(page).to_have_url(re.compile(r"/login\?next=/settings$"))
    await _log_in(page, email, NEW_PASSWORD)
    await expect(page).to_have_url(re.compile(r"/settings$"))

    # two-factor: scan (read the key), confirm with a code, keep the recovery codes, then sign in with a code
    section = page.locator("#two-factor")
    await expect(section.locator("#two-factor-state")).to_contain_text("Off")
    await section.get_by_role("button", name="Set up two-factor sign-in").click()
    await expect(section.get_by_role("img", name="QR code of the authenticator key")).to_be_visible()
    secret = await section.get_by_label("Key").input_value()
    await section.get_by_label("Code from the app", exact=True).fill(pyotp.TOTP(secret).now())
    await section.get_by_role("button", name="Turn on two-factor sign-in").click()
    await expect(section.locator("#recovery-codes li")).to_have_count(10)
    await expect(section.locator("#two-factor-state")).to_contain_text("On")
    await page.get_by_role("button", name="Sign out").click()
    await expect(page).to_have_url(re.compile(r"/login$"))
    await _log_in(page, email, NEW_PASSWORD, otp=pyotp.TOTP(secret).now())
    await expect(page).to_have_url(re.compile(r"/chat$"))

    # an API key is shown once, and works
    await page.goto("/settings#api-keys")
    await page.get_by_label("Name of the new key").fill("report script")
    await page.get_by_role("button", name="Create key").click()
    await expect(page.locator("#new-key")).to_be_visible()
    raw_key = await page.get_by_label("The new key", exact=True).input_value()
    assert raw_key
    listed = page.locator("#api-key-list li", has_text="report script")
    await expect(listed).to_be_visible()
    assert raw_key not in (await listed.inner_text())
    me = httpx.get(f"{live_url}/api/v1/auth/me", headers={"Authorization": f"Bearer {raw_key}"}, timeout=10)
    assert me.status_code == 200 and me.json()["email"] == email and me.json()["two_factor"] is True
    await page.reload()
    assert raw_key not in await page.content(), "the raw key is never shown again"

    # a model: saved, then tested against the OpenAI-compatible server
    fake_model.script(Turn.reply("pong"))
    model = page.locator("#model")
    await expect(model.locator("#model-state")).to_contain_text("No model of your own")  # loaded: typing is kept
    await model.get_by_label("Provider").select_option("openai_compatible")
    await model.get_by_label("Base URL").fill(fake_model.base_url)
    await model.get_by_label("Chat model").fill("fake-model")
    await model.get_by_label("API key").fill("sk-test-123456")
    await model.get_by_role("button", name="Save model").click()
    await expect(model.locator("#model-state")).to_contain_text("fake-model at")
    await expect(model.locator("#model-state")).to_contain_text("key …")
    await model.get_by_role("button", name="Test connection").click()
    await expect(model.locator("#model-result")).to_contain_text("Connected: fake-model answered in")
    tested = [r for r in fake_model.requests if r.path == "/v1/chat/completions"][-1]
    assert tested.authorization == "Bearer sk-test-123456"
    assert "sk-test-123456" not in await page.content(), "the stored key is never shown"

    # a memory, added and forgotten
    await page.get_by_label("Something to remember").fill("I prefer answers in French")
    await page.get_by_role("button", name="Add", exact=True).click()
    memory = page.locator("#memory-list li", has_text="I prefer answers in French")
    await expect(memory).to_be_visible()
    await memory.get_by_role("button", name=re.compile("^Delete the memory")).click()
    await expect(page.locator("#memory-list")).to_contain_text("Nothing remembered yet.")


@pytest.mark.timeout(240)
async def test_an_admin_invites_groups_and_denies_an_agent_and_the_member_sees_why(
    page: Page, browser: Browser, person: Person, live_url: str, tmp_path: Path
):
    member_email = f"member-{uuid.uuid4().hex[:10]}@example.com"
    await sign_in(page, person, "/admin/members")
    await expect(page.locator("#member-rows tr")).to_have_count(1)
    await page.get_by_label("Email").fill(member_email)
    await page.get_by_role("button", name="Invite").click()
    await expect(page.locator("#invite-link")).to_be_visible()
    link = await page.get_by_label("Invitation link").input_value()
    assert link.startswith(live_url + "/invitations/")
    await expect(page.locator("#invitation-list")).to_contain_text(member_email)

    # the invited person has no account yet: create it from the invitation, then accept
    context = await browser.new_context(base_url=live_url, viewport={"width": 390, "height": 844})
    errors: list[str] = []
    try:
        member_page = await context.new_page()
        member_page.on("pageerror", lambda exc: errors.append(str(exc)))
        await member_page.goto(link)
        await member_page.get_by_role("link", name="Create an account").click()
        await member_page.get_by_label("Your name").fill("Max")
        await member_page.get_by_label("Email").fill(member_email)
        await member_page.get_by_label("Password").fill(PASSWORD)
        await member_page.get_by_role("button", name="Create account").click()
        await expect(member_page).to_have_url(re.compile(r"/invitations/"))
        await member_page.get_by_role("button", name="Accept the invitation").click()
        await expect(member_page).to_have_url(re.compile(r"/chat$"))
        await expect(member_page.get_by_label("Active organization")).to_have_value(person.org_id)
        names = await member_page.evaluate(
            "async () => (await (await import('/assets/js/api.js')).api('/agents')).items.map((a) => a.name)"
        )
        assert "calculator" in names

        # the admin: a group with the member in it, and the calculator denied for the group
        await page.reload()
        await expect(page.locator("#member-rows tr")).to_have_count(2)
        await page.get_by_role("link", name="Groups").first.click()
        await page.get_by_label("Name", exact=True).fill("Contractors")
        await page.get_by_role("button", name="Create group").click()
        group = page.locator("section.group", has_text="Contractors")
        await group.get_by_label("Add a member to Contractors").select_option(label=member_email)
        await group.get_by_role("button", name="Add").click()
        # the member listed in the group (the add-a-member choices name them too): the addition is stored
        await expect(group.get_by_role("button", name=f"Remove {member_email} from Contractors")).to_be_visible()
        await (
            page.locator("section.group", has_text="Contractors").get_by_role("link", name=re.compile("Agent")).click()
        )
        await expect(page.get_by_label("Settings for")).to_have_value(re.compile("^group:"))
        card = page.locator("section.agent[data-agent='calculator']")
        await card.get_by_label("Access to the calculator agent").select_option("deny")
        await expect(card.get_by_role("status")).to_have_text("Saved.")
        # the confirmation setting is editable at the same tier
        tool = page.locator("section.agent[data-agent='calculator'] tr[data-tool]").first
        await tool.locator("select").nth(1).select_option("true")
        await expect(page.locator("section.agent[data-agent='calculator']").get_by_role("status")).to_have_text(
            "Saved."
        )
        await expect(page.locator("section.agent[data-agent='calculator'] tr[data-tool] select").nth(1)).to_have_value(
            "true"
        )

        # the person's effective result and the tier it comes from
        await page.get_by_label("Settings for").select_option(label=f"Person: {member_email}")
        # the person's own tier has loaded (the group's cards said deny): their own setting is inherit
        await expect(page.get_by_label("Access to the calculator agent")).to_have_value("inherit")
        await expect(page.locator("section.agent[data-agent='calculator'] .effective").first).to_contain_text(
            "denied (from group)"
        )

        # the member: their permissions page says why the agent is denied, and it is gone from their list
        await member_page.goto("/settings/permissions")
        calculator = member_page.locator("section.permission[data-agent='calculator']")
        await expect(calculator.locator(".effective").first).to_have_text("denied")
        await expect(calculator).to_contain_text("decided by a group")
        # the reason names the group as the admin named it, not by its id
        await expect(calculator.locator("p.why")).to_contain_text("by group setting (Contractors)")
        names = await member_page.evaluate(
            "async () => (await (await import('/assets/js/api.js')).api('/agents')).items.map((a) => a.name)"
        )
        assert "calculator" not in names
        forbidden = await member_page.goto("/admin/members")
        assert forbidden is not None and forbidden.status == 403
    finally:
        await context.close()
    assert errors == []

    # the audit log shows what happened, filtered, and exports it as CSV
    await page.goto("/admin/audit")
    await page.get_by_label("Action").fill("invitation.created")
    await page.get_by_role("button", name="Filter").click()
    await expect(page.locator("#audit-rows")).to_contain_text("invitation.created")
    async with page.expect_download() as downloading:
        await page.get_by_role("button", name="Export CSV").click()
    download = await downloading.value
    saved = tmp_path / "audit.csv"
    await download.save_as(saved)
    lines = saved.read_text().splitlines()
    assert lines[0].startswith("created_at,actor_email")
    assert len(lines) > 1 and all("invitation.created" in line for line in lines[1:])
    await page.goto("/admin/usage")
    await expect(page.locator("#usage-rows")).to_contain_text("invitation.created")


@pytest.mark.timeout(300)
async def test_every_page_fits_a_phone_without_errors_and_passes_axe(
    page: Page, person: Person, live_url: str, hook_server: HookServer
):
    workflow = create_workflow(person, live_url, review_definition(hook_server.url, name="Phone walk"))
    console_errors: list[str] = []
    page.on(
        "console",
        # the unknown path's own 404 is the one failed load expected here
        lambda message: (
            console_errors.append(message.text)
            if message.type == "error" and not message.location.get("url", "").endswith("/no/such/page")
            else None
        ),
    )
    # public pages first, signed out
    await page.set_viewport_size({"width": 390, "height": 844})
    public = [
        "/login",
        "/signup",
        "/forgot-password",
        "/reset-password?token=abc",
        "/verify-email?token=abc",
        "/invitations/not-a-token",
    ]
    signed_in = [
        "/chat",
        "/documents",
        "/workflows",
        f"/workflows/{workflow['id']}",
        "/approvals",
        "/settings",
        "/settings/permissions",
        "/admin/members",
        "/admin/groups",
        "/admin/agents",
        "/admin/audit",
        "/admin/usage",
        "/integrations",
        "/no/such/page",
    ]
    for path in public:
        await _check(page, path)
    await sign_in(page, person, "/settings")
    for path in signed_in:
        await _check(page, path)
    # an unknown path: a page for the browser, JSON for an API client
    response = await page.goto("/no/such/page")
    assert response is not None and response.status == 404
    await expect(page.get_by_role("heading", name="Page not found")).to_be_visible()
    api = httpx.get(f"{live_url}/no/such/page", headers={"Accept": "application/json"}, timeout=10)
    assert api.status_code == 404 and api.json()["error"] == "not_found"
    assert console_errors == [], f"console errors: {console_errors}"


async def _check(page: Page, path: str) -> None:
    await page.goto(path)
    await expect(page.locator("#main h1").first).to_be_visible()
    await page.wait_for_load_state("networkidle")
    scroll, client = await horizontal_overflow(page)
    if scroll > client:
        wide = await page.evaluate(
            """() => [...document.querySelectorAll("body *")]
                .filter((e) => e.getBoundingClientRect().right > innerWidth + 1)
                .slice(-3).map((e) => e.outerHTML.slice(0, 160))"""
        )
        raise AssertionError(f"{path} at 390 px scrolls sideways ({scroll} > {client}): {wide}")
    violations = await axe_violations(page)
    assert violations == [], f"{path} at 390 px: {violations}"
