"""The documents pages in a real browser: several files at once and a dropped one, each with its own
progress; collections to create, browse and move between; a document's own page; notices that say
whether things went well; all of it at phone width."""

from __future__ import annotations

import re

import pytest
from playwright.async_api import Page, expect

from tests.web.conftest import Person, sign_in
from tests.web.workflow_support import axe_violations, horizontal_overflow

MEALS = b"# Meals\n\nThe daily meal allowance when travelling is 45 euros per person.\n"
HOTELS = b"# Hotels\n\nHotel rooms may cost at most 160 euros per night in capital cities.\n"
LONG_NAME = "quarterly-travel-and-expense-policy-for-all-regional-offices-2026-final-v3.md"


async def _fits_and_passes_axe(page: Page, path: str) -> None:
    for width in (390, 1280):
        await page.set_viewport_size({"width": width, "height": 900})
        scroll, client = await horizontal_overflow(page)
        assert scroll <= client, f"{path} at {width} px scrolls sideways ({scroll} > {client})"
        violations = await axe_violations(page)
        assert violations == [], f"{path} at {width} px: {violations}"


@pytest.mark.timeout(240)
async def test_several_uploads_collections_and_a_document_page(page: Page, person: Person):
    console: list[str] = []
    page.on("console", lambda message: console.append(message.text) if message.type == "error" else None)
    await sign_in(page, person, "/documents")
    await expect(page.get_by_text("No documents yet")).to_be_visible()

    # two files chosen at once: a line and a bar each, then both processed in the list
    await page.get_by_label(re.compile("^Files")).set_input_files(
        files=[
            {"name": "meals.md", "mimeType": "text/markdown", "buffer": MEALS},
            {"name": LONG_NAME, "mimeType": "text/markdown", "buffer": HOTELS},
        ]
    )
    await page.get_by_role("button", name="Upload").click()
    await expect(page.locator(".upload-item")).to_have_count(2)
    await expect(page.locator("#page-notice.ok-notice")).to_have_text("Uploaded 2 files; they are being processed.")
    for name in ("meals.md", LONG_NAME):
        row = page.locator("tr", has_text=name)
        await expect(row.locator(".badge")).to_have_text("completed", timeout=60_000)

    # a dropped file is uploaded the same way; the same file again fails, said in red
    drop = """(files) => {
        const data = new DataTransfer();
        for (const [name, text] of files) data.items.add(new File([text], name, {type: "text/markdown"}));
        document.getElementById("drop-zone").dispatchEvent(new DragEvent("drop", {dataTransfer: data, bubbles: true}));
    }"""
    await page.evaluate(drop, [["dropped.md", "# Taxis\n\nTaxis are refunded up to 30 euros."]])
    await expect(page.locator("tr", has_text="dropped.md").locator(".badge")).to_have_text("completed", timeout=60_000)
    await page.evaluate(drop, [["again.md", MEALS.decode()]])
    await expect(page.locator(".upload-item.failed")).to_contain_text("again.md")
    await expect(page.locator("#page-notice.error-notice")).to_contain_text("1 failed")

    # a new collection; a document moves into it and is found there
    await page.get_by_text("New collection").click()
    await page.get_by_label("Name").fill("Receipts")
    await page.get_by_role("button", name="Create").click()
    await expect(page.locator("#page-notice.ok-notice")).to_have_text("Created the collection Receipts.")
    await expect(page.get_by_label("Show")).to_have_value(re.compile(".+"))
    await expect(page.get_by_text("No documents yet")).to_be_visible()
    await page.get_by_label("Show").select_option(label="All collections")
    await page.get_by_label("Collection of meals.md").select_option(label="Receipts")
    await expect(page.locator("#page-notice.ok-notice")).to_have_text("Moved meals.md to Receipts.")
    await page.get_by_label("Show").select_option(label="Receipts")
    await expect(page.locator("#documents-body tr")).to_have_count(1)
    await expect(page.locator("#documents-body tr")).to_contain_text("meals.md")
    await _fits_and_passes_axe(page, "/documents")

    # the document's page: its details and passages
    await page.get_by_role("link", name="meals.md").click()
    await expect(page).to_have_url(re.compile(r"/documents/[0-9a-f-]{36}$"))
    await expect(page.get_by_role("heading", level=1)).to_have_text("meals.md")
    await expect(page.locator("#document-facts")).to_contain_text("Receipts")
    await expect(page.locator(".passage").first).to_contain_text("45 euros")
    await _fits_and_passes_axe(page, "/documents/{id}")

    await page.goto("/documents")
    await page.get_by_role("link", name=LONG_NAME).click()
    await expect(page.get_by_role("heading", level=1)).to_have_text(LONG_NAME)
    await _fits_and_passes_axe(page, "/documents/{id} with a long name")
    # the browser itself logs the refused duplicate upload (409) this test provoked; nothing else may show
    unexpected = [m for m in console if "status of 409" not in m]
    assert unexpected == [], f"console errors: {unexpected}"
