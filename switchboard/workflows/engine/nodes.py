"""What each node type does when its step runs (approval, delay and subworkflow park the step)."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pydantic

from switchboard.agents import MeteredModel, UsageSubject
from switchboard.agents.errors import UnknownAgent, UnknownTool
from switchboard.agents.policies import authorize_tool_call
from switchboard.agents.registry import CallContext
from switchboard.platform.errors import AppError
from switchboard.workflows.definition import (
    AgentConfig,
    ApprovalConfig,
    ConditionConfig,
    DelayConfig,
    DeliveryConfig,
    LoopConfig,
    RouterConfig,
    SubworkflowConfig,
    ToolConfig,
    TransformConfig,
)
from switchboard.workflows.engine.conditions import evaluate
from switchboard.workflows.engine.steps import Done, Park, StepFailed, StepRun
from switchboard.workflows.templates import TemplateFailed, render, render_json, render_text, render_value

Executor = Callable[[StepRun, Any, dict[str, Any]], Awaitable[Done | Park]]
DELIVERY_TIMEOUT_S = 15.0


def jsonable(value: Any) -> Any:
    """A tool's result as JSON data."""
    if isinstance(value, pydantic.BaseModel):
        return value.model_dump(mode="json")
    try:
        return json.loads(json.dumps(value, default=str))
    except (TypeError, ValueError):
        return str(value)


async def trigger(step: StepRun, config: Any, scope: dict[str, Any]) -> Done:
    """The run's input is the trigger's output."""
    return Done(output=step.run.input)


async def tool(step: StepRun, config: ToolConfig, scope: dict[str, Any]) -> Done | Park:
    """One tool call with rendered arguments, with the acting person's permissions at this moment."""
    arguments = render_value(config.arguments, scope)
    registry = step.engine.registry
    try:
        agent = registry.agent(config.agent)
        found = agent.tool(config.tool)
    except (UnknownAgent, UnknownTool) as exc:
        raise StepFailed("unknown_tool", exc.message, retryable=False, input=arguments) from exc
    principal = await step.engine.principal(step.run)
    confirmed = bool(step.state and step.state.get("confirmed"))
    policies = await step.engine.policies(step.run)
    verdict = await authorize_tool_call(principal, agent, found, arguments, policies=policies, task_id=str(step.run.id))
    if verdict.outcome == "deny":
        raise StepFailed("tool_denied", verdict.reason, retryable=False, input=arguments)
    if verdict.outcome == "confirm" and not confirmed:
        return await step.engine.ask_confirmation(step, arguments, f"Run {agent.name}.{found.name}", verdict.reason)
    parsed = verdict.arguments if verdict.arguments is not None else found.parse_arguments(arguments)
    context = CallContext(
        principal,
        task_id=str(step.run.id),
        correlation_id=str(step.id),
        resources=step.engine.resources,
        idempotency_key=step.idempotency_key,
    )
    try:
        result = await found.call(context, parsed)
    except AppError as exc:
        raise StepFailed(exc.code, exc.message, input=arguments) from exc
    return Done(output=jsonable(result), input=arguments, meta={"agent": agent.name, "tools": [found.name]})


async def agent(step: StepRun, config: AgentConfig, scope: dict[str, Any]) -> Done | Park:
    """An agent answers a rendered instruction through `run_agents`, as the acting person."""
    from switchboard.agents.providers.base import Message
    from switchboard.agents.runner import messages_from_json, messages_to_json, run_agents

    instruction = render_text(config.instruction, scope)
    principal = await step.engine.principal(step.run)
    registry = step.engine.registry
    if config.agent not in registry:
        raise StepFailed("unknown_agent", f"No agent named {config.agent}", retryable=False)
    state = step.state or {}
    if state.get("messages"):
        messages = messages_from_json(state["messages"])
        decisions = {str(k): bool(v) for k, v in (state.get("decisions") or {}).items()}
    else:
        messages = [
            Message.system(
                f"You are the {config.agent} agent running one step of a workflow. Answer the instruction; "
                "use tools when they help."
            ),
            Message.user(instruction),
        ]
        decisions = {}
    model, closer = await step.engine.model_for(principal)
    metered = MeteredModel(model, UsageSubject.of(principal, "workflow_step", step.id))
    try:
        outcome = await run_agents(
            metered,
            registry,
            principal,
            messages,
            decisions=decisions,
            max_steps=config.max_steps,
            task_id=str(step.run.id),
            resources=step.engine.resources,
        )
    except AppError as exc:
        raise StepFailed(exc.code, exc.message, input={"instruction": instruction}) from exc
    finally:
        if closer is not None:
            await closer()
    tools_used = [call.name for m in outcome.messages if m.role == "assistant" for call in m.tool_calls]
    if outcome.status == "needs_approval":
        calls = [
            {"call_id": p.call_id, "agent": p.agent, "tool": p.tool, "arguments": p.arguments} for p in outcome.pending
        ]
        return await step.engine.ask_confirmation(
            step,
            {"instruction": instruction, "calls": calls},
            f"Let {config.agent} run {', '.join(p.tool for p in outcome.pending)}",
            outcome.pending[0].reason,
            state={"messages": messages_to_json(outcome.messages), "pending": [p.call_id for p in outcome.pending]},
        )
    meta = {"agent": config.agent, "tools": tools_used, "model_turns": outcome.steps}
    return Done(output={"text": outcome.text, "tools_used": tools_used}, input={"instruction": instruction}, meta=meta)


