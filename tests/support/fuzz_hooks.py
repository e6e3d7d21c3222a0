"""Schemathesis hooks for the operations that end the caller's own session (`x-ends-session`).

They are fuzzed with throwaway accounts, one per operation, each registered and signed in on
demand: when a call ends its session (a 401 next), schemathesis asks for credentials again and
replays the call with a fresh account. A password field of these operations carries the account's real password,
so password changes and account deletion really happen (a wrong password is tested elsewhere).

`SWITCHBOARD_FUZZ_URL` names the server; schemathesis loads this module from `SCHEMATHESIS_HOOKS`.
"""

from __future__ import annotations

import os
import uuid
from typing import Any

import httpx
import schemathesis

PASSWORD = "throwaway password 1"
PASSWORD_FIELDS = ("password", "current_password")


def _base_url() -> str:
    return os.environ["SWITCHBOARD_FUZZ_URL"]


def _operation(case: Any, ctx: Any) -> str:
    return str(ctx.operation.label)


@schemathesis.auth(cache_by_key=_operation)
class ThrowawayAccount:
    """A newly registered, signed-in account per operation, whose access token is the credential."""

    def get(self, case: Any, ctx: Any) -> str:
        email = f"fuzz-{uuid.uuid4().hex[:12]}@example.com"
        with httpx.Client(base_url=_base_url(), timeout=30) as client:
            registered = client.post("/api/v1/auth/register", json={"email": email, "password": PASSWORD})
            registered.raise_for_status()
            login = client.post("/api/v1/auth/login", json={"email": email, "password": PASSWORD})
            login.raise_for_status()
            return str(login.json()["access_token"])

    def set(self, case: Any, data: str, ctx: Any) -> None:
        case.headers = {**(case.headers or {}), "Authorization": f"Bearer {data}"}


@schemathesis.hook
def before_call(ctx: Any, case: Any, kwargs: dict[str, Any]) -> None:
    """The account's real password where the operation asks for it, so the call can succeed."""
    if isinstance(case.body, dict):
        for field in PASSWORD_FIELDS:
            if field in case.body:
                case.body[field] = PASSWORD
