"""How a chat task is answered: pick a mode, run agent passes, pause for approvals, synthesise.

The parts: `modes` (the mode engine), `steps` (one agent pass, approvals), `citations`,
`emitter` (the task's events), `memory` (what is kept about the person); the chat model is
chosen by `switchboard.agents.ChatModels`.

- ask: one agent pass; an empty or weak answer escalates to research.
- research: a plan of steps (`plan_created`), run concurrently, evaluated (`replan_triggered` for
  steps that found nothing), then a synthesis.
- investigate: hypotheses (`hypotheses_updated`) explored in waves, then a synthesis.
- auto: the model classifies the question (a heuristic when offline).
- agent: a direct agent run: one pass with only the task's agent's tools (`ChatTask.agent`).

Every finished step is kept in the task's `state`, so a retried job or a task resumed after an
approval never runs a finished step again.
"""

from __future__ import annotations

from switchboard.agents import ChatModel, ChatModels, MeteredModel, OfflineResponder, Registry, UsageSubject
from switchboard.chat.emitter import Emitter
from switchboard.chat.models import ChatTask
from switchboard.chat.modes import MODES, Outcome, choose_mode
from switchboard.chat.steps import Paused, TaskCancelled, TaskRun, history, memories
from switchboard.platform.auth import Principal
from switchboard.platform.runtime import Runtime

__all__ = ["Emitter", "Outcome", "TaskCancelled", "run_task"]


def _registry(registry: Registry, task: ChatTask) -> Registry:
    """Every agent for a chat; only the run's agent for a direct agent run (`UnknownAgent` if it is gone)."""
    return registry if task.agent is None else Registry([registry.agent(task.agent)])


def _metered(model: ChatModel, principal: Principal, task: ChatTask) -> ChatModel:
    """The task's model, its usage recorded; the offline responder as it is (it reports none, and the
    modes recognise it by its type)."""
    if isinstance(model, OfflineResponder):
        return model
    return MeteredModel(model, UsageSubject.of(principal, "chat_task", task.id))


async def run_task(task: ChatTask, principal: Principal, runtime: Runtime, emit: Emitter) -> Outcome:
    """Answer the task in its mode; returns `paused` when an approval is needed first."""
    chosen = await runtime.resource(ChatModels).choose(principal, runtime.settings)
    try:
        run = TaskRun(
            task,
            principal,
            runtime,
            _registry(runtime.resource(Registry), task),
            _metered(chosen.model, principal, task),
            emit,
            await history(task),
            await memories(task),
        )
        mode = run.state.get("mode") or await choose_mode(run)
        if "mode" not in run.state:
            run.state["mode"] = mode
            await run.save()
            await emit("mode_selected", f"Answering in {mode} mode", data={"mode": mode, "requested": task.mode})
        try:
            return await MODES[mode](run)
        except Paused:
            return Outcome(paused=True, mode=mode)
    finally:
        await chosen.aclose()
