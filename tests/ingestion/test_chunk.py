"""Chunks fit the embedding model, keep their page and heading, and overlap a little."""

from __future__ import annotations

import base64
import functools
import itertools
import random
from typing import Any

import pytest
from tokenizers import Tokenizer  # type: ignore[import-untyped]

from switchboard.ingestion import Chunk, ModelTokenCounter, Section, chunk
from switchboard.ingestion.embedding.model_files import packaged_model_dir

WORDS = [
    *("river", "mountain", "engine", "ledger", "invoice", "harbour", "lantern", "orchard", "violin", "granite"),
    *("tunnel", "copper", "meadow", "signal", "compass", "quarry", "saddle", "beacon", "thicket", "furnace"),
]


@pytest.fixture(scope="module")
def tokens() -> ModelTokenCounter:
    return ModelTokenCounter.from_model_dir()


def sentences(count: int, seed: int = 1) -> list[str]:
    rng = random.Random(seed)
    return [" ".join(rng.choice(WORDS) for _ in range(rng.randint(6, 18))).capitalize() + "." for _ in range(count)]


@functools.cache
def model_tokenizer() -> Any:
    """The model's tokenizer as the embedder runs it, without the file's truncation and padding to 128."""
    tokenizer = Tokenizer.from_file(str(packaged_model_dir() / "tokenizer.json"))
    tokenizer.no_truncation()
    tokenizer.no_padding()
    return tokenizer


def assert_within_limit(chunks: list[Chunk], tokens: ModelTokenCounter, limit: int = 256) -> None:
    for piece in chunks:
        # What the model reads, [CLS] and [SEP] included, never exceeds its 256 word pieces.
        assert tokens(piece.embedding_text) == piece.token_count <= limit
        # The ids handed to the embedder are exactly the tokenizer's for the text it would embed.
        assert piece.word_pieces is not None
        assert list(piece.word_pieces) == model_tokenizer().encode(piece.embedding_text).ids


def test_long_prose_is_cut_into_chunks_the_model_reads_whole(tokens: ModelTokenCounter) -> None:
    paragraphs = [" ".join(sentences(12, seed)) for seed in range(20)]
    chunks = chunk([Section("\n\n".join(paragraphs), heading="Field notes")], tokens)
    assert len(chunks) > 5
    assert_within_limit(chunks, tokens)
    assert [c.index for c in chunks] == list(range(len(chunks)))
    assert all(c.heading == "Field notes" for c in chunks)
    assert all(c.embedding_text.startswith("Field notes\n") for c in chunks)
    # Cut between sentences, using most of the room (some end early to keep a paragraph whole).
    assert all(c.text.endswith(".") and c.text[0].isupper() for c in chunks)
    assert sum(c.token_count for c in chunks[:-1]) / (len(chunks) - 1) > 160


def test_text_without_sentence_breaks_still_fits(tokens: ModelTokenCounter) -> None:
    run_on = " ".join(random.Random(3).choice(WORDS) for _ in range(3000))
    blob = base64.b64encode(random.Random(4).randbytes(6000)).decode()
    chunks = chunk([Section(run_on), Section(blob, heading="Attachment")], tokens, overlap=0)
    assert_within_limit(chunks, tokens)
    assert " ".join(c.text for c in chunks if c.heading is None).split() == run_on.split()
    assert "".join(c.text for c in chunks if c.heading == "Attachment") == blob


def test_pages_and_headings_are_kept_and_never_mixed(tokens: ModelTokenCounter) -> None:
    sections = [
        Section("Page one talks about rivers.", page=1),
        Section("Page two talks about engines.", page=2),
        Section("Setup text.", heading="Setup"),
        Section("More setup text.", heading="Setup"),
        Section("Usage text.", heading="Usage"),
    ]
    chunks = chunk(sections, tokens)
    assert [(c.page, c.heading, c.text) for c in chunks] == [
        (1, None, "Page one talks about rivers."),
        (2, None, "Page two talks about engines."),
        (None, "Setup", "Setup text.\n\nMore setup text."),
        (None, "Usage", "Usage text."),
    ]


