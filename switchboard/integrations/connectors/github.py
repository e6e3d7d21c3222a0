"""GitHub: the REST API (issues, comments, pull requests) with a personal access or app token."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field

from switchboard.integrations.catalog import Connector, ConnectorTool, ProviderCall, ok_json

REPO = r"^[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+$"


class GitHubSettings(BaseModel):
    """Where the GitHub API is (GitHub Enterprise has its own)."""

    base_url: str = Field("https://api.github.com", max_length=500, description="The REST API's base URL.")


class ListArgs(BaseModel):
    """Arguments of github_list_issues and github_list_pull_requests."""

    repo: str = Field(pattern=REPO, max_length=200, description="owner/name")
    state: Literal["open", "closed", "all"] = "open"
    limit: int = Field(30, ge=1, le=100)


class CreateIssueArgs(BaseModel):
    """Arguments of github_create_issue."""

    repo: str = Field(pattern=REPO, max_length=200, description="owner/name")
    title: str = Field(min_length=1, max_length=256)
    body: str = Field("", max_length=65_000)


class CommentArgs(BaseModel):
    """Arguments of github_comment."""

    repo: str = Field(pattern=REPO, max_length=200, description="owner/name")
    number: int = Field(ge=1, description="The issue or pull request number.")
    body: str = Field(min_length=1, max_length=65_000)


def _headers(call: ProviderCall) -> dict[str, str]:
    token = call.credentials.get("token") or call.credentials.get("access_token", "")
    return {
        "Authorization": f"Bearer {token}",
        "Accept": "application/vnd.github+json",
        "X-GitHub-Api-Version": "2022-11-28",
    }


def _url(call: ProviderCall, path: str) -> str:
    return f"{call.settings.base_url.rstrip('/')}{path}"


async def verify(call: ProviderCall) -> str:
    body = ok_json(await call.request("GET", _url(call, "/user"), headers=_headers(call)), "GitHub")
    return str(body.get("login", ""))


async def list_issues(call: ProviderCall, args: ListArgs) -> dict[str, Any]:
    params = {"state": args.state, "per_page": args.limit}
    response = await call.request(
        "GET", _url(call, f"/repos/{args.repo}/issues"), headers=_headers(call), params=params
    )
    items = ok_json(response, "GitHub")
    return {
        "issues": [
            {"number": i["number"], "title": i["title"], "state": i["state"], "url": i.get("html_url")}
            for i in items
            if "pull_request" not in i
        ]
    }


async def list_pull_requests(call: ProviderCall, args: ListArgs) -> dict[str, Any]:
    params = {"state": args.state, "per_page": args.limit}
    response = await call.request("GET", _url(call, f"/repos/{args.repo}/pulls"), headers=_headers(call), params=params)
    items = ok_json(response, "GitHub")
    return {"pull_requests": [{"number": p["number"], "title": p["title"], "state": p["state"]} for p in items]}


async def create_issue(call: ProviderCall, args: CreateIssueArgs) -> dict[str, Any]:
    payload = {"title": args.title, "body": args.body}
    response = await call.request(
        "POST",
        _url(call, f"/repos/{args.repo}/issues"),
        headers=_headers(call),
        json=payload,
        retry_server_errors=False,
    )
    issue = ok_json(response, "GitHub")
    return {"number": issue["number"], "url": issue.get("html_url")}


async def comment(call: ProviderCall, args: CommentArgs) -> dict[str, Any]:
    response = await call.request(
        "POST",
        _url(call, f"/repos/{args.repo}/issues/{args.number}/comments"),
        headers=_headers(call),
        json={"body": args.body},
        retry_server_errors=False,
    )
    created = ok_json(response, "GitHub")
    return {"id": created["id"], "url": created.get("html_url")}


CONNECTOR = Connector(
    type="github",
    name="GitHub",
    description="List and create issues, comment, and list pull requests of GitHub repositories.",
    auth=("token",),
    settings_model=GitHubSettings,
    credential_fields={"token": ("token",)},
    verify=verify,
    tools=(
        ConnectorTool("github_list_issues", "List a repository's issues.", "read", ListArgs, list_issues),
        ConnectorTool(
            "github_list_pull_requests", "List a repository's pull requests.", "read", ListArgs, list_pull_requests
        ),
        ConnectorTool("github_create_issue", "Open an issue in a repository.", "write", CreateIssueArgs, create_issue),
        ConnectorTool("github_comment", "Comment on an issue or pull request.", "write", CommentArgs, comment),
    ),
)
