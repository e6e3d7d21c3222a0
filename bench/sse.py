"""Chat progress over SSE, measured against a real `switchboard serve` process and real worker processes.

Prints one JSON object:

- fanout: many SSE clients (default 1,000: 100 users x 10 clients following each user's task) are
  connected to ONE web process before any worker runs; then the workers start, run the queued tasks
  and append their events. Each event's latency is its arrival at a client minus its `timestamp`
  (set by the worker process at append time; same machine clock). The clients run in a few
  separate processes so that the web process, not the client, is measured; each client process
  reports its own event-loop lag. The offline responder streams its answer word by word as fast
  as it can (about 80 events a task), so with every task running at once this is a burst.
- fanout_paced: the same 1,000 clients, but each worker runs only a few tasks at a time, so the
  events arrive at a pace nearer a model's; the other clients stay connected, waiting.
- first_event: distinct users (default 50) at the same instant POST /api/v1/chat/stream and open the
  task's progress stream; the latency runs from just before the POST to the arrival of the task's
  first event (`queued`, appended by the web process), with the time to `task_started` (appended by
  the worker) beside it and a breakdown (POST answered, `task_started` appended, delivered), over
  several rounds.
- first_event_spread: the same, with the users' POSTs spread evenly over a second.
- org_fanout: the fan-out again, but the users share ONE org and every client follows the org's live
  stream (`/api/v1/events/stream?kinds=chat`) instead of its task's: each gets its own user's task
  events only, out of the whole org's, through the web process's one reader of the org stream.
- org_fanout_paced: the org stream's clients again, with the workers paced as in fanout_paced (the
  shape the task streams' p99 <= 50 ms goal is measured on).

Each phase also reports the machine's CPU: this benchmark's processes and everything else (on a
shared machine, figures taken while `other_pct` is high are not comparable).

    python bench/sse.py [--users 100] [--clients-per-task 10] [--client-procs 3] [--workers 2]
                        [--paced-max-jobs 4] [--start-users 50] [--start-rounds 4] [--spread-s 1]
                        [--phases fanout,fanout_paced,first_event,first_event_spread]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

sys.path[0] = str(Path(__file__).resolve().parent.parent)

from bench.common import BENCH_SECRET, percentile, servers  # noqa: E402
from tests.support import processes  # noqa: E402

TERMINAL = {"complete", "error", "cancelled"}
PHASES = (
    "fanout",
    "fanout_paced",
    "org_fanout",
    "org_fanout_paced",
    "first_event",
    "first_event_spread",
    "first_event_loop",
)
ORG_STREAM = "/api/v1/events/stream?kinds=chat"
QUESTION = "What does the travel policy say about booking hotels?"
RATE_LIMITS = {
    "register": "100000/minute",
    "login": "100000/minute",
    "api_user": "1000000/minute",
    "api_ip": "1000000/minute",
}


# ---------------------------------------------------------------- a minimal HTTP/1.1 + SSE client
# Raw asyncio streams: a client costs a socket and a coroutine, so 300+ of them fit in one process
# without the client's own CPU showing up in the figures.


class HttpError(Exception):
    """A non-2xx answer or a broken connection."""


async def _head(reader: asyncio.StreamReader) -> tuple[int, dict[str, str]]:
    status_line = await reader.readline()
    if not status_line:
        raise HttpError("connection closed before the status line")
    status = int(status_line.split()[1])
    headers: dict[str, str] = {}
    while (line := await reader.readline()) not in (b"\r\n", b""):
        name, _, value = line.decode("latin-1").partition(":")
        headers[name.strip().lower()] = value.strip()
    return status, headers


async def post_json(host: str, port: int, path: str, token: str, body: dict[str, Any]) -> tuple[int, Any]:
    """POST a JSON body on a fresh connection; (status, decoded JSON)."""
    reader, writer = await asyncio.open_connection(host, port)
    try:
        payload = json.dumps(body).encode()
        writer.write(
            f"POST {path} HTTP/1.1\r\nHost: {host}:{port}\r\nAuthorization: Bearer {token}\r\n"
            f"Content-Type: application/json\r\nContent-Length: {len(payload)}\r\nConnection: close\r\n\r\n".encode()
            + payload
        )
        status, headers = await _head(reader)
        if "content-length" in headers:
            data = await reader.readexactly(int(headers["content-length"]))
        else:
            data = b"".join([chunk async for chunk in _body(reader, headers)])
        return status, json.loads(data) if data else None
    finally:
        writer.close()


async def _body(reader: asyncio.StreamReader, headers: dict[str, str]) -> Any:
    """The body's pieces as they arrive (chunked or until EOF)."""
    if headers.get("transfer-encoding", "").lower() == "chunked":
        while True:
            size = int((await reader.readline()).split(b";")[0], 16)
            if size == 0:
                return
            data = await reader.readexactly(size + 2)
            yield data[:-2]
    else:
        while data := await reader.read(65536):
            yield data


