"""Jira (Cloud REST API v3): JQL search, create an issue, comment; basic auth with an email and an API token."""

from __future__ import annotations

import base64
from typing import Any

from pydantic import BaseModel, Field

from switchboard.integrations.catalog import Connector, ConnectorTool, ProviderCall, ok_json


class JiraSettings(BaseModel):
    """The Jira site."""

    base_url: str = Field(min_length=8, max_length=500, description="The site, e.g. https://acme.atlassian.net")


class SearchArgs(BaseModel):
    """Arguments of jira_search."""

    jql: str = Field(min_length=1, max_length=2000, description="A JQL query.")
    max_results: int = Field(20, ge=1, le=100)


class CreateIssueArgs(BaseModel):
    """Arguments of jira_create_issue."""

    project_key: str = Field(pattern=r"^[A-Z][A-Z0-9_]{0,19}$")
    summary: str = Field(min_length=1, max_length=255)
    description: str = Field("", max_length=30_000)
    issue_type: str = Field("Task", max_length=50)


class CommentArgs(BaseModel):
    """Arguments of jira_comment."""

    issue_key: str = Field(pattern=r"^[A-Z][A-Z0-9_]{0,19}-[0-9]+$")
    body: str = Field(min_length=1, max_length=30_000)


def _doc(text: str) -> dict[str, Any]:
    """Plain text as an Atlassian document."""
    return {
        "type": "doc",
        "version": 1,
        "content": [{"type": "paragraph", "content": [{"type": "text", "text": text}]}] if text else [],
    }


def _headers(call: ProviderCall) -> dict[str, str]:
    if call.auth == "oauth2":
        return {"Authorization": f"Bearer {call.credentials.get('access_token', '')}", "Accept": "application/json"}
    pair = f"{call.credentials.get('email', '')}:{call.credentials.get('api_token', '')}".encode()
    return {"Authorization": "Basic " + base64.b64encode(pair).decode(), "Accept": "application/json"}


def _url(call: ProviderCall, path: str) -> str:
    return f"{call.settings.base_url.rstrip('/')}/rest/api/3{path}"


async def verify(call: ProviderCall) -> str:
    body = ok_json(await call.request("GET", _url(call, "/myself"), headers=_headers(call)), "Jira")
    return str(body.get("displayName") or body.get("emailAddress") or "")


async def search(call: ProviderCall, args: SearchArgs) -> dict[str, Any]:
    payload = {"jql": args.jql, "maxResults": args.max_results, "fields": ["summary", "status"]}
    body = ok_json(await call.request("POST", _url(call, "/search/jql"), headers=_headers(call), json=payload), "Jira")
    return {
        "issues": [
            {
                "key": i["key"],
                "summary": i.get("fields", {}).get("summary"),
                "status": (i.get("fields", {}).get("status") or {}).get("name"),
            }
            for i in body.get("issues", [])
        ]
    }


async def create_issue(call: ProviderCall, args: CreateIssueArgs) -> dict[str, Any]:
    fields = {
        "project": {"key": args.project_key},
        "summary": args.summary,
        "issuetype": {"name": args.issue_type},
        "description": _doc(args.description),
    }
    response = await call.request(
        "POST", _url(call, "/issue"), headers=_headers(call), json={"fields": fields}, retry_server_errors=False
    )
    created = ok_json(response, "Jira")
    return {"key": created["key"], "id": created.get("id")}


async def comment(call: ProviderCall, args: CommentArgs) -> dict[str, Any]:
    response = await call.request(
        "POST",
        _url(call, f"/issue/{args.issue_key}/comment"),
        headers=_headers(call),
        json={"body": _doc(args.body)},
        retry_server_errors=False,
    )
    created = ok_json(response, "Jira")
    return {"id": created.get("id"), "issue_key": args.issue_key}


CONNECTOR = Connector(
    type="jira",
    name="Jira",
    description="Search issues with JQL, create issues and comment on them in a Jira site.",
    auth=("basic",),
    settings_model=JiraSettings,
    credential_fields={"basic": ("email", "api_token")},
    verify=verify,
    tools=(
        ConnectorTool("jira_search", "Search issues with a JQL query.", "read", SearchArgs, search),
        ConnectorTool("jira_create_issue", "Create an issue in a project.", "write", CreateIssueArgs, create_issue),
        ConnectorTool("jira_comment", "Comment on an issue.", "write", CommentArgs, comment),
    ),
)
