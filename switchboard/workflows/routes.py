"""`/api/v1/workflows/…` definitions: CRUD, status, edit operations, node patches, versions, the node catalog.

Run routes live in the engine's own blueprint. Saves take `If-Match: <version>` (a bare number, or an
ETag `"7"`); every answer carrying a workflow also sends its version as the `ETag`.
"""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError
from quart import Blueprint, Response, jsonify, request
from quart_schema import (
    RequestSchemaValidationError,
    document_headers,
    validate_querystring,
    validate_request,
    validate_response,
)

from switchboard.agents import Registry
from switchboard.platform.auth import current_principal, require_user
from switchboard.platform.errors import NotFound, ValidationFailed
from switchboard.platform.idempotency import idempotent
from switchboard.platform.openapi import no_content
from switchboard.platform.web import runtime
from switchboard.workflows import catalog, service, versions
from switchboard.workflows.definition import Definition
from switchboard.workflows.models import Workflow, WorkflowVersion
from switchboard.workflows.schemas import (
    CompareOut,
    CompareQuery,
    EdgeDiff,
    IfMatch,
    NodeChange,
    NodeDiff,
    NodePatch,
    NodeTypeList,
    NodeTypeOut,
    NodeTypeQuery,
    OperationsIn,
    VersionOut,
    VersionPage,
    VersionQuery,
    VersionSummary,
    WorkflowOut,
    WorkflowPage,
    WorkflowQuery,
    WorkflowSummary,
)

workflows = Blueprint("workflows", __name__, url_prefix="/api/v1/workflows")

Headers = dict[str, str]


def _registry() -> Registry:
    """The agent registry the app built at start-up."""
    return runtime().resource(Registry)


def _if_match() -> int | None:
    """The version `If-Match` names (`7`, `"7"`, `W/"7"`); None when absent or `*`."""
    raw = request.headers.get("If-Match")
    if raw is None or raw.strip() == "*":
        return None
    text = raw.strip().removeprefix("W/").strip('"')
    if not text.isascii() or not text.isdigit() or len(text) > 12:
        raise ValidationFailed(
            "If-Match must name a version number",
            details=[{"field": "If-Match", "message": "a version number such as 3", "type": "header"}],
        )
    return int(text)


@workflows.errorhandler(RequestSchemaValidationError)
async def _body_error(exc: RequestSchemaValidationError) -> Response:
    """422 whose details also name the node a body error is in (`nodes.2.retry.attempts` -> node `calc`)."""
    body = await request.get_json(silent=True)
    details: list[dict[str, Any]] = []
    errors = exc.validation_error.errors(include_url=False) if isinstance(exc.validation_error, ValidationError) else []
    for error in errors:
        loc = tuple(error["loc"])
        details.append(
            {
                "node": _node_at(body, loc),
                "field": ".".join(str(p) for p in loc) or "body",
                "message": error["msg"],
                "type": error["type"],
            }
        )
    if not errors:
        details.append({"node": None, "field": "body", "message": str(exc.validation_error)})
    failed = ValidationFailed(details=details)
    response = jsonify(failed.to_dict())
    response.status_code = failed.status
    return response


def _node_at(body: Any, loc: tuple[Any, ...]) -> str | None:
    nodes = body.get("nodes") if isinstance(body, dict) else None
    if not (len(loc) >= 2 and loc[0] == "nodes" and isinstance(loc[1], int) and isinstance(nodes, list)):
        return None
    node = nodes[loc[1]] if loc[1] < len(nodes) else None
    return node["id"] if isinstance(node, dict) and isinstance(node.get("id"), str) else None


def _summary(workflow: Workflow) -> WorkflowSummary:
    return WorkflowSummary.model_validate(workflow, from_attributes=True)


async def _workflow_out(workflow: Workflow, row: WorkflowVersion | None = None) -> tuple[WorkflowOut, int, Headers]:
    row = row or await service.current_version(workflow)
    definition = Definition.model_validate(row.definition)
    out = WorkflowOut(
        **_summary(workflow).model_dump(),
        nodes=definition.nodes,
        edges=definition.edges,
        settings=definition.settings,
        consecutive_failures=workflow.consecutive_failures,
        change_summary=row.change_summary,
    )
    return out, 200, {"ETag": f'"{workflow.version}"'}