async def condition(step: StepRun, config: ConditionConfig, scope: dict[str, Any]) -> Done:
    """True or false, from data comparisons."""
    result, checked = evaluate(config.conditions, config.combine, scope)
    return Done(output={"result": result}, branch="true" if result else "false", meta={"conditions": checked})


async def router(step: StepRun, config: RouterConfig, scope: dict[str, Any]) -> Done:
    """The first matching route (or every match); `default` when none matches."""
    matched: list[str] = []
    for route in config.routes:
        holds, _ = evaluate(route.conditions, route.combine, scope)
        if holds:
            matched.append(route.name)
            if config.mode == "first":
                break
    branch = ",".join(matched) if matched else "default"
    return Done(output={"routes": matched or ["default"]}, branch=branch)


async def merge(step: StepRun, config: Any, scope: dict[str, Any]) -> Done:
    """The outputs of the branches that reached it, by node."""
    sources = [edge.source for edge in step.run.graph.incoming[step.node.id]]
    return Done(output={source: step.run.outputs[source] for source in sources if source in step.run.outputs})


async def transform(step: StepRun, config: TransformConfig, scope: dict[str, Any]) -> Done:
    """JSON built from templates."""
    return Done(output=render_json(config.value, scope))


async def delay(step: StepRun, config: DelayConfig, scope: dict[str, Any]) -> Done | Park:
    """Wait a duration or until a time, parked (no worker waits)."""
    now = datetime.now(UTC)
    if config.seconds is not None:
        due = (step.ready_at or now) + timedelta(seconds=config.seconds)
    else:
        text = render_text(config.until or "", scope)
        try:
            due = datetime.fromisoformat(text)
        except ValueError as exc:
            raise StepFailed("invalid_time", f"'{text}' is not an ISO 8601 time", retryable=False) from exc
        if due.tzinfo is None:
            due = due.replace(tzinfo=UTC)
    if due <= now:
        return Done(output={"waited_until": due.isoformat()})
    return Park("delay", input={"until": due.isoformat()}, resume_at=due)


def delivery_secret(secret_key: str, workflow_id: str) -> str:
    """The Standard Webhooks secret (`whsec_...`) a workflow's deliveries are signed with."""
    raw = hmac.new(secret_key.encode(), f"workflow-delivery:{workflow_id}".encode(), hashlib.sha256).digest()
    return "whsec_" + base64.b64encode(raw).decode()


def sign(secret: str, message_id: str, timestamp: int, body: bytes) -> str:
    """`webhook-signature` of a Standard Webhooks message: `v1,<base64 HMAC-SHA256 of id.timestamp.body>`."""
    key = base64.b64decode(secret.removeprefix("whsec_"))
    mac = hmac.new(key, f"{message_id}.{timestamp}.".encode() + body, hashlib.sha256).digest()
    return "v1," + base64.b64encode(mac).decode()


