"""Deciding approvals through the inbox routes: who may decide, the modes, races, comments, history."""

from __future__ import annotations

import asyncio
import uuid

from switchboard.approvals import Approval
from switchboard.platform.identity.models import OutboxMail
from tests.approvals.conftest import INBOX, WORKFLOW_INBOX


async def _decide(account, approval_id, verb: str = "approve", comment: str | None = None):  # type: ignore[no-untyped-def]
    body = {"comment": comment} if comment else {}
    return await account.post(f"{INBOX}/{approval_id}/{verb}", json=body)


async def test_two_reviewers_approving_at_once_get_one_200_one_409_and_one_resume(team, ask, resumed):
    for round_ in range(5):
        approval = await ask(key=f"review:{round_}")
        first, second = await asyncio.gather(_decide(team.bob, approval.id), _decide(team.cara, approval.id))
        assert sorted([first.status_code, second.status_code]) == [200, 409]
        loser = first if first.status_code == 409 else second
        assert (await loser.get_json())["error"] == "approval_decided"
        stored = await Approval.get(id=approval.id)
        assert stored.status == "approved" and stored.approvals == 1
    assert [status for _, status in resumed] == ["approved"] * 5, "each approval resumed its run exactly once"
    assert len({approval_id for approval_id, _ in resumed}) == 5


async def test_a_double_click_counts_once(team, ask, resumed):
    approval = await ask(mode="quorum", quorum=2)
    first, second = await asyncio.gather(_decide(team.bob, approval.id), _decide(team.bob, approval.id))
    assert sorted([first.status_code, second.status_code]) == [200, 409]
    stored = await Approval.get(id=approval.id)
    assert stored.status == "pending" and stored.approvals == 1, "one person is one vote"
    assert resumed == []


async def test_a_quorum_of_two_reached_by_two_approvals_at_once_resumes_once(team, ask, resumed):
    approval = await ask(mode="quorum", quorum=2)
    both = await asyncio.gather(_decide(team.bob, approval.id), _decide(team.cara, approval.id))
    assert [r.status_code for r in both] == [200, 200], "both votes count"
    assert sorted([(await r.get_json())["status"] for r in both]) == ["approved", "pending"]
    stored = await Approval.get(id=approval.id)
    assert stored.status == "approved" and stored.approvals == 2
    assert resumed == [(str(approval.id), "approved")]


async def test_a_quorum_of_two_from_a_group_waits_for_the_second_approval(team, ask, resumed):
    approval = await ask(mode="quorum", quorum=2)
    first = await _decide(team.bob, approval.id, comment="Numbers look right")
    assert first.status_code == 200
    body = await first.get_json()
    assert body["status"] == "pending" and body["approvals"] == 1 and body["required"] == 2
    assert resumed == [], "one approval of two does not resume the run"
    # bob has decided: it leaves his inbox, and stays in cara's
    assert [a["id"] for a in await (await team.bob.get(f"{INBOX}/pending")).get_json()] == []
    assert [a["id"] for a in await (await team.cara.get(f"{INBOX}/pending")).get_json()] == [str(approval.id)]
    second = await _decide(team.cara, approval.id, comment="Agreed")
    body = await second.get_json()
    assert second.status_code == 200 and body["status"] == "approved"
    assert [(d["user_id"], d["verdict"], d["comment"]) for d in body["decisions"]] == [
        (team.bob.user_id, "approve", "Numbers look right"),
        (team.cara.user_id, "approve", "Agreed"),
    ]
    assert resumed == [(str(approval.id), "approved")]


async def test_mode_all_needs_everyone_named_and_one_reject_rejects(team, ask, resumed):
    everyone = {"users": [team.dan.user_id], "groups": [team.reviewers]}
    approval = await ask(mode="all", approvers=everyone)
    assert approval.required == 3
    for person in (team.bob, team.dan):
        assert (await (await _decide(person, approval.id)).get_json())["status"] == "pending"
    assert resumed == []
    done = await (await _decide(team.cara, approval.id)).get_json()
    assert done["status"] == "approved" and resumed == [(str(approval.id), "approved")]

    second = await ask(mode="all", approvers=everyone, key="review:2")
    await _decide(team.bob, second.id)
    rejected = await _decide(team.dan, second.id, "reject", comment="Wrong account")
    assert (await rejected.get_json())["status"] == "rejected", "any approver's reject rejects, in every mode"
    assert resumed[-1] == (str(second.id), "rejected")
    late = await _decide(team.cara, second.id)
    assert late.status_code == 409 and (await late.get_json())["error"] == "approval_decided"