# --- workflows ---------------------------------------------------------------------------------------


@workflows.get("")
@require_user
@validate_querystring(WorkflowQuery)
@validate_response(WorkflowPage)
async def list_workflows(query_args: WorkflowQuery) -> WorkflowPage:
    """The org's workflows, most recently changed first (`?status=&search=`)."""
    found, total = await service.list_workflows(
        current_principal(),
        status=query_args.status,
        search=query_args.search,
        limit=query_args.limit,
        offset=query_args.offset,
    )
    return WorkflowPage(
        items=[_summary(w) for w in found], total=total, limit=query_args.limit, offset=query_args.offset
    )


@workflows.post("")
@require_user
@idempotent
@validate_request(Definition)
@validate_response(WorkflowOut, 201)
async def create_workflow(data: Definition) -> tuple[WorkflowOut, int, Headers]:
    """Create a draft workflow; its definition is validated and saved as version 1 (`Idempotency-Key` honoured)."""
    workflow = await service.create(current_principal(), data, _registry())
    out, _, headers = await _workflow_out(workflow)
    return out, 201, headers


@workflows.get("/node-types")
@require_user
@validate_querystring(NodeTypeQuery)
@validate_response(NodeTypeList)
async def node_types(query_args: NodeTypeQuery) -> NodeTypeList:
    """The node catalog: each type's config schema, branches and an example (`?search=&category=`)."""
    found = catalog.node_types(query_args.search, query_args.category)
    items = [
        NodeTypeOut(
            type=t.type,
            category=t.category,
            description=t.description,
            config_schema=t.config_schema,
            branches=t.branches,
            example=t.example,
        )
        for t in found
    ]
    return NodeTypeList(items=items, total=len(items))


@workflows.get("/<workflow_id>")
@require_user
@validate_response(WorkflowOut)
async def get_workflow(workflow_id: str) -> tuple[WorkflowOut, int, Headers]:
    """A workflow with its current definition; the ETag is its version."""
    return await _workflow_out(await service.get_workflow(current_principal(), workflow_id))


@workflows.put("/<workflow_id>")
@require_user
@document_headers(IfMatch)
@validate_request(Definition)
@validate_response(WorkflowOut)
async def replace_workflow(workflow_id: str, data: Definition) -> tuple[WorkflowOut, int, Headers]:
    """Replace the definition as a new version; `If-Match: <version>` -> 412 `version_mismatch` if it moved on."""
    workflow = await service.replace(current_principal(), workflow_id, data, expected=_if_match(), registry=_registry())
    return await _workflow_out(workflow)


@workflows.delete("/<workflow_id>")
@require_user
@no_content("Deleted (soft): the workflow and its versions answer 404 from now on")
async def delete_workflow(workflow_id: str) -> tuple[str, int]:
    """Soft delete: the workflow and its versions answer 404 from now on."""
    await service.delete(current_principal(), workflow_id)
    return "", 204


async def _change_status(workflow_id: str, action: str) -> tuple[WorkflowOut, int, Headers]:
    return await _workflow_out(await service.change_status(current_principal(), workflow_id, action))


@workflows.post("/<workflow_id>/activate")
@require_user
@validate_response(WorkflowOut)
async def activate(workflow_id: str) -> tuple[WorkflowOut, int, Headers]:
    """Status `active`: schedules and webhooks start runs (also after `error`, resetting the failure count)."""
    return await _change_status(workflow_id, "activate")


@workflows.post("/<workflow_id>/pause")
@require_user
@validate_response(WorkflowOut)
async def pause(workflow_id: str) -> tuple[WorkflowOut, int, Headers]:
    """Status `paused`: no new runs start; runs already going finish."""
    return await _change_status(workflow_id, "pause")


@workflows.post("/<workflow_id>/archive")
@require_user
@validate_response(WorkflowOut)
async def archive(workflow_id: str) -> tuple[WorkflowOut, int, Headers]:
    """Status `archived`: read-only and never run, until activated again."""
    return await _change_status(workflow_id, "archive")


