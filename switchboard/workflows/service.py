"""Workflow definitions: create, read, list, save as a new version, soft delete, status changes.

Every save (PUT, edit operations, a node patch, a restore) validates the whole definition, then in
one transaction moves the workflow's version number from the expected one to the next by a
conditional update and writes the new immutable `WorkflowVersion`: of two saves against the same
version one wins, the other is a 412 `version_mismatch` naming the current version. The engine
reads pinned versions through `load_definition` and reports each finished run through
`record_run_outcome`.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from tortoise.expressions import F
from tortoise.transactions import in_transaction

from switchboard.agents import Registry
from switchboard.platform.auth import Principal
from switchboard.platform.errors import Conflict, NotFound, VersionMismatch
from switchboard.platform.ids import parse_id
from switchboard.workflows import operations, schedule_service, validation
from switchboard.workflows.definition import Definition, TriggerConfig, WorkflowSettings
from switchboard.workflows.models import Workflow, WorkflowVersion
from switchboard.workflows.schemas import MAX_VERSION, NodePatch, Operation

# status -> the statuses it may be reached from, per action
_MOVES: dict[str, tuple[str, tuple[str, ...]]] = {
    "activate": ("active", ("draft", "active", "paused", "error", "archived")),
    "pause": ("paused", ("active", "paused", "error")),
    "archive": ("archived", ("draft", "active", "paused", "error", "archived")),
}
# manual runs may start from these; schedules and webhooks only from "active"
MANUAL_RUN_STATUSES = ("draft", "active", "error")


class WorkflowNotFound(NotFound):
    """No such workflow in the caller's org (or it was deleted)."""

    code, message = "workflow_not_found", "Workflow not found"


class WorkflowArchived(Conflict):
    """An archived workflow is read-only until it is activated again."""

    code, message = "workflow_archived", "The workflow is archived; activate it to change it"


class InvalidStatusChange(Conflict):
    """The workflow's status does not allow this change."""

    code = "invalid_status"


class WorkflowNotRunnable(Conflict):
    """The workflow's status does not allow a run to start."""

    code = "workflow_not_runnable"


# --- reading -----------------------------------------------------------------------------------------


async def get_workflow(principal: Principal, workflow_id: uuid.UUID | str) -> Workflow:
    """The caller's org's workflow; WorkflowNotFound for another org's, a deleted one, or no such id."""
    found = await Workflow.get_or_none(id=parse_id(workflow_id, "Workflow"), org_id=principal.org_id, deleted_at=None)
    if found is None:
        raise WorkflowNotFound()
    return found


async def current_version(workflow: Workflow) -> WorkflowVersion:
    """The workflow's latest version row."""
    return await WorkflowVersion.get(workflow_id=workflow.id, version=workflow.version)


async def list_workflows(
    principal: Principal, *, status: str | None, search: str | None, limit: int, offset: int
) -> tuple[list[Workflow], int]:
    """The org's workflows (not deleted), most recently changed first, and how many there are."""
    query = Workflow.filter(org_id=principal.org_id, deleted_at=None)
    if status:
        query = query.filter(status=status)
    if search:
        query = query.filter(name__icontains=search)
    total = await query.count()
    found = await query.order_by("-updated_at", "id").offset(offset).limit(limit)
    return list(found), total


async def load_definition(workflow_id: uuid.UUID | str, version: int) -> Definition:
    """That version's definition, for the engine (no principal: the run already belongs to the org)."""
    row = None
    if 1 <= version <= MAX_VERSION:
        row = await WorkflowVersion.get_or_none(workflow_id=parse_id(workflow_id, "Workflow"), version=version)
    if row is None:
        raise NotFound(f"Workflow version {version} not found", code="version_not_found")
    return Definition.model_validate(row.definition)


def ensure_runnable(workflow: Workflow, trigger: str = "manual") -> None:
    """Conflict `workflow_not_runnable` unless a run may start: manual in draft|active|error, else only active."""
    allowed = MANUAL_RUN_STATUSES if trigger == "manual" else ("active",)
    if workflow.status not in allowed:
        raise WorkflowNotRunnable(f"The workflow is {workflow.status}; activate it to run it")


