"""`switchboard serve | worker | migrate | makemigrations`."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import os
import signal
from collections.abc import Callable, Iterator
from pathlib import Path

import click

from switchboard import contexts
from switchboard.config import Settings
from switchboard.platform import db, links
from switchboard.platform.auth import Principal
from switchboard.platform.embedded import EmbeddedServers, running_servers
from switchboard.platform.logs import configure_logging
from switchboard.platform.supervisor import Supervisor, WorkerProcess, worker_env

log = logging.getLogger("switchboard")


@contextlib.contextmanager
def resolved_settings(settings: Settings, *, attach: bool = True) -> Iterator[Settings]:
    """Settings with both servers' URLs filled in, starting the embedded ones the settings leave unset.

    With `attach`, embedded servers that a running `switchboard serve` started on the same data dir
    are used rather than started again.
    """
    with _resolved(settings, attach=attach) as (resolved, _):
        yield resolved


@contextlib.contextmanager
def _resolved(settings: Settings, *, attach: bool) -> Iterator[tuple[Settings, EmbeddedServers | None]]:
    """`resolved_settings`, and the embedded servers started here (None when none were)."""
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    settings.resolved_secret_key()
    running = running_servers(settings.data_dir) if settings.embedded else None
    if running is not None and not attach:
        raise click.ClickException(f"another Switchboard is already running on {settings.data_dir}")
    if running is not None:
        log.info("using the embedded servers of the Switchboard already running on %s", settings.data_dir)
        yield settings.model_copy(update={k: v for k, v in running.items() if v and not getattr(settings, k)}), None
        return
    if not settings.embedded:
        yield settings, None
        return
    servers = EmbeddedServers(
        settings.data_dir, postgres=settings.database_url is None, valkey=settings.redis_url is None
    )
    servers.start()
    try:
        update = {}
        if servers.postgres:
            update["database_url"] = servers.postgres.url
            log.info("embedded PostgreSQL on 127.0.0.1:%s (data in %s)", servers.postgres.port, servers.postgres.pgdata)
        if servers.valkey:
            update["redis_url"] = servers.valkey.url
            log.info("embedded Valkey on 127.0.0.1:%s", servers.valkey.port)
        yield settings.model_copy(update=update), servers
    finally:
        servers.stop()


async def prepare_database(settings: Settings) -> None:
    """Create the pgvector extension and apply every pending migration."""
    assert settings.database_url
    await db.ensure_pgvector(settings.database_url)
    await db.apply_migrations(db.tortoise_config(settings.database_url, contexts.MODEL_APPS))


def sign_in_url(settings: Settings) -> str:
    """Where a person opens the app: PUBLIC_URL, else this host and port (a wildcard bind reads as localhost)."""
    return links.app_url(settings)


def first_run_banner(url: str, email: str, password: str) -> str:
    """What the terminal shows once, on the very first start: where to sign in and what to do first."""
    return (
        "\n  Switchboard is ready. Sign in at " + url + "\n"
        f"    email:    {email}\n"
        f"    password: {password}\n"
        "  First:\n"
        f"    1. change this password: {url}settings#password\n"
        f"    2. configure a model (any OpenAI-compatible endpoint): {url}settings#model\n"
        "  This password is shown once and is not in the logs.\n"
    )


async def ensure_first_admin(settings: Settings) -> str | None:
    """On the very first start, create a superadmin with a generated password; returns the banner to print."""
    from switchboard.platform.identity import service as identity
    from switchboard.platform.security import new_token

    assert settings.database_url
    await db.open_database(db.tortoise_config(settings.database_url, contexts.MODEL_APPS))
    try:
        if await identity.has_users():
            return None
        if settings.bootstrap_token:
            # hosted installs: the first admin is made by the first-run link, not a printed password
            return (
                f"\n  No account yet. Open {sign_in_url(settings)}bootstrap?token=<BOOTSTRAP_TOKEN>"
                " to become the first admin.\n"
            )
        password = new_token(12)
        user = await identity.create_admin(settings.first_admin_email, password)
    finally:
        await db.close_database()
    return first_run_banner(sign_in_url(settings), user.email, password)


def _stop_on_signals(stop: asyncio.Event, *also: Callable[[], None]) -> None:
    def stopping() -> None:
        stop.set()
        for then in also:
            then()

    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stopping)


@click.group()
def main() -> None:
    """Switchboard: agent-centric chat and workflow orchestration."""
    base = Settings()
    configure_logging(base.log_level, base.log_format)


def _settle_garbage_collector() -> None:
    """Keep the collector's pauses short while serving: one pause holds every open stream's next event.

    What start-up made (modules, schemas, routes) lives for good: frozen, it is never scanned
    again. The young generations stay small (a generation-1 collection scans at most ~20,000
    objects: under 15 ms of CPU with a thousand streams open, where 10,000 x 20 took 50-70 ms),
    and full collections wait for 1,000 of those (about 20 million allocations), so the cycles
    left by closed connections are freed rarely, in one pause, rather than in the middle of
    every burst of events.
    """
    gc.collect()
    gc.freeze()
    gc.set_threshold(2_000, 10, 1_000)


@main.command()
@click.option("--host", default=None, help="Interface to bind (default: HOST or 127.0.0.1).")
@click.option("--port", default=None, type=int, help="Port to listen on (default: PORT or 8000).")
def serve(host: str | None, port: int | None) -> None:
    """Serve the web app, with EMBEDDED_WORKER worker processes and the embedded servers where needed, kept running."""
    from hypercorn.asyncio import serve as hypercorn_serve
    from hypercorn.config import Config

    from switchboard.app import create_app

    base = Settings()
    host = host or base.host
    port = port or base.port
    base = base.model_copy(update={"host": host, "port": port})  # what the links in mails and the banner name

    async def run(settings: Settings, supervisor: Supervisor) -> None:
        await prepare_database(settings)
        banner = await ensure_first_admin(settings)
        supervisor.start()  # after the migrations: a worker never meets an old schema
        app = create_app(settings)
        config = Config()
        config.bind = [f"{host}:{port}"]
        config.accesslog = None
        config.graceful_timeout = 5
        stop = asyncio.Event()
        # the workers stop at once, beside the web's graceful shut-down; the servers after both
        _stop_on_signals(stop, supervisor.stop_workers)
        log.info("Switchboard is serving on http://%s:%s", host, port)
        if links.names_this_machine_only(settings):
            log.warning(
                "PUBLIC_URL is unset: links in mails name %s; set it to the address people open",
                links.app_url(settings),
            )
        if banner:  # after the start-up lines, so it is the last thing on the screen; terminal only, never logged
            click.echo(banner, err=True)
        _settle_garbage_collector()
        await hypercorn_serve(app, config, shutdown_trigger=stop.wait)

    with _resolved(base, attach=False) as (settings, servers):
        supervisor = Supervisor(servers.children if servers else [], _serve_workers(settings))
        try:
            asyncio.run(run(settings, supervisor))
        finally:
            supervisor.stop()
    log.info("Switchboard stopped")


def _serve_workers(settings: Settings) -> list[WorkerProcess]:
    """The `switchboard worker` processes serve keeps running (EMBEDDED_WORKER of them)."""
    assert settings.database_url and settings.redis_url
    env = worker_env(
        settings.database_url, settings.redis_url, settings.resolved_secret_key(), str(settings.data_dir.resolve())
    )
    # the workers mail links too (an approval asked by a run): to where this serve listens
    env.update({"HOST": settings.host, "PORT": str(settings.port)})
    return [WorkerProcess(number, env) for number in range(1, settings.embedded_worker + 1)]


@main.command()
def worker() -> None:
    """Run an arq worker against REDIS_URL and DATABASE_URL (production shape)."""
    from switchboard.worker import build_worker

    async def run(settings: Settings) -> None:
        w = build_worker(settings, handle_signals=False)
        stop = asyncio.Event()
        _stop_on_signals(stop)
        main_task = asyncio.create_task(w.main())
        stop_task = asyncio.create_task(stop.wait())
        await asyncio.wait({main_task, stop_task}, return_when=asyncio.FIRST_COMPLETED)
        await w.close()
        for task in (main_task, stop_task):
            task.cancel()
        await asyncio.gather(main_task, stop_task, return_exceptions=True)

    settings = Settings()
    if settings.embedded:
        raise click.UsageError(
            "switchboard worker needs DATABASE_URL and REDIS_URL (the embedded default's serve starts its own workers)"
        )
    if settings.worker_nice:
        os.nice(settings.worker_nice)
    asyncio.run(run(settings))


@main.command()
def migrate() -> None:
    """Create the pgvector extension and apply pending migrations."""
    with resolved_settings(Settings()) as settings:
        asyncio.run(prepare_database(settings))
    click.echo("migrations applied")


@main.command("create-admin")
@click.option("--email", required=True, help="Email of the new superadmin.")
@click.option("--password", default=None, help="Password (prompted when omitted).")
@click.option("--name", default="Admin", help="Display name.")
def create_admin(email: str, password: str | None, name: str) -> None:
    """Create a platform superadmin who owns a new org."""
    from switchboard.platform.identity import service as identity

    if password is None:
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    if len(password) < 8:
        raise click.BadParameter("at least 8 characters", param_hint="--password")

    async def run(settings: Settings) -> None:
        await prepare_database(settings)
        assert settings.database_url
        await db.open_database(db.tortoise_config(settings.database_url, contexts.MODEL_APPS))
        try:
            user = await identity.create_admin(email, password, name)
        except Exception as exc:
            raise click.ClickException(f"could not create {email}: {exc}") from None
        finally:
            await db.close_database()
        click.echo(f"superadmin {user.email} created")

    with resolved_settings(Settings()) as settings:
        asyncio.run(run(settings))


@main.command()
@click.argument("app_labels", nargs=-1)
@click.option("--name", default=None, help="Name of the new migration.")
@click.option("--empty", is_flag=True, help="Write an empty migration to fill by hand.")
def makemigrations(app_labels: tuple[str, ...], name: str | None, empty: bool) -> None:
    """Write migrations for model changes (developers)."""
    from tortoise.cli import cli as tortoise_cli

    with resolved_settings(Settings()) as settings:
        assert settings.database_url
        # tortoise's CLI reads its config from a module attribute
        db.CLI_CONFIG = db.tortoise_config(settings.database_url, contexts.MODEL_APPS)
        ctx = tortoise_cli.CLIContext(config="switchboard.platform.db.CLI_CONFIG", config_file=None)
        asyncio.run(tortoise_cli.makemigrations(ctx, app_labels, empty, name))


@main.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path(exists=True, path_type=Path))
@click.option("--collection", default=None, help="Collection to put them in (made if missing; default: General).")
@click.option("--email", default=None, help="Whose documents they become (default: the first superadmin).")
def ingest(paths: tuple[Path, ...], collection: str | None, email: str | None) -> None:
    """Load every document under PATHS, with a progress bar, and wait until they are searchable."""
    from switchboard.ingestion import bulk

    files = bulk.files_under(paths)
    if not files:
        raise click.ClickException("no documents of a supported type (pdf, docx, xlsx, csv, txt, md, html) found")

    async def run(settings: Settings, attached: bool) -> None:
        await prepare_database(settings)
        runtime = await contexts.open_runtime(settings)
        worker = None
        try:
            principal = await _owner(email)
            target = await bulk.collection_named(principal, collection)
            report = await bulk.queue_files(runtime, principal, files, target, settings.max_upload_bytes)
            for path, reason in report.skipped:
                click.echo(f"skipped {path}: {reason}", err=True)
            if not attached:  # nobody else will process them: this command runs a worker itself
                from switchboard.worker import build_worker

                worker = build_worker(settings, ctx={"runtime": runtime}, handle_signals=False)
                worker_task = asyncio.create_task(worker.main())
            await _wait_for(report.document_ids)
        finally:
            if worker is not None:
                await worker.close()
                worker_task.cancel()
                await asyncio.gather(worker_task, return_exceptions=True)
            await contexts.close_runtime(runtime)

    base = Settings()
    attached = base.embedded and running_servers(base.data_dir) is not None
    with resolved_settings(base) as settings:
        asyncio.run(run(settings, attached or not settings.embedded))


async def _owner(email: str | None) -> Principal:
    from switchboard.platform.auth import principal_for
    from switchboard.platform.identity.models import User

    query = User.filter(email=email.strip().lower()) if email else User.filter(is_superadmin=True)
    user = await query.order_by("created_at").first()
    if user is None:
        raise click.ClickException(f"no user {email}" if email else "no superadmin yet: start `switchboard serve` once")
    return await principal_for(user.id, auth_method="cli", ip=None)


async def _wait_for(document_ids: list[str]) -> None:
    from switchboard.ingestion import bulk

    done: dict[str, str] = {}
    with click.progressbar(length=len(document_ids), label="Ingesting", show_pos=True) as bar:
        while len(done) < len(document_ids):
            states = await bulk.statuses(document_ids)
            finished = {i: s for i, s in states.items() if s in ("completed", "failed")}
            bar.update(len(finished) - len(done))
            done = finished
            await asyncio.sleep(0.25)
    failed = [i for i, s in done.items() if s == "failed"]
    click.echo(f"{len(done) - len(failed)} documents ready, {len(failed)} failed")