@workflows.post("/<workflow_id>/operations")
@require_user
@document_headers(IfMatch)
@validate_request(OperationsIn)
@validate_response(WorkflowOut)
async def apply_operations(workflow_id: str, data: OperationsIn) -> tuple[WorkflowOut, int, Headers]:
    """Apply edit operations (seed 000) all or none as one new version; takes `If-Match`."""
    workflow = await service.edit(
        current_principal(),
        workflow_id,
        data.operations,
        expected=_if_match(),
        registry=_registry(),
        summary=data.summary,
    )
    return await _workflow_out(workflow)


@workflows.patch("/<workflow_id>/nodes/<node_id>")
@require_user
@document_headers(IfMatch)
@validate_request(NodePatch)
@validate_response(WorkflowOut)
async def patch_node(workflow_id: str, node_id: str, data: NodePatch) -> tuple[WorkflowOut, int, Headers]:
    """Change one node (name, config as a JSON merge patch, retry, timeout) as a new version; takes `If-Match`."""
    workflow = await service.patch_node(
        current_principal(), workflow_id, node_id, data, expected=_if_match(), registry=_registry()
    )
    return await _workflow_out(workflow)


# --- versions ----------------------------------------------------------------------------------------


def _version_number(text: str) -> int:
    """The version number in a path; anything else names no version (404). No `<int:>` converter: the
    OpenAPI document would lose the path's other parameters."""
    if not (text.isascii() and text.isdigit() and len(text) <= 10):
        raise NotFound(f"The workflow has no version {text[:20]!r}", code="version_not_found")
    return int(text)


def _version_summary(row: WorkflowVersion) -> VersionSummary:
    definition = row.definition
    return VersionSummary(
        version=row.version,
        name=str(definition.get("name", "")),
        change_summary=row.change_summary,
        author_id=row.author_id,
        node_count=len(definition.get("nodes", [])),
        created_at=row.created_at,
    )


@workflows.get("/<workflow_id>/versions")
@require_user
@validate_querystring(VersionQuery)
@validate_response(VersionPage)
async def list_versions(workflow_id: str, query_args: VersionQuery) -> VersionPage:
    """The workflow's versions, newest first."""
    rows, total = await versions.list_versions(
        current_principal(), workflow_id, limit=query_args.limit, offset=query_args.offset
    )
    return VersionPage(
        items=[_version_summary(r) for r in rows], total=total, limit=query_args.limit, offset=query_args.offset
    )


@workflows.get("/<workflow_id>/versions/compare")
@require_user
@validate_querystring(CompareQuery)
@validate_response(CompareOut)
async def compare_versions(workflow_id: str, query_args: CompareQuery) -> CompareOut:
    """What changed from version `a` to version `b`: nodes added/removed/changed (with fields), edges."""
    found = await versions.compare(current_principal(), workflow_id, query_args.a, query_args.b)
    return CompareOut(
        a=found.a,
        b=found.b,
        workflow=found.workflow,
        nodes=NodeDiff(
            added=found.nodes_added,
            removed=found.nodes_removed,
            changed=[NodeChange(id=node_id, fields=fields) for node_id, fields in found.nodes_changed],
        ),
        edges=EdgeDiff.model_validate({"added": found.edges_added, "removed": found.edges_removed}),
    )


@workflows.get("/<workflow_id>/versions/<version>")
@require_user
@validate_response(VersionOut)
async def get_version(workflow_id: str, version: str) -> VersionOut:
    """One immutable version, exactly as saved."""
    row = await versions.get_version(current_principal(), workflow_id, _version_number(version))
    definition = Definition.model_validate(row.definition)
    return VersionOut(
        **_version_summary(row).model_dump(),
        workflow_id=row.workflow_id,
        description=definition.description,
        nodes=definition.nodes,
        edges=definition.edges,
        settings=definition.settings,
    )


@workflows.post("/<workflow_id>/versions/<version>/restore")
@require_user
@document_headers(IfMatch)
@validate_response(WorkflowOut)
async def restore_version(workflow_id: str, version: str) -> tuple[WorkflowOut, int, Headers]:
    """A new version equal to an old one (no body); takes `If-Match`."""
    workflow = await versions.restore(
        current_principal(), workflow_id, _version_number(version), expected=_if_match(), registry=_registry()
    )
    return await _workflow_out(workflow)
