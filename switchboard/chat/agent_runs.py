"""Direct agent runs: one agent on one instruction, with the caller's permissions.

A run is a chat task bound to one agent (`ChatTask.agent`, mode `agent`): the same worker job,
event stream, approvals and usage metering, but the model is offered only that agent's tools, and
its conversation is marked with the agent so the chat list does not show it.
"""

from __future__ import annotations

from switchboard.agents import Registry, usable_agent
from switchboard.chat import service
from switchboard.chat.models import ChatTask
from switchboard.platform.auth import Principal
from switchboard.platform.errors import NotFound
from switchboard.platform.events import EventLog
from switchboard.platform.ids import parse_id
from switchboard.platform.queue import Queue

MODE = "agent"


async def start_run(
    principal: Principal, registry: Registry, agent_name: str, instruction: str, queue: Queue, events: EventLog
) -> ChatTask:
    """Queue a run of an agent the caller may use (404 otherwise); one active run per user and agent."""
    state = await usable_agent(principal, registry, agent_name)
    started = await service.start_task(principal, instruction, None, MODE, queue, events, agent=state.agent.name)
    return await ChatTask.get(id=started.id)


async def list_runs(
    principal: Principal, registry: Registry, agent_name: str, limit: int, offset: int
) -> tuple[list[ChatTask], int]:
    """The caller's runs of an agent they may use, newest first."""
    await usable_agent(principal, registry, agent_name)
    query = ChatTask.filter(org_id=principal.org_id, user_id=principal.user_id, agent=agent_name)
    return await query.order_by("-created_at").offset(offset).limit(limit), await query.count()


async def get_run(principal: Principal, registry: Registry, agent_name: str, run_id: str) -> ChatTask:
    """One of the caller's runs of that agent; another user's run is not found either."""
    await usable_agent(principal, registry, agent_name)
    task = await ChatTask.get_or_none(
        id=parse_id(run_id, "Run"), org_id=principal.org_id, user_id=principal.user_id, agent=agent_name
    )
    if task is None:
        raise NotFound("Run not found")
    return task
