"""What a person does in the web UI, in a real browser: sign in, upload, ask, refresh, approve, administer."""

from __future__ import annotations

import asyncio
import re
import time

import httpx
from playwright.async_api import Page, expect

from tests.chat.test_model_chat import confirm_responder
from tests.fakes.openai_server import Turn
from tests.support.accounts import PASSWORD
from tests.web.conftest import Person, sign_in

HANDBOOK = (
    b"# Expense policy\n\nTravel must be booked through the company portal.\n\n"
    b"## Meals\n\nThe daily meal allowance when travelling is 45 euros per person.\n\n"
    b"## Hotels\n\nHotel rooms may cost at most 160 euros per night in capital cities.\n"
)


async def test_sign_in_redirects_back_and_sign_out_ends_the_session(page: Page, person: Person):
    await page.goto("/")
    await expect(page).to_have_url(re.compile(r"/login$"))
    await page.goto("/documents")
    await expect(page).to_have_url(re.compile(r"/login\?next=%2Fdocuments$"))
    await page.get_by_label("Email").fill(person.email)
    await page.get_by_label("Password").fill("not the password")
    await page.get_by_role("button", name="Sign in").click()
    await expect(page.get_by_role("alert")).to_have_text("Wrong email or password")
    await page.get_by_label("Password").fill(PASSWORD)
    await page.get_by_role("button", name="Sign in").click()
    await expect(page).to_have_url(re.compile(r"/documents$"))
    await expect(page.locator(".who")).to_have_text(person.email)
    await page.goto("/")
    await expect(page).to_have_url(re.compile(r"/chat$"))
    await page.get_by_role("button", name="Sign out").click()
    await expect(page).to_have_url(re.compile(r"/login$"))
    await page.goto("/chat")
    await expect(page).to_have_url(re.compile(r"/login\?next="))


async def test_a_form_is_never_sent_by_the_browser_itself_so_no_password_lands_in_a_url(page: Page, person: Person):
    # the page's scripts do not arrive (a slow or failing network): the form cannot be sent by the browser
    await page.route("**/assets/js/**", lambda route: route.abort())
    await page.goto("/login")
    await expect(page.get_by_role("button", name="Sign in")).to_be_disabled()
    await page.get_by_label("Email").fill(person.email)
    await page.get_by_label("Password").fill(PASSWORD)
    await page.get_by_label("Password").press("Enter")
    await page.wait_for_timeout(300)
    assert PASSWORD not in page.url and "password" not in page.url
    await expect(page).to_have_url(re.compile(r"/login$"))
    # with its scripts, the same form signs in
    await page.unroute("**/assets/js/**")
    await page.reload()
    await sign_in(page, person, "/settings")
    await expect(page.locator(".who")).to_have_text(person.email)


async def _upload_handbook(page: Page) -> None:
    await page.goto("/documents")
    await expect(page.get_by_text("No documents yet")).to_be_visible()
    await page.get_by_label(re.compile("^File")).set_input_files(
        files=[{"name": "expense-policy.md", "mimeType": "text/markdown", "buffer": HANDBOOK}]
    )
    await page.get_by_role("button", name="Upload").click()
    row = page.locator("tr", has_text="expense-policy.md")
    await expect(row.locator(".badge")).to_have_text("completed", timeout=60_000)
    await expect(row.locator("td").nth(2)).to_have_text(re.compile(r"^\d+$"))  # its passages


async def test_upload_search_ask_and_the_answer_survives_a_reload(page: Page, person: Person):
    await sign_in(page, person, "/documents")
    await _upload_handbook(page)

    await page.get_by_label("Search your documents").fill("meal allowance")
    await page.get_by_role("button", name="Search").click()
    first = page.locator("#search-results li").first
    # the web process loads the embedding model on its first search: seconds on a busy machine
    await expect(first).to_contain_text("expense-policy.md", timeout=60_000)
    await expect(first).to_contain_text("45 euros")
    await expect(first).to_contain_text(re.compile(r"\d+% similar · found by meaning and words"))
    await expect(first.locator("mark").first).to_have_text(re.compile("meal|allowance", re.I))

    await page.get_by_role("link", name="Chat").click()
    await expect(page.get_by_role("heading", name="New conversation")).to_be_visible()
    # every length the answer passes through: written from the live stream, from empty to whole (the
    # offline responder's answer is ready at once, so it comes in one or two coalesced deltas)
    await page.evaluate(
        """() => {
            window.answerLengths = [];
            new MutationObserver(() => {
                const answer = document.querySelector(".answer");
                if (answer) window.answerLengths.push(answer.textContent.length);
            }).observe(document.getElementById("messages"), {subtree: true, childList: true, characterData: true});
        }"""
    )
    await page.get_by_label("Mode").select_option("ask")
    await page.get_by_label("Your question").fill("What is the daily meal allowance?")
    await page.get_by_role("button", name="Send").click()

    answer = page.locator(".message.assistant").last
    await expect(answer.locator(".answer")).to_contain_text("45 euros")
    await expect(answer.locator(".citation").first).to_contain_text("[1] expense-policy.md")
    await expect(answer.locator(".status")).to_be_hidden()
    await expect(answer.locator(".steps")).to_contain_text("tool started")
    lengths = await page.evaluate("window.answerLengths")
    answer_text = await answer.locator(".answer").inner_text()
    assert lengths and lengths[0] == 0 and max(lengths) >= len(answer_text), f"not streamed in: {lengths}"
    await expect(page.locator("#conversation-list a")).to_have_count(1)

    await page.screenshot(path="/tmp/switchboard-chat.png", full_page=True)
    await page.reload()
    await expect(page).to_have_url(re.compile(r"/chat\?c="))
    stored = page.locator(".message.assistant").last
    await expect(stored.locator(".text")).to_have_text(answer_text)
    await expect(stored.locator(".citation").first).to_contain_text("expense-policy.md")
    await expect(page.locator(".message.user")).to_have_text(re.compile("What is the daily meal allowance"))

    # the same conversation goes on; a fresh one starts empty
    await page.get_by_role("button", name="New").click()
    await expect(page.locator(".message")).to_have_count(0)

    await page.get_by_role("link", name="Documents").click()
    page.once("dialog", lambda dialog: asyncio.ensure_future(dialog.accept()))
    await page.get_by_role("button", name="Delete expense-policy.md").click()
    await expect(page.get_by_text("No documents yet")).to_be_visible()
    await expect(page.locator("#page-notice.ok-notice")).to_have_text("Deleted expense-policy.md.")


