"""Documents: extract text from uploads, chunk it to the embedding model's limit, embed it.

Public names are re-exported here; import them from `switchboard.ingestion`.
"""

from switchboard.ingestion.chunk import Chunk, ModelTokenCounter, TokenCounter, chunk
from switchboard.ingestion.embedder import (
    DEFAULT_BACKEND,
    Backend,
    Embedder,
    OpenAIEmbedder,
    QueryEmbeddingCache,
    SentenceTransformerEmbedder,
)
from switchboard.ingestion.errors import ExtractionFailed
from switchboard.ingestion.extract import HEAD_SIZE, KINDS, Section, detect_type, extract
from switchboard.ingestion.model_files import packaged_model_dir, prepare_onnx_model
from switchboard.ingestion.resources import query_cache_of

__all__ = [
    "DEFAULT_BACKEND",
    "HEAD_SIZE",
    "KINDS",
    "Backend",
    "Chunk",
    "Embedder",
    "ExtractionFailed",
    "ModelTokenCounter",
    "OpenAIEmbedder",
    "QueryEmbeddingCache",
    "Section",
    "SentenceTransformerEmbedder",
    "TokenCounter",
    "chunk",
    "detect_type",
    "extract",
    "packaged_model_dir",
    "prepare_onnx_model",
    "query_cache_of",
]
