"""Signed-up users for tests: each account has its own client (its own cookie jar, like its own browser)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from quart import Quart
from quart.typing import TestClientProtocol

PASSWORD = "correct horse battery staple"


@dataclass
class Account:
    """A signed-in user."""

    email: str
    password: str
    user_id: str
    org_id: str
    token: str
    client: TestClientProtocol

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}

    async def get(self, path: str, **kwargs: Any) -> Any:
        return await self.client.get(path, headers={**self.headers, **kwargs.pop("headers", {})}, **kwargs)

    async def post(self, path: str, **kwargs: Any) -> Any:
        return await self.client.post(path, headers={**self.headers, **kwargs.pop("headers", {})}, **kwargs)

    async def put(self, path: str, **kwargs: Any) -> Any:
        return await self.client.put(path, headers={**self.headers, **kwargs.pop("headers", {})}, **kwargs)

    async def patch(self, path: str, **kwargs: Any) -> Any:
        return await self.client.patch(path, headers={**self.headers, **kwargs.pop("headers", {})}, **kwargs)

    async def delete(self, path: str, **kwargs: Any) -> Any:
        return await self.client.delete(path, headers={**self.headers, **kwargs.pop("headers", {})}, **kwargs)


async def sign_up(app: Quart, email: str | None = None, password: str = PASSWORD, name: str = "Ada") -> Account:
    """Register and sign in through the API."""
    client = app.test_client()
    email = email or f"user-{uuid.uuid4().hex[:10]}@example.com"
    registered = await client.post("/api/v1/auth/register", json={"email": email, "password": password, "name": name})
    assert registered.status_code == 201, await registered.get_data(as_text=True)
    return await sign_in(app, email, password, client)


async def sign_in(
    app: Quart, email: str, password: str = PASSWORD, client: TestClientProtocol | None = None
) -> Account:
    """Sign in through the API."""
    client = client or app.test_client()
    login = await client.post("/api/v1/auth/login", json={"email": email, "password": password})
    assert login.status_code == 200, await login.get_data(as_text=True)
    token = (await login.get_json())["access_token"]
    me = await (await client.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {token}"})).get_json()
    return Account(email, password, me["id"], me["org"]["id"], token, client)


async def join_org(admin: Account, member: Account, role: str = "member") -> None:
    """`admin` invites `member` into admin's active org; member accepts and switches to it."""
    invited = await admin.post(f"/api/v1/orgs/{admin.org_id}/invitations", json={"email": member.email, "role": role})
    assert invited.status_code == 201, await invited.get_data(as_text=True)
    token = (await invited.get_json())["token"]
    accepted = await member.post(f"/api/v1/invitations/{token}/accept")
    assert accepted.status_code == 200, await accepted.get_data(as_text=True)
    switched = await member.post(f"/api/v1/orgs/{admin.org_id}/switch")
    assert switched.status_code == 200
    member.org_id = admin.org_id


def multipart(
    filename: str, content: bytes, fields: dict[str, str] | None = None, content_type: str = "application/octet-stream"
) -> tuple[bytes, str]:
    """A multipart/form-data body with one `file` part; returns (body, Content-Type header)."""
    boundary = uuid.uuid4().hex
    parts = []
    for name, value in (fields or {}).items():
        parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode())
    parts.append(
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="{filename}"\r\n'
        f"Content-Type: {content_type}\r\n\r\n".encode()
        + content
        + b"\r\n"
    )
    parts.append(f"--{boundary}--\r\n".encode())
    return b"".join(parts), f"multipart/form-data; boundary={boundary}"


async def upload(
    account: Account,
    filename: str,
    content: bytes,
    collection_id: str | None = None,
    path: str = "/api/v1/documents/upload",
) -> Any:
    """POST a document as `account`; returns the response."""
    body, content_type = multipart(filename, content, {"collection_id": collection_id} if collection_id else None)
    return await account.post(path, data=body, headers={"Content-Type": content_type})