@dataclass
class Follower:
    """One SSE client of one task: records each event's latency from its append timestamp."""

    task_id: str
    token: str
    path: str = ""  # default: the task's progress stream
    connected: asyncio.Event = field(default_factory=asyncio.Event)
    latencies_ms: list[float] = field(default_factory=list)
    # from the event's stream id (the Redis server's clock, in ms, when the XADD ran) to its arrival:
    # the part of the latency after the worker's append reached Redis
    from_redis_ms: list[float] = field(default_factory=list)
    connected_at: float | None = None  # wall-clock arrival of the stream's `: connected` comment
    replayed: int = 0  # events appended before the client connected: replay, not live delivery
    first_event_at: float | None = None  # wall-clock arrival of the task's first event (`queued`)
    first_started_at: float | None = None  # wall-clock arrival of `task_started`
    first_started_stamp: float | None = None  # its `timestamp`: when the worker appended it
    first_started_after_redis_ms: float | None = None  # its arrival after its XADD (Redis clock)
    last_arrival: float = 0.0
    events: int = 0
    terminal: str | None = None
    error: str | None = None

    async def run(self, host: str, port: int, stop_at_start: bool = False) -> None:
        try:
            await self._run(host, port, stop_at_start)
        except Exception as exc:  # a benchmark counts errors instead of stopping
            self.error = f"{type(exc).__name__}: {exc}"
        finally:
            self.connected.set()

    async def _run(self, host: str, port: int, stop_at_start: bool) -> None:
        reader, writer = await asyncio.open_connection(host, port)
        try:
            writer.write(
                f"GET {self.path or f'/api/v1/chat/{self.task_id}/progress'} HTTP/1.1\r\nHost: {host}:{port}\r\n"
                f"Authorization: Bearer {self.token}\r\nAccept: text/event-stream\r\n\r\n".encode()
            )
            status, headers = await _head(reader)
            if status != 200:
                raise HttpError(f"progress answered {status}")
            buffer = b""
            async for chunk in _body(reader, headers):
                arrived = time.time()
                buffer += chunk
                while b"\n\n" in buffer:
                    block, buffer = buffer.split(b"\n\n", 1)
                    if block.startswith(b":"):
                        if block.startswith(b": connected"):
                            self.connected_at = arrived
                            self.connected.set()
                        continue
                    done = self._event(block, arrived, stop_at_start)
                    if done:
                        return
            raise HttpError("the stream ended before a terminal event")
        finally:
            writer.close()

    def _event(self, block: bytes, arrived: float, stop_at_start: bool) -> bool:
        kind, data, event_id = "", b"", ""
        for line in block.split(b"\n"):
            if line.startswith(b"id: "):
                event_id = line[4:].decode()
            elif line.startswith(b"event: "):
                kind = line[7:].decode()
            elif line.startswith(b"data: "):
                data = line[6:]
        payload = json.loads(data)
        self.events += 1
        self.last_arrival = arrived
        if self.first_event_at is None:
            self.first_event_at = arrived
        stamp = float(payload["timestamp"])
        if self.connected_at is not None and stamp >= self.connected_at:
            self.latencies_ms.append((arrived - stamp) * 1000)
            self.from_redis_ms.append(arrived * 1000 - int(event_id.split("-")[0]))
        else:
            self.replayed += 1
        if kind == "task_started" and self.first_started_at is None:
            self.first_started_at, self.first_started_stamp = arrived, stamp
            self.first_started_after_redis_ms = arrived * 1000 - int(event_id.split("-")[0])
            if stop_at_start:
                return True
        if kind in TERMINAL:
            self.terminal = kind
            return True
        return False


