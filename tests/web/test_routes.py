"""The UI's routes, without a browser: outside the API, out of the OpenAPI document, locked down."""

from __future__ import annotations

PAGES = ("/", "/login", "/chat", "/documents", "/approvals", "/admin/agents")


async def test_pages_stay_out_of_the_api_and_its_document(client):
    spec = await (await client.get("/openapi.json")).get_json()
    for page in PAGES:
        assert page not in spec["paths"]
    assert not [path for path in spec["paths"] if path.startswith("/assets")]


async def test_signed_out_pages_lead_to_the_sign_in_form(client):
    assert (await client.get("/")).headers["Location"] == "/login"
    chat = await client.get("/chat?c=abc")
    assert chat.status_code == 302 and chat.headers["Location"] == "/login?next=%2Fchat%3Fc%3Dabc"
    login = await client.get("/login?next=//evil.example/")
    html = await login.get_data(as_text=True)
    assert login.status_code == 200 and 'data-next="/chat"' in html, "only paths on this site are followed"
    assert "script-src 'self'" in login.headers["Content-Security-Policy"]


async def test_assets_are_served_as_modules(client):
    script = await client.get("/assets/js/chat.js")
    assert script.status_code == 200 and "javascript" in script.headers["Content-Type"]
    assert (await client.get("/assets/app.css")).headers["Content-Type"].startswith("text/css")
    assert (await client.get("/assets/../routes.py")).status_code == 404
