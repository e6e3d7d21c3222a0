"""A real `switchboard serve` process (no in-process worker) beside the session's worker process."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.support import processes


@pytest.fixture(scope="session")
def live_url(process_env, worker, tmp_path_factory) -> Iterator[str]:
    port = processes.free_port()
    proc = processes.start_serve(process_env, port, tmp_path_factory.mktemp("logs") / "serve.log")
    url = f"http://127.0.0.1:{port}"
    try:
        processes.wait_healthy(proc, url)
        yield url
    finally:
        proc.stop()


@pytest.fixture
async def superadmin_headers(app, clean) -> dict[str, str]:
    """An API key of a platform superadmin, made through the services (the HTTP routes are tested elsewhere)."""
    from switchboard.platform.auth import principal_for
    from switchboard.platform.identity import apikeys
    from switchboard.platform.identity.service import create_admin

    user = await create_admin("root@example.com", "root password 1")
    _, raw = await apikeys.create_key(await principal_for(user.id, auth_method="jwt", ip=None), "e2e")
    return {"X-API-Key": raw}
