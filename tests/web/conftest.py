"""A real browser (the system's Chromium, driven by Playwright) against a live `switchboard serve` + worker."""

from __future__ import annotations

import shutil
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from urllib.parse import urlsplit

import httpx
import pytest
from playwright.async_api import Browser, BrowserContext, Page, async_playwright, expect

from tests.support import processes
from tests.support.accounts import PASSWORD

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]
WAIT_MS = 15_000


@dataclass
class Person:
    """A registered account, with a bearer token for arranging things through the API."""

    email: str
    password: str
    token: str
    org_id: str

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


@pytest.fixture(scope="session")
def live_url(process_env, worker, tmp_path_factory) -> Iterator[str]:
    """A `switchboard serve` process (no in-process worker) beside the session's worker process."""
    port = processes.free_port()
    proc = processes.start_serve(process_env, port, tmp_path_factory.mktemp("logs") / "web-serve.log")
    url = f"http://127.0.0.1:{port}"
    try:
        processes.wait_healthy(proc, url)
        yield url
    finally:
        proc.stop()


@pytest.fixture(scope="session")
async def browser() -> AsyncIterator[Browser]:
    async with async_playwright() as playwright:
        launched = await playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield launched
        finally:
            await launched.close()


@pytest.fixture
async def page(browser: Browser, live_url: str) -> AsyncIterator[Page]:
    """A fresh browser profile (its own cookies) per test; JavaScript errors fail the test."""
    context: BrowserContext = await browser.new_context(base_url=live_url, viewport={"width": 1200, "height": 900})
    context.set_default_timeout(WAIT_MS)
    expect.set_options(timeout=WAIT_MS)
    opened = await context.new_page()
    errors: list[str] = []
    opened.on("pageerror", lambda exc: errors.append(str(exc)))
    try:
        yield opened
    finally:
        await context.close()
    assert errors == [], f"JavaScript errors on the page: {errors}"


@pytest.fixture
def person(live_url: str) -> Person:
    """A new account (owner of its own org), registered through the API."""
    email = f"web-{uuid.uuid4().hex[:10]}@example.com"
    with httpx.Client(base_url=live_url, timeout=10) as client:
        registered = client.post("/api/v1/auth/register", json={"email": email, "password": PASSWORD, "name": "Ada"})
        assert registered.status_code == 201, registered.text
        token = client.post("/api/v1/auth/login", json={"email": email, "password": PASSWORD}).json()["access_token"]
        me = client.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {token}"}).json()
    return Person(email, PASSWORD, token, me["org"]["id"])


async def sign_in(page: Page, who: Person, start: str = "/chat") -> None:
    """Sign in through the form, starting from a page that needs it."""
    await page.goto(start)
    await page.get_by_label("Email").fill(who.email)
    await page.get_by_label("Password").fill(who.password)
    await page.get_by_role("button", name="Sign in").click()
    await page.wait_for_url(lambda url: urlsplit(url).path == start)
