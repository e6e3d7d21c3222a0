"""Linear: the GraphQL API (viewer, issues, issueCreate), signed in with OAuth 2.0 + PKCE or a personal API key.

issueCreate takes the new issue's id from us: a workflow step derives it from its idempotency key,
so a retried step finds its issue already there instead of creating a second one.
"""

from __future__ import annotations

import uuid
from typing import Any

from pydantic import BaseModel, Field

from switchboard.integrations.catalog import Connector, ConnectorTool, OAuthEndpoints, ProviderCall, ok_json
from switchboard.integrations.errors import IntegrationAuthFailed, IntegrationFailed

ISSUE_NAMESPACE = uuid.UUID("6f1c2a4e-6a43-4c1e-9a51-1c0de0c0ffee")


class LinearSettings(BaseModel):
    """Where Linear's GraphQL API is."""

    api_url: str = Field("https://api.linear.app/graphql", max_length=500, description="The GraphQL endpoint.")


class ListIssuesArgs(BaseModel):
    """Arguments of linear_list_issues."""

    first: int = Field(20, ge=1, le=100)


class CreateIssueArgs(BaseModel):
    """Arguments of linear_create_issue."""

    team_id: str = Field(min_length=1, max_length=100, description="The team's id.")
    title: str = Field(min_length=1, max_length=255)
    description: str = Field("", max_length=30_000)


async def _query(call: ProviderCall, query: str, variables: dict[str, Any], *, write: bool = False) -> dict[str, Any]:
    if call.auth == "oauth2":
        authorization = f"Bearer {call.credentials.get('access_token', '')}"
    else:
        authorization = call.credentials.get("token", "")  # a personal API key goes as it is
    response = await call.request(
        "POST",
        call.settings.api_url,
        json={"query": query, "variables": variables},
        headers={"Authorization": authorization},
        retry_server_errors=not write or call.idempotency_key is not None,
    )
    if response.status_code == 400:  # GraphQL errors come back as 400 with an `errors` list
        try:
            body = response.json()
        except ValueError as exc:
            raise IntegrationFailed("Linear answered 400") from exc
    else:
        body = ok_json(response, "Linear")
    if not isinstance(body, dict):
        raise IntegrationFailed("Linear answered something that is not a GraphQL response")
    errors = body.get("errors")
    if errors:
        codes = {str((e.get("extensions") or {}).get("code", "")) for e in errors}
        if "AUTHENTICATION_ERROR" in codes:
            raise IntegrationAuthFailed("Linear refused the credentials")
        raise IntegrationFailed(f"Linear answered: {errors[0].get('message', 'an error')}"[:300])
    return dict(body.get("data") or {})


async def verify(call: ProviderCall) -> str:
    data = await _query(call, "query { viewer { id name } }", {})
    return str((data.get("viewer") or {}).get("name", ""))


async def list_issues(call: ProviderCall, args: ListIssuesArgs) -> dict[str, Any]:
    query = "query($first: Int) { issues(first: $first) { nodes { id identifier title url } } }"
    data = await _query(call, query, {"first": args.first})
    return {"issues": data.get("issues", {}).get("nodes", [])}


async def create_issue(call: ProviderCall, args: CreateIssueArgs) -> dict[str, Any]:
    issue: dict[str, Any] = {"teamId": args.team_id, "title": args.title, "description": args.description}
    if call.idempotency_key:
        issue["id"] = str(uuid.uuid5(ISSUE_NAMESPACE, call.idempotency_key))
    mutation = (
        "mutation($input: IssueCreateInput!) { issueCreate(input: $input) { success issue { id identifier url } } }"
    )
    data = await _query(call, mutation, {"input": issue}, write=True)
    created = data.get("issueCreate") or {}
    return {"success": bool(created.get("success")), **(created.get("issue") or {})}


CONNECTOR = Connector(
    type="linear",
    name="Linear",
    description="List and create Linear issues.",
    auth=("oauth2", "token"),
    settings_model=LinearSettings,
    credential_fields={"token": ("token",), "oauth2": ()},
    verify=verify,
    oauth=OAuthEndpoints(
        authorize_url="https://linear.app/oauth/authorize",
        token_url="https://api.linear.app/oauth/token",  # noqa: S106 (a URL, not a password)
        scopes="read,write",
    ),
    idempotent_writes=True,
    tools=(
        ConnectorTool("linear_list_issues", "List recent issues.", "read", ListIssuesArgs, list_issues),
        ConnectorTool("linear_create_issue", "Create an issue in a team.", "write", CreateIssueArgs, create_issue),
    ),
)
