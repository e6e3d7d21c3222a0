"""Chat's confirmations, as chat stored them before the inbox moved, arrive in the inbox intact."""

from __future__ import annotations

import importlib
import uuid

import asyncpg

from switchboard.approvals import Approval, ApprovalDecision

OLD_TABLE = """
CREATE TABLE approvals (
    id uuid PRIMARY KEY, org_id uuid NOT NULL, user_id uuid NOT NULL, kind varchar(16) NOT NULL DEFAULT 'tool',
    task_id uuid NOT NULL, call_id varchar(128) NOT NULL, agent varchar(64) NOT NULL, tool varchar(64) NOT NULL,
    arguments jsonb NOT NULL, summary text NOT NULL, status varchar(16) NOT NULL, decided_by uuid,
    decided_at timestamptz, expires_at timestamptz NOT NULL, created_at timestamptz NOT NULL DEFAULT now()
)
"""


async def test_chats_approvals_are_copied_with_their_decisions(app, settings, clean):
    statements = importlib.import_module("migrations.approvals.0001_approvals").Migration.operations[-1].sql
    org, user, task, decided = uuid.uuid4(), uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    conn = await asyncpg.connect(settings.database_url)
    try:
        # chat's table as it was, in a schema of its own (chat 0003 dropped the real one)
        await conn.execute("DROP SCHEMA IF EXISTS legacy CASCADE; CREATE SCHEMA legacy")
        await conn.execute("SET search_path TO legacy, public")
        await conn.execute(OLD_TABLE)
        await conn.execute(
            "INSERT INTO approvals (id, org_id, user_id, task_id, call_id, agent, tool, arguments, summary, status, "
            "decided_by, decided_at, expires_at) VALUES "
            "($1, $3, $4, $5, 'c1', 'http', 'http_post', '{\"url\": \"https://example.com\"}', 'post it', 'pending', "
            "NULL, NULL, now() + interval '1 hour'), "
            "($2, $3, $4, $5, 'c2', 'http', 'http_post', '{}', 'again', 'rejected', $4, now(), now())",
            uuid.uuid4(),
            decided,
            org,
            user,
            task,
        )
        for sql in statements:
            await conn.execute(sql)
        await conn.execute("DROP SCHEMA legacy CASCADE")
    finally:
        await conn.close()

    moved = {a.key: a for a in await Approval.filter(subject_id=task)}
    assert set(moved) == {"c1", "c2"}
    pending = moved["c1"]
    assert (pending.kind, pending.status, pending.org_id, pending.requested_by) == ("tool_call", "pending", org, user)
    assert pending.approvers["users"] == [str(user)] and pending.allow_self_approval
    assert pending.context["arguments"] == {"url": "https://example.com"} and pending.context["tool"] == "http_post"
    assert pending.resumed_at is None, "a waiting confirmation still resumes its task when decided"
    rejected = moved["c2"]
    assert rejected.id == decided and rejected.status == "rejected" and rejected.resumed_at is not None
    [decision] = await ApprovalDecision.filter(approval_id=decided)
    assert (decision.user_id, decision.verdict) == (user, "reject")
