"""The assembled assistant: settings -> embedder, index, retriever and generator, loaded lazily.

The CLI, the Streamlit app and the evaluation all go through this one object, so they share
the same sync, retrieval and prompt behaviour. Heavy components load on first use: building
the index needs no model, and ``--retrieval-only`` evaluation never loads one.
"""

from __future__ import annotations

import threading

from assistant.answer import AnswerStream, Prompts
from assistant.config import Settings
from assistant.embeddings import Embedder, load_embedder
from assistant.llm import Generator, load_generator
from assistant.retrieval import Retriever
from assistant.store import (
    Index,
    Progress,
    SyncReport,
    chunking_params,
    corpus_status,
    load_index,
    read_manifest,
    sync_index,
)
from assistant.support import SupportChecker


class Assistant:
    def __init__(
        self,
        settings: Settings,
        *,
        embedder: Embedder | None = None,
        generator: Generator | None = None,
    ) -> None:
        self.settings = settings
        self._embedder = embedder
        self._generator = generator
        self._index: Index | None = None
        self._checker: SupportChecker | None = None
        self._lock = threading.Lock()
        self.prompts = Prompts(settings.prompts_dir)

    @property
    def embedder(self) -> Embedder:
        with self._lock:
            if self._embedder is None:
                self._embedder = load_embedder(self.settings.embedder)
            return self._embedder

    @property
    def generator(self) -> Generator:
        with self._lock:
            if self._generator is None:
                self._generator = load_generator(self.settings)
            return self._generator

    @property
    def chunking(self) -> dict:
        return chunking_params(self.settings.chunk_tokens, self.settings.chunk_overlap_tokens)

    def status(self):
        return corpus_status(self.settings.corpus_dir, self.settings.index_dir)

    def sync(self, *, rebuild: bool = False, progress: Progress | None = None) -> SyncReport:
        report = sync_index(
            self.settings.corpus_dir,
            self.settings.index_dir,
            embedder=self.embedder,
            max_tokens=self.settings.chunk_tokens,
            overlap_tokens=self.settings.chunk_overlap_tokens,
            rebuild=rebuild,
            progress=progress,
        )
        if report.written or self._index is None:
            self._index = None  # reload on next use
        return report

    @property
    def index(self) -> Index:
        """The loaded index, reloaded when a sync (here or in another process) replaced it."""
        current = read_manifest(self.settings.index_dir)
        if self._index is None or (
            current is not None and current.generation != self._index.manifest.generation
        ):
            self._index = load_index(
                self.settings.index_dir, embedder=self.embedder, chunking=self.chunking
            )
        return self._index

    @property
    def retriever(self) -> Retriever:
        return Retriever(
            self.index,
            self.embedder,
            mode=self.settings.retrieval_mode,
            fusion=self.settings.fusion,
            keyword_weight=self.settings.keyword_weight,
        )

    def ask(self, question: str, *, top_k: int | None = None) -> AnswerStream:
        return AnswerStream(
            question,
            retriever=self.retriever,
            generator=self.generator,
            prompts=self.prompts,
            top_k=top_k or self.settings.top_k,
            min_score=self.settings.min_score,
            max_tokens=self.settings.max_tokens,
            temperature=self.settings.temperature,
            checker=self.checker if self.settings.verify_citations else None,
            refuse_unsupported=self.settings.refuse_unsupported,
            check_relevance=self.settings.check_relevance,
            confident_score=self.settings.confident_score,
        )

    @property
    def checker(self) -> SupportChecker:
        if self._checker is None:
            self._checker = SupportChecker(self.embedder)
        return self._checker
