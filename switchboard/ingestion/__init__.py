"""Documents: extract text from uploads, chunk it to the embedding model's limit, embed it, search it.

The context's public face: other contexts use these names (the `service` and `collections`
functions, the types), never the modules inside. Inside: `extraction/` (file types -> sections),
`chunk` (sections -> chunks), `embedding/` (the `Embedder` seam and its implementations),
`pipeline` and `tasks` (a document's processing), `search` and `service` (what routes ask).
"""

from switchboard.ingestion import collections, service
from switchboard.ingestion.chunk import Chunk, ModelTokenCounter, TokenCounter, chunk
from switchboard.ingestion.embedding import (
    DEFAULT_BACKEND,
    Backend,
    Embedder,
    OpenAIEmbedder,
    QueryEmbeddingCache,
    SentenceTransformerEmbedder,
    packaged_model_dir,
    prepare_onnx_model,
)
from switchboard.ingestion.errors import DuplicateDocument, ExtractionFailed
from switchboard.ingestion.extraction import HEAD_SIZE, KINDS, Section, detect_type, extract
from switchboard.ingestion.resources import embedding_model_name, query_cache_of
from switchboard.ingestion.search import SearchHit, SearchResults

__all__ = [
    "DEFAULT_BACKEND",
    "HEAD_SIZE",
    "KINDS",
    "Backend",
    "Chunk",
    "DuplicateDocument",
    "Embedder",
    "ExtractionFailed",
    "ModelTokenCounter",
    "OpenAIEmbedder",
    "QueryEmbeddingCache",
    "SearchHit",
    "SearchResults",
    "Section",
    "SentenceTransformerEmbedder",
    "TokenCounter",
    "chunk",
    "collections",
    "detect_type",
    "embedding_model_name",
    "extract",
    "packaged_model_dir",
    "prepare_onnx_model",
    "query_cache_of",
    "service",
]
