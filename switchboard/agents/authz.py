"""`may principal P do action A on resource R?` for integrators: the caller, or (admins) a member of their org."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from switchboard.agents.access import PolicySet
from switchboard.agents.errors import UnknownAgent, UnknownTool
from switchboard.agents.policies import agent_state, load_policies, member_principal
from switchboard.agents.registry import Registry
from switchboard.platform.auth import Principal
from switchboard.platform.errors import BadRequest


@dataclass(frozen=True)
class Check:
    """One question: may `user_id` (None: the caller) do `action` on `resource`?"""

    action: str
    resource: str
    user_id: uuid.UUID | None = None


@dataclass(frozen=True)
class Answer:
    """The answer to one check, with the reason and the tier it came from."""

    allowed: bool
    action: str
    resource: str
    user_id: uuid.UUID
    reason: str
    source: str | None = None


async def check_many(principal: Principal, registry: Registry, checks: list[Check]) -> list[Answer]:
    """Answer each check; the settings of each person asked about are loaded once."""
    people: dict[uuid.UUID | None, Principal] = {}
    policies: dict[uuid.UUID | None, PolicySet] = {}
    answers: list[Answer] = []
    for check in checks:
        if check.user_id not in people:
            subject = await member_principal(principal, check.user_id or principal.user_id)
            people[check.user_id] = subject
            policies[check.user_id] = await load_policies(subject)
        subject, found = people[check.user_id], policies[check.user_id]
        answers.append(_answer(registry, found, subject, check))
    return answers


def _answer(registry: Registry, policies: PolicySet, subject: Principal, check: Check) -> Answer:
    def no(reason: str) -> Answer:
        return Answer(False, check.action, check.resource, subject.user_id, reason)

    if check.action == "agent.use":
        try:
            agent = registry.agent(check.resource)
        except UnknownAgent as exc:
            return no(exc.message)
        decision = agent_state(policies, agent).access
        return Answer(decision.allowed, check.action, check.resource, subject.user_id, decision.reason, decision.source)
    if check.action in ("tool.use", "tool.run_unconfirmed"):
        try:
            agent, tool = registry.tool(check.resource)
        except UnknownTool as exc:
            return no(exc.message)
        state = next(t for t in agent_state(policies, agent).tools if t.tool.name == tool.name)
        if check.action == "tool.use" or not state.access.allowed:
            decision = state.access
            return Answer(
                decision.allowed, check.action, check.resource, subject.user_id, decision.reason, decision.source
            )
        confirmation = state.confirmation
        return Answer(
            not confirmation.required,
            check.action,
            check.resource,
            subject.user_id,
            confirmation.reason,
            confirmation.source,
        )
    raise BadRequest(f"Unknown action {check.action}", code="unknown_action")
