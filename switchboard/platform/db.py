"""Tortoise ORM on PostgreSQL with pgvector: configuration, start-up, migrations."""

from __future__ import annotations

import asyncpg
from pgvector.asyncpg import register_vector
from tortoise import Tortoise
from tortoise.backends.base.config_generator import expand_db_url
from tortoise.connection import get_connection
from tortoise.migrations.api import migrate
from tortoise.migrations.executor import MigrationExecutor

from switchboard.platform.errors import ServiceUnavailable

CLI_CONFIG: dict[str, object] = {}  # set by `switchboard makemigrations` for tortoise's CLI


class PgvectorMissing(RuntimeError):
    """The PostgreSQL server has no pgvector extension."""


async def _register_codecs(conn: asyncpg.Connection) -> None:
    await register_vector(conn)


async def _keep_session(conn: asyncpg.Connection) -> None:
    """Nothing to reset when a connection goes back to the pool.

    asyncpg's default sends `RESET ALL; UNLISTEN *; CLOSE ALL; pg_advisory_unlock_all()` on every
    release: one more round trip for each query made outside a transaction. This code sets no
    session state (only `SET LOCAL`, inside transactions), listens to nothing and takes no advisory
    locks; an open transaction is still rolled back by asyncpg before this runs.
    """


def tortoise_config(
    database_url: str, apps: dict[str, str], pool_max: int = 10, pool_min: int = 1
) -> dict[str, object]:
    """Tortoise config for `apps` (label -> models module), pgvector codec on every connection."""
    connection = expand_db_url(database_url)
    connection["credentials"].update(
        {"minsize": min(pool_min, pool_max), "maxsize": pool_max, "init": _register_codecs, "reset": _keep_session}
    )
    return {
        "connections": {"default": connection},
        "apps": {
            label: {"models": [module], "default_connection": "default", "migrations": f"migrations.{label}"}
            for label, module in apps.items()
        },
        "use_tz": True,
        "timezone": "UTC",
    }


async def ensure_pgvector(database_url: str) -> None:
    """Create the `vector` extension, with a clear error when the server does not have it."""
    conn = await asyncpg.connect(database_url)
    try:
        available = await conn.fetchval("SELECT 1 FROM pg_available_extensions WHERE name = 'vector'")
        if not available:
            raise PgvectorMissing(
                "This PostgreSQL server has no pgvector extension. Install pgvector "
                "(https://github.com/pgvector/pgvector) or unset DATABASE_URL to use the embedded server."
            )
        await conn.execute("CREATE EXTENSION IF NOT EXISTS vector")
    finally:
        await conn.close()


async def apply_migrations(config: dict[str, object]) -> None:
    """Apply every pending migration of every app."""
    await migrate(config=_without_codecs(config))
    await Tortoise.close_connections()


async def pending_migrations(config: dict[str, object]) -> list[str]:
    """Names of migrations not yet applied on the open connection."""
    apps = config["apps"]
    assert isinstance(apps, dict)
    executor = MigrationExecutor(get_connection("default"), apps)
    return [f"{step.migration.app_label}.{step.migration.name}" for step in await executor.plan()]


async def open_database(config: dict[str, object]) -> None:
    """Initialise Tortoise for this process."""
    await Tortoise.init(config=config)


async def close_database() -> None:
    """Close every connection of this process."""
    await Tortoise.close_connections()


async def ping_database() -> None:
    """Run `SELECT 1`; ServiceUnavailable when the database does not answer."""
    try:
        await get_connection("default").execute_query("SELECT 1")
    except Exception as exc:
        raise ServiceUnavailable("The database is not answering") from exc


def _without_codecs(config: dict[str, object]) -> dict[str, object]:
    # the migration run may create the extension's first use; plain connections suffice
    conns = config["connections"]
    assert isinstance(conns, dict)
    default = dict(conns["default"])
    default["credentials"] = {k: v for k, v in default["credentials"].items() if k != "init"}
    return {**config, "connections": {"default": default}}
