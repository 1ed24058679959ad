"""The assembled assistant: settings in, the components built once, loaded on first use.

The CLI, the Streamlit app, the API and the evaluation all go through this one object, so they
share the same sync, retrieval, grounding and prompt behaviour. Each component is built here
from its settings group, and only when first needed: building the index needs no model, and
``--retrieval-only`` evaluation never loads one. A caller that shares loaded models between
several assistants (the app caches them per process) passes them in, or passes a loader that
is called the first time the model is needed.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

from assistant.answer import AnswerStream
from assistant.config import Settings
from assistant.embeddings import Embedder, embedder_name, load_embedder
from assistant.grounding import Grounding, RefusalModel, SupportChecker
from assistant.keyterms import KeyTerms
from assistant.llm import Generator, load_generator
from assistant.prompts import Prompts
from assistant.retrieval import Retriever
from assistant.store import Index, chunking_params, load_index, read_generation
from assistant.sync import CorpusStatus, Progress, SyncReport, corpus_status, sync_index


class Assistant:
    def __init__(
        self,
        settings: Settings,
        *,
        embedder: Embedder | None = None,
        generator: Generator | None = None,
        generator_loader: Callable[[], Generator] | None = None,
    ) -> None:
        self.settings = settings
        generation = settings.generation
        self.prompts = Prompts(generation.prompts_dir, examples=generation.answer_examples)
        self._embedder = embedder
        self._generator = generator
        self._generator_loader = generator_loader or (lambda: load_generator(settings.generation))
        self._index: Index | None = None
        self._retriever: Retriever | None = None
        self._checker: SupportChecker | None = None
        self._lock = threading.Lock()

    @property
    def embedder(self) -> Embedder:
        with self._lock:
            if self._embedder is None:
                self._embedder = load_embedder(
                    self.settings.index.embedder,
                    backend=self.settings.index.embedder_backend,
                    cache_dir=self.settings.index.embedder_cache_dir,
                )
            return self._embedder

    @property
    def generator(self) -> Generator:
        """The model, loaded now if it was not yet (call it before timing an answer)."""
        with self._lock:
            if self._generator is None:
                self._generator = self._generator_loader()
            return self._generator

    @property
    def chunking(self) -> dict:
        index = self.settings.index
        return chunking_params(index.chunk_tokens, index.chunk_overlap_tokens)

    def status(self) -> CorpusStatus:
        index = self.settings.index
        embedder = (
            self._embedder.name
            if self._embedder is not None
            else embedder_name(index.embedder, backend=index.embedder_backend)
        )
        return corpus_status(
            index.corpus_dir, index.index_dir, embedder=embedder, chunking=self.chunking
        )

    def sync(self, *, rebuild: bool = False, progress: Progress | None = None) -> SyncReport:
        index = self.settings.index
        report = sync_index(
            index.corpus_dir,
            index.index_dir,
            embedder=self.embedder,
            max_tokens=index.chunk_tokens,
            overlap_tokens=index.chunk_overlap_tokens,
            max_file_mb=index.max_file_mb,
            rebuild=rebuild,
            progress=progress,
            approximate_from=index.approximate_from,
        )
        if report.written or self._index is None:
            self._index = None  # reload on next use
        return report

    @property
    def index(self) -> Index:
        """The loaded index, reloaded when a sync (here or in another process) replaced it."""
        folder = self.settings.index.index_dir
        current = read_generation(folder)
        if self._index is None or (
            current is not None and current != self._index.manifest.generation
        ):
            self._index = load_index(folder, embedder=self.embedder, chunking=self.chunking)
        return self._index

    def key_terms(self, question: str) -> KeyTerms:
        """The question's key terms, weighted by rarity in the current index."""
        return self.retriever.key_terms(question)

    @property
    def retriever(self) -> Retriever:
        """The retriever over the current index (rebuilt only when the index is replaced)."""
        index = self.index
        if self._retriever is None or self._retriever.index is not index:
            retrieval = self.settings.retrieval
            self._retriever = Retriever(
                index,
                self.embedder,
                mode=retrieval.retrieval_mode,
                fusion=retrieval.fusion,
                keyword_weight=retrieval.keyword_weight,
            )
        return self._retriever

    @property
    def checker(self) -> SupportChecker:
        if self._checker is None:
            self._checker = SupportChecker(self.embedder, key_terms=self.key_terms)
        return self._checker

    @property
    def grounding(self) -> Grounding:
        settings = self.settings.grounding
        return Grounding(
            settings,
            self.checker if settings.verify_citations else None,
            key_terms=self.key_terms,
            model=RefusalModel.load(),
            frequencies=lambda terms: self.index.document_frequency(terms),
        )

    def ask(self, question: str, *, top_k: int | None = None) -> AnswerStream:
        """The answer to one standalone question, as a stream (see ``Conversation`` for turns)."""
        return AnswerStream(
            question,
            retriever=self.retriever,
            generator=self.generator,
            prompts=self.prompts,
            grounding=self.grounding,
            generation=self.settings.generation,
            top_k=top_k or self.settings.retrieval.top_k,
            min_relative_score=self.settings.retrieval.min_relative_score,
        )