# --- saving ------------------------------------------------------------------------------------------


def _trigger_kind(definition: Definition) -> str:
    for node in definition.nodes:
        if node.type == "trigger":
            return TriggerConfig.model_validate(node.config).kind
    return "manual"


async def create(principal: Principal, definition: Definition, registry: Registry) -> Workflow:
    """A new draft workflow of the caller's org, owned by the caller, with `definition` as version 1."""
    await validation.validate(definition, principal=principal, registry=registry)
    async with in_transaction():
        workflow = await Workflow.create(
            org_id=principal.org_id,
            owner_id=principal.user_id,
            name=definition.name,
            description=definition.description,
            trigger_kind=_trigger_kind(definition),
        )
        await WorkflowVersion.create(
            workflow_id=workflow.id,
            org_id=principal.org_id,
            version=1,
            definition=definition.model_dump(mode="json", by_alias=True),
            change_summary="created",
            author_id=principal.user_id,
        )
    return workflow


async def _current_number(workflow_id: uuid.UUID) -> int | None:
    found = await Workflow.get_or_none(id=workflow_id, deleted_at=None)
    return found.version if found else None


def _mismatch(current: int | None) -> VersionMismatch:
    if current is None:
        return VersionMismatch(details={"current": None})
    return VersionMismatch(
        f"The workflow was changed by someone else; it is at version {current}", details={"current": current}
    )


def base_version(workflow: Workflow, expected: int | None) -> int:
    """The version a save builds on: `expected` (If-Match) when given, else the current one."""
    if workflow.status == "archived":
        raise WorkflowArchived()
    if expected is not None and expected != workflow.version:
        raise _mismatch(workflow.version)
    return workflow.version


async def save_version(
    principal: Principal,
    workflow: Workflow,
    base: int,
    definition: Definition,
    registry: Registry,
    summary: str,
) -> Workflow:
    """Validate, then move the workflow from `base` to `base + 1` with a new version, or 412."""
    await validation.validate(definition, principal=principal, registry=registry, workflow_id=workflow.id)
    now = datetime.now(UTC)
    async with in_transaction():
        # the conditional update is the guard: a concurrent save at the same base waits for our row lock,
        # then finds the version moved and updates nothing
        moved = await Workflow.filter(id=workflow.id, version=base, deleted_at=None).update(
            version=base + 1,
            name=definition.name,
            description=definition.description,
            trigger_kind=_trigger_kind(definition),
            updated_at=now,
        )
        if moved:
            await WorkflowVersion.create(
                workflow_id=workflow.id,
                org_id=workflow.org_id,
                version=base + 1,
                definition=definition.model_dump(mode="json", by_alias=True),
                change_summary=summary[:2000],
                author_id=principal.user_id,
            )
    if not moved:
        current = await _current_number(workflow.id)
        if current is None:
            raise WorkflowNotFound()
        raise _mismatch(current)
    await workflow.refresh_from_db()
    return workflow


async def _base_definition(workflow: Workflow, base: int) -> Definition:
    row = await WorkflowVersion.get(workflow_id=workflow.id, version=base)
    return Definition.model_validate(row.definition)


async def replace(
    principal: Principal,
    workflow_id: uuid.UUID | str,
    definition: Definition,
    *,
    expected: int | None,
    registry: Registry,
) -> Workflow:
    """`PUT`: the whole definition, as a new version (If-Match `expected`)."""
    workflow = await get_workflow(principal, workflow_id)
    base = base_version(workflow, expected)
    return await save_version(principal, workflow, base, definition, registry, "replaced the definition")


async def edit(
    principal: Principal,
    workflow_id: uuid.UUID | str,
    edits: list[Operation],
    *,
    expected: int | None,
    registry: Registry,
    summary: str | None = None,
) -> Workflow:
    """Apply edit operations all or none, validate the result, save it as one new version."""
    workflow = await get_workflow(principal, workflow_id)
    base = base_version(workflow, expected)
    changed, done = operations.apply(await _base_definition(workflow, base), edits)
    return await save_version(principal, workflow, base, changed, registry, summary or done)


