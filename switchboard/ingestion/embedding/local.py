"""The `Embedder` seam: texts in, unit-length vectors out, in batches, never on the event loop.

    python -m switchboard.ingestion.embedding prepare DIR

exports the ONNX model into DIR at install time (see `model_files`).
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import threading
from collections import OrderedDict
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, Literal, Protocol, TypeVar, runtime_checkable

from switchboard.ingestion.chunk import ModelTokenCounter
from switchboard.ingestion.embedding.model_files import (
    ONNX_FILE,
    QUANTIZED_ONNX_FILE,
    embedding_dim,
    is_prepared,
    offline,
    packaged_model_dir,
    prepare_onnx_model,
)
from switchboard.ingestion.embedding.openai_compat import OpenAIEmbedder

__all__ = [
    "DEFAULT_BACKEND",
    "Backend",
    "Embedder",
    "OpenAIEmbedder",
    "QueryEmbeddingCache",
    "SentenceTransformerEmbedder",
    "WordPieceEmbedder",
    "prepare_onnx_model",
]

log = logging.getLogger(__name__)

Backend = Literal["torch", "onnx", "onnx-quantized"]
_Item = TypeVar("_Item", str, Sequence[int])
DEFAULT_BACKEND: Backend = "onnx-quantized"


@runtime_checkable
class Embedder(Protocol):
    """Turns texts into L2-normalised vectors of `dim` floats, one per text, in order."""

    @property
    def dim(self) -> int:
        """Length of every vector."""
        ...

    async def embed(self, texts: list[str]) -> list[list[float]]:
        """One unit vector per text."""
        ...


@runtime_checkable
class WordPieceEmbedder(Embedder, Protocol):
    """An embedder that also takes texts already tokenized by its own tokenizer (`tokenizer_file`).

    The chunker measures every chunk with the model's tokenizer; handing those ids on spares the
    embedder tokenizing the same text again.
    """

    @property
    def tokenizer_file(self) -> Path:
        """The `tokenizer.json` whose ids `embed_word_pieces` takes."""
        ...

    async def embed_word_pieces(self, pieces: Sequence[Sequence[int]]) -> list[list[float]]:
        """One unit vector per text, given as its token ids (special tokens included); same vectors as `embed`."""
        ...


class SentenceTransformerEmbedder:
    """all-MiniLM-L6-v2 in-process through sentence-transformers, with the torch or an ONNX Runtime backend.

    The ONNX backends read the export `prepare_onnx_model` wrote to `onnx_dir`; if it is missing
    it is made there on first use (offline, a few seconds).

    With torch, one thread takes the calls, one at a time, and torch spreads each batch over every
    core itself. The ONNX backends instead run `lanes` copies of the model (one per core by
    default), each on one thread with a single-threaded session: a call's texts are sorted by
    length and cut into sub-batches of `lane_batch`, which the lanes take longest first.
    Independent lanes need no barrier between the threads of every operator, so another process
    taking a core for a moment slows one lane rather than stalling both (measured on 2 cores: as
    fast alone, 25% faster beside a busy process).

    The ONNX backends run the model on one text at a time (`batch_size` 1): the activations of
    one 256-token text (a 256 x 1536 float matrix at most) stay in a core's cache, those of 16
    do not, and no text is padded to a longer one. On 2 cores that doubled the int8 model's
    throughput (52 -> 108 chunks/s on the benchmark's chunks, `docs/performance.md`). torch
    keeps sentence-transformers' batch of 32.
    """

    def __init__(
        self,
        backend: Backend = DEFAULT_BACKEND,
        *,
        onnx_dir: Path | None = None,
        model_dir: Path | None = None,
        batch_size: int | None = None,
        device: str | None = None,
        lanes: int | None = None,
        lane_batch: int = 4,
    ) -> None:
        if backend not in ("torch", "onnx", "onnx-quantized"):
            raise ValueError(f"unknown embedder backend {backend!r}")
        if backend != "torch" and onnx_dir is None:
            raise ValueError(f"the {backend} backend needs onnx_dir, the folder of the prepared ONNX model")
        self.backend = backend
        self.batch_size = batch_size or (32 if backend == "torch" else 1)
        self.lanes = 1 if backend == "torch" else max(1, lanes or len(os.sched_getaffinity(0)))
        self.lane_batch = lane_batch
        self._onnx_dir = onnx_dir
        self._model_dir = model_dir or packaged_model_dir()
        self._device = device
        self._dim = embedding_dim(self._model_dir)
        self._model: Any = None
        self._lane_models: list[Any] = []
        self._lane_of = threading.local()
        self._lane_lock = threading.Lock()
        self._lanes_taken = 0
        # set when the model loads: its length, whether it takes token type ids, its tokenizer (to cut ids with)
        self._max_seq_length = 0
        self._token_types = False
        self._counter: ModelTokenCounter | None = None
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="embedder")
        self._lane_pool = (
            ThreadPoolExecutor(max_workers=self.lanes, thread_name_prefix="embedder-lane") if self.lanes > 1 else None
        )

    @property
    def dim(self) -> int:
        """Length of every vector (384 for all-MiniLM-L6-v2)."""
        return self._dim

    async def load(self) -> None:
        """Load the model now (a worker's start-up), rather than on the first `embed`."""
        await asyncio.get_running_loop().run_in_executor(self._executor, self._load_all)

    @property
    def tokenizer_file(self) -> Path:
        """The tokenizer whose ids `embed_word_pieces` takes: the model folder's (the ONNX export has a copy of it,
        written only once the export is done)."""
        return self._model_dir / "tokenizer.json"

    async def embed(self, texts: list[str]) -> list[list[float]]:
        """Unit vectors for `texts`, encoded on the embedder's thread, or on its lanes.

        With lanes, the sub-batches go straight to the lanes' queue: the sub-batches of calls made
        while others run wait behind theirs, so a caller that keeps a call queued ahead keeps
        every lane busy across calls (the ingestion pipeline does).
        """
        return await self._run(list(texts), self._encode_on)

    async def embed_word_pieces(self, pieces: Sequence[Sequence[int]]) -> list[list[float]]:
        """Unit vectors for texts given as ids of `tokenizer_file` ([CLS] and [SEP] included), as `embed` would.

        Skips the tokenizer (the ingestion pipeline's chunker has already run it). Ids longer than
        the model reads are cut as the tokenizer cuts a text (its end dropped, the closing special
        token kept).
        """
        return await self._run(list(pieces), self._forward_on)

    async def _run(
        self, items: list[_Item], encode: Callable[[Any, list[_Item]], list[list[float]]]
    ) -> list[list[float]]:
        """`encode(model, items)` on the embedder's thread, or on the lanes (longest first, `lane_batch` at a time)."""
        if not items:
            return []
        if len(self._lane_models) < self.lanes:
            await self.load()
        loop = asyncio.get_running_loop()
        if self._lane_pool is None:
            return await loop.run_in_executor(self._executor, encode, self._lane_models[0], items)
        order = sorted(range(len(items)), key=lambda i: -len(items[i]))
        parts = [order[i : i + self.lane_batch] for i in range(0, len(order), self.lane_batch)]
        done = await asyncio.gather(
            *(loop.run_in_executor(self._lane_pool, self._on_lane, encode, [items[i] for i in part]) for part in parts)
        )
        result: list[list[float]] = [[] for _ in items]
        for part, vectors in zip(parts, done, strict=True):
            for i, vector in zip(part, vectors, strict=True):
                result[i] = vector
        return result

    def close(self) -> None:
        """Stop the embedder's threads once the running encode, if any, is done."""
        self._executor.shutdown(wait=True)
        if self._lane_pool is not None:
            self._lane_pool.shutdown(wait=True)

    def _on_lane(
        self, encode: Callable[[Any, list[_Item]], list[list[float]]], items: list[_Item]
    ) -> list[list[float]]:
        model = getattr(self._lane_of, "model", None)
        if model is None:  # a lane thread's first sub-batch: it takes a copy of the model of its own
            with self._lane_lock:
                model = self._lane_models[self._lanes_taken]
                self._lanes_taken += 1
            self._lane_of.model = model
        return encode(model, items)

    def _encode_on(self, model: Any, texts: list[str]) -> list[list[float]]:
        vectors = model.encode(
            texts,
            batch_size=self.batch_size,
            normalize_embeddings=True,
            convert_to_numpy=True,
            show_progress_bar=False,
        )
        result: list[list[float]] = vectors.tolist()
        return result

    def _forward_on(self, model: Any, pieces: list[Sequence[int]]) -> list[list[float]]:
        """What `model.encode` does after tokenizing: the model's modules run on the ids as given.

        Texts go through the model `batch_size` at a time, grouped by length, each batch padded to
        its longest. At `batch_size` 1 (the ONNX backends) nothing is padded and the vectors are
        `encode`'s exactly; torch's batches of 32 group texts a little differently from `encode`
        (vectors agree to ~1e-7).
        """
        import numpy as np
        import torch

        assert self._counter is not None  # loaded with the model
        pieces = [self._counter.cut(ids, self._max_seq_length) for ids in pieces]
        order = sorted(range(len(pieces)), key=lambda i: len(pieces[i]))
        result: list[list[float]] = [[] for _ in pieces]
        with torch.inference_mode():
            for start in range(0, len(order), self.batch_size):
                batch = order[start : start + self.batch_size]
                width = max(len(pieces[i]) for i in batch)
                input_ids = np.zeros((len(batch), width), dtype=np.int64)
                attention_mask = np.zeros((len(batch), width), dtype=np.int64)
                for row, i in enumerate(batch):
                    input_ids[row, : len(pieces[i])] = pieces[i]
                    attention_mask[row, : len(pieces[i])] = 1
                features = {
                    "input_ids": torch.from_numpy(input_ids),
                    "attention_mask": torch.from_numpy(attention_mask),
                }
                if self._token_types:
                    features["token_type_ids"] = torch.zeros_like(features["input_ids"])
                embeddings = model({name: value.to(model.device) for name, value in features.items()})
                vectors = torch.nn.functional.normalize(embeddings["sentence_embedding"], dim=1).cpu().tolist()
                for i, vector in zip(batch, vectors, strict=True):
                    result[i] = vector
        return result

    def _load_all(self) -> None:
        """The model, and for the ONNX backends a copy of it for each lane (the first lane shares the model)."""
        if self._model is None:
            self._model = self._load()
        model = self._model
        self._max_seq_length = int(model.max_seq_length)
        self._token_types = "token_type_ids" in model.tokenizer.model_input_names
        self._counter = ModelTokenCounter.from_file(self.tokenizer_file)
        while len(self._lane_models) < self.lanes:
            self._lane_models.append(model if not self._lane_models else self._load())

    def _load(self) -> Any:
        offline()
        from sentence_transformers import SentenceTransformer

        if self.backend == "torch":
            return SentenceTransformer(str(self._model_dir), device=self._device, local_files_only=True)
        assert self._onnx_dir is not None
        if not is_prepared(self._onnx_dir):
            log.warning("no prepared ONNX model in %s; exporting it now", self._onnx_dir)
            prepare_onnx_model(self._onnx_dir, self._model_dir)
        file_name = QUANTIZED_ONNX_FILE if self.backend == "onnx-quantized" else ONNX_FILE
        return SentenceTransformer(
            str(self._onnx_dir),
            backend="onnx",
            device="cpu",
            local_files_only=True,
            model_kwargs={
                "file_name": file_name,
                "provider": "CPUExecutionProvider",
                "session_options": _session_options(single_threaded=self.lanes > 1),
            },
        )


def _session_options(*, single_threaded: bool) -> Any:
    """ONNX Runtime session options: idle threads sleep; one intra-op thread when the embedder runs lanes.

    By default ORT's idle threads spin for a while after each operator, waiting for the next one;
    on a machine with few cores that spinning takes the CPU the rest of the process (extraction,
    the database, the event loop) needs between batches. Without lanes, ORT keeps its own thread
    count (one per core).
    """
    import onnxruntime as ort  # type: ignore[import-untyped]

    options = ort.SessionOptions()
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    options.add_session_config_entry("session.inter_op.allow_spinning", "0")
    if single_threaded:
        options.intra_op_num_threads = 1
        options.inter_op_num_threads = 1
    return options


class QueryEmbeddingCache:
    """A least-recently-used cache of query vectors in front of an `Embedder`.

    People ask the same questions again (and the UI re-runs a search on every page of results);
    a cached query costs no model call. Keyed by the exact text.
    """

    def __init__(self, embedder: Embedder, size: int = 1024) -> None:
        self._embedder = embedder
        self._size = size
        self._vectors: OrderedDict[str, tuple[float, ...]] = OrderedDict()

    @property
    def dim(self) -> int:
        """Length of every vector."""
        return self._embedder.dim

    async def embed_query(self, text: str) -> list[float]:
        """The vector of one query, from the cache when it was asked before."""
        return (await self.embed([text]))[0]

    async def embed(self, texts: list[str]) -> list[list[float]]:
        """Vectors for `texts`; only the ones not cached reach the embedder, in one batch."""
        # Take the hits before awaiting: a concurrent call may evict them meanwhile.
        hits = {text: self._vectors[text] for text in texts if text in self._vectors}
        for text in hits:
            self._vectors.move_to_end(text)
        missing = list(dict.fromkeys(text for text in texts if text not in hits))
        fresh: dict[str, tuple[float, ...]] = {}
        if missing:
            fresh = {t: tuple(v) for t, v in zip(missing, await self._embedder.embed(missing), strict=True)}
            for text, vector in fresh.items():
                self._vectors[text] = vector
            while len(self._vectors) > self._size:
                self._vectors.popitem(last=False)
        return [list(hits[text] if text in hits else fresh[text]) for text in texts]


def main(argv: list[str] | None = None) -> None:
    """`prepare DIR`: export the ONNX embedding model into DIR (install time, offline)."""
    parser = argparse.ArgumentParser(prog="python -m switchboard.ingestion.embedding")
    commands = parser.add_subparsers(dest="command", required=True)
    prepare = commands.add_parser("prepare", help="export the ONNX embedding model (offline)")
    prepare.add_argument("target_dir", type=Path, help="folder to write the model into")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    print(prepare_onnx_model(args.target_dir))