async def lag_monitor(samples: list[float], stop: asyncio.Event, interval: float = 0.01) -> None:
    """How late this process's event loop wakes a 10 ms sleeper (ms), sampled until `stop`."""
    while not stop.is_set():
        started = time.perf_counter()
        await asyncio.sleep(interval)
        samples.append((time.perf_counter() - started - interval) * 1000)


# ---------------------------------------------------------------- client process (fan-out)


async def client_main() -> None:
    """Run as `bench/sse.py --client`: the job on stdin, `connected` when all are, a JSON line at the end."""
    job = json.loads(sys.stdin.readline())
    host, port = job["host"], job["port"]
    followers = [Follower(task_id, token, job.get("path", "")) for task_id, token in job["targets"]]
    runs = []
    for start in range(0, len(followers), job["connect_batch"]):
        batch = followers[start : start + job["connect_batch"]]
        runs += [asyncio.create_task(f.run(host, port)) for f in batch]
        await asyncio.gather(*(f.connected.wait() for f in batch))
    print("connected", flush=True)
    lag: list[float] = []
    stop = asyncio.Event()
    monitor = asyncio.create_task(lag_monitor(lag, stop))
    await asyncio.wait(runs, timeout=job["timeout"])
    stop.set()
    await monitor
    for run in runs:
        run.cancel()
    result = {
        "latencies_ms": [round(x, 3) for f in followers for x in f.latencies_ms],
        "from_redis_ms": [round(x, 3) for f in followers for x in f.from_redis_ms],
        "replayed": sum(f.replayed for f in followers),
        "clients": len(followers),
        "first_arrival": min((f.first_started_at for f in followers if f.first_started_at), default=None),
        "last_arrival": max((f.last_arrival for f in followers), default=None),
        "completed": sum(f.terminal is not None for f in followers),
        "errors": [f.error for f in followers if f.error]
        + [f"timeout {f.task_id}" for f in followers if f.terminal is None and f.error is None],
        "loop_lag_ms": {
            "p50": round(percentile(lag, 50), 2),
            "p99": round(percentile(lag, 99), 2),
            "max": round(max(lag), 2),
        }
        if lag
        else None,
    }
    print(json.dumps(result), flush=True)


# ---------------------------------------------------------------- machine load


