"""Real servers for every test: PostgreSQL + pgvector, a Redis-protocol server, arq worker processes.

The embedded servers start once per session (or TEST_DATABASE_URL / TEST_REDIS_URL are used);
every test starts from empty tables and an empty Redis.
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import asyncpg
import pytest
from arq.constants import in_progress_key_prefix, job_key_prefix, retry_key_prefix
from quart import Quart
from quart.typing import TestClientProtocol
from redis.asyncio import Redis

from switchboard.app import create_app
from switchboard.cli import prepare_database
from switchboard.config import Settings
from switchboard.platform.embedded import EmbeddedServers
from tests.fakes.openai_server import FakeOpenAI
from tests.support import processes
from tests.support.hook import HookServer
from tests.support.routes import test_routes

# generous where tests sign many people up; the auth limits under test keep their real values
TEST_RATE_LIMITS = {
    "register": "1000/minute",
    "login": "1000/minute",
    "api_user": "100000/minute",
    "api_ip": "100000/minute",
}
TEST_SECRET = "test-secret-key-0123456789abcdef0123456789abcdef"
JOBS_FINISH_SECONDS = 10.0
"""How long `clean` lets the jobs still running finish (a marker a killed worker left lives on)."""
TEST_AGENT_PLUGIN = "tests.support.workflow_tools:agents"
TEST_HASH_COST = (1, 1024)  # argon2id time cost, memory in KiB


def pytest_configure(config: pytest.Config) -> None:
    """Sessions side by side (pytest-xdist) each start servers of their own; external ones they would share."""
    external = os.environ.get("TEST_DATABASE_URL") or os.environ.get("TEST_REDIS_URL")
    if external and getattr(config.option, "numprocesses", None):
        raise pytest.UsageError(
            "TEST_DATABASE_URL / TEST_REDIS_URL are shared by every session: run one (make test TEST_SESSIONS=1, "
            "or pytest without -n)"
        )


@pytest.fixture(scope="session")
def data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("var")


@pytest.fixture(scope="session")
def server_urls(data_dir: Path) -> Iterator[tuple[str, str]]:
    db_url = os.environ.get("TEST_DATABASE_URL")
    redis_url = os.environ.get("TEST_REDIS_URL")
    servers = EmbeddedServers(data_dir, postgres=db_url is None, valkey=redis_url is None)
    servers.start()
    try:
        yield (db_url or servers.postgres.url, redis_url or servers.valkey.url)  # type: ignore[union-attr]
    finally:
        servers.stop()


@pytest.fixture(scope="session")
def settings(server_urls: tuple[str, str], data_dir: Path) -> Settings:
    db_url, redis_url = server_urls
    return Settings(
        _env_file=None,  # type: ignore[call-arg]
        database_url=db_url,
        redis_url=redis_url,
        SWITCHBOARD_DATA_DIR=data_dir,
        secret_key=TEST_SECRET,
        sse_heartbeat_seconds=0.5,
        queue_name="switchboard:test",
        rate_limits=TEST_RATE_LIMITS,
        # the workflow engine's tests count tool calls with a test agent, in the app and every worker
        agent_plugins=[TEST_AGENT_PLUGIN],
        # argon2id still, at its cheapest: the suite signs up over a thousand people (the default cost is
        # 0.1-0.2 s a hash and as much a sign-in); test_secrets signs in over a hash of the default cost
        password_hash_time_cost=TEST_HASH_COST[0],
        password_hash_memory_kib=TEST_HASH_COST[1],
    )


@pytest.fixture
def fake_model() -> Iterator[FakeOpenAI]:
    """An OpenAI-compatible model server on this machine, scripted by each test."""
    with FakeOpenAI() as server:
        yield server


@pytest.fixture(scope="session")
def hook_server() -> Iterator[HookServer]:
    """An endpoint the http agent may post to (its port is on the worker's allow-list)."""
    server = HookServer()
    yield server
    server.close()


@pytest.fixture(scope="session")
def process_env(settings: Settings, hook_server: HookServer) -> dict[str, str]:
    """Environment that points a child `switchboard` process at the test servers."""
    return {
        "DATABASE_URL": settings.database_url or "",
        "REDIS_URL": settings.redis_url or "",
        "SECRET_KEY": TEST_SECRET,
        "SWITCHBOARD_DATA_DIR": str(settings.data_dir),
        "QUEUE_NAME": settings.queue_name,
        "SSE_HEARTBEAT_SECONDS": "0.5",
        "EMBEDDED_WORKER": "false",
        "LOG_LEVEL": "INFO",
        "RATE_LIMITS": json.dumps(TEST_RATE_LIMITS),
        # the http agent may reach test servers on this machine (its confirmation tests post to one)
        "HTTP_AGENT_ALLOWED": json.dumps([f"127.0.0.1:{hook_server.port}"]),
        "HTTP_AGENT_PRIVATE_NETWORKS": json.dumps(["127.0.0.0/8"]),
        "AGENT_PLUGINS": json.dumps([TEST_AGENT_PLUGIN]),
        "PASSWORD_HASH_TIME_COST": str(TEST_HASH_COST[0]),
        "PASSWORD_HASH_MEMORY_KIB": str(TEST_HASH_COST[1]),
    }


@pytest.fixture(scope="session")
async def migrated(settings: Settings) -> None:
    await prepare_database(settings)


@pytest.fixture(scope="session")
def worker(
    process_env: dict[str, str], migrated: None, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[processes.Proc]:
    """One real `switchboard worker` process for the whole session."""
    proc = processes.start_worker(process_env, tmp_path_factory.mktemp("logs") / "worker.log")
    try:
        processes.wait_worker_ready(proc)
        yield proc
    finally:
        proc.stop()


@pytest.fixture(scope="session")
async def app(settings: Settings, migrated: None) -> AsyncIterator[Quart]:
    application = create_app(settings)
    application.register_blueprint(test_routes)
    async with application.test_app() as test_app:
        yield test_app.app  # type: ignore[attr-defined]


@pytest.fixture
async def client(app: Quart, clean: None) -> TestClientProtocol:
    return app.test_client()


@pytest.fixture
async def clean(settings: Settings, migrated: None) -> None:
    """Empty every table (but the migration record), the Redis keys, the job queue and the stored files.

    The queue is emptied first and the jobs still running (a test's memories job, a document it did
    not wait for) are let finish, so no job of an earlier test runs into this one, nor holds a table
    the TRUNCATE needs.
    """
    for folder in ("files", "tmp"):
        shutil.rmtree(settings.data_dir / folder, ignore_errors=True)
    redis = Redis.from_url(settings.redis_url or "")
    try:
        # the queues (sorted sets) and their checks, and retries: nothing new starts
        queued = [k async for k in redis.scan_iter("switchboard:*")]
        queued += [k async for k in redis.scan_iter(retry_key_prefix + "*")]
        if queued:
            await redis.delete(*queued)
        # A job runs while its marker and its job key are both there; arq keeps markers of finished
        # (cron) jobs for a while, and those hold nothing up.
        deadline = time.monotonic() + JOBS_FINISH_SECONDS
        while await _jobs_running(redis) and time.monotonic() < deadline:
            await asyncio.sleep(0.05)
        conn = await asyncpg.connect(settings.database_url)
        try:
            tables = await conn.fetch(
                "SELECT tablename FROM pg_tables WHERE schemaname = 'public' AND tablename NOT LIKE 'tortoise%'"
            )
            if tables:
                names = ", ".join(f'"{t["tablename"]}"' for t in tables)
                await conn.execute(f"TRUNCATE {names} RESTART IDENTITY CASCADE")
        finally:
            await conn.close()
        # results, markers of jobs a killed worker left behind, events, rate-limit counters, caches
        keys = [k for pattern in ("sb:*", "arq:*") async for k in redis.scan_iter(pattern)]
        if keys:
            await redis.delete(*keys)
    finally:
        await redis.aclose()


async def _jobs_running(redis: Redis) -> bool:
    async for marker in redis.scan_iter(in_progress_key_prefix + "*"):
        if await redis.exists(job_key_prefix + marker.decode()[len(in_progress_key_prefix) :]):
            return True
    return False


@pytest.fixture
def signup(app: Quart, clean: None):  # type: ignore[no-untyped-def]
    """Factory: `await signup(email=None, password=...)` -> a signed-in Account with its own client."""
    from tests.support.accounts import sign_up

    async def create(**kwargs):  # type: ignore[no-untyped-def]
        return await sign_up(app, **kwargs)

    return create
