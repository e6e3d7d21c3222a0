"""Repeated queries are answered from the cache, without calling the model again."""

from __future__ import annotations

from switchboard.ingestion import Embedder, QueryEmbeddingCache


class CountingEmbedder:
    """A stand-in model that records what it was asked to embed."""

    dim = 2

    def __init__(self) -> None:
        self.calls: list[list[str]] = []

    async def embed(self, texts: list[str]) -> list[list[float]]:
        self.calls.append(list(texts))
        return [[float(len(text)), 1.0] for text in texts]


async def test_a_repeated_query_is_embedded_once() -> None:
    model = CountingEmbedder()
    cache = QueryEmbeddingCache(model, size=8)
    assert isinstance(cache, Embedder) and cache.dim == 2
    first = await cache.embed_query("refund policy")
    again = await cache.embed_query("refund policy")
    assert first == again == [13.0, 1.0]
    assert model.calls == [["refund policy"]]


async def test_only_unseen_queries_reach_the_model_in_one_batch() -> None:
    model = CountingEmbedder()
    cache = QueryEmbeddingCache(model, size=8)
    await cache.embed_query("a")
    vectors = await cache.embed(["a", "bb", "ccc", "bb"])
    assert vectors == [[1.0, 1.0], [2.0, 1.0], [3.0, 1.0], [2.0, 1.0]]
    assert model.calls == [["a"], ["bb", "ccc"]]


async def test_the_least_recently_used_query_is_forgotten_first() -> None:
    model = CountingEmbedder()
    cache = QueryEmbeddingCache(model, size=2)
    await cache.embed_query("one")
    await cache.embed_query("two")
    await cache.embed_query("one")  # "two" is now the oldest
    await cache.embed_query("three")
    await cache.embed_query("one")
    await cache.embed_query("two")
    assert model.calls == [["one"], ["two"], ["three"], ["two"]]


async def test_a_batch_larger_than_the_cache_still_gets_every_vector() -> None:
    cache = QueryEmbeddingCache(CountingEmbedder(), size=1)
    assert await cache.embed(["x", "yy", "zzz"]) == [[1.0, 1.0], [2.0, 1.0], [3.0, 1.0]]
