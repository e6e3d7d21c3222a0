"""Workflows and approvals in a real browser: build a workflow in the editor from nothing, see a bad edit on
its node, run it and watch it live, a colleague approves from the inbox, versions compared and restored."""

from __future__ import annotations

import asyncio
import re
import time

import httpx
import pytest
from playwright.async_api import Browser, Page, expect

from tests.support.hook import HookServer
from tests.web.conftest import WAIT_MS, Person, sign_in
from tests.web.workflow_support import (
    axe_violations,
    colleague_of,
    create_workflow,
    horizontal_overflow,
    review_definition,
    use_model,
)


async def _add_step(page: Page, kind: str, after: str, step_id: str, name: str, when: str | None = None) -> None:
    await page.get_by_role("button", name="Add a step").click()
    form = page.get_by_role("form", name="New step")
    await form.get_by_label("Type").select_option(kind)
    await form.get_by_label("After").select_option(label=after)
    if when:
        await form.get_by_label("On branch").select_option(when)
    await form.get_by_label("Name", exact=True).fill(name)
    await form.get_by_label("Id (used in templates)").fill(step_id)


async def _submit_new_step(page: Page, step_id: str) -> None:
    await page.get_by_role("form", name="New step").get_by_role("button", name="Add step").click()
    await expect(page.locator(f"#graph [data-node-id='{step_id}']")).to_be_visible()
    await expect(page.locator("#editor-notice")).to_contain_text("Saved as version")