def _bring_own_model(who: Person, base_url: str, live_url: str) -> None:
    saved = httpx.put(
        f"{live_url}/api/v1/settings/models",
        headers=who.headers,
        json={"provider": "openai_compatible", "base_url": base_url, "chat_model": "fake-model", "api_key": "sk-x"},
        timeout=10,
    )
    assert saved.status_code == 200, saved.text


async def test_approval_appears_inline_survives_a_reload_and_approving_finishes_the_answer(
    page: Page, person: Person, live_url: str, fake_model, hook_server
):
    hook_server.reset()
    fake_model.responder = confirm_responder(hook_server.url)
    _bring_own_model(person, fake_model.base_url, live_url)
    await sign_in(page, person)
    await page.get_by_label("Your question").fill("Open a ticket: the printer is on fire")
    await page.get_by_role("button", name="Send").click()

    approval = page.locator(".message.assistant .approval")
    await expect(approval).to_contain_text("http_post")
    await expect(approval.locator(".arguments")).to_contain_text("printer on fire")
    assert hook_server.calls == [], "nothing runs before a person approves"

    # a second tab finds the running task too; a new question there is refused with a clear message
    other = await page.context.new_page()
    await other.goto("/chat")
    await expect(other.locator(".message.assistant .approval")).to_contain_text("http_post")
    await other.get_by_role("button", name="New").click()
    await other.get_by_label("Your question").fill("Something else meanwhile?")
    await other.get_by_role("button", name="Send").click()
    await expect(other.locator("#chat-notice")).to_contain_text("still being answered")
    await other.close()

    # mid-task: the reloaded page finds the task and shows the question again
    await page.reload()
    approval = page.locator(".message.assistant .approval")
    await expect(approval).to_contain_text("http_post")
    await expect(page.get_by_role("button", name="Stop")).to_be_visible()
    await approval.get_by_role("button", name="Approve").click()

    answer = page.locator(".message.assistant").last
    await expect(answer.locator(".answer")).to_contain_text("Tool said:")
    await expect(answer.locator(".approval")).to_have_count(0)
    await expect(answer.locator(".steps")).to_contain_text("approval resolved")
    deadline = time.monotonic() + 5
    while not hook_server.calls and time.monotonic() < deadline:
        await asyncio.sleep(0.05)
    assert len(hook_server.calls) == 1, "the approved call ran once"

    await page.get_by_role("link", name="Approvals").click()
    await expect(page.get_by_text("Nothing waits for you.")).to_be_visible()


async def test_admin_sets_an_agent_and_sees_the_effective_result(page: Page, person: Person, live_url: str):
    await sign_in(page, person, "/admin/agents")
    card = page.locator("section.agent[data-agent='calculator']")
    await expect(card.locator(".effective").first).to_contain_text("allowed")
    await card.get_by_label("Access to the calculator agent").select_option("deny")
    await expect(card.get_by_role("status")).to_have_text("Saved.")
    card = page.locator("section.agent[data-agent='calculator']")
    await expect(card.locator(".effective").first).to_contain_text("denied (from organization)")
    await page.reload()
    card = page.locator("section.agent[data-agent='calculator']")
    await expect(card.get_by_label("Access to the calculator agent")).to_have_value("deny")

    # a member who is not an admin gets a page that says so
    member = httpx.Client(base_url=live_url, timeout=10)
    email = f"member-{person.email}"
    assert member.post("/api/v1/auth/register", json={"email": email, "password": PASSWORD, "name": "M"}).is_success
    invited = httpx.post(
        f"{live_url}/api/v1/orgs/{person.org_id}/invitations",
        headers=person.headers,
        json={"email": email, "role": "member"},
    ).json()
    login = member.post("/api/v1/auth/login", json={"email": email, "password": PASSWORD}).json()
    bearer = {"Authorization": f"Bearer {login['access_token']}"}
    assert member.post(f"/api/v1/invitations/{invited['token']}/accept", headers=bearer).is_success
    assert member.post(f"/api/v1/orgs/{person.org_id}/switch", headers=bearer).is_success
    forbidden = member.get("/admin/agents")
    member.close()
    assert forbidden.status_code == 403
    assert "This page is for organization admins" in forbidden.text


async def test_a_failed_task_says_what_went_wrong(page: Page, person: Person, live_url: str, fake_model):
    fake_model.responder = lambda body: Turn.fail(401, "Incorrect API key provided")
    _bring_own_model(person, fake_model.base_url, live_url)
    await sign_in(page, person)
    await page.get_by_label("Your question").fill("What is the meal allowance?")
    await page.get_by_role("button", name="Send").click()
    status = page.locator(".message.assistant .status")
    await expect(status).to_have_class(re.compile(r"\berror\b"))
    await expect(status).to_contain_text("Something went wrong: ")
    await expect(status).to_contain_text("refused the API key")
    await expect(page.get_by_role("button", name="Send")).to_be_enabled()