async def delivery(step: StepRun, config: DeliveryConfig, scope: dict[str, Any]) -> Done | Park:
    """A signed outbound webhook (Standard Webhooks; its id is the step's idempotency key), mail, or a tool.

    A tool delivery (a connector's write: post to Slack, open a Jira issue) is a `tool` step: the same
    permission check and confirmation, and the step's idempotency key travels with the write.
    """
    if config.channel == "tool":
        assert config.agent and config.tool
        return await tool(step, ToolConfig(agent=config.agent, tool=config.tool, arguments=config.arguments), scope)
    if config.channel == "mail":
        subject = render_text(config.subject or "", scope)
        text = render_text(config.text or "", scope) if config.text else ""
        for to in config.to:
            await step.engine.runtime.mailer.send(to, subject, text)
        return Done(output={"sent_to": list(config.to)}, input={"subject": subject})
    body_value = (
        render_value(config.body, scope)
        if config.body is not None
        else {
            "run_id": str(step.run.id),
            "workflow_id": str(step.run.workflow_id),
            "outputs": step.run.outputs,
        }
    )
    url = render_text(config.url or "", scope)
    body = json.dumps(body_value, default=str, separators=(",", ":")).encode()
    timestamp = int(time.time())
    secret = delivery_secret(step.engine.runtime.settings.resolved_secret_key(), str(step.run.workflow_id))
    headers = {
        "content-type": "application/json",
        "webhook-id": step.idempotency_key,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": sign(secret, step.idempotency_key, timestamp, body),
    }
    try:
        response = await step.engine.post_delivery(url, body, headers, DELIVERY_TIMEOUT_S)
    except AppError as exc:
        raise StepFailed(exc.code, exc.message, retryable=False, input={"url": url}) from exc
    except httpx.HTTPError as exc:
        raise StepFailed("delivery_failed", f"The webhook could not be delivered: {exc!r}", input={"url": url}) from exc
    if response.status_code >= 300:
        raise StepFailed("delivery_failed", f"The receiver answered {response.status_code}", input={"url": url})
    return Done(
        output={"status": response.status_code, "webhook_id": step.idempotency_key},
        input={"url": url, "body": body_value},
    )


async def approval(step: StepRun, config: ApprovalConfig, scope: dict[str, Any]) -> Park:
    """Snapshot what approvers see, ask them (inbox and mail), and park until they decide."""
    from switchboard.approvals import request_approval

    title = render_text(config.title, scope)
    description = render_text(config.description, scope) if config.description else None
    shown = {label: render(template, scope) for label, template in config.show.items()}
    context = {
        "workflow_id": str(step.run.workflow_id),
        "run_id": str(step.run.id),
        "node_id": step.node.id,
        "description": description,
        "show": shown,
    }
    try:
        found = await request_approval(
            org_id=step.run.org_id,
            kind="workflow_step",
            subject_id=step.id,
            key=step.node.id,
            title=title,
            context=context,
            requested_by=step.run.acting_user_id,
            approvers=config.approvers.model_dump(),
            mode=config.mode,
            quorum=config.quorum,
            allow_self_approval=config.allow_self_approval,
            expires_at=datetime.now(UTC) + timedelta(hours=config.timeout_hours),
            link=f"/workflows/{step.run.workflow_id}/executions/{step.run.id}",
            runtime=step.engine.runtime,
        )
    except AppError as exc:
        raise StepFailed(exc.code, exc.message, retryable=False) from exc
    event = ("approval_required", title, {"approval_id": str(found.id), "title": title, "context": context})
    return Park("approval", input={"title": title, **context}, approval_id=found.id, event=event)


async def subworkflow(step: StepRun, config: SubworkflowConfig, scope: dict[str, Any]) -> Park:
    """Start the pinned version of another workflow of the org and wait for it."""
    child_input = render_value(config.input, scope)
    child_id = await step.engine.start_child(step, config.workflow_id, config.version, child_input)
    return Park(
        "subworkflow",
        input={"workflow_id": config.workflow_id, "version": config.version, "input": child_input},
        child_run_id=child_id,
    )


async def loop(step: StepRun, config: LoopConfig, scope: dict[str, Any]) -> Done:
    """Map the inline steps over a list, `concurrency` items at a time; each (item, step) is a journal row."""
    items = render(config.items, scope)
    if isinstance(items, str):
        try:
            items = json.loads(items)
        except ValueError as exc:
            raise StepFailed("invalid_items", "The loop's items are not a list", retryable=False) from exc
    if not isinstance(items, list):
        raise StepFailed("invalid_items", "The loop's items are not a list", retryable=False)
    if len(items) > config.max_items:
        raise StepFailed(
            "too_many_items", f"{len(items)} items, more than max_items {config.max_items}", retryable=False
        )
    gate = asyncio.Semaphore(config.concurrency)

    async def one(index: int, item: Any) -> Any:
        async with gate:
            return await step.engine.run_iteration(step, config, index, item)

    results = await asyncio.gather(*(one(index, item) for index, item in enumerate(items)))
    return Done(output=list(results), meta={"items": len(items)})


EXECUTORS: dict[str, Executor] = {
    "trigger": trigger,
    "tool": tool,
    "agent": agent,
    "condition": condition,
    "router": router,
    "merge": merge,
    "transform": transform,
    "delay": delay,
    "delivery": delivery,
    "approval": approval,
    "subworkflow": subworkflow,
    "loop": loop,
}
INLINE_TYPES = ("tool", "agent", "condition", "router", "transform", "delivery")
"""Node types a loop may run for each item (no waiting inside a loop)."""


def template_failure(exc: TemplateFailed) -> StepFailed:
    """A template that failed to render fails the step for good (another try renders the same)."""
    return StepFailed("template_error", str(exc), retryable=False)
