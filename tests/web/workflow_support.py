"""Helpers for the workflow pages' browser tests and the screenshots: people in one org, a model, axe."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

import httpx
from playwright.async_api import Page

from tests.support.accounts import PASSWORD
from tests.web.conftest import Person

AXE = (Path(__file__).parent / "vendor" / "axe-core" / "axe-4.14.1.min.js").read_text()


def colleague_of(owner: Person, live_url: str, role: str = "member", name: str = "Bob") -> Person:
    """A second person, invited into `owner`'s org with `role`, with that org active."""
    email = f"web-{uuid.uuid4().hex[:10]}@example.com"
    with httpx.Client(base_url=live_url, timeout=10) as client:
        assert client.post(
            "/api/v1/auth/register", json={"email": email, "password": PASSWORD, "name": name}
        ).is_success
        token = client.post("/api/v1/auth/login", json={"email": email, "password": PASSWORD}).json()["access_token"]
        bearer = {"Authorization": f"Bearer {token}"}
        invited = client.post(
            f"/api/v1/orgs/{owner.org_id}/invitations", headers=owner.headers, json={"email": email, "role": role}
        )
        assert invited.status_code == 201, invited.text
        assert client.post(f"/api/v1/invitations/{invited.json()['token']}/accept", headers=bearer).is_success
        assert client.post(f"/api/v1/orgs/{owner.org_id}/switch", headers=bearer).is_success
    return Person(email, PASSWORD, token, owner.org_id)


def use_model(who: Person, base_url: str, live_url: str) -> None:
    """`who`'s own chat model: the fake OpenAI-compatible server (agent steps need one)."""
    saved = httpx.put(
        f"{live_url}/api/v1/settings/models",
        headers=who.headers,
        json={"provider": "openai_compatible", "base_url": base_url, "chat_model": "fake-model", "api_key": "sk-x"},
        timeout=10,
    )
    assert saved.status_code == 200, saved.text


def create_workflow(who: Person, live_url: str, definition: dict[str, Any]) -> dict[str, Any]:
    """A workflow made through the API (the page under test is elsewhere)."""
    created = httpx.post(f"{live_url}/api/v1/workflows", headers=who.headers, json=definition, timeout=10)
    assert created.status_code == 201, created.text
    body: dict[str, Any] = created.json()
    return body


def review_definition(hook_url: str, name: str = "Expense check") -> dict[str, Any]:
    """trigger -> agent -> condition -> (true) approval by members -> (approved) webhook delivery."""
    return {
        "name": name,
        "nodes": [
            {"id": "start", "type": "trigger", "name": "Start", "config": {"kind": "manual"}},
            {
                "id": "research",
                "type": "agent",
                "name": "Research",
                "config": {"agent": "calculator", "instruction": "Is {{ input.amount }} a large expense?"},
            },
            {
                "id": "check",
                "type": "condition",
                "name": "Large amount?",
                "config": {"conditions": [{"left": "{{ input.amount }}", "op": "gt", "right": 100}]},
            },
            {
                "id": "review",
                "type": "approval",
                "name": "Manager review",
                "config": {
                    "approvers": {"roles": ["member"]},
                    "title": "Approve {{ input.amount }} EUR",
                    "show": {"amount": "{{ input.amount }}", "research": "{{ nodes.research.output.text }}"},
                },
            },
            {
                "id": "send",
                "type": "delivery",
                "name": "Tell accounting",
                "config": {"channel": "webhook", "url": hook_url},
            },
        ],
        "edges": [
            {"from": "start", "to": "research"},
            {"from": "research", "to": "check"},
            {"from": "check", "to": "review", "when": "true"},
            {"from": "review", "to": "send", "when": "approved"},
        ],
    }


async def axe_violations(page: Page) -> list[dict[str, Any]]:
    """Serious and critical axe-core violations on the page as it is now (axe runs inside the page)."""
    await page.evaluate(AXE + "\n;0")
    found: list[dict[str, Any]] = await page.evaluate(
        """async () => {
            const result = await axe.run(document, {resultTypes: ["violations"]});
            return result.violations
              .filter((v) => v.impact === "serious" || v.impact === "critical")
              .map((v) => ({id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.slice(0, 3).map((n) => n.html)}));
        }"""
    )
    return found


async def horizontal_overflow(page: Page) -> tuple[int, int]:
    """(scrollWidth, clientWidth) of the document."""
    sizes: list[int] = await page.evaluate(
        "() => [document.documentElement.scrollWidth, document.documentElement.clientWidth]"
    )
    return sizes[0], sizes[1]