async def test_a_reject_keeps_its_comment_and_resumes_once(team, ask, resumed):
    approval = await ask()
    response = await _decide(team.bob, approval.id, "reject", comment="Not this quarter")
    body = await response.get_json()
    assert response.status_code == 200 and body["status"] == "rejected" and body["decided_at"]
    assert body["decisions"][0]["comment"] == "Not this quarter"
    assert resumed == [(str(approval.id), "rejected")]
    assert (await _decide(team.cara, approval.id)).status_code == 409
    assert len(resumed) == 1


async def test_the_requester_may_not_approve_their_own_run_unless_allowed(team, ask, resumed):
    approval = await ask(approvers={"users": [team.ada.user_id, team.bob.user_id]})
    refused = await _decide(team.ada, approval.id)
    assert refused.status_code == 403 and (await refused.get_json())["error"] == "self_approval"
    assert approval.id not in {uuid.UUID(a["id"]) for a in await (await team.ada.get(f"{INBOX}/pending")).get_json()}
    assert (await Approval.get(id=approval.id)).status == "pending"

    allowed = await ask(approvers={"users": [team.ada.user_id]}, allow_self_approval=True, key="review:self")
    response = await _decide(team.ada, allowed.id)
    assert response.status_code == 200 and (await response.get_json())["status"] == "approved"


async def test_someone_not_listed_gets_403_and_another_org_gets_404(team, ask, resumed):
    approval = await ask()
    for verb in ("approve", "reject"):
        denied = await _decide(team.dan, approval.id, verb)
        assert denied.status_code == 403 and (await denied.get_json())["error"] == "not_an_approver"
        for path in (f"{INBOX}/{approval.id}/{verb}", f"{WORKFLOW_INBOX}/{approval.id}/{verb}"):
            hidden = await team.olga.post(path, json={})
            assert hidden.status_code == 404, path
    for path in (f"{INBOX}/{approval.id}", f"{WORKFLOW_INBOX}/{approval.id}"):
        hidden = await team.olga.get(path)
        assert hidden.status_code == 404 and "refund" not in await hidden.get_data(as_text=True)
    assert await (await team.olga.get(f"{INBOX}/pending")).get_json() == []
    assert (await Approval.get(id=approval.id)).status == "pending" and resumed == []


async def test_roles_name_approvers_too(team, ask, resumed):
    approval = await ask(approvers={"roles": ["owner"]}, requested_by=uuid.UUID(team.dan.user_id))
    assert (await _decide(team.bob, approval.id)).status_code == 403
    assert (await (await _decide(team.ada, approval.id)).get_json())["status"] == "approved"