class CpuShare:
    """CPU used on the whole machine while a phase runs, split into this benchmark's process tree and the rest.

    On a shared machine other work competes for the same cores; the figures are only comparable
    when `other_pct` is near zero.
    """

    def __init__(self, interval: float = 0.5) -> None:
        self.interval = interval
        self.ticks = os.sysconf("SC_CLK_TCK")
        self.ours = self.others = 0.0
        self._last: dict[int, float] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True)
        self._started = 0.0

    def __enter__(self) -> CpuShare:
        self._started = time.monotonic()
        self._sample()
        self.ours = self.others = 0.0
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self._sample()
        self.elapsed = time.monotonic() - self._started

    def summary(self) -> dict[str, float]:
        capacity = self.elapsed * (os.cpu_count() or 1)
        return {"bench_pct": round(100 * self.ours / capacity, 1), "other_pct": round(100 * self.others / capacity, 1)}

    def _loop(self) -> None:
        while not self._stop.wait(self.interval):
            self._sample()

    def _sample(self) -> None:
        used: dict[int, float] = {}
        parents: dict[int, int] = {}
        for entry in os.listdir("/proc"):
            if not entry.isdigit():
                continue
            try:
                fields = Path(f"/proc/{entry}/stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            pid = int(entry)
            parents[pid] = int(fields[1])
            used[pid] = (int(fields[11]) + int(fields[12])) / self.ticks
        root = os.getpid()
        for pid, seconds in used.items():
            delta = seconds - self._last.get(pid, 0.0)  # a process new since the last sample: all of its time
            node, ours = pid, False
            while node > 1:
                if node == root:
                    ours = True
                    break
                node = parents.get(node, 0)
            if ours:
                self.ours += delta
            else:
                self.others += delta
        self._last = used


# ---------------------------------------------------------------- orchestration


async def make_users(settings: Any, count: int, prefix: str, *, one_org: bool = False) -> list[str]:
    """`count` users, each with a personal org (or all in one org), made through the models (no per-user
    password hashing); their JWTs."""
    from tortoise.transactions import in_transaction

    from switchboard.platform.identity.models import User
    from switchboard.platform.orgs.models import Membership, Org
    from switchboard.platform.security import hash_password, issue_access_token

    password_hash = hash_password("bench password, not used")
    tokens = []
    shared = await Org.create(name=f"{prefix} org") if one_org else None
    for i in range(count):
        async with in_transaction():
            user = await User.create(
                email=f"{prefix}-{i}@example.com",
                name=f"{prefix} {i}",
                password_hash=password_hash,
                email_verified=True,
            )
            org = shared or await Org.create(name=f"{prefix} {i}", personal=True)
            await Membership.create(org=org, user=user, role="owner")
            user.active_org = org
            await user.save(update_fields=["active_org_id"])
        tokens.append(issue_access_token(settings.resolved_secret_key(), str(user.id), user.token_version)[0])
    return tokens


def _summary(values: list[float]) -> dict[str, float]:
    return {
        "p50_ms": round(percentile(values, 50), 2),
        "p90_ms": round(percentile(values, 90), 2),
        "p99_ms": round(percentile(values, 99), 2),
        "max_ms": round(max(values), 2),
    }


@dataclass
class Stack:
    env: dict[str, str]
    logs: Path
    host: str
    port: int
    worker_count: int
    workers: list[processes.Proc] = field(default_factory=list)
    started: int = 0

    def start_workers(self, max_jobs: int | None = None) -> float:
        started = time.monotonic()
        env = {**self.env, "LOG_LEVEL": "INFO"}  # readiness is read from the worker's log
        if max_jobs:
            env["WORKER_MAX_JOBS"] = str(max_jobs)
        new = [
            processes.start_worker(env, self.logs / f"worker-{self.started + i}.log") for i in range(self.worker_count)
        ]
        self.started += len(new)
        self.workers += new
        for proc in new:
            processes.wait_worker_ready(proc)
        return time.monotonic() - started

    def stop_workers(self) -> None:
        for proc in self.workers:
            proc.stop()
        self.workers = []


async def fanout(
    stack: Stack,
    tokens: list[str],
    clients_per_task: int,
    client_procs: int,
    limit_s: float,
    max_jobs: int | None,
    path: str = "",
) -> dict:
    """Tasks queued with no worker running; every client connects; then the workers start and run them."""
    targets = []
    for token in tokens:
        status, body = await post_json(
            stack.host, stack.port, "/api/v1/chat/stream", token, {"message": QUESTION, "mode": "ask"}
        )
        if status != 202:
            raise RuntimeError(f"POST /chat/stream answered {status}: {body}")
        targets += [(body["task_id"], token)] * clients_per_task
    shares = [targets[i::client_procs] for i in range(client_procs)]
    procs = []
    connect_started = time.monotonic()
    for share in shares:
        proc = await asyncio.create_subprocess_exec(
            sys.executable,
            __file__,
            "--client",
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            limit=64 * 1024 * 1024,
        )
        job = {
            "host": stack.host,
            "port": stack.port,
            "targets": share,
            "connect_batch": 50,
            "timeout": limit_s,
            "path": path,
        }
        assert proc.stdin is not None
        proc.stdin.write(json.dumps(job).encode() + b"\n")
        await proc.stdin.drain()
        procs.append(proc)
    for proc in procs:
        assert proc.stdout is not None
        line = await proc.stdout.readline()
        if line.strip() != b"connected":
            raise RuntimeError(f"a client process failed to connect: {line!r}")
    connect_s = time.monotonic() - connect_started
    try:
        worker_start_s = stack.start_workers(max_jobs)
        results = []
        for proc in procs:
            assert proc.stdout is not None
            results.append(json.loads(await proc.stdout.readline()))
            await proc.wait()
    finally:
        for proc in procs:
            if proc.returncode is None:
                proc.kill()
                await proc.wait()
        stack.stop_workers()
    latencies = [x for r in results for x in r["latencies_ms"]]
    from_redis = [x for r in results for x in r["from_redis_ms"]]
    errors = [e for r in results for e in r["errors"]]
    firsts = [r["first_arrival"] for r in results if r["first_arrival"]]
    lasts = [r["last_arrival"] for r in results if r["last_arrival"]]
    window = max(lasts) - min(firsts) if firsts and lasts else 0.0
    return {
        "clients": sum(r["clients"] for r in results),
        "tasks": len(tokens),
        "clients_per_task": clients_per_task,
        "client_processes": client_procs,
        "worker_max_jobs": max_jobs or "default (50)",
        "clients_completed": sum(r["completed"] for r in results),
        "events_received": len(latencies) + sum(r["replayed"] for r in results),
        # events appended before their client connected (the task's `queued`): a replay, left out of the latencies
        "events_replayed": sum(r["replayed"] for r in results),
        "delivery_window_s": round(window, 2),
        "deliveries_per_s": round(len(latencies) / window) if window else None,
        # each event goes to clients_per_task clients: the events the workers appended per second
        "events_appended_per_s": round(len(latencies) / clients_per_task / window) if window else None,
        "connect_all_s": round(connect_s, 2),
        "worker_start_s": round(worker_start_s, 2),
        **(_summary(latencies) if latencies else {}),
        # the same arrivals timed from the XADD in Redis (ms clock, so +-1 ms): what the web process adds
        "after_redis": _summary(from_redis) if from_redis else None,
        "client_loop_lag_ms": [r["loop_lag_ms"] for r in results],
        "errors": len(errors),
        "error_samples": errors[:5],
        "target_p99_ms": 50,
    }


async def first_event(
    stack: Stack, tokens: list[str], rounds: int, spread_s: float, loop_s: float = 0.0, think_s: float = 1.0
) -> dict:
    """Each user POSTs a question and opens its progress stream: time to the first event (`queued`, appended
    by the web process), and to `task_started` (appended by the worker once it runs the task).

    `spread_s` 0: all users at the same instant; otherwise their POSTs are spread evenly over that many seconds.
    `loop_s` > 0 (a closed loop, instead of rounds): for that long, each user asks, follows the answer to its
    end, waits a random 0-`think_s` seconds, and asks again.
    """
    latencies: list[float] = []
    # where the time goes: the POST's answer; the worker appending `task_started` (after the POST
    # was sent); that event reaching the client (after its append)
    post_ms: list[float] = []
    connected_ms: list[float] = []  # POST sent -> the progress stream's `: connected`
    appended_ms: list[float] = []
    delivered_ms: list[float] = []
    after_redis_ms: list[float] = []
    started_total_ms: list[float] = []
    errors: list[str] = []
    lag: list[float] = []

    async def one(token: str, delay: float) -> tuple[float | None, Follower | None]:
        await asyncio.sleep(delay)
        sent = time.time()
        status, body = await post_json(
            stack.host, stack.port, "/api/v1/chat/stream", token, {"message": QUESTION, "mode": "ask"}
        )
        post_ms.append((time.time() - sent) * 1000)
        if status != 202:
            errors.append(f"POST answered {status}: {body}")
            return None, None
        follower = Follower(body["task_id"], token)
        await follower.run(stack.host, stack.port)  # to the end, so the user's next task may start
        if follower.error:
            errors.append(follower.error)
        if follower.first_started_at is None or follower.first_started_stamp is None or follower.first_event_at is None:
            return None, follower
        if follower.connected_at is not None:
            connected_ms.append((follower.connected_at - sent) * 1000)
        appended_ms.append((follower.first_started_stamp - sent) * 1000)
        delivered_ms.append((follower.first_started_at - follower.first_started_stamp) * 1000)
        if follower.first_started_after_redis_ms is not None:
            after_redis_ms.append(follower.first_started_after_redis_ms)
        started_total_ms.append((follower.first_started_at - sent) * 1000)
        return (follower.first_event_at - sent) * 1000, follower

    async def user_loop(token: str, until: float, rng: random.Random) -> list[float]:
        found = []
        await asyncio.sleep(rng.uniform(0, think_s))
        while time.monotonic() < until:
            ms, _ = await one(token, 0.0)
            if ms is not None:
                found.append(ms)
            await asyncio.sleep(rng.uniform(0, think_s))
        return found

    if loop_s:
        stop = asyncio.Event()
        monitor = asyncio.create_task(lag_monitor(lag, stop))
        until = time.monotonic() + loop_s
        found = await asyncio.gather(*(user_loop(t, until, random.Random(i)) for i, t in enumerate(tokens)))
        stop.set()
        await monitor
        latencies += [ms for user in found for ms in user]
    for _ in range(0 if loop_s else rounds):
        stop = asyncio.Event()
        monitor = asyncio.create_task(lag_monitor(lag, stop))
        outcomes = await asyncio.gather(*(one(t, i * spread_s / len(tokens)) for i, t in enumerate(tokens)))
        stop.set()
        await monitor
        latencies += [ms for ms, _ in outcomes if ms is not None]
        await asyncio.sleep(0.5)  # the finished tasks' follow-up jobs
    return {
        "users": len(tokens),
        "arrivals": f"closed loop for {loop_s} s, 0-{think_s} s between a user's answer and next question"
        if loop_s
        else f"spread evenly over {spread_s} s"
        if spread_s
        else "all at once",
        "rounds": None if loop_s else rounds,
        "samples": len(latencies),
        **(_summary(latencies) if latencies else {}),
        "to_task_started": _summary(started_total_ms) if started_total_ms else None,
        "breakdown": {
            "post_answered": _summary(post_ms) if post_ms else None,
            "stream_connected": _summary(connected_ms) if connected_ms else None,
            "task_started_appended": _summary(appended_ms) if appended_ms else None,
            "task_started_delivered": _summary(delivered_ms) if delivered_ms else None,
            "task_started_after_redis": _summary(after_redis_ms) if after_redis_ms else None,
        },
        "client_loop_lag_ms": {"p99": round(percentile(lag, 99), 2), "max": round(max(lag), 2)} if lag else None,
        "errors": len(errors),
        "error_samples": errors[:5],
        "target_p99_ms": 100,
    }


async def measure(settings: Any, args: argparse.Namespace, logs: Path) -> dict:
    from switchboard import contexts
    from switchboard.platform.runtime import Runtime

    runtime = await Runtime.open(settings, contexts.MODEL_APPS)
    try:
        fan_tokens = await make_users(settings, args.users, "fan")
        # each org phase its own users in its own org: a user's clients end with the first terminal event they see
        org_tokens = {
            name: await make_users(settings, args.users, name, one_org=True)
            for name in ("org_fanout", "org_fanout_paced")
            if name in args.phases
        }
        start_tokens = await make_users(settings, args.start_users, "start")
    finally:
        await runtime.close()
    env = {
        "DATABASE_URL": settings.database_url,
        "REDIS_URL": settings.redis_url,
        "SECRET_KEY": BENCH_SECRET,
        "SWITCHBOARD_DATA_DIR": str(settings.data_dir),
        "EMBEDDED_WORKER": "false",
        "LOG_LEVEL": "WARNING",
        "RATE_LIMITS": json.dumps(RATE_LIMITS),
    }
    port = processes.free_port()
    serve = processes.start_serve(env, port, logs / "serve.log")
    stack = Stack(env, logs, "127.0.0.1", port, args.workers)
    try:
        processes.wait_healthy(serve, f"http://127.0.0.1:{port}")
        results: dict[str, dict] = {}
        fanouts = {"fanout": None, "fanout_paced": args.paced_max_jobs}
        for name, max_jobs in fanouts.items():
            if name not in args.phases:
                continue
            with CpuShare() as cpu:
                results[name] = await fanout(
                    stack, fan_tokens, args.clients_per_task, args.client_procs, args.timeout, max_jobs
                )
            results[name]["machine_cpu"] = cpu.summary()
        for name, max_jobs in {"org_fanout": None, "org_fanout_paced": args.paced_max_jobs}.items():
            if name not in args.phases:
                continue
            with CpuShare() as cpu:
                results[name] = await fanout(
                    stack,
                    org_tokens[name],
                    args.clients_per_task,
                    args.client_procs,
                    args.timeout,
                    max_jobs,
                    ORG_STREAM,
                )
            results[name]["machine_cpu"] = cpu.summary()
        stack.start_workers()
        starts = {
            "first_event": (0.0, 0.0),
            "first_event_spread": (args.spread_s, 0.0),
            "first_event_loop": (0.0, args.loop_s),
        }
        for name, (spread, loop_s) in starts.items():
            if name not in args.phases:
                continue
            with CpuShare() as cpu:
                results[name] = await first_event(
                    stack, start_tokens, args.start_rounds, spread, loop_s=loop_s, think_s=args.think_s
                )
            results[name]["machine_cpu"] = cpu.summary()
    finally:
        stack.stop_workers()
        serve.stop()
    return {
        "benchmark": "chat_sse",
        "web_processes": 1,
        "worker_processes": args.workers,
        "cpus": os.cpu_count(),
        **results,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--client", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--users", type=int, default=100, help="users (tasks) followed in the fan-out")
    parser.add_argument("--clients-per-task", type=int, default=10)
    parser.add_argument("--client-procs", type=int, default=3)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument(
        "--paced-max-jobs", type=int, default=4, help="tasks each worker runs at once in the paced fan-out"
    )
    parser.add_argument("--start-users", type=int, default=50)
    parser.add_argument("--spread-s", type=float, default=1.0, help="window of the spread first-event arrivals")
    parser.add_argument("--start-rounds", type=int, default=4)
    parser.add_argument("--loop-s", type=float, default=15.0, help="length of the closed-loop first-event phase")
    parser.add_argument("--think-s", type=float, default=1.0, help="most a user waits between answer and question")
    parser.add_argument("--timeout", type=float, default=120.0, help="seconds the fan-out may take")
    parser.add_argument(
        "--phases",
        type=lambda text: set(text.split(",")),
        default=set(PHASES),
        help=f"comma-separated, of {','.join(PHASES)}",
    )
    args = parser.parse_args()
    if args.client:
        asyncio.run(client_main())
        return
    from switchboard.cli import prepare_database

    logs = Path(tempfile.mkdtemp(prefix="sse-bench-logs-"))
    with servers() as settings:
        asyncio.run(prepare_database(settings))
        result = asyncio.run(measure(settings, args, logs))
    print(json.dumps(result))


if __name__ == "__main__":
    main()
