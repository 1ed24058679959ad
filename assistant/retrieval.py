"""Retrieval: a question in, the top-k passages out, each with its cosine similarity."""

from __future__ import annotations

import time
from dataclasses import dataclass

from assistant.chunking import Chunk
from assistant.documents import normalize
from assistant.embeddings import Embedder
from assistant.store import Index


@dataclass(frozen=True)
class Hit:
    chunk: Chunk
    score: float  # cosine similarity between question and passage
    rank: int  # 1-based

    def to_dict(self) -> dict:
        return {
            "rank": self.rank,
            "score": round(self.score, 4),
            "chunk_id": self.chunk.id,
            "document": self.chunk.document,
            "page": self.chunk.page,
            "heading": self.chunk.heading,
            "start": self.chunk.start,
            "end": self.chunk.end,
            "text": self.chunk.text,
        }


class Retriever:
    def __init__(self, index: Index, embedder: Embedder) -> None:
        self.index = index
        self.embedder = embedder

    def retrieve(self, question: str, k: int) -> tuple[list[Hit], float]:
        """The k best passages and the time the search took, in milliseconds."""
        started = time.perf_counter()
        vector = self.embedder.embed([normalize(question)])[0]
        found = self.index.search(vector, k)
        hits = [Hit(chunk, score, rank) for rank, (chunk, score) in enumerate(found, start=1)]
        return hits, (time.perf_counter() - started) * 1000
