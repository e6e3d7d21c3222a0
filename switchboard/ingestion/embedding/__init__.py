"""Embedding: texts -> unit vectors, in this process (sentence-transformers, ONNX) or over HTTP.

python -m switchboard.ingestion.embedding prepare DIR    # export the ONNX model (install time)
"""

from switchboard.ingestion.embedding.local import (
    DEFAULT_BACKEND,
    Backend,
    Embedder,
    QueryEmbeddingCache,
    SentenceTransformerEmbedder,
    WordPieceEmbedder,
)
from switchboard.ingestion.embedding.model_files import packaged_model_dir, prepare_onnx_model
from switchboard.ingestion.embedding.openai_compat import OpenAIEmbedder

__all__ = [
    "DEFAULT_BACKEND",
    "Backend",
    "Embedder",
    "OpenAIEmbedder",
    "QueryEmbeddingCache",
    "SentenceTransformerEmbedder",
    "WordPieceEmbedder",
    "packaged_model_dir",
    "prepare_onnx_model",
]
