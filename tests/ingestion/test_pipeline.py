"""The per-process ingestion pipeline: full embedder calls across documents, each request its own vectors."""

from __future__ import annotations

import asyncio

import pytest
from tokenizers import Tokenizer  # type: ignore[import-untyped]

from switchboard.ingestion.chunk import Chunk
from switchboard.ingestion.embedding.model_files import packaged_model_dir
from switchboard.ingestion.errors import ExtractionFailed
from switchboard.ingestion.pipeline import IngestionPipeline


class CountingEmbedder:
    """Vector [n] for text "t<n>"; records the size of every call."""

    dim = 1

    def __init__(self, fail_on: str | None = None) -> None:
        self.calls: list[int] = []
        self.fail_on = fail_on

    async def embed(self, texts: list[str]) -> list[list[float]]:
        await asyncio.sleep(0)
        self.calls.append(len(texts))
        if self.fail_on in texts:
            raise RuntimeError("model failed")
        return [[float(t[1:])] for t in texts]


def texts(start: int, count: int) -> list[Chunk]:
    """Chunks "t<start>" ... ("t<n>" is embedded as [n])."""
    return [Chunk(f"t{i}", i, None, None, 3) for i in range(start, start + count)]


async def test_requests_share_full_calls_and_get_their_own_vectors_in_order() -> None:
    embedder = CountingEmbedder()
    pipeline = IngestionPipeline(embedder, batch=4)
    first, second, third = pipeline.embed(texts(0, 3)), pipeline.embed(texts(3, 6)), pipeline.embed(texts(9, 1))
    assert await first == [[0.0], [1.0], [2.0]]
    assert await second == [[float(i)] for i in range(3, 9)]
    assert await third == [[9.0]]
    assert embedder.calls == [4, 4, 2]
    await pipeline.close()


async def test_a_dropped_request_is_not_embedded_and_a_failure_reaches_only_its_requests() -> None:
    embedder = CountingEmbedder(fail_on="t5")
    pipeline = IngestionPipeline(embedder, batch=4)
    kept, dropped, failing, after = (
        pipeline.embed(texts(0, 4)),
        pipeline.embed(texts(100, 8)),
        pipeline.embed(texts(4, 4)),
        pipeline.embed(texts(8, 2)),
    )
    pipeline.drop([dropped])
    assert await kept == [[float(i)] for i in range(4)]
    with pytest.raises(RuntimeError):
        await failing  # a failed call fails the requests it held
    assert await after == [[8.0], [9.0]]
    assert embedder.calls == [4, 4, 2]  # the dropped texts never reached the model
    await pipeline.close()


async def test_prepare_runs_in_a_child_process_and_passes_extraction_failures_on() -> None:
    pipeline = IngestionPipeline(CountingEmbedder())
    try:
        pieces, pages = await pipeline.prepare("md", b"# Title\n\nSome text to index.\n")
        assert [c.text for c in pieces] == ["Some text to index."] and pieces[0].heading == "Title"
        assert pages is None
        with pytest.raises(ExtractionFailed):
            await pipeline.prepare("txt", b"   \n\n  ")
    finally:
        await pipeline.close()


async def test_an_embedder_that_takes_word_pieces_gets_the_ids_its_own_tokenizer_made_in_the_child() -> None:
    class WordPieces(CountingEmbedder):
        """Records the ids it is given."""

        tokenizer_file = packaged_model_dir() / "tokenizer.json"

        def __init__(self) -> None:
            super().__init__()
            self.pieces: list[list[int]] = []

        async def embed_word_pieces(self, pieces: list[list[int]]) -> list[list[float]]:
            self.pieces.extend(list(ids) for ids in pieces)
            return [[float(len(ids))] for ids in pieces]

    embedder = WordPieces()
    pipeline = IngestionPipeline(embedder)
    try:
        chunks, _ = await pipeline.prepare("md", b"# Billing\n\nInvoices are due within thirty days.\n")
        assert [c.embedding_text for c in chunks] == ["Billing\nInvoices are due within thirty days."]
        tokenizer = Tokenizer.from_file(str(embedder.tokenizer_file))
        tokenizer.no_padding()
        expected = tokenizer.encode("Billing\nInvoices are due within thirty days.").ids  # [CLS] ... [SEP]
        assert await pipeline.embed(chunks) == [[float(len(expected))]]
        assert embedder.pieces == [expected] and not embedder.calls  # tokenized once, in the child
        # chunks without ids (made elsewhere) are embedded from their text
        assert await pipeline.embed(texts(7, 2)) == [[7.0], [8.0]] and embedder.calls == [2]
    finally:
        await pipeline.close()


async def test_the_next_document_is_prepared_while_the_last_texts_of_one_are_embedded() -> None:
    gates: list[asyncio.Event] = []

    class GatedEmbedder(CountingEmbedder):
        """Each call waits until the test opens its gate."""

        async def embed(self, texts: list[str]) -> list[list[float]]:
            gates.append(asyncio.Event())
            await gates[-1].wait()
            return await super().embed(texts)

    pipeline = IngestionPipeline(GatedEmbedder(), batch=4, documents_ahead=1)
    entered: list[str] = []

    async def document(name: str, start: int, count: int) -> list[list[float]]:
        async with pipeline.slot() as slot:
            entered.append(name)
            head = pipeline.embed(texts(start, 8))
            tail = pipeline.embed(texts(start + 8, count - 8), slot=slot)
            return [*await head, *await tail]

    async def settle() -> None:
        for _ in range(20):
            await asyncio.sleep(0)

    one = asyncio.create_task(document("one", 0, 10))
    two = asyncio.create_task(document("two", 10, 9))
    await settle()
    # Two calls are in flight (the embedder finds the next one waiting), 2 texts still wait: "one" is ahead.
    assert len(gates) == 2 and entered == ["one"]
    gates[0].set()
    await settle()
    # The embedder took the last 2 texts of "one": "two" comes in before "one" has its vectors.
    assert len(gates) == 3 and entered == ["one", "two"] and not one.done()
    for _ in range(6):
        for gate in gates:
            gate.set()
        await settle()
    assert await one == [[float(i)] for i in range(10)]
    assert await two == [[float(i)] for i in range(10, 19)]
    await pipeline.close()


async def test_vectors_are_handed_out_in_call_order_whichever_call_ends_first() -> None:
    class ReversedEmbedder(CountingEmbedder):
        """The first call takes longest, so the second one ends before it."""

        async def embed(self, texts: list[str]) -> list[list[float]]:
            await asyncio.sleep(0.05 if not self.calls else 0.0)
            return await super().embed(texts)

    pipeline = IngestionPipeline(ReversedEmbedder(), batch=4)
    spanning = pipeline.embed(texts(0, 6))  # its texts are split over both calls
    after = pipeline.embed(texts(6, 2))
    assert await spanning == [[float(i)] for i in range(6)]
    assert await after == [[6.0], [7.0]]
    await pipeline.close()
