"""The `workflows` agent: chat can list workflows, start a run (confirmed first) and read a run."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

from switchboard.agents.registry import Agent, CallContext, Tool
from switchboard.platform.errors import AppError


class ListArgs(BaseModel):
    """Arguments of list_workflows."""

    search: str | None = Field(None, max_length=200, description="Words in the workflow's name.")
    limit: int = Field(20, ge=1, le=50)


class StartArgs(BaseModel):
    """Arguments of start_workflow_run."""

    workflow_id: str = Field(min_length=1, max_length=64, description="The workflow's id (from list_workflows).")
    input: Any = Field(default=None, description="The run's input, any JSON; templates see it as `input`.")


class ReadArgs(BaseModel):
    """Arguments of get_workflow_run."""

    workflow_id: str = Field(min_length=1, max_length=64)
    run_id: str = Field(min_length=1, max_length=64)


def workflows_agent() -> Agent:
    """The agent that lists workflows, starts runs and reads them, as the person chatting."""

    async def list_workflows(ctx: CallContext, args: ListArgs) -> dict[str, Any]:
        from switchboard.workflows.service import list_workflows as listed

        found, total = await listed(ctx.principal, status=None, search=args.search, limit=args.limit, offset=0)
        return {
            "total": total,
            "workflows": [{"id": str(w.id), "name": w.name, "status": w.status, "version": w.version} for w in found],
        }

    async def start_workflow_run(ctx: CallContext, args: StartArgs) -> dict[str, Any]:
        from switchboard.workflows.runs import start_run

        runtime = ctx.resources.get("runtime")
        if runtime is None:
            raise AppError("Workflows cannot be started from here", code="no_runtime")
        run = await start_run(
            runtime, ctx.principal, args.workflow_id, input=args.input, idempotency_key=ctx.idempotency_key
        )
        return {"run_id": str(run.id), "status": run.status, "workflow_id": str(run.workflow_id)}

    async def get_workflow_run(ctx: CallContext, args: ReadArgs) -> dict[str, Any]:
        from switchboard.workflows.runs import get_run, steps_of

        run = await get_run(ctx.principal, args.workflow_id, args.run_id)
        steps = await steps_of(run)
        return {
            "run_id": str(run.id),
            "status": run.status,
            "error": run.error,
            "output": run.output,
            "steps": [
                {"node_id": s.node_id, "status": s.status, "waiting_for": s.waiting_for, "error": s.error}
                for s in steps
            ],
        }

    return Agent(
        name="workflows",
        description="Lists the organization's workflows, starts a run of one, and reads how a run went.",
        tools=(
            Tool("list_workflows", "List the workflows of the organization.", ListArgs, list_workflows),
            # a write: starting a run has outside effects, so it asks the person first by default
            Tool(
                "start_workflow_run",
                "Start a run of a workflow with an input.",
                StartArgs,
                start_workflow_run,
                kind="write",
            ),
            Tool("get_workflow_run", "Read a run's status and steps.", ReadArgs, get_workflow_run),
        ),
    )
