"""Sections into chunks that fit the embedding model's input.

all-MiniLM-L6-v2 reads at most 256 word pieces, its [CLS] and [SEP] included, and silently
drops the rest; a chunk longer than that would be indexed by its first part only. So every
chunk is measured with the model's own tokenizer, split at paragraph, then sentence, then
word boundaries, and the next chunk repeats a sentence or two of the last so an answer that
straddles the cut is still found.

A chunk's heading is part of what gets embedded (`Chunk.embedding_text`), so it is counted
against the limit too.

With the model's tokenizer, a chunk also keeps the word pieces it was measured by
(`Chunk.word_pieces`: its heading's and sentences' pieces between the model's special tokens,
exactly what the tokenizer makes of `embedding_text`), so the embedder need not tokenize it again.
"""

from __future__ import annotations

import itertools
import re
from array import array
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from switchboard.ingestion.extraction.sections import Section

MAX_TOKENS = 256
OVERLAP_TOKENS = 32
# A heading longer than this is a paragraph styled as a heading; cut so the text keeps its room.
_MAX_HEADING_TOKENS = 48

TokenCounter = Callable[[str], int]
"""Tokens the model sees for a text, special tokens included."""

_PARAGRAPHS = re.compile(r"\n[ \t]*\n\s*")
_SENTENCE_END = re.compile("(?<=[.!?\u3002\uff01\uff1f])\\s+")  # Latin and CJK sentence ends


class _Encodes(Protocol):
    def encode(self, text: str) -> Any: ...


@dataclass(frozen=True, slots=True)
class Chunk:
    """A piece of a document small enough to embed whole, with where it came from."""

    text: str
    index: int
    page: int | None
    heading: str | None
    token_count: int
    """Tokens of `embedding_text`, special tokens included; never above the chunker's limit."""
    word_pieces: array[int] | None = field(default=None, compare=False, repr=False)
    """The model tokenizer's ids for `embedding_text`, special tokens included (`token_count` of them);
    None when the chunker counted with something else. An `array` of ints: it crosses processes cheaply."""

    @property
    def embedding_text(self) -> str:
        """What to embed: the heading, then the text."""
        return f"{self.heading}\n{self.text}" if self.heading else self.text


class ModelTokenCounter:
    """Counts tokens with the embedding model's own tokenizer (a `tokenizers.Tokenizer`)."""

    def __init__(self, tokenizer: Any) -> None:
        # The model's tokenizer file truncates and pads to 128; counting needs the true length.
        tokenizer.no_truncation()
        tokenizer.no_padding()
        self._tokenizer = tokenizer
        # BERT's word pieces never cross whitespace (the text is split there before anything else),
        # so texts joined by spaces or line breaks cost the sum of their parts, and are their parts' pieces.
        self.additive = type(tokenizer.pre_tokenizer).__name__ in ("BertPreTokenizer", "WhitespaceSplit")
        self._prefix, self._suffix = _specials_around(tokenizer)
        self.specials = len(self._prefix) + len(self._suffix)

    @classmethod
    def from_model_dir(cls, model_dir: Path | None = None) -> ModelTokenCounter:
        """The tokenizer of a sentence-transformers model folder; the packaged all-MiniLM-L6-v2 by default."""
        from switchboard.ingestion.embedding.model_files import packaged_model_dir

        return cls.from_file((model_dir or packaged_model_dir()) / "tokenizer.json")

    @classmethod
    def from_file(cls, tokenizer_file: Path) -> ModelTokenCounter:
        """The tokenizer saved in `tokenizer_file` (a `tokenizer.json`)."""
        from tokenizers import Tokenizer  # type: ignore[import-untyped]

        return cls(Tokenizer.from_file(str(tokenizer_file)))

    def __call__(self, text: str) -> int:
        """Tokens for `text`, [CLS] and [SEP] included."""
        return len(self._tokenizer.encode(text).ids)

    def count_many(self, texts: list[str]) -> list[int]:
        """Tokens for each of `texts`, in one call to the tokenizer."""
        return [len(encoding.ids) for encoding in self._tokenizer.encode_batch_fast(texts)]

    def word_pieces_many(self, texts: list[str]) -> list[array[int]]:
        """The ids of each of `texts` without the special tokens, in one call to the tokenizer (4 bytes an id)."""
        encodings = self._tokenizer.encode_batch_fast(texts, add_special_tokens=False)
        return [array("i", encoding.ids) for encoding in encodings]

    def with_specials(self, pieces: Iterable[int]) -> array[int]:
        """`pieces` between the special tokens the model expects around a text ([CLS] ... [SEP] for BERT)."""
        ids = array("i", self._prefix)
        ids.extend(pieces)
        ids.extend(self._suffix)
        return ids

    def cut(self, ids: Sequence[int], limit: int) -> Sequence[int]:
        """`ids` (special tokens included) cut to `limit` as the tokenizer cuts a text: its end goes, the
        closing special tokens stay."""
        if len(ids) <= limit:
            return ids
        closing = len(self._suffix)
        return [*ids[: limit - closing], *ids[len(ids) - closing :]]