def test_consecutive_chunks_overlap_by_a_sentence_or_two(tokens: ModelTokenCounter) -> None:
    chunks = chunk([Section(" ".join(sentences(80)))], tokens, overlap=32)
    assert len(chunks) >= 3
    for before, after in itertools.pairwise(chunks):
        first_sentence = after.text.split(". ")[0]
        assert first_sentence in before.text
        shared = before.text[before.text.index(first_sentence) :]
        assert 0 < tokens(shared) - 2 <= 32


def test_paragraphs_are_kept_whole_when_they_fit(tokens: ModelTokenCounter) -> None:
    paragraphs = [" ".join(sentences(5, seed)) for seed in range(12)]  # roughly 70 tokens each
    chunks = chunk([Section("\n\n".join(paragraphs))], tokens, overlap=0)
    for piece in chunks:
        assert all(part in paragraphs for part in piece.text.split("\n\n"))


def test_a_long_heading_leaves_room_for_the_text(tokens: ModelTokenCounter) -> None:
    heading = " ".join(sentences(30))
    chunks = chunk([Section(" ".join(sentences(40)), heading=heading)], tokens)
    assert_within_limit(chunks, tokens)
    assert chunks[0].heading is not None and heading.startswith(chunks[0].heading)
    assert tokens(chunks[0].heading) <= 50


def test_table_rows_share_chunks_without_overlap_and_the_schema_stays_alone(tokens: ModelTokenCounter) -> None:
    rows = [Section(f"city: Town {n}; population: {n * 1000}", heading="Cities", kind="row") for n in range(200)]
    schema = Section("Sheet 'Cities' with 200 rows and columns: city, population.", heading="Cities", kind="schema")
    chunks = chunk([schema, *rows], tokens)
    assert chunks[0].text == schema.text
    assert_within_limit(chunks, tokens)
    seen = [line for c in chunks[1:] for line in c.text.split("\n\n")]
    assert seen == [row.text for row in rows]
    assert len(chunks) < 40


def test_a_smaller_limit_and_a_plain_counter_are_honoured() -> None:
    def words(text: str) -> int:
        return len(text.split()) + 2

    chunks = chunk([Section(" ".join(sentences(50)))], words, max_tokens=40, overlap=5)
    assert all(words(c.text) <= 40 for c in chunks)
    assert all(c.word_pieces is None for c in chunks)  # word pieces come only from the model's tokenizer


def test_every_chunk_counts_what_the_model_reads_in_any_script(tokens: ModelTokenCounter) -> None:
    # A chunk's count is the sum of its sentences' (BERT's word pieces never cross whitespace);
    # accents, CJK, emoji, punctuation runs, tabs and control characters must not break that.
    rng = random.Random(7)
    odd = [
        "Café déjà-vu naïve façade.",
        "東京は日本の首都です。大阪も大きい\uff01",
        "Emoji 🚀🔥 and ✓ marks?!",
        "Tabs\tand\u00a0non-breaking\u2003spaces; dashes — and ellipses…",
        "Control\x07chars\x1b[0m and a zero\u200bwidth joiner.",
        "URL https://example.com/a_b?c=d&e=f#g and e-mail a.b@example.org.",
        "Numbers 3.14159, 1,000,000 and 2026-11-24T03:00:00Z.",
        "x" * 300 + ".",
    ]
    paragraphs = [
        "\n".join(" ".join(rng.choice(odd + sentences(4, n)) for _ in range(6)) for _ in range(3)) for n in range(12)
    ]
    sections = [
        Section("\n\n".join(paragraphs[:6]), heading="Überblick — 概要"),
        Section("\n\n".join(paragraphs[6:]), page=2),
    ]
    chunks = chunk(sections, tokens)
    assert len(chunks) > 8
    assert_within_limit(chunks, tokens)
