"""Embeddings from an OpenAI-compatible endpoint (OpenAI, vLLM, Ollama, ...) through the `openai` SDK."""

from __future__ import annotations

import math

import openai
from openai import AsyncOpenAI

from switchboard.platform.errors import IntegrationError


class OpenAIEmbedder:
    """An `Embedder` that calls `POST {base_url}/embeddings`; library errors become `IntegrationError`."""

    def __init__(
        self,
        *,
        model: str,
        dim: int,
        base_url: str | None = None,
        api_key: str | None = None,
        batch_size: int = 64,
        timeout: float = 30.0,
        max_retries: int = 2,
    ) -> None:
        self.model = model
        self.batch_size = batch_size
        self._dim = dim
        # Self-hosted servers often need no key, but the SDK refuses to start without one.
        self._client = AsyncOpenAI(
            base_url=base_url, api_key=api_key or "unused", timeout=timeout, max_retries=max_retries
        )

    @property
    def dim(self) -> int:
        """Length of every vector, as configured; answers of another length are refused."""
        return self._dim

    async def embed(self, texts: list[str]) -> list[list[float]]:
        """Unit vectors for `texts`, requested `batch_size` at a time."""
        vectors: list[list[float]] = []
        for start in range(0, len(texts), self.batch_size):
            vectors.extend(await self._batch(texts[start : start + self.batch_size]))
        return vectors

    async def aclose(self) -> None:
        """Close the HTTP connections."""
        await self._client.close()

    async def _batch(self, texts: list[str]) -> list[list[float]]:
        try:
            response = await self._client.embeddings.create(model=self.model, input=texts, encoding_format="float")
        except openai.APIStatusError as exc:
            raise IntegrationError(
                f"The embeddings service refused the request ({exc.status_code}): {_reason(exc)}",
                details={"status": exc.status_code},
            ) from exc
        except openai.APIConnectionError as exc:
            raise IntegrationError("The embeddings service could not be reached.") from exc
        except openai.OpenAIError as exc:
            raise IntegrationError(f"The embeddings service failed: {exc}") from exc
        items = sorted(response.data, key=lambda item: item.index)
        if len(items) != len(texts):
            raise IntegrationError(f"The embeddings service returned {len(items)} vectors for {len(texts)} texts.")
        vectors = []
        for item in items:
            if len(item.embedding) != self._dim:
                raise IntegrationError(
                    f"The embeddings service returned vectors of {len(item.embedding)} numbers, expected {self._dim}."
                )
            vectors.append(_unit(item.embedding))
        return vectors


def _reason(exc: openai.APIStatusError) -> str:
    body = exc.body
    if isinstance(body, dict):
        error = body.get("error", body)
        message = error.get("message") if isinstance(error, dict) else error
        if message:
            return str(message)
    return exc.message


def _unit(vector: list[float]) -> list[float]:
    # Endpoints differ on whether they normalise; cosine search in the index assumes unit length.
    norm = math.sqrt(math.fsum(x * x for x in vector))
    if norm == 0.0:
        raise IntegrationError("The embeddings service returned an all-zero vector.")
    return [x / norm for x in vector]
