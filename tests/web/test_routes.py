"""The UI's routes, without a browser: outside the API, out of the OpenAPI document, locked down."""

from __future__ import annotations

PAGES = (
    "/",
    "/login",
    "/chat",
    "/documents",
    "/approvals",
    "/admin/agents",
    "/admin/members",
    "/admin/groups",
    "/admin/audit",
    "/admin/usage",
    "/settings",
    "/settings/permissions",
    "/signup",
    "/forgot-password",
    "/reset-password",
    "/verify-email",
)


async def test_pages_stay_out_of_the_api_and_its_document(client):
    spec = await (await client.get("/openapi.json")).get_json()
    for page in PAGES:
        assert page not in spec["paths"]
    assert not [path for path in spec["paths"] if path.startswith("/assets")]


async def test_signed_out_pages_lead_to_the_sign_in_form(client):
    assert (await client.get("/")).headers["Location"] == "/login"
    chat = await client.get("/chat?c=abc")
    assert chat.status_code == 302 and chat.headers["Location"] == "/login?next=%2Fchat%3Fc%3Dabc"
    for elsewhere in ("//evil.example/", "/%09/evil.example/", "/%5Cevil.example", "https://evil.example/"):
        login = await client.get(f"/login?next={elsewhere}")
        html = await login.get_data(as_text=True)
        assert login.status_code == 200 and 'data-next="/chat"' in html, f"only paths on this site: {elsewhere}"
    assert "script-src 'self'" in login.headers["Content-Security-Policy"]


async def test_assets_are_served_as_modules(client):
    script = await client.get("/assets/js/chat.js")
    assert script.status_code == 200 and "javascript" in script.headers["Content-Type"]
    assert (await client.get("/assets/app.css")).headers["Content-Type"].startswith("text/css")
    assert (await client.get("/assets/../routes.py")).status_code == 404


async def test_console_pages_need_a_sign_in_and_entry_pages_do_not(client):
    for page in ("/settings", "/settings/permissions", "/admin/members", "/admin/audit"):
        answer = await client.get(page)
        assert answer.status_code == 302 and answer.headers["Location"].startswith("/login?next="), page
    for page in (
        "/signup",
        "/forgot-password",
        "/reset-password?token=abc",
        "/verify-email?token=abc",
        "/invitations/abc",
    ):
        answer = await client.get(page)
        assert answer.status_code == 200, page
        assert "script-src 'self'" in answer.headers["Content-Security-Policy"]
    reset = await (await client.get("/reset-password?token=abc")).get_data(as_text=True)
    assert 'value="abc"' in reset
    verify = await (await client.get("/verify-email?token=abc")).get_data(as_text=True)
    assert 'value="abc"' in verify


async def test_an_unknown_path_is_a_page_for_a_browser_and_json_for_an_api_client(client):
    browser = await client.get("/no/such/page", headers={"Accept": "text/html,application/xhtml+xml,*/*;q=0.8"})
    assert browser.status_code == 404 and browser.headers["Content-Type"].startswith("text/html")
    assert "Page not found" in await browser.get_data(as_text=True)
    for path, accept in (("/no/such/page", "application/json"), ("/api/v1/nothing-here", "text/html"), ("/x", "*/*")):
        api = await client.get(path, headers={"Accept": accept})
        assert api.status_code == 404 and (await api.get_json())["error"] == "not_found", (path, accept)
