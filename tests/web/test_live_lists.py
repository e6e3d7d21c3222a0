"""Lists that follow the org's live stream in a real browser: a colleague's document appears, is indexed and
leaves on someone's documents page without a reload; a run started elsewhere shows on the workflows list
and in the editor's runs."""

from __future__ import annotations

import httpx
import pytest
from playwright.async_api import Page, expect

from tests.web.conftest import Person, sign_in
from tests.web.workflow_support import colleague_of, create_workflow

GUIDE = "# Harbour guide\n\nThe lighthouse keeper logs every passing ship in a leather-bound ledger.\n"


@pytest.mark.timeout(180)
async def test_a_colleagues_document_appears_is_indexed_and_leaves_without_a_reload(
    page: Page, person: Person, live_url: str
):
    bob = colleague_of(person, live_url)
    with httpx.Client(base_url=live_url, headers=person.headers, timeout=10) as ada:
        handbook = ada.post("/api/v1/documents/admin/collections", json={"name": "Handbook"})
        assert handbook.status_code == 201, handbook.text
        await sign_in(page, bob, "/documents")
        await expect(page.get_by_text("No documents yet")).to_be_visible()

        # Ada adds a document to the org's collection through the jobs API; Bob's open page shows it live
        body = {"filename": "harbour.md", "text": GUIDE, "collection_id": handbook.json()["id"]}
        job = ada.post("/api/v1/jobs", json={"kind": "ingest", "input": body})
        assert job.status_code == 202, job.text
        row = page.locator("#documents-body tr", has_text="harbour.md")
        await expect(row.locator(".badge")).to_have_text("completed", timeout=60_000)
        await expect(row).to_contain_text("Handbook")

        # Ada deletes it: it leaves Bob's list
        document_id = job.json()["job_id"].removeprefix("ingest-")
        assert ada.delete(f"/api/v1/documents/{document_id}").status_code == 204
        await expect(row).to_have_count(0)
        await expect(page.get_by_text("No documents yet")).to_be_visible()

        # Ada's own document is hers alone until she moves it into the org's collection, and again after she
        # takes it back: Bob's open list follows both moves
        body = {"filename": "ledger.md", "text": GUIDE}
        job = ada.post("/api/v1/jobs", json={"kind": "ingest", "input": body})
        assert job.status_code == 202, job.text
        document_id = job.json()["job_id"].removeprefix("ingest-")
        for _ in range(600):
            if ada.get(f"/api/v1/documents/{document_id}").json()["status"] == "completed":
                break
            await page.wait_for_timeout(100)
        mine = ada.get(f"/api/v1/documents/{document_id}").json()["collection_id"]
        move = f"/api/v1/documents/{document_id}/move"
        assert ada.put(move, json={"collection_id": handbook.json()["id"]}).status_code == 200
        row = page.locator("#documents-body tr", has_text="ledger.md")
        await expect(row).to_contain_text("Handbook")
        assert ada.put(move, json={"collection_id": mine}).status_code == 200
        await expect(row).to_have_count(0)


@pytest.mark.timeout(180)
async def test_runs_started_elsewhere_show_on_the_workflows_list_and_in_the_editor(
    page: Page, person: Person, live_url: str
):
    definition = {
        "name": "Tidy numbers",
        "nodes": [
            {"id": "start", "type": "trigger", "config": {"kind": "manual"}},
            {"id": "shape", "type": "transform", "config": {"value": {"doubled": "{{ input.a * 2 }}"}}},
        ],
        "edges": [{"from": "start", "to": "shape"}],
    }
    workflow = create_workflow(person, live_url, definition)
    await sign_in(page, person, "/workflows")
    last_run = page.locator(f"[data-workflow-id='{workflow['id']}'] .last-run")
    await expect(last_run).to_have_text("Never run")

    with httpx.Client(base_url=live_url, headers=person.headers, timeout=10) as ada:
        first = ada.post(f"/api/v1/workflows/{workflow['id']}/run", json={"input": {"a": 2}})
        assert first.status_code in (201, 202), first.text
        await expect(last_run.locator(".badge")).to_have_text("completed")

        await page.get_by_role("link", name="Tidy numbers").click()
        runs = page.locator("#runs-list li")
        await expect(runs).to_have_count(1)
        second = ada.post(f"/api/v1/workflows/{workflow['id']}/run", json={"input": {"a": 3}})
        assert second.status_code in (201, 202), second.text
        await expect(runs).to_have_count(2)
        await expect(runs.locator(".badge.completed")).to_have_count(2)