@pytest.mark.timeout(300)
async def test_build_run_and_approve_a_workflow_in_the_browser(
    browser: Browser, page: Page, person: Person, live_url: str, fake_model, hook_server: HookServer
):
    hook_server.reset()
    use_model(person, fake_model.base_url, live_url)
    bob = colleague_of(person, live_url)
    await sign_in(page, person, "/workflows")
    await expect(page.get_by_text("No workflows yet")).to_be_visible()

    # a blank workflow: a trigger only
    await page.get_by_label("Name").fill("Expense check")
    await page.get_by_role("button", name="Create blank").click()
    await expect(page.get_by_role("heading", name="Expense check")).to_be_visible()
    await expect(page.locator("#graph [data-node-id='start']")).to_be_visible()

    # an agent step
    await _add_step(page, "agent", "Start", "research", "Research")
    form = page.get_by_role("form", name="New step")
    await form.get_by_label("Agent", exact=True).fill("calculator")
    await form.get_by_label("Instruction").fill("Is {{ input.amount }} a large expense?")
    await _submit_new_step(page, "research")

    # a condition after it
    await _add_step(page, "condition", "Research", "check", "Large amount?")
    form = page.get_by_role("form", name="New step")
    await form.get_by_label("Left").fill("{{ input.amount }}")
    await form.get_by_label("Op", exact=True).select_option("gt")
    await form.get_by_label("Right (optional)").fill("100")
    await _submit_new_step(page, "check")

    # an approval on its true branch, decided by members
    await _add_step(page, "approval", "Large amount?", "review", "Manager review", when="true")
    form = page.get_by_role("form", name="New step")
    await form.get_by_label("admin", exact=True).uncheck()
    await form.get_by_label("member", exact=True).check()
    await expect(
        form.get_by_role("group", name="Users (optional)").get_by_label(f"Bob ({bob.email})")
    ).not_to_be_checked()
    await form.get_by_label("Title").fill("Approve {{ input.amount }} EUR")
    await form.get_by_role("button", name="Add an entry").click()
    await form.get_by_label("Entry name").fill("amount")
    await form.get_by_label("Entry value").fill("{{ input.amount }}")
    await _submit_new_step(page, "review")
    edge = page.locator("#graph .edge[data-from='check'][data-to='review']")
    await expect(edge).to_have_attribute("data-when", "true")
    await expect(edge.locator(".edge-label")).to_have_text("true")

    # a delivery once approved
    await _add_step(page, "delivery", "Manager review", "send", "Tell accounting", when="approved")
    form = page.get_by_role("form", name="New step")
    await form.get_by_label("Channel").select_option("webhook")
    await form.get_by_label("Url (optional)").fill(hook_server.url)
    await form.get_by_label("Body (optional)").fill("")
    await _submit_new_step(page, "send")
    await expect(page.locator("#graph .node")).to_have_count(5)
    await expect(page.locator("#workflow-version")).to_have_text("version 5")

    # a bad edit: the condition names a step that does not exist; the error shows on that node
    await page.locator("#graph [data-node-id='check']").click()
    step_form = page.get_by_role("form", name="Settings of Large amount?")
    await step_form.get_by_label("Left").fill("{{ nodes.nowhere.output }}")
    await step_form.get_by_role("button", name="Save step").click()
    bad = page.locator("#graph [data-node-id='check']")
    await expect(bad).to_have_class(re.compile(r"\bhas-error\b"))
    await expect(bad.locator("title")).to_have_text(re.compile("error: .*nowhere"))
    await expect(step_form.locator(".field-error:not([hidden])")).to_contain_text("nowhere")
    await expect(page.locator("#workflow-version")).to_have_text("version 5")  # nothing was saved
    await step_form.get_by_label("Left").fill("{{ input.amount }}")
    await step_form.get_by_role("button", name="Save step").click()
    await expect(page.locator("#editor-notice")).to_contain_text("Nothing changed")

    # run it with an input form made from the templates' input.* names
    await page.get_by_role("button", name="Run", exact=True).click()
    await page.get_by_label("input.amount").fill("250")
    await page.get_by_role("button", name="Start the run").click()
    await expect(page).to_have_url(re.compile(r"/workflows/[^/]+/runs/[^/]+$"))
    run_url = page.url
    review = page.locator("#run-graph [data-node-id='review']")
    await expect(review).to_have_attribute("data-state", "waiting_approval", timeout=60_000)
    await expect(page.locator("#run-graph [data-node-id='research']")).to_have_attribute("data-state", "completed")
    await expect(page.locator("#run-graph [data-node-id='send']")).to_have_attribute("data-state", "pending")
    await expect(page.locator("#run-status")).to_have_text("awaiting approval")

    # a reload mid-run finds the same state, and keeps following
    await page.reload()
    await expect(page.locator("#run-graph [data-node-id='review']")).to_have_attribute("data-state", "waiting_approval")
    await expect(page.locator("#run-graph [data-node-id='check']")).to_have_attribute("data-state", "completed")
    await expect(page.locator("#stream-state")).to_have_text("Live")
    await expect(page.locator("#timeline .gantt-row[data-node-id='research']")).to_be_visible()
    assert hook_server.calls == [], "nothing is delivered before someone approves"

    # Bob decides from the inbox; the badge counts down
    context = await browser.new_context(base_url=live_url, viewport={"width": 1200, "height": 900})
    context.set_default_timeout(WAIT_MS)
    bob_page = await context.new_page()
    bob_errors: list[str] = []
    bob_page.on("pageerror", lambda exc: bob_errors.append(str(exc)))
    try:
        await sign_in(bob_page, bob, "/approvals")
        badge = bob_page.locator("#approvals-badge")
        await expect(badge).to_have_text("1")
        card = bob_page.locator(".approval", has_text="Approve 250 EUR")
        await expect(card.locator(".context")).to_contain_text("Amount")
        await expect(card.locator(".context")).to_contain_text("250")
        await expect(card).to_contain_text("1 more approval needed")
        await expect(card).to_contain_text("every member")
        await expect(card.locator(".time-left")).to_have_text(re.compile(r"\d+ h"))
        await expect(card.get_by_role("link", name="Open the run")).to_have_attribute(
            "href", re.compile(r"/executions/")
        )
        await card.get_by_label("Comment (optional)").fill("Within budget")
        await card.get_by_role("button", name="Approve").click()
        await expect(bob_page.get_by_text("Nothing waits for you.")).to_be_visible()
        await expect(badge).to_be_hidden()
        decided = bob_page.locator("#history-list li").first
        await expect(decided).to_contain_text("Approve 250 EUR")
        await expect(decided).to_contain_text("Within budget")
    finally:
        await context.close()
    assert bob_errors == []

    # Ada's page moves on by itself
    await expect(page.locator("#run-status")).to_have_text("completed", timeout=60_000)
    await expect(page.locator("#run-graph [data-node-id='review']")).to_have_attribute("data-state", "completed")
    await expect(page.locator("#run-graph [data-node-id='send']")).to_have_attribute("data-state", "completed")
    await expect(page.locator("#cancel-run")).to_be_hidden()
    assert page.url == run_url
    await expect(page.locator("#timeline .gantt-row[data-node-id='review'] .bar-people")).to_be_attached()
    deadline = time.monotonic() + 5
    while not hook_server.calls and time.monotonic() < deadline:
        await asyncio.sleep(0.05)
    assert len(hook_server.calls) == 1

    # the list shows its last run and what came of it
    await page.goto("/workflows")
    row = page.locator(".workflow-row", has_text="Expense check")
    await expect(row.locator(".last-run .badge")).to_have_text("completed")


