"""The approvals page in a real browser: a workflow step waits beside chat's tool calls and is decided
with a comment."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import httpx
from playwright.async_api import Page, expect
from quart import Quart

from switchboard.approvals import Approval, ApprovalDecision, request_approval, void_for_subject
from tests.web.conftest import Person, sign_in
from tests.web.workflow_support import colleague_of


async def test_a_workflow_step_is_approved_with_a_comment_on_the_approvals_page(page: Page, person: Person, app: Quart):
    approval: Approval = await request_approval(
        org_id=uuid.UUID(person.org_id),
        kind="workflow_step",
        subject_id=uuid.uuid4(),
        key="review:1",
        title="Pay invoice 42 to Acme",
        context={"amount": "1200 EUR"},
        requested_by=None,
        approvers={"roles": ["owner"]},
        expires_at=datetime.now(UTC) + timedelta(hours=1),
        link="/workflows",
    )
    await sign_in(page, person, "/approvals")
    card = page.locator(f".approval[data-approval-id='{approval.id}']")
    await expect(card).to_contain_text("Pay invoice 42 to Acme")
    await expect(card.locator(".context")).to_contain_text("1200 EUR")
    await card.get_by_label("Comment (optional)").fill("Checked against the order")
    await card.get_by_role("button", name="Approve").click()
    await expect(page.locator("#approvals-notice")).to_have_text("Approved Pay invoice 42 to Acme.")
    await expect(page.get_by_text("Nothing waits for you.")).to_be_visible()
    decision = await ApprovalDecision.get(approval_id=approval.id)
    assert decision.verdict == "approve" and decision.comment == "Checked against the order"
    assert (await Approval.get(id=approval.id)).status == "approved"


async def test_the_open_inbox_moves_as_approvals_arrive_and_are_voided_elsewhere(
    page: Page, person: Person, app: Quart
):
    runtime = app.extensions["runtime"]

    async def ask(title: str) -> Approval:
        return await request_approval(
            org_id=uuid.UUID(person.org_id),
            kind="workflow_step",
            subject_id=uuid.uuid4(),
            key="review:1",
            title=title,
            context={},
            requested_by=None,
            approvers={"roles": ["owner"]},
            expires_at=datetime.now(UTC) + timedelta(hours=1),
            link="/workflows",
            runtime=runtime,
        )

    held = await ask("Send the contract to Acme")
    async with page.expect_response(lambda response: "/api/v1/events/stream" in response.url):
        await sign_in(page, person, "/approvals")
    card = page.locator(f".approval[data-approval-id='{held.id}']")
    await expect(card).to_be_visible()
    # the page polls only every 30 s; within the 15 s these waits allow, only the live stream moves it
    await void_for_subject("workflow_step", held.subject_id, runtime)  # its run was cancelled
    await expect(card).to_have_count(0)
    await expect(page.get_by_text("Nothing waits for you.")).to_be_visible()
    arrived = await ask("Pay invoice 43 to Acme")
    await expect(page.locator(f".approval[data-approval-id='{arrived.id}']")).to_contain_text("Pay invoice 43 to Acme")
    await expect(page.locator("#approvals-badge")).to_have_text("1")


async def test_a_colleagues_approval_shows_on_the_open_inbox_at_once(
    page: Page, person: Person, app: Quart, live_url: str
):
    bea = colleague_of(person, live_url, name="Bea")
    async with httpx.AsyncClient(base_url=live_url, timeout=10) as client:
        ids = [(await client.get("/api/v1/auth/me", headers=who.headers)).json()["id"] for who in (person, bea)]
        approval = await request_approval(
            org_id=uuid.UUID(person.org_id),
            kind="workflow_step",
            subject_id=uuid.uuid4(),
            key="review:1",
            title="Sign the lease for the new office",
            context={},
            requested_by=None,
            approvers={"users": ids},
            mode="quorum",
            quorum=2,
            expires_at=datetime.now(UTC) + timedelta(hours=1),
            link="/workflows",
            runtime=app.extensions["runtime"],
        )
        async with page.expect_response(lambda response: "/api/v1/events/stream" in response.url):
            await sign_in(page, person, "/approvals")
        card = page.locator(f".approval[data-approval-id='{approval.id}']")
        await expect(card.locator(".needed")).to_contain_text("2 more approvals needed")
        decided = await client.post(
            f"/api/v1/approvals/{approval.id}/approve", headers=bea.headers, json={"comment": "The rent is as agreed"}
        )
        assert decided.status_code == 200, decided.text
    # within the 15 s these waits allow (the page polls every 30 s), only the live stream moves the card
    await expect(card.locator(".needed")).to_contain_text("1 more approval needed")
    await expect(card.locator(".decided-so-far")).to_contain_text("Bea approved")
    await expect(card.locator(".decided-so-far")).to_contain_text("The rent is as agreed")
