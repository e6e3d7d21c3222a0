"""The chat page in a real browser: a Markdown answer with citations linked to their cards, Stop in the
middle of a streamed answer (across New), and the page at phone width."""

from __future__ import annotations

import json
import re
import time
from typing import Any

import httpx
import pytest
from playwright.async_api import Page, expect

from tests.fakes.openai_server import Turn
from tests.web.conftest import Person, sign_in
from tests.web.workflow_support import axe_violations, horizontal_overflow, use_model

MEALS = b"# Meals\n\nThe daily meal allowance when travelling is 45 euros per person.\n"
HOTELS = b"# Hotels\n\nHotel rooms may cost at most 160 euros per night in capital cities.\n"
SLOW_WORDS = [f"word{i} " for i in range(200)]


def _upload(who: Person, live_url: str, name: str, content: bytes) -> None:
    with httpx.Client(base_url=live_url, headers=who.headers, timeout=30) as client:
        sent = client.post("/api/v1/documents/upload", files={"file": (name, content, "text/markdown")})
        assert sent.status_code == 202, sent.text
        document_id = sent.json()["id"]
        for _ in range(600):
            status = client.get(f"/api/v1/documents/{document_id}/status").json()["status"]
            if status in ("completed", "failed"):
                break
            time.sleep(0.1)
        assert status == "completed"


def table_responder(body: dict[str, Any]) -> Turn:
    """Search first; then a Markdown table citing each passage found by its number, in the order found."""
    if not body.get("tools"):
        return Turn.reply("[]")  # what memories to keep: none
    last = body["messages"][-1]
    if last["role"] != "tool":
        return Turn.call("search_documents", {"query": "meal allowance and hotel cost per night"})
    found = json.loads(last["content"])["results"]
    rows = "".join(f"| {hit['document_name']} | **cited** [{n}] |\n" for n, hit in enumerate(found[:2], start=1))
    return Turn.reply("Here is what **the policy** says:\n\n", "| Document | Source |\n|---|---|\n", rows)


def slow_responder(body: dict[str, Any]) -> Turn:
    """A long answer streamed a word every 0.1 s (Stop comes long before its end)."""
    if not body.get("tools"):
        return Turn.reply("[]")
    return Turn(text=tuple(SLOW_WORDS), delay=0.1)


@pytest.fixture
def errors_of(page: Page) -> list[str]:
    errors: list[str] = []
    page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
    return errors


@pytest.mark.timeout(240)
async def test_a_markdown_table_answer_links_its_two_citations_to_their_cards(
    page: Page, person: Person, live_url: str, fake_model, errors_of: list[str]
):
    _upload(person, live_url, "meals.md", MEALS)
    _upload(person, live_url, "hotels.md", HOTELS)
    fake_model.responder = table_responder
    use_model(person, fake_model.base_url, live_url)
    await sign_in(page, person)
    await expect(page.locator("#mode-description")).to_contain_text("Auto picks a mode")
    await page.get_by_label("Mode").select_option("ask")
    await expect(page.locator("#mode-description")).to_contain_text("one search-and-answer pass")
    await expect(page.get_by_text("Enter sends; Shift+Enter starts a new line.")).to_be_visible()
    box = page.get_by_label("Your question")
    await box.fill("What may I spend on meals")
    await box.press("Shift+Enter")
    await box.press_sequentially("and hotels?")
    assert await box.input_value() == "What may I spend on meals\nand hotels?"
    await box.press("Enter")

    answer = page.locator(".message.assistant").last
    table = answer.locator(".answer table")
    await expect(table.locator("tbody tr")).to_have_count(2)
    await expect(answer.locator(".answer strong").first).to_have_text("the policy")
    await expect(answer.locator(".answer")).not_to_contain_text("|---|")
    cards = answer.locator(".citation")
    await expect(cards).to_have_count(2)
    for row in range(2):
        cells = table.locator("tbody tr").nth(row).locator("td")
        name = (await cells.nth(0).inner_text()).strip()
        link = cells.nth(1).locator("a.cite-link")
        await expect(link).to_have_text(f"[{row + 1}]")
        target = (await link.get_attribute("href") or "").lstrip("#")
        card = page.locator(f"[id='{target}']")
        await expect(card).to_contain_text(f"[{row + 1}] {name}")
    await table.locator("a.cite-link").nth(1).click()
    await expect(page).to_have_url(re.compile(r"#cite-.*-2$"))
    await expect(answer.locator(".answer")).not_to_contain_text("Sources:")
    await expect(answer.get_by_role("button", name="Copy")).to_be_visible()

    # stored: rendered the same after a reload, with its steps and how long they took
    await page.reload()
    stored = page.locator(".message.assistant").last
    await expect(stored.locator(".answer table tbody tr")).to_have_count(2)
    await expect(stored.locator(".citation")).to_have_count(2)
    await expect(stored.locator(".timeline summary")).to_contain_text(re.compile(r"Steps: \d+, .*(second|minute)"))

    # rename, then find it by a word of the answer
    await page.get_by_role("button", name="Rename").click()
    await page.get_by_label("New title").fill("Travel limits " + "very long title " * 8)
    await page.get_by_role("button", name="Save").click()
    await expect(page.get_by_role("heading", level=1)).to_contain_text("Travel limits")
    await page.get_by_label("Search conversations").fill("hotels")
    await expect(page.locator("#conversation-list a")).to_have_count(1)
    await page.get_by_label("Search conversations").fill("nothing-like-this")
    await expect(page.get_by_text("No conversation matches.")).to_be_visible()
    await page.get_by_label("Search conversations").fill("")
    await expect(page.locator("#conversation-list a")).to_have_count(1)

    # a phone: nothing wider than the screen, New and the question box in reach
    await page.set_viewport_size({"width": 390, "height": 844})
    scroll, client = await horizontal_overflow(page)
    assert scroll <= client, f"the chat page scrolls sideways at 390 px ({scroll} > {client})"
    await expect(page.get_by_role("button", name="New")).to_be_in_viewport()
    await page.get_by_label("Your question").scroll_into_view_if_needed()
    await expect(page.get_by_label("Your question")).to_be_in_viewport()
    assert await axe_violations(page) == []
    await page.set_viewport_size({"width": 1280, "height": 900})
    assert await axe_violations(page) == []
    assert errors_of == [], f"console errors: {errors_of}"


