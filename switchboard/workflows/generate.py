"""Workflows from a sentence, and agents for a node: through the caller's model, and by embedding similarity.

Generation asks the caller's effective model (their own, else the org's, else the platform's) for a
definition as JSON, checks it against the definition schema and the whole-graph validation, and
sends the errors back for a repair, twice at most; what still fails is a 422 listing the errors.
The offline responder writes no workflows: without a model the answer is 503 `model_required`.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError

from switchboard.agents import Registry, chat_model_for, load_policies, usable_agents
from switchboard.agents.providers.base import ChatModel, ChatOptions, Message, complete
from switchboard.agents.providers.openai_compat import OpenAIChatModel
from switchboard.platform.auth import Principal
from switchboard.platform.errors import AppError, ServiceUnavailable, ValidationFailed
from switchboard.platform.runtime import Runtime
from switchboard.workflows.definition import NODE_CONFIGS, Definition

MAX_REPAIRS = 2
MODEL_REQUIRED = (
    "Generating a workflow needs a language model, and only the offline responder is configured. "
    "Set your own under Settings > Models (PUT /api/v1/settings/models with provider, base_url, chat_model and "
    "api_key), or ask an operator to set CHAT_BASE_URL, CHAT_API_KEY and CHAT_MODEL for everyone."
)
_FENCE = re.compile(r"```(?:json)?\s*(.*?)```", re.DOTALL)


class ModelRequired(ServiceUnavailable):
    """No language model is configured for the caller."""

    code, message = "model_required", MODEL_REQUIRED


@dataclass(frozen=True)
class Generated:
    """A valid definition and the repairs it took."""

    definition: Definition
    repairs: int


async def model_for(principal: Principal, runtime: Runtime) -> tuple[ChatModel, Callable[[], Awaitable[None]]]:
    """The caller's model, else the platform's; ModelRequired when only the offline responder is left."""
    own = await chat_model_for(principal, runtime.settings)
    if own is not None:
        return own, own.close
    settings = runtime.settings
    if settings.chat_base_url:
        platform = OpenAIChatModel(
            base_url=settings.chat_base_url, api_key=settings.chat_api_key or "none", model=settings.chat_model
        )
        return platform, platform.close
    raise ModelRequired()


def _instructions(registry: Registry, agents: list[Any]) -> str:
    configs = {name: model.model_json_schema() for name, model in NODE_CONFIGS.items()}
    catalog = [
        {"agent": a.name, "description": a.description, "tools": [{"tool": t.name, "kind": t.kind} for t in a.tools]}
        for a in agents
    ]
    return (
        "You design workflows for Switchboard. Answer with ONE JSON object and nothing else: a workflow "
        "definition {name, description, nodes: [{id, type, name, config}], edges: [{from, to, when?}]}.\n"
        "Rules: exactly one node of type trigger (config.kind manual|schedule|webhook) and nothing leads into it; "
        "every node is reachable from it; no cycles; node ids are lowercase snake_case; edges after a condition "
        'carry when "true" or "false", after a router a route name or "default", after an approval "rejected" or '
        '"timeout" for those branches (none for approved); other edges carry no when. String config values are '
        "Jinja2 templates that may use input.<field> and nodes.<earlier node id>.output.\n"
        f"Node config schemas by type: {json.dumps(configs, separators=(',', ':'))}\n"
        f"Agents and tools the user may use (use only these): {json.dumps(catalog, separators=(',', ':'))}"
    )


def _parse(text: str) -> Any:
    fenced = _FENCE.search(text)
    candidate = fenced.group(1) if fenced else text
    start, end = candidate.find("{"), candidate.rfind("}")
    if start < 0 or end < start:
        raise ValueError("the answer holds no JSON object")
    return json.loads(candidate[start : end + 1])


async def _check(
    answer: str, principal: Principal, registry: Registry
) -> tuple[Definition | None, list[dict[str, Any]]]:
    """The definition in the answer, or the problems with it (each with field and message)."""
    from switchboard.workflows import validation

    try:
        definition = Definition.model_validate(_parse(answer))
    except ValidationError as exc:
        return None, [
            {"field": ".".join(str(p) for p in e["loc"]) or "body", "message": e["msg"]}
            for e in exc.errors(include_url=False)
        ]
    except ValueError as exc:
        return None, [{"field": "body", "message": f"not valid JSON: {exc}"}]
    try:
        await validation.validate(definition, principal=principal, registry=registry)
    except ValidationFailed as exc:
        return None, list(exc.details or [])
    return definition, []


async def generate(principal: Principal, runtime: Runtime, registry: Registry, description: str) -> Generated:
    """A valid definition for `description`, repaired up to twice; ValidationFailed (422) listing what stayed wrong."""
    model, close = await model_for(principal, runtime)
    try:
        agents = usable_agents(registry, await load_policies(principal))
        messages = [
            Message.system(_instructions(registry, agents)),
            Message.user(f"Design a workflow that does this: {description}"),
        ]
        problems: list[dict[str, Any]] = []
        for attempt in range(MAX_REPAIRS + 1):
            reply = await complete(model, messages, options=ChatOptions(temperature=0))
            definition, problems = await _check(reply.text, principal, registry)
            if definition is not None:
                return Generated(definition, repairs=attempt)
            messages += [
                Message.assistant(reply.text),
                Message.user(
                    "That definition is not valid: "
                    + json.dumps(problems, default=str)
                    + ". Answer with the corrected JSON object only."
                ),
            ]
        raise ValidationFailed(
            f"The model's workflow was still invalid after {MAX_REPAIRS} repairs",
            code="generation_invalid",
            details=problems,
        )
    finally:
        await close()


# --- agents for a node --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Suggestion:
    """An agent and how close its description is to the node's instruction (cosine, -1..1)."""

    agent: str
    description: str
    score: float


def node_instruction(definition: Definition, node_id: str) -> str:
    """What the node asks for: its instruction, else its name; 404 for no such node, 422 when it says nothing."""
    from switchboard.platform.errors import NotFound

    for node in definition.nodes:
        if node.id == node_id:
            text = str(node.config.get("instruction") or node.name or "").strip()
            if not text:
                raise ValidationFailed(
                    "The node has no instruction or name to match agents against",
                    details=[{"node": node_id, "field": "config.instruction", "message": "empty"}],
                )
            return text
    raise NotFound(f"No node {node_id} in this workflow", code="node_not_found")


async def suggest_agents(
    principal: Principal, registry: Registry, embed: Callable[[list[str]], Awaitable[list[list[float]]]], text: str
) -> list[Suggestion]:
    """The agents the caller may use, most similar first (embeddings of the text and of each agent's description)."""
    agents = usable_agents(registry, await load_policies(principal))
    if not agents:
        return []
    profiles = [
        f"{a.name}: {a.description} Tools: " + "; ".join(f"{t.name}: {t.description}" for t in a.tools) for a in agents
    ]
    try:
        vectors = await embed([text, *profiles])
    except AppError:
        raise
    query, rest = vectors[0], vectors[1:]
    scored = [Suggestion(a.name, a.description, round(_cosine(query, v), 4)) for a, v in zip(agents, rest, strict=True)]
    return sorted(scored, key=lambda s: (-s.score, s.agent))


def _cosine(a: list[float], b: list[float]) -> float:
    dot = sum(x * y for x, y in zip(a, b, strict=True))
    norm = math.sqrt(sum(x * x for x in a)) * math.sqrt(sum(y * y for y in b))
    return dot / norm if norm else 0.0
