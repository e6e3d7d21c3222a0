"""Pacing measurements that used to be test assertions: they depend on the machine's speed and load.

Prints one JSON object:
- `emitter_*`: how many `text_delta` events 60 words produced at once cost (the emitter merges what
  arrives while an append is in flight), how many at a model's pace (~50 tokens/s: one per token),
  and how many appends six steps emitted at once cost (one);
- `pipeline_*`: how full the embedder's calls are when 40 small documents are taken at once
  (each call but the last should be at least three quarters of the 64-text batch);
- `embed_loop_beat`: the event loop's 10 ms ticks kept while the embedder encodes (1.0: none lost).

    python bench/pacing.py
"""

from __future__ import annotations

import asyncio
import json
import math
import sys
import time
from pathlib import Path
from typing import Any

sys.path[0] = str(Path(__file__).resolve().parent.parent)

from redis.asyncio import Redis  # noqa: E402

from bench.common import servers  # noqa: E402
from switchboard.chat.emitter import Emitter  # noqa: E402
from switchboard.ingestion import DEFAULT_BACKEND, SentenceTransformerEmbedder  # noqa: E402
from switchboard.ingestion.chunk import Chunk  # noqa: E402
from switchboard.ingestion.pipeline import IngestionPipeline  # noqa: E402
from switchboard.ingestion.resources import default_onnx_dir  # noqa: E402
from switchboard.platform.events import Event, RedisEventLog  # noqa: E402

WORDS = [f"word{i} " for i in range(60)]


class CountedEventLog(RedisEventLog):
    """Counts the appends (round trips) it makes."""

    appends = 0

    async def append_many(self, stream: str, entries: Any, *, audience: Any = None) -> list[Event]:
        self.appends += 1
        return await super().append_many(stream, entries, audience=audience)


async def emitter(redis_url: str) -> dict[str, object]:
    redis = Redis.from_url(redis_url)
    events = CountedEventLog(redis, retention_seconds=60, max_age_seconds=60)
    try:
        emit = Emitter(events, "bench:fast", task=None)  # type: ignore[arg-type]
        for word in WORDS:
            await emit("text_delta", word)
        await emit.flush()
        fast = len(await events.read_all("bench:fast"))
        emit = Emitter(events, "bench:paced", task=None)  # type: ignore[arg-type]
        for word in WORDS[:20]:
            await emit("text_delta", word)
            await asyncio.sleep(0.02)
        await emit.flush()
        paced = len(await events.read_all("bench:paced"))
        emit = Emitter(events, "bench:steps", task=None)  # type: ignore[arg-type]
        events.appends = 0
        for kind in ("task_started", "agent_started", "tool_started", "tool_completed", "agent_completed"):
            await emit(kind, kind)
        await emit("complete", "done")
        return {
            "emitter_events_for_60_words_at_once": fast,
            "emitter_events_for_20_words_paced": paced,
            "emitter_appends_for_6_steps_at_once": events.appends,
        }
    finally:
        await redis.aclose()


class TimedEmbedder:
    """Vector [n] for text "t<n>", taking 2 ms a text like a small model; records each call's size."""

    dim = 1

    def __init__(self) -> None:
        self.calls: list[int] = []

    async def embed(self, texts: list[str]) -> list[list[float]]:
        await asyncio.sleep(0.002 * len(texts))
        self.calls.append(len(texts))
        return [[float(t[1:])] for t in texts]


async def pipeline_fill() -> dict[str, object]:
    embedder = TimedEmbedder()
    pipeline = IngestionPipeline(embedder)  # type: ignore[arg-type]

    async def document(number: int, chunks: int) -> None:
        async with pipeline.slot() as slot:
            await asyncio.sleep(0.005)  # read and prepared
            texts = [Chunk(f"t{100 * number + i}", i, None, None, 3) for i in range(chunks)]
            await pipeline.embed(texts, slot=slot)

    sizes = [5, 30, 12, 18, 25, 8, 22, 15] * 5
    await asyncio.gather(*(document(number, n) for number, n in enumerate(sizes)))
    await pipeline.close()
    return {
        "pipeline_calls": len(embedder.calls),
        "pipeline_calls_if_full": math.ceil(sum(sizes) / 64),
        "pipeline_smallest_call_but_last": min(embedder.calls[:-1]) if len(embedder.calls) > 1 else None,
    }


async def loop_beat() -> dict[str, object]:
    model = SentenceTransformerEmbedder(DEFAULT_BACKEND, onnx_dir=default_onnx_dir())
    await model.load()
    ticks = 0

    async def ticker() -> None:
        nonlocal ticks
        while True:
            await asyncio.sleep(0.01)
            ticks += 1

    task = asyncio.create_task(ticker())
    started = time.monotonic()
    await model.embed([" ".join(["The lighthouse keeper logs every passing ship."] * 20)] * 64)
    elapsed = time.monotonic() - started
    task.cancel()
    model.close()
    return {"embed_seconds": round(elapsed, 3), "embed_loop_beat": round(ticks / (elapsed / 0.01), 3)}


async def main() -> None:
    with servers() as settings:
        result: dict[str, object] = {}
        result.update(await emitter(settings.redis_url or ""))
        result.update(await pipeline_fill())
        result.update(await loop_beat())
        print(json.dumps(result))


if __name__ == "__main__":
    asyncio.run(main())