@pytest.mark.timeout(240)
async def test_stop_ends_a_streaming_answer_keeping_its_text_even_after_new(
    page: Page, person: Person, live_url: str, fake_model, errors_of: list[str]
):
    fake_model.responder = slow_responder
    use_model(person, fake_model.base_url, live_url)
    await sign_in(page, person)
    await page.get_by_label("Mode").select_option("ask")
    await page.get_by_label("Your question").fill("Tell me a long story")
    await page.get_by_role("button", name="Send").click()
    answer = page.locator(".message.assistant").last
    await expect(answer.locator(".answer")).to_contain_text("word3")
    first_conversation = page.url

    # New while it streams: Stop stays, and the page says where the answer is being written
    await page.get_by_role("button", name="New").click()
    await expect(page.locator("#elsewhere")).to_contain_text("still being written in another conversation")
    stop = page.get_by_role("button", name="Stop")
    await expect(stop).to_be_visible()
    await stop.click()
    await expect(stop).to_be_hidden()
    await expect(page.locator("#elsewhere")).to_be_hidden()

    with httpx.Client(base_url=live_url, headers=person.headers, timeout=10) as client:
        task = client.get("/api/v1/chat/active").json()["task"]
        assert task["status"] == "cancelled"
        messages = client.get(f"/api/v1/conversations/{task['conversation_id']}/messages").json()["items"]
    kept = messages[-1]
    assert kept["role"] == "assistant" and kept["status"] == "cancelled"
    assert kept["content"].startswith("word0 word1 word2 word3")
    assert len(kept["content"]) < len("".join(SLOW_WORDS).strip()), "the whole answer was not written"

    # the next question is taken at once
    fake_model.responder = lambda body: Turn.reply("[]") if not body.get("tools") else Turn.reply("A short answer.")
    await page.get_by_label("Your question").fill("And now a short one?")
    await page.get_by_role("button", name="Send").click()
    await expect(page.locator(".message.assistant").last.locator(".answer")).to_have_text("A short answer.")
    await expect(page.locator("#chat-notice")).to_be_hidden()

    # the stopped answer is kept in its conversation, marked as stopped
    await page.goto(first_conversation)
    stopped = page.locator(".message.assistant").last
    await expect(stopped.locator(".answer")).to_contain_text("word0 word1 word2 word3")
    await expect(stopped).to_contain_text("Stopped: the answer ends here.")
    assert errors_of == [], f"console errors: {errors_of}"