def _specials_around(tokenizer: Any) -> tuple[list[int], list[int]]:
    """The special ids the tokenizer puts before and after a text's own."""
    full, bare = tokenizer.encode("a").ids, tokenizer.encode("a", add_special_tokens=False).ids
    for at in range(len(full) - len(bare) + 1):
        if full[at : at + len(bare)] == bare:
            return full[:at], full[at + len(bare) :]
    raise ValueError("the tokenizer's special tokens are not around the text")


@dataclass(frozen=True, slots=True)
class _Unit:
    text: str
    cost: int
    sep: str  # what joins it to the unit before: a paragraph break, a line break or a space
    paragraph_cost: int  # cost of the rest of its paragraph, this unit included
    pieces: Sequence[int] = ()  # its word pieces, when the counter gives them


def chunk(
    sections: Iterable[Section],
    tokenizer_or_counter: TokenCounter | _Encodes,
    max_tokens: int = MAX_TOKENS,
    overlap: int = OVERLAP_TOKENS,
) -> list[Chunk]:
    """Chunks of at most `max_tokens` tokens (special tokens included) over the sections, in order.

    `tokenizer_or_counter` is the model's tokenizer (a `tokenizers.Tokenizer`, or anything whose
    `encode(text)` gives the token ids) or a `TokenCounter`, such as `ModelTokenCounter.from_model_dir()`.

    Neighbouring sections with the same page, heading and kind share chunks; a new page or
    heading starts a new chunk. Within a run, consecutive chunks share up to `overlap` tokens
    of whole sentences (table rows never overlap: each row stands alone).
    """
    counter = _counter(tokenizer_or_counter)
    # A packed chunk's cost is the sum of its sentences' when the tokenizer adds up over whitespace;
    # otherwise the chunk is counted again (and halved should it not fit).
    additive = bool(getattr(counter, "additive", False))
    count = _Memo(counter, pieces=additive)
    specials = count("")
    if max_tokens - specials < 16:
        raise ValueError(f"max_tokens={max_tokens} leaves no room for text")
    chunks: list[Chunk] = []
    for (page, heading, kind), run in itertools.groupby(sections, key=lambda s: (s.page, s.heading, s.kind)):
        heading = _fit(heading, min(_MAX_HEADING_TOKENS, (max_tokens - specials) // 4), count, specials)
        heading = heading or None
        budget = max_tokens - (count(f"{heading}\n") if heading else specials)
        # More overlap than this would make chunks that repeat more than they add.
        shared = 0 if kind == "row" else min(overlap, budget // 4)
        units = [unit for section in run for unit in _units(section.text, budget, count, specials)]
        for packed in _pack(units, budget, shared):
            text, used = _join(packed), sum(unit.cost for unit in packed)
            if additive:
                pieces = count.word_pieces(heading, packed)
                chunks.append(Chunk(text, len(chunks), page, heading, max_tokens - budget + used, pieces))
                continue
            for piece in _enforce(text, heading, max_tokens, count):
                embedded = f"{heading}\n{piece}" if heading else piece
                chunks.append(Chunk(piece, len(chunks), page, heading, count(embedded)))
    return chunks


class _Memo:
    """A token counter that remembers: the chunker asks for the same texts more than once.

    With `count_many` (a batch counter), a paragraph's sentences are counted in one call. With
    `pieces` and a counter that gives word pieces (`ModelTokenCounter`), it keeps the pieces of
    the sentences it prefetches and of the texts it is asked `pieces` of; other texts (the
    prefixes and words probed while cutting run-on text) keep only their counts.
    """

    def __init__(self, count: TokenCounter, *, pieces: bool = False) -> None:
        self._count = count
        self._count_many: Callable[[list[str]], list[int]] | None = getattr(count, "count_many", None)
        self._pieces_many: Callable[[list[str]], list[array[int]]] | None = (
            getattr(count, "word_pieces_many", None) if pieces else None
        )
        self._with_specials: Callable[[Iterable[int]], array[int]] | None = getattr(count, "with_specials", None)
        self._specials = int(getattr(count, "specials", 0))
        self._known: dict[str, int] = {}
        self._pieces: dict[str, array[int]] = {}

    def __call__(self, text: str) -> int:
        known = self._known.get(text)
        if known is None:
            known = self._known[text] = self._count(text)
        return known

    @property
    def keeps_pieces(self) -> bool:
        """Whether it gives texts' word pieces (see `pieces`)."""
        return self._pieces_many is not None and self._with_specials is not None

    def pieces(self, text: str) -> array[int]:
        """The word pieces of `text`, special tokens left out (only with a counter that gives them)."""
        known = self._pieces.get(text)
        if known is None:
            assert self._pieces_many is not None
            known = self._pieces[text] = self._pieces_many([text])[0]
            self._known[text] = len(known) + self._specials
        return known

    def word_pieces(self, heading: str | None, units: Sequence[_Unit]) -> array[int] | None:
        """A chunk's ids: its heading's and units' pieces between the special tokens (None without pieces)."""
        if self._pieces_many is None or self._with_specials is None:
            return None
        heading_pieces = self.pieces(f"{heading}\n") if heading else ()
        return self._with_specials(itertools.chain(heading_pieces, *(unit.pieces for unit in units)))

    def prefetch(self, texts: Iterable[str]) -> None:
        """Count `texts` now (and keep their pieces, if it keeps them), in one batch where the counter can."""
        todo = list(dict.fromkeys(t for t in texts if t not in self._known))
        if not todo:
            return
        if self._pieces_many is not None and self._with_specials is not None:
            for text, pieces in zip(todo, self._pieces_many(todo), strict=True):
                self._pieces[text] = pieces
                self._known[text] = len(pieces) + self._specials
        elif self._count_many is not None:
            self._known.update(zip(todo, self._count_many(todo), strict=True))


def _counter(tokenizer_or_counter: TokenCounter | _Encodes) -> TokenCounter:
    encode = getattr(tokenizer_or_counter, "encode", None)
    if encode is None:
        assert callable(tokenizer_or_counter)
        return tokenizer_or_counter
    if hasattr(tokenizer_or_counter, "no_truncation"):
        return ModelTokenCounter(tokenizer_or_counter)

    def count(text: str) -> int:
        encoded = encode(text)
        return len(getattr(encoded, "ids", encoded))

    return count


def _units(text: str, budget: int, count: _Memo, specials: int) -> Iterator[_Unit]:
    """Sentences (or, for run-on text, word windows) with their costs (and word pieces, if kept), in order."""
    paragraphs = [
        [_SENTENCE_END.split(line.strip()) for line in paragraph.split("\n")]
        for paragraph in _PARAGRAPHS.split(text.strip())
    ]
    count.prefetch(s for lines in paragraphs for sentences in lines for s in sentences if s)
    for lines in paragraphs:
        parts: list[tuple[str, str]] = []
        sep = "\n\n"
        for sentences in lines:
            for sentence in sentences:
                for part in _split_long(sentence, budget, count, specials):
                    parts.append((sep, part))
                    sep = " "
            sep = "\n" if parts else sep
        costs = [count(part) - specials for _, part in parts]
        remaining = sum(costs)
        for (sep, part), cost in zip(parts, costs, strict=True):
            yield _Unit(part, cost, sep, remaining, count.pieces(part) if count.keeps_pieces else ())
            remaining -= cost


def _split_long(sentence: str, budget: int, count: TokenCounter, specials: int) -> list[str]:
    """A sentence as it is, or cut into word windows that each fit the budget."""
    if not sentence or count(sentence) - specials <= budget:
        return [sentence] if sentence else []
    windows: list[str] = []
    current: list[str] = []
    used = 0
    for word in sentence.split():
        cost = count(word) - specials
        if cost > budget:
            # One "word" longer than a chunk (a hash, base64, a minified line): cut it by characters.
            windows.extend(w for w in [" ".join(current)] if w)
            current, used = [], 0
            windows.extend(_cut_word(word, budget, count, specials))
            continue
        if used + cost > budget:
            windows.append(" ".join(current))
            current, used = [], 0
        current.append(word)
        used += cost
    windows.extend(w for w in [" ".join(current)] if w)
    return windows


def _cut_word(word: str, budget: int, count: TokenCounter, specials: int) -> Iterator[str]:
    """`word` in pieces that each fit the budget, each as long a prefix of the rest as a binary search finds.

    (Counts do not always grow with the prefix: BERT reads a run of over 100 letters as one unknown
    token.)
    """
    while word:
        # Bound the search by a prefix that no longer fits, found by doubling: a piece then costs a
        # few tokenizations of piece-sized prefixes, not of the whole rest of the word (a 120 KB
        # minified line took 14.5 s of CPU, growing with the square of its length).
        reach = budget
        while reach < len(word) and count(word[:reach]) - specials <= budget:
            reach *= 2
        low, high = 1, min(reach, len(word))
        while low < high:  # longest prefix that fits
            middle = (low + high + 1) // 2
            low, high = (middle, high) if count(word[:middle]) - specials <= budget else (low, middle - 1)
        yield word[:low]
        word = word[low:]


def _fit(text: str | None, tokens: int, count: TokenCounter, specials: int) -> str:
    """`text` cut at a word boundary to at most `tokens` tokens (special tokens not counted)."""
    text = (text or "").strip()
    if not text or count(text) - specials <= tokens:
        return text
    words = text.split()
    while len(words) > 1 and count(" ".join(words)) - specials > tokens:
        words.pop()
    return " ".join(words) if count(" ".join(words)) - specials <= tokens else ""


def _pack(units: list[_Unit], budget: int, overlap: int) -> Iterator[list[_Unit]]:
    """Greedy packing of units into runs whose summed cost stays within `budget`."""
    start = 0
    while start < len(units):
        end, used = start, 0
        while end < len(units) and used + units[end].cost <= budget:
            unit = units[end]
            # Rather than cut a paragraph that would fit whole in the next chunk, end this one early.
            if (
                end > start
                and unit.sep == "\n\n"
                and used >= budget // 2
                and used + unit.paragraph_cost > budget >= unit.paragraph_cost
            ):
                break
            used += unit.cost
            end += 1
        end = max(end, start + 1)  # a unit never exceeds the budget, but make progress regardless
        yield units[start:end]
        if end >= len(units):
            return
        start = _overlap_start(units, start, end, budget, overlap)


def _overlap_start(units: list[_Unit], start: int, end: int, budget: int, overlap: int) -> int:
    """Where the next chunk begins: a few trailing sentences of this one, if they leave room for new text."""
    back, carried = end, 0
    while back - 1 > start and carried + units[back - 1].cost <= overlap:
        back -= 1
        carried += units[back].cost
    if carried + units[end].cost > budget:
        return end
    return back


def _join(units: list[_Unit]) -> str:
    return "".join(unit.sep + unit.text if i else unit.text for i, unit in enumerate(units))


def _enforce(text: str, heading: str | None, max_tokens: int, count: TokenCounter) -> Iterator[str]:
    """The chunk as packed, or halves of it should a tokenizer not add up over whitespace."""
    embedded = f"{heading}\n{text}" if heading else text
    words = text.split(" ")
    if count(embedded) <= max_tokens or len(words) < 2:
        yield text
        return
    half = len(words) // 2
    yield from _enforce(" ".join(words[:half]), heading, max_tokens, count)
    yield from _enforce(" ".join(words[half:]), heading, max_tokens, count)