async def test_the_inbox_lists_both_kinds_and_the_workflow_routes_only_workflow_steps(team, ask, resumed):
    step = await ask()
    confirmation = await ask(
        kind="tool_call",
        key="call-1",
        approvers={"users": [team.bob.user_id]},
        requested_by=uuid.UUID(team.bob.user_id),
        allow_self_approval=True,
        context={"agent": "http", "tool": "http_post", "arguments": {"url": "https://example.com"}, "summary": "s"},
    )
    both = await (await team.bob.get(f"{INBOX}/pending")).get_json()
    expected = {(str(step.id), "workflow_step"), (str(confirmation.id), "tool_call")}
    assert {(a["id"], a["kind"]) for a in both} == expected
    tool_call = next(a for a in both if a["kind"] == "tool_call")
    assert tool_call["tool"] == "http_post" and tool_call["task_id"] == str(confirmation.subject_id)
    counted = await (await team.bob.get(f"{INBOX}/pending/count")).get_json()
    assert counted == {"total": 2, "tool_call": 1, "workflow_step": 1}
    assert await (await team.dan.get(f"{INBOX}/pending/count")).get_json() == {
        "total": 0,
        "tool_call": 0,
        "workflow_step": 0,
    }
    only_steps = await (await team.bob.get(f"{INBOX}/pending", query_string={"kind": "workflow_step"})).get_json()
    assert [a["id"] for a in only_steps] == [str(step.id)]
    assert [a["id"] for a in await (await team.bob.get(f"{WORKFLOW_INBOX}/pending")).get_json()] == [str(step.id)]
    assert (await team.bob.get(f"{WORKFLOW_INBOX}/{confirmation.id}")).status_code == 404
    assert (await team.bob.post(f"{WORKFLOW_INBOX}/{confirmation.id}/approve", json={})).status_code == 404
    bad = await team.bob.get(f"{INBOX}/pending", query_string={"kind": "email"})
    assert bad.status_code == 422

    decided = await team.bob.post(f"{WORKFLOW_INBOX}/{step.id}/approve", json={"comment": "fine"})
    assert decided.status_code == 200 and (await decided.get_json())["status"] == "approved"
    history = await (await team.bob.get(f"{INBOX}/history")).get_json()
    assert history["total"] == 1 and history["items"][0]["id"] == str(step.id)
    assert history["items"][0]["decisions"][0]["comment"] == "fine"
    # the requester sees it in their history too; someone not involved does not
    assert (await (await team.ada.get(f"{INBOX}/history")).get_json())["total"] == 1
    assert (await (await team.dan.get(f"{INBOX}/history")).get_json())["total"] == 0


async def test_asking_mails_each_approver_once_but_not_the_requester(team, ask, settings):
    step = uuid.uuid4()
    first = await ask(subject_id=step, approvers={"users": [team.ada.user_id], "groups": [team.reviewers]})
    again = await ask(subject_id=step, approvers={"users": [team.ada.user_id], "groups": [team.reviewers]})
    assert again.id == first.id, "asking again for the same step is the same approval"
    mails = await OutboxMail.filter(subject__contains="Check the refund").order_by("to")
    assert sorted(m.to for m in mails) == sorted([team.bob.email, team.cara.email])
    # links a person can open from their mail client: the app's full address, not a bare path
    base = f"http://127.0.0.1:{settings.port}"  # no PUBLIC_URL in the tests: the host and port served on
    assert f"{base}/workflows/w1/executions/r1" in mails[0].body and f"{base}/approvals\n" in mails[0].body


async def test_approvers_that_name_nobody_or_too_few_are_refused(team, ask):
    from switchboard.platform.errors import ValidationFailed

    for overrides in (
        {"approvers": {"users": [str(uuid.uuid4())]}},  # nobody of this org
        {"approvers": {"users": [team.olga.user_id]}},  # someone of another org
        {"mode": "quorum", "quorum": 3},  # the group has two people
        {"approvers": {"users": [team.ada.user_id]}},  # only the requester, who may not approve
    ):
        try:
            await ask(**overrides)
        except ValidationFailed as exc:
            assert exc.details and exc.details[0]["field"] in ("approvers", "quorum")
        else:
            raise AssertionError(f"{overrides} was accepted")


async def test_bad_input_gets_a_clear_error_and_changes_nothing(team, ask, resumed):
    approval = await ask()
    for path, body in (
        (f"{INBOX}/{approval.id}/approve", {"comment": "x" * 2001}),
        (f"{INBOX}/{approval.id}/approve", {"comment": 42}),
        (f"{WORKFLOW_INBOX}/{approval.id}/reject", {"comment": ["no"]}),
    ):
        response = await team.bob.post(path, json=body)
        assert response.status_code == 422, path
        assert (await response.get_json())["details"]
    for path in (f"{INBOX}/not-an-id", f"{INBOX}/{uuid.uuid4()}", f"{WORKFLOW_INBOX}/not-an-id"):
        assert (await team.bob.get(path)).status_code == 404
    assert (await team.bob.post(f"{INBOX}/not-an-id/approve", json={})).status_code == 404
    assert (await team.bob.get(f"{INBOX}/history", query_string={"limit": "0"})).status_code == 422
    stored = await Approval.get(id=approval.id)
    assert stored.status == "pending" and stored.approvals == 0 and resumed == []
