"""Jobs as a view: submit work to the context that runs it, read its state, events and usage back from there."""

from __future__ import annotations

import base64
import binascii
import uuid
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

from switchboard.agents import Registry, price_of, totals
from switchboard.agents.providers.base import Message
from switchboard.agents.providers_service import CHARS_PER_TOKEN, effective_model, estimate
from switchboard.chat import agent_runs
from switchboard.chat import service as chat
from switchboard.chat.models import ChatTask
from switchboard.ingestion import embedding_model_name
from switchboard.ingestion import service as ingestion
from switchboard.ingestion.models import Document
from switchboard.platform.auth import Principal
from switchboard.platform.errors import NotFound, ValidationFailed
from switchboard.platform.events import Event
from switchboard.platform.runtime import Runtime
from switchboard.workflows import runs
from switchboard.workflows.models import WorkflowRun, WorkflowStep

# job kind -> the prefix of its id (the id after it is the task's, the document's or the run's)
PREFIXES = {"chat": "chat", "ingest": "ingest", "workflow_run": "workflow", "agent_run": "agent"}
KINDS = tuple(PREFIXES)


@dataclass(frozen=True)
class Job:
    """One unit of work, as the context that runs it sees it."""

    job_id: str
    kind: str
    status: str
    created_at: datetime
    finished_at: datetime | None
    error: str | None
    stream: str  # its event stream
    ended: list[Event] | None = field(default=None, compare=False)  # its end, told once the stream has expired


@dataclass(frozen=True)
class CostEstimate:
    """What a job is expected to take before it runs (tokens estimated; cost from MODEL_PRICES, None if unpriced)."""

    model: str | None
    prompt_tokens: int | None
    completion_tokens: int | None
    cost: Decimal | None


@dataclass(frozen=True)
class JobUsage:
    """What a job took: tokens from its usage records, chunks indexed, workflow steps finished, their cost."""

    calls: int
    prompt_tokens: int
    completion_tokens: int
    total_tokens: int
    chunks: int
    steps: int
    cost: Decimal | None


def _invalid(field: str, message: str) -> ValidationFailed:
    return ValidationFailed(message, details=[{"field": field, "message": message}])


async def submit(
    principal: Principal, runtime: Runtime, kind: str, job_input: dict[str, Any], key: str | None
) -> tuple[Job, CostEstimate]:
    """Estimate, then start the work in its own context; the job and the estimate made before it started."""
    if kind == "chat":
        message = job_input.get("message")
        if not isinstance(message, str) or not message.strip() or len(message) > 20_000:
            raise _invalid("input.message", "a chat job needs input.message (1 to 20,000 characters)")
        mode = job_input.get("mode", "auto")
        if mode not in ("auto", "ask", "research", "investigate"):
            raise _invalid("input.mode", "mode must be auto, ask, research or investigate")
        conversation = job_input.get("conversation_id")
        model = await effective_model(principal, runtime)
        guess = estimate(runtime.settings, model, [Message.user(message)], None)
        before = CostEstimate(model, guess.prompt_tokens, guess.completion_tokens, guess.cost)
        started = await chat.start_task(
            principal, message, str(conversation) if conversation else None, mode, runtime.queue, runtime.events
        )
        return await get(principal, f"chat-{started.id}"), before
    if kind == "workflow_run":
        workflow_id = job_input.get("workflow_id")
        if not isinstance(workflow_id, str):
            raise _invalid("input.workflow_id", "a workflow_run job needs input.workflow_id")
        before = CostEstimate(None, None, None, None)  # its agent steps' tokens are known only as they run
        run = await runs.start_run(
            runtime, principal, workflow_id, input=job_input.get("input"), idempotency_key=key and f"job:{key}"
        )
        return _run_job(run), before
    if kind == "agent_run":
        return await _submit_agent_run(principal, runtime, job_input)
    if kind == "ingest":
        return await _submit_ingest(principal, runtime, job_input)
    raise _invalid("kind", f"kind must be one of {', '.join(KINDS)}")


async def _submit_ingest(principal: Principal, runtime: Runtime, job_input: dict[str, Any]) -> tuple[Job, CostEstimate]:
    """A document given in the job's input (`text`, or `content_base64` for a binary file) with its `filename`.

    Bodies are JSON and capped (MAX_JSON_BODY_BYTES): a large file goes through the multipart upload.
    """
    filename, text, encoded = job_input.get("filename"), job_input.get("text"), job_input.get("content_base64")
    if (
        not isinstance(filename, str)
        or not filename.strip()
        or len(filename) > 300
        or any(c in filename for c in "/\\")
        or not filename.isprintable()
    ):
        raise _invalid("input.filename", "an ingest job needs input.filename (a file name with its extension)")
    if (text is None) == (encoded is None):
        raise _invalid("input.text", "an ingest job needs input.text or input.content_base64 (one of them)")
    if text is not None:
        if not isinstance(text, str):
            raise _invalid("input.text", "input.text must be a string")
        data, tokens = text.encode(), len(text) // CHARS_PER_TOKEN
    else:
        try:
            data, tokens = base64.b64decode(str(encoded), validate=True), None
        except (binascii.Error, ValueError):
            raise _invalid("input.content_base64", "input.content_base64 is not valid base64") from None
    collection = job_input.get("collection_id")
    if collection is not None and not isinstance(collection, str):
        raise _invalid("input.collection_id", "input.collection_id must be a collection's id")
    model = embedding_model_name(runtime.settings)
    # the embedder reads every token once and writes none; a binary file's tokens are known once its text is
    cost = None if tokens is None else price_of(runtime.settings.model_prices, model, tokens, 0)
    before = CostEstimate(model, tokens, 0, cost)
    document = await ingestion.accept_content(principal, filename.strip(), data, collection, runtime)
    return _document_job(document), before