async def patch_node(
    principal: Principal,
    workflow_id: uuid.UUID | str,
    node_id: str,
    patch: NodePatch,
    *,
    expected: int | None,
    registry: Registry,
) -> Workflow:
    """Change one node (config merged as a JSON merge patch) as a new version; 404 for an unknown node."""
    workflow = await get_workflow(principal, workflow_id)
    base = base_version(workflow, expected)
    definition = await _base_definition(workflow, base)
    if not any(node.id == node_id for node in definition.nodes):
        raise NotFound(f"The workflow has no node {node_id}", code="node_not_found")
    changed, done = operations.patch_node(definition, node_id, patch)
    return await save_version(principal, workflow, base, changed, registry, done)


async def version_row(workflow: Workflow, version: int) -> WorkflowVersion:
    """One version of a workflow the caller can see; NotFound `version_not_found` if it has none."""
    row = None
    if 1 <= version <= MAX_VERSION:
        row = await WorkflowVersion.get_or_none(workflow_id=workflow.id, org_id=workflow.org_id, version=version)
    if row is None:
        raise NotFound(f"The workflow has no version {version}", code="version_not_found")
    return row


# --- lifecycle ---------------------------------------------------------------------------------------


async def delete(principal: Principal, workflow_id: uuid.UUID | str) -> None:
    """Soft delete: the workflow and its versions are 404 from now on; runs already started finish."""
    workflow = await get_workflow(principal, workflow_id)
    await Workflow.filter(id=workflow.id, deleted_at=None).update(
        deleted_at=datetime.now(UTC), updated_at=datetime.now(UTC)
    )
    await schedule_service.withdraw_held(workflow_id=workflow.id)


async def change_status(principal: Principal, workflow_id: uuid.UUID | str, action: str) -> Workflow:
    """`activate`, `pause` or `archive`; InvalidStatusChange when the current status does not allow it."""
    target, sources = _MOVES[action]
    workflow = await get_workflow(principal, workflow_id)
    if workflow.status not in sources:
        raise InvalidStatusChange(
            f"A {workflow.status} workflow cannot be {'paused' if action == 'pause' else action}d"
        )
    changes: dict[str, object] = {"status": target, "updated_at": datetime.now(UTC)}
    if action == "activate":
        changes["consecutive_failures"] = 0  # a fresh start after status 'error'
    moved = await Workflow.filter(id=workflow.id, deleted_at=None, status__in=sources).update(**changes)
    if not moved:  # changed under us: answer with what it is now
        raise InvalidStatusChange("The workflow's status changed meanwhile; reload it")
    if target != "active":  # runs written ahead of a fire time still to come do not start
        await schedule_service.withdraw_held(workflow_id=workflow.id)
    await workflow.refresh_from_db()
    return workflow


async def record_run_outcome(workflow_id: uuid.UUID | str, succeeded: bool) -> None:
    """Count a finished run: a success resets the failure count; `failure_threshold` failures in a row -> 'error'."""
    wid = parse_id(workflow_id, "Workflow")
    if succeeded:
        await Workflow.filter(id=wid, consecutive_failures__gt=0).update(consecutive_failures=0)
        return
    await Workflow.filter(id=wid).update(consecutive_failures=F("consecutive_failures") + 1)
    workflow = await Workflow.get_or_none(id=wid)
    if workflow is None or workflow.status not in ("draft", "active"):
        return
    row = await WorkflowVersion.get_or_none(workflow_id=wid, version=workflow.version)
    settings = WorkflowSettings.model_validate(row.definition.get("settings", {})) if row else WorkflowSettings()
    stopped = await Workflow.filter(
        id=wid, status__in=("draft", "active"), consecutive_failures__gte=settings.failure_threshold
    ).update(status="error", updated_at=datetime.now(UTC))
    if stopped:  # it left `active`: runs written ahead of a fire time still to come do not start
        await schedule_service.withdraw_held(workflow_id=wid)
