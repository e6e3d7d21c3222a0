"""Templates: at least five useful ones, each a valid draft when used."""

from __future__ import annotations

from tests.workflows.conftest import WORKFLOWS


async def test_every_template_becomes_a_valid_draft(admin, outsider):
    listed = await admin.get(f"{WORKFLOWS}/templates")
    assert listed.status_code == 200
    templates = (await listed.get_json())["items"]
    assert len(templates) >= 5
    kinds = {n["config"]["kind"] for t in templates for n in t["definition"]["nodes"] if n["type"] == "trigger"}
    assert {"schedule", "webhook", "manual"} <= kinds
    assert any(n["type"] == "approval" for t in templates for n in t["definition"]["nodes"])
    for template in templates:
        used = await admin.post(f"{WORKFLOWS}/templates/{template['name']}/use", json={})
        assert used.status_code == 201, (template["name"], await used.get_data(as_text=True))
        draft = await used.get_json()
        assert draft["status"] == "draft" and draft["version"] == 1
        assert [n["id"] for n in draft["nodes"]] == [n["id"] for n in template["definition"]["nodes"]]
    assert (await (await admin.get(WORKFLOWS)).get_json())["total"] == len(templates)
    assert (await (await outsider.get(WORKFLOWS)).get_json())["total"] == 0


async def test_a_template_draft_can_be_named_and_unknown_templates_are_404(admin):
    named = await admin.post(f"{WORKFLOWS}/templates/webhook_triage/use", json={"name": "Support inbox"})
    assert named.status_code == 201 and (await named.get_json())["name"] == "Support inbox"
    missing = await admin.post(f"{WORKFLOWS}/templates/no_such_template/use", json={})
    assert missing.status_code == 404 and (await missing.get_json())["error"] == "template_not_found"