async def _submit_agent_run(
    principal: Principal, runtime: Runtime, job_input: dict[str, Any]
) -> tuple[Job, CostEstimate]:
    agent, instruction = job_input.get("agent"), job_input.get("instruction")
    if not isinstance(agent, str) or not agent:
        raise _invalid("input.agent", "an agent_run job needs input.agent (the agent's name)")
    if not isinstance(instruction, str) or not instruction.strip() or len(instruction) > 20_000:
        raise _invalid("input.instruction", "an agent_run job needs input.instruction (1 to 20,000 characters)")
    model = await effective_model(principal, runtime)
    guess = estimate(runtime.settings, model, [Message.user(instruction)], None)
    before = CostEstimate(model, guess.prompt_tokens, guess.completion_tokens, guess.cost)
    task = await agent_runs.start_run(
        principal, runtime.resource(Registry), agent, instruction, runtime.queue, runtime.events
    )
    return _task_job(task), before


def _parse(job_id: str) -> tuple[str, uuid.UUID]:
    prefix, _, raw = job_id.partition("-")
    kind = next((k for k, p in PREFIXES.items() if p == prefix), None)
    try:
        return (kind or ""), uuid.UUID(raw)
    except ValueError:
        raise NotFound("Job not found", code="job_not_found") from None


def _task_job(task: ChatTask) -> Job:
    kind = "chat" if task.agent is None else "agent_run"
    return Job(f"{PREFIXES[kind]}-{task.id}", kind, task.status, task.created_at, task.finished_at, task.error,
               chat.task_stream(task.id), chat.ended_events(task))  # fmt: skip


def _run_job(run: WorkflowRun) -> Job:
    error = (run.error or {}).get("message")
    return Job(f"workflow-{run.id}", "workflow_run", run.status, run.created_at, run.finished_at, error,
               runs.run_stream(run.id), runs.ended_events(run))  # fmt: skip


def _document_job(document: Document) -> Job:
    return Job(f"ingest-{document.id}", "ingest", document.status, document.created_at, document.processed_at,
               document.error, ingestion.document_stream(document.id), ingestion.ended_events(document))  # fmt: skip


async def get(principal: Principal, job_id: str) -> Job:
    """The job of that id, if the caller may see it; 404 otherwise."""
    kind, subject = _parse(job_id)
    if kind in ("chat", "agent_run"):
        task = await ChatTask.get_or_none(
            id=subject, org_id=principal.org_id, user_id=principal.user_id, agent__isnull=kind == "chat"
        )
        if task is not None:
            return _task_job(task)
    elif kind == "workflow_run":
        run = await WorkflowRun.get_or_none(id=subject, org_id=principal.org_id)
        if run is not None:
            return _run_job(run)
    elif kind == "ingest":
        try:
            return _document_job(await ingestion.get(principal, str(subject)))
        except NotFound:
            pass
    raise NotFound("Job not found", code="job_not_found")


async def list_jobs(principal: Principal, limit: int) -> list[Job]:
    """The caller's latest jobs of every kind, newest first."""
    tasks = (
        await ChatTask.filter(org_id=principal.org_id, user_id=principal.user_id).order_by("-created_at").limit(limit)
    )
    started = WorkflowRun.filter(org_id=principal.org_id, started_by=principal.user_id)
    run_rows = await started.order_by("-created_at").limit(limit)
    documents = (
        await Document.filter(org_id=principal.org_id, uploaded_by=principal.user_id)
        .order_by("-created_at")
        .limit(limit)
    )
    found = [*map(_task_job, tasks), *map(_run_job, run_rows), *map(_document_job, documents)]
    return sorted(found, key=lambda j: j.created_at, reverse=True)[:limit]


async def usage(principal: Principal, runtime: Runtime, job: Job) -> JobUsage:
    """What the job took, summed from what its context recorded."""
    prices = runtime.settings.model_prices
    _, subject = _parse(job.job_id)
    chunks = steps = 0
    if job.kind in ("chat", "agent_run"):
        spent = await totals(principal.org_id, "chat_task", [str(subject)], prices)
    elif job.kind == "workflow_run":
        rows = await WorkflowStep.filter(run_id=subject).values_list("id", "status")
        steps = sum(1 for _, status in rows if status == "completed")
        spent = await totals(principal.org_id, "workflow_step", [str(step_id) for step_id, _ in rows], prices)
    else:
        document = await Document.get(id=subject)
        chunks = document.chunk_count
        spent = await totals(principal.org_id, "ingest", [str(subject)], prices)
    return JobUsage(
        spent.calls, spent.prompt_tokens, spent.completion_tokens, spent.total_tokens, chunks, steps, spent.cost
    )


__all__ = ["KINDS", "CostEstimate", "Job", "JobUsage", "get", "list_jobs", "submit", "usage"]
