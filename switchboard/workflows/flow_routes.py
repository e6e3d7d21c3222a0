"""The flows surface under `/api/v1/workflows/`: templates, generation, agent suggestions, the dashboard,
run logs and usage."""

from __future__ import annotations

from quart import Blueprint
from quart_schema import validate_querystring, validate_request, validate_response

from switchboard.agents import Registry
from switchboard.platform.auth import current_principal, require_user
from switchboard.platform.web import runtime
from switchboard.workflows import dashboard, generate, templates_catalog
from switchboard.workflows.definition import Definition
from switchboard.workflows.models import Workflow
from switchboard.workflows.schemas import WorkflowOut
from switchboard.workflows.trigger_schemas import (
    AgentSuggestion,
    GeneratedWorkflow,
    GenerateIn,
    LatestRun,
    LatestRunsQuery,
    LogEntry,
    LogPage,
    LogQuery,
    Metrics,
    MetricsOut,
    MetricsQuery,
    RunList,
    SuggestionsOut,
    TemplateList,
    TemplateOut,
    UsageOut,
    UseTemplateIn,
    WorkflowMetrics,
)

flows = Blueprint("workflow_flows", __name__, url_prefix="/api/v1/workflows")


def _registry() -> Registry:
    """The agent registry the app built at start-up."""
    return runtime().resource(Registry)


async def _out(workflow: Workflow) -> WorkflowOut:
    from switchboard.workflows.schemas import WorkflowSummary
    from switchboard.workflows.service import current_version

    row = await current_version(workflow)
    definition = Definition.model_validate(row.definition)
    return WorkflowOut(
        **WorkflowSummary.model_validate(workflow, from_attributes=True).model_dump(),
        nodes=definition.nodes,
        edges=definition.edges,
        settings=definition.settings,
        consecutive_failures=workflow.consecutive_failures,
        change_summary=row.change_summary,
    )


# --- templates ---------------------------------------------------------------------------------------------


@flows.get("/templates")
@require_user
@validate_response(TemplateList)
async def list_templates() -> TemplateList:
    """Ready workflows to start from."""
    return TemplateList(
        items=[
            TemplateOut(
                name=t.name, title=t.title, description=t.description, category=t.category, definition=t.definition
            )
            for t in templates_catalog.TEMPLATES.values()
        ]
    )


@flows.post("/templates/<name>/use")
@require_user
@validate_request(UseTemplateIn)
@validate_response(WorkflowOut, 201)
async def use_template(name: str, data: UseTemplateIn) -> tuple[WorkflowOut, int]:
    """A new draft workflow copied from a template."""
    from switchboard.workflows.service import create

    definition = templates_catalog.template(name).fresh_definition()
    if data.name:
        definition["name"] = data.name
    workflow = await create(current_principal(), Definition.model_validate(definition), _registry())
    return await _out(workflow), 201


# --- generation -------------------------------------------------------------------------------------------


@flows.post("/generate")
@require_user
@validate_request(GenerateIn)
@validate_response(GeneratedWorkflow, 201)
async def generate_workflow(data: GenerateIn) -> tuple[GeneratedWorkflow, int]:
    """A draft workflow from a description, written by your model (503 `model_required` without one)."""
    from switchboard.workflows.service import create

    principal, registry = current_principal(), _registry()
    generated = await generate.generate(principal, runtime(), registry, data.description)
    workflow = await create(principal, generated.definition, registry)
    return GeneratedWorkflow(**(await _out(workflow)).model_dump(), repairs=generated.repairs), 201


@flows.post("/<workflow_id>/nodes/<node_id>/suggest-agents")
@require_user
@validate_response(SuggestionsOut)
async def suggest_agents(workflow_id: str, node_id: str) -> SuggestionsOut:
    """The agents you may use, ranked by how well they fit the node's instruction (embeddings; works offline)."""
    from switchboard.ingestion import query_cache_of
    from switchboard.workflows.service import current_version, get_workflow

    principal = current_principal()
    workflow = await get_workflow(principal, workflow_id)
    definition = Definition.model_validate((await current_version(workflow)).definition)
    text = generate.node_instruction(definition, node_id)
    cache = query_cache_of(runtime())
    found = await generate.suggest_agents(principal, _registry(), cache.embed, text)
    return SuggestionsOut(
        node_id=node_id,
        items=[AgentSuggestion(agent=s.agent, description=s.description, score=s.score) for s in found],
    )


# --- dashboard ----------------------------------------------------------------------------------------------


@flows.get("/dashboard/latest-runs")
@require_user
@validate_querystring(LatestRunsQuery)
@validate_response(RunList)
async def latest_runs(query_args: LatestRunsQuery) -> RunList:
    """The org's newest runs across workflows."""
    rows = await dashboard.latest_runs(current_principal(), query_args.limit)
    return RunList(items=[LatestRun(**row) for row in rows])


@flows.get("/metrics")
@require_user
@validate_querystring(MetricsQuery)
@validate_response(MetricsOut)
async def run_metrics(query_args: MetricsQuery) -> MetricsOut:
    """Run counts, outcomes and durations (p50, p95) for the org and each workflow, over `days` days."""
    report = await dashboard.metrics(current_principal(), query_args.days, query_args.workflow_id)
    return MetricsOut(
        days=query_args.days, org=Metrics(**report.org), workflows=[WorkflowMetrics(**m) for m in report.workflows]
    )


@flows.get("/<workflow_id>/executions/<run_id>/logs")
@require_user
@validate_querystring(LogQuery)
@validate_response(LogPage)
async def run_logs(workflow_id: str, run_id: str, query_args: LogQuery) -> LogPage:
    """A run's step attempts in the order they started; page with `?after=<next_after>`."""
    rows, next_after = await dashboard.run_log(
        current_principal(), workflow_id, run_id, query_args.after, query_args.limit
    )
    items = [LogEntry(**{**row, "step_id": row["id"]}) for row in rows]
    return LogPage(items=items, next_after=next_after)


@flows.get("/usage")
@require_user
@validate_response(UsageOut)
async def usage() -> UsageOut:
    """Runs started this month against the org's allowance (a configured default until billing sets plans)."""
    found = await dashboard.usage(current_principal(), runtime().settings.workflow_runs_monthly_limit)
    return UsageOut(
        period_start=found.period_start,
        period_end=found.period_end,
        runs=found.runs,
        limit=found.limit,
        remaining=max(0, found.limit - found.runs),
    )
