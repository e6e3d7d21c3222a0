"""Ready workflows to start from: each is a valid definition that `POST /workflows/templates/{name}/use` copies.

They use only agents every installation has (`knowledge`, `memory`, `calculator`); addresses a
team must change (mail recipients, a webhook URL) are `example.com` placeholders.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import Any

from switchboard.platform.errors import NotFound

_TEAM = ["team@example.com"]


@dataclass(frozen=True)
class WorkflowTemplate:
    """A named starting point."""

    name: str
    title: str
    description: str
    category: str
    definition: dict[str, Any]

    def fresh_definition(self) -> dict[str, Any]:
        """A copy of the definition to edit."""
        return copy.deepcopy(self.definition)


def _daily_digest() -> dict[str, Any]:
    return {
        "name": "Daily digest of new documents",
        "description": "Every morning, summarize what was added to the documents and mail it to the team.",
        "nodes": [
            {"id": "every_morning", "type": "trigger", "name": "Every morning", "config": {"kind": "schedule"}},
            {
                "id": "digest",
                "type": "agent",
                "name": "Summarize new documents",
                "config": {
                    "agent": "knowledge",
                    "instruction": "List the documents added or changed since yesterday and summarize each in two "
                    "sentences, most important first.",
                },
            },
            {
                "id": "mail",
                "type": "delivery",
                "name": "Mail the digest",
                "config": {
                    "channel": "mail",
                    "to": _TEAM,
                    "subject": "Document digest",
                    "text": "{{ nodes.digest.output }}",
                },
            },
        ],
        "edges": [{"from": "every_morning", "to": "digest"}, {"from": "digest", "to": "mail"}],
    }


def _webhook_triage() -> dict[str, Any]:
    return {
        "name": "Triage incoming requests",
        "description": "A signed webhook brings a request; an agent triages it against the documents, a person "
        "approves the answer, and it is posted back.",
        "nodes": [
            {"id": "incoming", "type": "trigger", "name": "Webhook", "config": {"kind": "webhook"}},
            {
                "id": "triage",
                "type": "agent",
                "name": "Triage",
                "config": {
                    "agent": "knowledge",
                    "instruction": "A request came in: {{ input }}. Say how urgent it is (low, normal, urgent), "
                    "which team should own it, and draft a short answer from our documents.",
                },
            },
            {
                "id": "review",
                "type": "approval",
                "name": "Review the answer",
                "config": {
                    "approvers": {"roles": ["admin", "owner"]},
                    "title": "Send this triage answer?",
                    "show": {"request": "{{ input }}", "triage": "{{ nodes.triage.output }}"},
                    "timeout_hours": 8,
                },
            },
            {
                "id": "reply",
                "type": "delivery",
                "name": "Post the answer back",
                "config": {
                    "channel": "webhook",
                    "url": "https://example.com/replace-with-your-endpoint",
                    "body": {"request": "{{ input }}", "triage": "{{ nodes.triage.output }}"},
                },
            },
        ],
        "edges": [
            {"from": "incoming", "to": "triage"},
            {"from": "triage", "to": "review"},
            {"from": "review", "to": "reply", "when": "approved"},
        ],
    }


def _approval_before_write() -> dict[str, Any]:
    return {
        "name": "Approve before keeping a fact",
        "description": "A write (keeping a fact in memory) happens only after a person approves it. "
        'Run it with {"fact": "..."}.',
        "nodes": [
            {"id": "start", "type": "trigger", "config": {"kind": "manual"}},
            {
                "id": "approve",
                "type": "approval",
                "name": "Approve the write",
                "config": {
                    "approvers": {"roles": ["admin", "owner"]},
                    "title": "Keep this fact?",
                    "show": {"fact": "{{ input.fact }}"},
                },
            },
            {
                "id": "remember",
                "type": "tool",
                "name": "Keep the fact",
                "config": {"agent": "memory", "tool": "remember_fact", "arguments": {"content": "{{ input.fact }}"}},
            },
        ],
        "edges": [{"from": "start", "to": "approve"}, {"from": "approve", "to": "remember", "when": "approved"}],
    }


def _research_report() -> dict[str, Any]:
    return {
        "name": "Weekly research report",
        "description": "Every week, research a topic in the documents and mail a report with sources. "
        'Give the schedule the input {"topic": "..."}.',
        "nodes": [
            {"id": "weekly", "type": "trigger", "name": "Every week", "config": {"kind": "schedule"}},
            {
                "id": "research",
                "type": "agent",
                "name": "Research",
                "config": {
                    "agent": "knowledge",
                    "instruction": "Research {{ input.topic }} in our documents: the main findings, open "
                    "questions, and the documents they come from.",
                    "max_steps": 8,
                },
            },
            {
                "id": "report",
                "type": "delivery",
                "name": "Mail the report",
                "config": {
                    "channel": "mail",
                    "to": _TEAM,
                    "subject": "Research report: {{ input.topic }}",
                    "text": "{{ nodes.research.output }}",
                },
            },
        ],
        "edges": [{"from": "weekly", "to": "research"}, {"from": "research", "to": "report"}],
    }


def _document_summary() -> dict[str, Any]:
    return {
        "name": "Summarize an uploaded document",
        "description": "When a document is uploaded, read it, summarize it, and after approval mail the summary. "
        'Start it from your upload step with {"document_id": "..."} (a webhook or the run API).',
        "nodes": [
            {"id": "uploaded", "type": "trigger", "name": "Document uploaded", "config": {"kind": "webhook"}},
            {
                "id": "read",
                "type": "tool",
                "name": "Read the document",
                "config": {
                    "agent": "knowledge",
                    "tool": "read_document",
                    "arguments": {"document_id": "{{ input.document_id }}", "count": 20},
                },
            },
            {
                "id": "summary",
                "type": "agent",
                "name": "Summarize",
                "config": {
                    "agent": "knowledge",
                    "instruction": "Summarize this document in five bullet points: {{ nodes.read.output }}",
                },
            },
            {
                "id": "approve",
                "type": "approval",
                "name": "Approve the summary",
                "config": {
                    "approvers": {"roles": ["admin", "owner"]},
                    "title": "Send this summary?",
                    "show": {"summary": "{{ nodes.summary.output }}"},
                },
            },
            {
                "id": "send",
                "type": "delivery",
                "name": "Mail the summary",
                "config": {
                    "channel": "mail",
                    "to": _TEAM,
                    "subject": "New document summary",
                    "text": "{{ nodes.summary.output }}",
                },
            },
        ],
        "edges": [
            {"from": "uploaded", "to": "read"},
            {"from": "read", "to": "summary"},
            {"from": "summary", "to": "approve"},
            {"from": "approve", "to": "send", "when": "approved"},
        ],
    }


def _threshold_alert() -> dict[str, Any]:
    return {
        "name": "Alert on a threshold",
        "description": 'A webhook brings {"value": n, "limit": m}; above the limit a mail goes out, else nothing.',
        "nodes": [
            {"id": "reading", "type": "trigger", "name": "Webhook", "config": {"kind": "webhook"}},
            {
                "id": "over",
                "type": "condition",
                "name": "Over the limit?",
                "config": {"conditions": [{"left": "{{ input.value }}", "op": "gt", "right": "{{ input.limit }}"}]},
            },
            {
                "id": "alert",
                "type": "delivery",
                "name": "Mail an alert",
                "config": {
                    "channel": "mail",
                    "to": _TEAM,
                    "subject": "Reading {{ input.value }} is over {{ input.limit }}",
                    "text": "The reading {{ input.value }} passed the limit {{ input.limit }}.",
                },
            },
        ],
        "edges": [{"from": "reading", "to": "over"}, {"from": "over", "to": "alert", "when": "true"}],
    }


TEMPLATES: dict[str, WorkflowTemplate] = {
    t.name: t
    for t in (
        WorkflowTemplate(
            "daily_document_digest",
            "Daily digest of new documents",
            _daily_digest()["description"],
            "documents",
            _daily_digest(),
        ),
        WorkflowTemplate(
            "webhook_triage",
            "Webhook → triage → approval → reply",
            _webhook_triage()["description"],
            "support",
            _webhook_triage(),
        ),
        WorkflowTemplate(
            "approval_before_write",
            "Approval before a write",
            _approval_before_write()["description"],
            "governance",
            _approval_before_write(),
        ),
        WorkflowTemplate(
            "scheduled_research_report",
            "Scheduled research report by mail",
            _research_report()["description"],
            "research",
            _research_report(),
        ),
        WorkflowTemplate(
            "document_summary_approval",
            "Document uploaded → summary → approval",
            _document_summary()["description"],
            "documents",
            _document_summary(),
        ),
        WorkflowTemplate(
            "threshold_alert",
            "Alert when a value passes a limit",
            _threshold_alert()["description"],
            "monitoring",
            _threshold_alert(),
        ),
    )
}


def template(name: str) -> WorkflowTemplate:
    """The template of that name; 404 `template_not_found` when there is none."""
    found = TEMPLATES.get(name)
    if found is None:
        raise NotFound(f"No template named {name}", code="template_not_found")
    return found
