"""Settings, read from environment variables (and a `.env` file when present).

The groups below are mixed into one flat `Settings`, so every variable keeps a short,
conventional name (`DATABASE_URL`, not `DATABASE__URL`).
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class ServerSettings(BaseSettings):
    """Where and how the web process listens."""

    host: str = Field("127.0.0.1", description="Interface `switchboard serve` binds to.")
    port: int = Field(8000, description="Port `switchboard serve` listens on.")
    public_url: str | None = Field(
        None, description="External base URL, used in links (mails, the start banner) and the CSRF Origin check."
    )
    max_json_body_bytes: int = Field(1_048_576, description="Largest JSON request body accepted (413 above).")
    log_level: str = Field("INFO", description="Root log level (JSON lines on stderr).")
    log_format: Literal["auto", "json", "text"] = Field(
        "auto", description="Log lines on stderr: `json`, `text` (short lines), or `auto` (text on a terminal)."
    )
    first_admin_email: str = Field("admin@example.com", description="Email of the superadmin created on first start.")
    embedded_worker: int = Field(
        default_factory=lambda: default_worker_processes(),
        ge=0,
        description="Worker processes `switchboard serve` starts and keeps running beside the web process: a number, "
        "true (one per 4 CPUs, 1 to 4) or false / 0 (none: run `switchboard worker` yourself).",
    )

    @field_validator("embedded_worker", mode="before")
    @classmethod
    def _worker_count(cls, value: Any) -> Any:
        """true / false (the setting's older meaning) read as the default count / none."""
        if isinstance(value, bool):
            return default_worker_processes() if value else 0
        if isinstance(value, str) and value.strip().lower() in ("true", "yes", "on"):
            return default_worker_processes()
        if isinstance(value, str) and value.strip().lower() in ("false", "no", "off"):
            return 0
        return value


def default_worker_processes() -> int:
    """Worker processes serve starts by default: one per four CPUs this process may use, 1 to 4.

    Each worker's embedder already runs a lane per core, so one worker keeps every core busy
    embedding; more spread the jobs' own Python (extraction, tool calls, event batching) over
    more interpreters, and one dying leaves the others taking jobs.
    """
    return min(4, max(1, len(os.sched_getaffinity(0)) // 4))


class StorageSettings(BaseSettings):
    """Where the embedded default keeps its state."""

    data_dir: Path = Field(
        Path("./var"),
        validation_alias="SWITCHBOARD_DATA_DIR",
        description="Everything the embedded default writes: PostgreSQL data, Valkey data, files, secrets.",
    )


class DatabaseSettings(BaseSettings):
    """PostgreSQL with pgvector."""

    database_url: str | None = Field(
        None,
        description="postgres://user:pass@host:port/db. Unset: an embedded PostgreSQL 18 + pgvector in the data dir.",
    )
    db_pool_max: int = Field(10, description="Connections in one process's database pool (all opened at start-up).")


class QueueSettings(BaseSettings):
    """Redis-protocol server for the job queue, task progress and rate limits."""

    redis_url: str | None = Field(None, description="redis://host:port/db. Unset: an embedded Valkey in the data dir.")
    queue_name: str = Field("switchboard:queue", description="arq queue name.")
    worker_poll_delay: float = Field(
        0.25,
        gt=0,
        le=0.5,  # cron jobs are looked for on each poll, in half-second windows
        description="Most seconds between a worker's queue polls; an enqueue wakes the workers at once, so this "
        "bounds only deferred and retried jobs and cron.",
    )
    worker_max_jobs: int = Field(50, description="Jobs one worker process runs concurrently.")
    job_timeout: int = Field(600, description="Seconds before a job is cancelled.")
    job_max_tries: int = Field(5, description="Attempts of a job before it is given up.")
    worker_nice: int = Field(
        10,
        ge=0,
        le=19,
        description="Niceness `switchboard worker` adds to its CPU priority: where web and workers share cores, "
        "requests and live streams come first and jobs take the rest. 0 leaves it as started.",
    )


class EventSettings(BaseSettings):
    """Task progress streams."""

    event_retention_seconds: int = Field(86_400, description="How long a finished task's event stream stays readable.")
    audit_retention_days: int = Field(365, description="Audit entries older than this are purged daily.")
    event_max_age_seconds: int = Field(7 * 86_400, description="Expiry of a stream whose task never finished.")
    sse_heartbeat_seconds: float = Field(15.0, description="Idle seconds between SSE heartbeat comments.")


class SecuritySettings(BaseSettings):
    """Keys and tokens."""

    secret_key_previous: str | None = Field(
        None,
        description="Earlier SECRET_KEYs, comma-separated, newest first: secrets stored encrypted under them "
        "(model API keys, 2FA seeds) still decrypt, and model keys are re-encrypted under SECRET_KEY when next used.",
    )
    rate_limits: dict[str, str] = Field(
        default_factory=dict,
        description='Overrides of named rate limits as JSON, e.g. {"login": "20/minute", "api_user": "1000/minute"}.',
    )
    password_hash_time_cost: int = Field(
        3, ge=1, le=20, description="argon2id passes over memory per password hash (RFC 9106's second choice: 3)."
    )
    password_hash_memory_kib: int = Field(
        65536,
        ge=1024,
        le=4_194_304,
        description="argon2id memory per password hash, in KiB (64 MiB). A changed cost applies to new passwords "
        "and to each stored one at its next sign-in.",
    )
    secret_key: str | None = Field(
        None,
        description="Signs tokens and derives encryption keys. Generated into the data dir for the embedded default; "
        "required when DATABASE_URL or REDIS_URL is set.",
    )


class ControlPlaneSettings(BaseSettings):
    """Operations: metrics, scheduled maintenance, the org's live stream."""

    metrics_token: str | None = Field(
        None,
        description="Bearer token /metrics asks of callers not on loopback; unset: /metrics answers loopback only.",
    )
    cron_secret: str | None = Field(
        None, description="Bearer secret of POST /cron/retention (an external scheduler's call); unset: refused."
    )
    signup: Literal["open", "invited"] = Field(
        "open",
        description="Who may create an account: `open` (anyone) or `invited` (only an address with a pending "
        "invitation; the first admin comes from `switchboard serve` or the bootstrap link).",
    )
    bootstrap_token: str | None = Field(
        None,
        description="Arms the first-run link GET /bootstrap?token=... (hosted installs): while no user exists, it "
        "creates the first superadmin (FIRST_ADMIN_EMAIL) and signs them in, once; the printed password is not made.",
    )
    model_prices: dict[str, dict[str, float]] = Field(
        default_factory=dict,
        description='Price table for cost estimates and usage, per million tokens, as JSON: {"gpt-4o-mini": '
        '{"prompt": 0.15, "completion": 0.6}}; "*" prices any model not listed. A model without a price has cost null.',
    )
    org_events_max_len: int = Field(
        100_000, description="Events kept per org live stream (older ones trimmed; a resume further back misses them)."
    )


class MailSettings(BaseSettings):
    """Outgoing mail."""

    smtp_host: str | None = Field(None, description="SMTP server; unset keeps mail in the outbox table only.")
    smtp_port: int = Field(25, description="SMTP port.")
    mail_from: str = Field("switchboard@localhost", description="Sender address of outgoing mail.")


class AgentSettings(BaseSettings):
    """Agents, their tools, and the model endpoints users bring (BYOK)."""

    http_agent_allowed: list[str] = Field(
        default_factory=list,
        description="Where the http agent may send requests, as JSON: hosts, *.domains, host:port or URL prefixes, "
        'e.g. ["api.example.com"]. Empty: no http agent.',
    )
    http_agent_private_networks: list[str] = Field(
        default_factory=list,
        description="Non-public networks (CIDR, as JSON) the http agent may reach anyway.",
    )
    model_private_networks: list[str] = Field(
        default_factory=lambda: ["127.0.0.0/8", "::1/128"],
        description="Non-public networks (CIDR, as JSON) a user's own model endpoint may be in; others are refused. "
        "The default allows a model server on the same host (Ollama, vLLM).",
    )
    agent_max_steps: int = Field(8, description="Most model turns one agent run takes before it stops.")


class ChatSettings(BaseSettings):
    """The platform's default chat model; without one, the offline responder answers."""

    chat_base_url: str | None = Field(None, description="OpenAI-compatible endpoint of the platform's default model.")
    chat_api_key: str | None = Field(None, description="API key of that endpoint.")
    chat_model: str = Field("gpt-4o-mini", description="The platform's default chat model.")
    chat_task_lease_seconds: float = Field(
        15.0,
        gt=0,
        description="Lease of a running chat task, renewed every third of it; a dead worker's task is taken "
        "over once it runs out (plus the watchdog's 5 s beat).",
    )


class WorkflowEngineSettings(BaseSettings):
    """The workflow engine: leases of running steps and limits of runs in progress."""

    workflow_step_lease_seconds: float = Field(
        15.0,
        gt=0,
        description="Lease of a running workflow step, renewed every third of it; a dead worker's "
        "step is run again once it runs out (plus the watchdog's 3 s beat).",
    )
    workflow_org_max_concurrent_runs: int = Field(
        200, ge=1, description="Workflow runs in progress at once in one org (a manual start over it is a 429)."
    )
    agent_plugins: list[str] = Field(
        default_factory=list,
        description="Extra agents, as JSON import paths `module:function` of functions `agents(runtime)` "
        "returning agents (tests and private tools).",
    )


class IngestionSettings(BaseSettings):
    """Documents: uploads, embeddings, search."""

    max_upload_bytes: int = Field(50 * 1024 * 1024, description="Largest document accepted (413 above).")
    document_lease_seconds: float = Field(
        30.0,
        gt=0,
        description="Lease of a document being processed, renewed every third of it; a dead worker's document "
        "is processed again once it runs out (plus the watchdog's 5 s beat).",
    )
    embedder: str = Field(
        "onnx-quantized",
        description="Embedding backend: onnx-quantized (default), onnx, torch (sentence-transformers), or openai.",
    )
    embedding_onnx_dir: Path | None = Field(
        None, description="Where the ONNX export of the embedding model lives (default: inside the virtualenv)."
    )
    embedding_base_url: str | None = Field(None, description="OpenAI-compatible embeddings endpoint (embedder=openai).")
    embedding_api_key: str | None = Field(None, description="API key of that endpoint.")
    embedding_model: str = Field("text-embedding-3-small", description="Embedding model name (embedder=openai).")
    search_ef: int = Field(200, description="HNSW ef_search: higher finds more of the true nearest chunks, slower.")
    search_min_similarity: float = Field(
        0.3,
        ge=-1.0,
        le=1.0,
        description="Semantic similarity (cosine, -1..1) a passage needs to be shown by search and quoted in "
        "answers; lower passes are left out (semantic and hybrid search).",
    )


class WorkflowTriggerSettings(BaseSettings):
    """What starts workflows without a person: schedules and inbound webhooks; the monthly run allowance."""

    schedule_tick_seconds: int = Field(
        1,
        ge=0,
        le=30,
        description="Seconds between each worker's schedule ticks (claiming due fire times); 0: workers do not "
        "tick on their own (POST /admin/tick still does).",
    )
    schedule_lookahead_seconds: float = Field(
        5,
        ge=0,
        le=30,
        description="How far ahead a tick writes fire times' runs: a run due within this many seconds is written "
        "now, its first step held until the fire time (so thousands due at once start on time); 0: at the fire "
        "time.",
    )
    webhook_max_body_bytes: int = Field(
        262_144, ge=1, le=1_048_576, description="Largest webhook delivery body accepted (413 above)."
    )
    webhook_secret_overlap_hours: float = Field(
        24, ge=0, le=720, description="How long a rotated webhook secret still verifies after its replacement."
    )
    workflow_runs_monthly_limit: int = Field(
        10_000, ge=0, description="Runs an org may start per calendar month (UTC), shown by /workflows/usage."
    )


class IntegrationSettings(BaseSettings):
    """Connectors: where their outbound calls may go, how they retry, and the OAuth apps they sign in with."""

    integrations_private_networks: list[str] = Field(
        default_factory=list,
        description="Non-public networks (CIDR, as JSON) connectors may reach anyway (an on-premises Jira, a "
        "generic HTTP API inside the network); every other private or loopback address is refused.",
    )
    integrations_timeout_seconds: float = Field(15, gt=0, le=120, description="Timeout of one outbound call.")
    integrations_max_retries: int = Field(
        3, ge=0, le=10, description="Retries of an outbound call answered 429 or 5xx (honouring Retry-After)."
    )
    integrations_max_response_bytes: int = Field(
        2_000_000, ge=1024, description="Largest provider answer read; a larger one fails the call."
    )
    integrations_refresh_margin_seconds: int = Field(
        300, ge=0, le=86_400, description="An OAuth token expiring within this many seconds is refreshed before use."
    )
    integrations_oauth_apps: dict[str, dict[str, str]] = Field(
        default_factory=dict,
        description='OAuth apps by connector, as JSON: {"linear": {"client_id": ..., "client_secret": ..., '
        '"authorize_url": ..., "token_url": ...}} (URLs default to the provider\'s own).',
    )


class Settings(
    ControlPlaneSettings,
    IntegrationSettings,
    WorkflowTriggerSettings,
    WorkflowEngineSettings,
    ChatSettings,
    IngestionSettings,
    ServerSettings,
    MailSettings,
    StorageSettings,
    DatabaseSettings,
    QueueSettings,
    EventSettings,
    SecuritySettings,
    AgentSettings,
):
    """Every setting of Switchboard."""

    model_config = SettingsConfigDict(env_file=".env", extra="ignore", populate_by_name=True)

    @property
    def embedded(self) -> bool:
        """True when either server is started by Switchboard itself."""
        return self.database_url is None or self.redis_url is None

    def resolved_secret_key(self) -> str:
        """The secret key, generated and persisted in the data dir on first embedded start."""
        if self.secret_key:
            return self.secret_key
        if not self.embedded:
            raise RuntimeError("SECRET_KEY must be set when DATABASE_URL and REDIS_URL point at external servers")
        path = self.data_dir / "secret_key"
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(secrets.token_urlsafe(48))
            path.chmod(0o600)
        self.secret_key = path.read_text().strip()
        return self.secret_key
