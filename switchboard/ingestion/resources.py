"""The embedder of this process, opened once at start-up and shared by uploads, jobs and search."""

from __future__ import annotations

import logging
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from switchboard.config import Settings
from switchboard.ingestion.embedding.local import Embedder, QueryEmbeddingCache, SentenceTransformerEmbedder
from switchboard.ingestion.embedding.openai_compat import OpenAIEmbedder
from switchboard.ingestion.models import EMBEDDING_DIM
from switchboard.ingestion.pipeline import IngestionPipeline
from switchboard.platform.runtime import Runtime

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class IngestionResources:
    """The process's embedder, its query cache and the ingestion pipeline, opened once at start-up."""

    embedder: Embedder
    query_cache: QueryEmbeddingCache
    pipeline: IngestionPipeline


def default_onnx_dir() -> Path:
    """Where `make install` exports the ONNX model: inside the virtualenv, next to the packages it matches."""
    return Path(sys.prefix) / "share" / "switchboard" / "all-MiniLM-L6-v2-onnx"


LOCAL_MODEL = "all-MiniLM-L6-v2"


def embedding_model_name(settings: Settings) -> str:
    """The name usage records and estimates give the embedding model the settings choose."""
    return settings.embedding_model if settings.embedder == "openai" else LOCAL_MODEL


def build_embedder(settings: Settings) -> Embedder:
    """The embedder the settings ask for."""
    if settings.embedder == "openai":
        if not settings.embedding_base_url:
            raise RuntimeError("EMBEDDER=openai needs EMBEDDING_BASE_URL")
        return OpenAIEmbedder(
            base_url=settings.embedding_base_url,
            api_key=settings.embedding_api_key or "none",
            model=settings.embedding_model,
            dim=EMBEDDING_DIM,
        )
    backend = settings.embedder
    if backend not in ("torch", "onnx", "onnx-quantized"):
        raise RuntimeError(f"unknown EMBEDDER {backend!r}")
    return SentenceTransformerEmbedder(backend, onnx_dir=settings.embedding_onnx_dir or default_onnx_dir())  # type: ignore[arg-type]


async def open_embedder(runtime: Runtime, embedder: Embedder | None = None) -> None:
    """Provide the embedder (the settings' one unless given) and its query cache; the model loads on first use.

    The pipeline's child process starts with the first document, so a web-only process never has one.
    """
    embedder = embedder or build_embedder(runtime.settings)
    runtime.provide(IngestionResources(embedder, QueryEmbeddingCache(embedder), IngestionPipeline(embedder)))


async def warm_embedder(runtime: Runtime) -> None:
    """Load the in-process embedding model, if the embedder has one (an HTTP embedder has nothing to load).

    Loading takes seconds of CPU (the libraries' imports, one model session per lane); a worker
    does it before it takes jobs, so its first question or document does not wait for it.
    """
    load = getattr(runtime.resource(IngestionResources).embedder, "load", None)
    if load is not None:
        started = time.monotonic()
        await load()
        log.info("embedding model loaded in %.1fs", time.monotonic() - started)


async def close_embedder(runtime: Runtime) -> None:
    """Stop the ingestion pipeline and the embedder's thread."""
    resources = runtime.release(IngestionResources)
    if resources is None:
        return
    await resources.pipeline.close()
    close = getattr(resources.embedder, "close", None)
    if close is not None:
        result = close()
        if hasattr(result, "__await__"):
            await result


def embedder_of(runtime: Runtime) -> Embedder:
    """The process's embedder."""
    return runtime.resource(IngestionResources).embedder


def pipeline_of(runtime: Runtime) -> IngestionPipeline:
    """The process's ingestion pipeline: preparation in a child process, embedding in batches across documents."""
    return runtime.resource(IngestionResources).pipeline


def query_cache_of(runtime: Runtime) -> QueryEmbeddingCache:
    """The process's cache of query vectors."""
    return runtime.resource(IngestionResources).query_cache