async def test_compare_two_versions_restore_one_and_a_stale_save_says_reload(page: Page, person: Person, live_url: str):
    definition = review_definition("https://example.com/hook", name="Versions demo")
    created = create_workflow(person, live_url, definition)
    workflow_id = created["id"]
    headers = {**person.headers, "If-Match": '"1"'}
    changed = httpx.post(
        f"{live_url}/api/v1/workflows/{workflow_id}/operations",
        headers=headers,
        json={
            "operations": [
                {"op": "remove_node", "node_id": "send"},
                {"op": "update_node", "node_id": "check", "config": {"combine": "any"}},
                {"op": "add_node", "node": {"id": "note", "type": "transform", "config": {"value": "ok"}}},
                {"op": "connect", "from": "review", "to": "note", "when": "approved"},
            ]
        },
        timeout=10,
    )
    assert changed.status_code == 200, changed.text

    # no model of their own: writing a workflow from a sentence says why it cannot
    await sign_in(page, person, "/workflows")
    await expect(page.locator(".workflow-row", has_text="Versions demo")).to_be_visible()
    await page.get_by_label("Or describe it in a sentence").fill("Every Monday, mail me a summary of new documents")
    await page.get_by_role("button", name="Write it for me").click()
    await expect(page.locator("#generate-error")).to_contain_text("needs a language model")
    # a template becomes a draft of one's own, opened in the editor
    await page.get_by_role("button", name="Use this template: Approval before a write").click()
    await expect(page).to_have_url(re.compile(r"/workflows/[0-9a-f-]{36}$"))
    await expect(page.locator("#graph .node.type-approval")).to_be_visible()
    await expect(page.locator("#workflow-status")).to_have_text("draft")

    await page.goto(f"/workflows/{workflow_id}")
    await expect(page.locator("#workflow-version")).to_have_text("version 2")
    await page.locator("#versions-section summary").click()
    await page.get_by_role("button", name="Compare version 1 with the current one").click()
    graph = page.locator("#graph")
    await expect(graph.locator("[data-node-id='note']")).to_have_attribute("data-mark", "added")
    await expect(graph.locator("[data-node-id='check']")).to_have_attribute("data-mark", "changed")
    await expect(graph.locator("[data-node-id='send']")).to_have_attribute("data-mark", "removed")
    await expect(graph.locator("[data-node-id='research']")).to_have_attribute("data-mark", "")
    await expect(page.locator("#editor-notice")).to_contain_text("1 added, 1 removed, 1 changed")

    await page.get_by_role("button", name="Restore version 1").click()
    await expect(page.locator("#workflow-version")).to_have_text("version 3")
    await expect(graph.locator("[data-node-id='send']")).to_have_attribute("data-mark", "")
    await expect(graph.locator("[data-node-id='note']")).to_have_count(0)
    await expect(page.locator("#versions-list .version")).to_have_count(3)

    # someone else saves meanwhile: this page's next save is refused with a way to reload
    other = httpx.post(
        f"{live_url}/api/v1/workflows/{workflow_id}/operations",
        headers={**person.headers, "If-Match": '"3"'},
        json={"operations": [{"op": "rename", "name": "Versions demo (theirs)"}]},
        timeout=10,
    )
    assert other.status_code == 200, other.text
    await graph.locator("[data-node-id='research']").click()
    await page.get_by_role("form", name="Settings of Research").get_by_label("Name", exact=True).fill("Research more")
    await page.get_by_role("button", name="Save step").click()
    conflict = page.locator("#conflict")
    await expect(conflict).to_contain_text("Someone else saved this workflow first (it is at version 4 now)")
    await conflict.get_by_role("button", name="Reload").click()
    await expect(page.get_by_role("heading", name="Versions demo (theirs)")).to_be_visible()
    await expect(conflict).to_be_hidden()
    await expect(page.locator("#workflow-version")).to_have_text("version 4")


@pytest.mark.timeout(300)
async def test_every_page_fits_a_phone_and_passes_axe(
    page: Page, person: Person, live_url: str, hook_server: HookServer, fake_model
):
    use_model(person, fake_model.base_url, live_url)
    created = create_workflow(person, live_url, review_definition(hook_server.url, name="Phone check"))
    started = httpx.post(
        f"{live_url}/api/v1/workflows/{created['id']}/run",
        headers=person.headers,
        json={"input": {"amount": 5}},
        timeout=10,
    )
    assert started.status_code == 202, started.text
    run_path = f"/workflows/{created['id']}/runs/{started.json()['run_id']}"
    console_errors: list[str] = []
    page.on("console", lambda message: console_errors.append(message.text) if message.type == "error" else None)
    await sign_in(page, person, "/workflows")
    for width in (1280, 390):
        await page.set_viewport_size({"width": width, "height": 900})
        for path, ready in (
            ("/workflows", ".workflow-row"),
            (f"/workflows/{created['id']}", "#graph .node"),
            (run_path, "#run-graph .node"),
            ("/approvals", "#history-heading"),
            ("/chat", "#main h1, #main h2"),
            ("/documents", "#main h1"),
            ("/admin/agents", "#main h1"),
        ):
            await page.goto(path)
            await expect(page.locator(ready).first).to_be_visible()
            if path == run_path:
                await expect(page.locator("#run-status")).to_have_text("completed", timeout=60_000)
            if path.startswith("/workflows/") and "runs" not in path:
                await page.locator("#graph [data-node-id='review']").click()
                await page.locator("#json-section summary").click()
            scroll, client = await horizontal_overflow(page)
            assert scroll <= client, f"{path} at {width} px scrolls sideways ({scroll} > {client})"
            violations = await axe_violations(page)
            assert violations == [], f"{path} at {width} px: {violations}"
    assert console_errors == [], f"console errors: {console_errors}"
