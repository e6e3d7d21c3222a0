"""In-process embedders: unit vectors that put a paraphrase near its sentence, computed off the event loop."""

from __future__ import annotations

import math
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from switchboard.ingestion import (
    Backend,
    Embedder,
    ModelTokenCounter,
    Section,
    SentenceTransformerEmbedder,
    chunk,
)
from switchboard.ingestion.embedding.local import WordPieceEmbedder

SENTENCE = "The invoice must be paid within thirty days of delivery."
PARAPHRASE = "How long do I have to pay the bill after the goods arrive?"
UNRELATED = "Penguins huddle together to survive the Antarctic winter."


def cosine(a: list[float], b: list[float]) -> float:
    return sum(x * y for x, y in zip(a, b, strict=True))


@pytest.fixture(scope="session")
def onnx_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The ONNX model, made the way an install makes it: by the module's command line."""
    target = tmp_path_factory.mktemp("models") / "minilm-onnx"
    done = subprocess.run(
        [sys.executable, "-m", "switchboard.ingestion.embedding", "prepare", str(target)],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == str(target)
    return target


@pytest.fixture(scope="session", params=["torch", "onnx", "onnx-quantized"])
def embedder(request: pytest.FixtureRequest, onnx_dir: Path) -> Iterator[SentenceTransformerEmbedder]:
    backend: Backend = request.param
    model = SentenceTransformerEmbedder(backend, onnx_dir=onnx_dir)
    yield model
    model.close()


def test_prepare_writes_plain_and_quantised_models_once(onnx_dir: Path) -> None:
    plain, quantised = onnx_dir / "onnx" / "model.onnx", onnx_dir / "onnx" / "model_qint8.onnx"
    assert plain.stat().st_size > 50_000_000
    assert 10_000_000 < quantised.stat().st_size < plain.stat().st_size / 2
    before = quantised.stat().st_mtime_ns
    done = subprocess.run(
        [sys.executable, "-m", "switchboard.ingestion.embedding", "prepare", str(onnx_dir)],
        capture_output=True,
        timeout=120,
        check=True,
    )
    assert done.returncode == 0
    assert quantised.stat().st_mtime_ns == before  # made once: a second run leaves it alone


async def test_vectors_are_unit_length_and_a_paraphrase_is_closest(embedder: SentenceTransformerEmbedder) -> None:
    assert isinstance(embedder, Embedder)
    sentence, paraphrase, unrelated = await embedder.embed([SENTENCE, PARAPHRASE, UNRELATED])
    for vector in (sentence, paraphrase, unrelated):
        assert len(vector) == embedder.dim == 384
        assert math.isclose(math.sqrt(cosine(vector, vector)), 1.0, abs_tol=1e-4)
    assert cosine(paraphrase, sentence) > cosine(paraphrase, unrelated) + 0.2


async def test_a_batch_gives_the_same_vectors_as_one_at_a_time(embedder: SentenceTransformerEmbedder) -> None:
    texts = [f"Order number {n} ships from warehouse {n % 7}." for n in range(70)]
    together = await embedder.embed(texts)
    assert len(together) == 70
    # Dynamic int8 quantisation scales activations per batch, so batch-mates nudge a vector slightly.
    tolerance = 0.99 if embedder.backend == "onnx-quantized" else 0.999
    for index in (0, 33, 69):
        (alone,) = await embedder.embed([texts[index]])
        assert cosine(alone, together[index]) > tolerance
    assert await embedder.embed([]) == []


async def test_word_pieces_from_the_chunker_give_the_vectors_of_the_text(embedder: SentenceTransformerEmbedder) -> None:
    # The ingestion pipeline hands the embedder the ids its chunker measured chunks with.
    assert isinstance(embedder, WordPieceEmbedder)
    counter = ModelTokenCounter.from_file(embedder.tokenizer_file)
    prose = " ".join(f"Order number {n} ships from warehouse {n % 7} on the {n}th." for n in range(120))
    chunks = chunk([Section(prose, heading="Shipping"), Section("Short.")], counter)
    assert len(chunks) > 3
    from_text = await embedder.embed([c.embedding_text for c in chunks])
    from_pieces = await embedder.embed_word_pieces([c.word_pieces for c in chunks if c.word_pieces is not None])
    assert len(from_pieces) == len(chunks)
    for a, b in zip(from_text, from_pieces, strict=True):
        assert cosine(a, b) > 0.99999
    # ids longer than the model reads are cut as the tokenizer cuts the text
    long_text = " ".join(f"parcel {n} left depot {n % 9}" for n in range(120))
    (ids,) = counter.word_pieces_many([long_text])
    assert len(ids) > 400
    (cut,) = await embedder.embed_word_pieces([counter.with_specials(ids)])
    (whole,) = await embedder.embed([long_text])
    assert cosine(cut, whole) > 0.99999


async def test_backends_agree_with_plain_torch(onnx_dir: Path) -> None:
    texts = [SENTENCE, PARAPHRASE, UNRELATED, "Quarterly revenue grew by twelve percent."]
    vectors = {}
    backends: list[Backend] = ["torch", "onnx", "onnx-quantized"]
    for backend in backends:
        model = SentenceTransformerEmbedder(backend, onnx_dir=onnx_dir)
        vectors[backend] = await model.embed(texts)
        model.close()
    for a, b in zip(vectors["torch"], vectors["onnx"], strict=True):
        assert cosine(a, b) > 0.9999
    for a, b in zip(vectors["torch"], vectors["onnx-quantized"], strict=True):
        assert cosine(a, b) > 0.97


def test_onnx_backends_need_a_model_folder() -> None:
    with pytest.raises(ValueError, match="onnx_dir"):
        SentenceTransformerEmbedder("onnx-quantized")
