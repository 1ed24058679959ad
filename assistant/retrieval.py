"""Retrieval: a question in, the top-k passages out.

Three modes share one code path: ``dense`` ranks by cosine similarity (FAISS), ``keyword``
by BM25, and ``hybrid`` (the default) fuses both. Two fusions are available: ``weighted``
(the default) adds ``keyword_weight * bm25 / max(bm25)`` to the cosine similarity, and ``rrf``
sums ``1 / (60 + rank)`` over the two rankings. Weighted fusion measured better on both the
shipped set and the ClapNQ slice (evaluation/README.md): a passage that matches the question's
rare words (names, numbers, years) strongly keeps its lead, where rank fusion pulls it back to
the middle whenever the small English-only embedder ranks it low (Hinglish, lists, tables).
Every hit carries its cosine similarity, its BM25 score and the rarity-weighted share of the
question's key terms found in it (``keyterms.py``), whatever ranked it; the refusal decision
reads those signals. In hybrid mode the fused ranking's first 20 passages are re-ordered with a
small bonus for that key-term coverage, so the passage that names what was asked comes first
(MRR on the shipped set 0.928 -> 0.938, ClapNQ slice unchanged at 0.959; evaluation/README.md).

Questions often name their source ("according to the wiki page", "the battle article"). When
a question refers to a source (a cue such as "according to", "article", "page") and uses a
distinctive word of a file name (one not shared by most file names), that document gets a bonus
worth one first place in a ranking, so its passages come first without shutting out others.
Without a cue, a question's words that happen to match a file name are ordinary words.

Neither side scores every passage: FAISS proposes the nearest ``CANDIDATES`` rows and FTS5 the
best ``KEYWORD_CANDIDATES`` by BM25, each candidate gets both scores, and the fusion ranks the
union. For an index of up to ``CANDIDATES`` passages that is every row, as exact as scoring
them all; for a million it reads a few hundred passages' vectors instead of a million.
"""

from __future__ import annotations

import bisect
import re
import time
from dataclasses import dataclass

import numpy as np

from assistant.chunking import Chunk
from assistant.embeddings import Embedder
from assistant.keyterms import KeyTerms
from assistant.store import Index
from assistant.text import keyword_stem, keyword_tokens, normalize

MODES = ("hybrid", "dense", "keyword")
FUSIONS = ("weighted", "rrf")
RRF_K = 60
SOURCE_CUE = re.compile(
    r"according to|\b(?:article|page|document|paper|thesis|wiki|report|pdf|file|source)s?\b"
    r"|\u0915\u0947 \u0905\u0928\u0941\u0938\u093e\u0930|\banusar\b",  # के अनुसार
    re.IGNORECASE,
)
# The fused ranking's first RERANK_DEPTH passages are re-ordered by adding RERANK_WEIGHT times the
# share of the question's key terms (rarity-weighted, keyterms.py) each one contains.
RERANK_DEPTH = 20
RERANK_WEIGHT = 0.1
NAME_BONUS = {"weighted": 0.3, "rrf": 1.0 / (RRF_K + 1)}  # about one first place
CANDIDATES = 200  # nearest rows taken from FAISS before fusing
KEYWORD_CANDIDATES = 1000  # best BM25 rows taken from FTS5 before fusing


@dataclass(frozen=True)
class Hit:
    chunk: Chunk
    score: float  # cosine similarity between question and passage
    rank: int  # 1-based
    keyword_score: float = 0.0  # BM25
    fused: float = 0.0  # the score this mode ranked by
    coverage: float = 0.0  # rarity-weighted share of the question's key terms in the passage

    def to_dict(self, *, text: bool = True) -> dict:
        """The one JSON shape of a passage with its scores (without its text when asked)."""
        record = {
            "rank": self.rank,
            "score": round(self.score, 4),
            "keyword_score": round(self.keyword_score, 4),
            "fused": round(self.fused, 5),
            "coverage": round(self.coverage, 3),
            "chunk_id": self.chunk.id,
            "document": self.chunk.document,
            "page": self.chunk.page,
            "heading": self.chunk.heading,
            "start": self.chunk.start,
            "end": self.chunk.end,
        }
        if text:
            record["text"] = self.chunk.text
        return record


class Retriever:
    def __init__(
        self,
        index: Index,
        embedder: Embedder,
        *,
        mode: str = "hybrid",
        fusion: str = "weighted",
        keyword_weight: float = 0.4,
    ) -> None:
        if mode not in MODES or fusion not in FUSIONS:
            raise ValueError(f"mode must be one of {MODES} and fusion one of {FUSIONS}")
        self.index = index
        self.embedder = embedder
        self.mode = mode
        self.fusion = fusion
        self.keyword_weight = keyword_weight
        self._name_words = document_name_words(index.documents())
        self._key_terms: KeyTerms | None = None

    def key_terms(self, question: str) -> KeyTerms:
        """The question's key terms, weighted by their rarity among the indexed passages."""
        # Retrieval, the checker and the refusal evidence all ask for the same question's terms:
        # look their frequencies up once.
        if self._key_terms is None or self._key_terms.question != question:
            self._key_terms = KeyTerms.of(
                question,
                self.index.document_frequency,
                self.index.size,
                terms=self.index.query_terms(question),
            )
        return self._key_terms

    def named_documents(self, question: str) -> list[str]:
        """Documents whose distinctive file-name words the question uses."""
        if not SOURCE_CUE.search(question):
            return []
        asked = {keyword_stem(word) for word in keyword_tokens(question)}
        return [doc for doc, names in self._name_words.items() if names & asked]

    def retrieve(self, question: str, k: int) -> tuple[list[Hit], float]:
        """The k best passages and the time the search took, in milliseconds."""
        started = time.perf_counter()
        if not self.index.size:
            return [], (time.perf_counter() - started) * 1000
        vector = self.embedder.embed([normalize(question)])[0]
        named = self.named_documents(question) if self.mode == "hybrid" else []
        with self.index.reading():
            rows, dense, keyword, named_rows = self._candidates(question, vector, k, named)
            ranking = self._ranking(dense, keyword)
            for document in named:
                ranking[[i for i, row in enumerate(rows) if row in named_rows[document]]] += (
                    NAME_BONUS[self.fusion]
                )
            order = [rows[i] for i in np.argsort(-ranking, kind="stable")]
            key_terms = self.key_terms(question)
            depth = max(k, RERANK_DEPTH)
            chunks = self.index.chunks_by_id(order[:depth])
            coverage = {row: key_terms.coverage(chunks[row].search_text) for row in chunks}
            if self.mode == "hybrid":
                order[:depth] = sorted(
                    order[:depth],
                    key=lambda row: (
                        -(ranking[position(rows, row)] + RERANK_WEIGHT * coverage.get(row, 0.0))
                    ),
                )
            document_of = {row: doc for doc, ids in named_rows.items() for row in ids}
            document_of |= {row: chunk.document for row, chunk in chunks.items()}
            top = _cover_documents(order, k, named, document_of)
            chunks |= self.index.chunks_by_id([row for row in top if row not in chunks])
            unscored = [row for row in top if keyword[position(rows, row)] == 0]
            for row, score in self.index.keyword_scores(question, unscored).items():
                keyword[position(rows, row)] = score  # below the list, yet a match
        hits = [
            Hit(
                chunk=chunks[row],
                score=float(dense[position(rows, row)]),
                rank=rank,
                keyword_score=float(keyword[position(rows, row)]),
                fused=float(ranking[position(rows, row)]),
                coverage=coverage.get(row) or key_terms.coverage(chunks[row].search_text),
            )
            for rank, row in enumerate(top, start=1)
        ]
        return hits, (time.perf_counter() - started) * 1000

    def _candidates(self, question: str, vector: np.ndarray, k: int, named: list[str]):
        """The rows worth ranking, with both scores: the nearest ``CANDIDATES`` rows, the
        best ``KEYWORD_CANDIDATES`` by BM25 (FTS5 scores every match to sort them anyway, so a
        long list costs little) and every row of a named document.

        A row outside the keyword list counts as matching no word (its BM25 is below the
        thousandth best); a row outside both lists could only win on a fusion of two middling
        scores, rare enough to be noise. Asking FTS5 for the score of given rows is slow
        (about 0.4 ms a row), so it is done only for named documents and the final hits.
        """
        dense = self.index.dense_top(vector, max(CANDIDATES, k))
        keyword = self.index.keyword_top(question, max(KEYWORD_CANDIDATES, k))
        named_rows = {document: set(self.index.document_rows(document)) for document in named}
        rows = set(dense) | set(keyword) | {row for ids in named_rows.values() for row in ids}
        # Scores from the stored vectors, which also drops a row a sync deleted since FAISS
        # was loaded (until the next query reloads it).
        dense = self.index.dense_scores(vector, sorted(rows))
        if named_rows and len(keyword) == max(KEYWORD_CANDIDATES, k):  # the list was cut
            others = [row for ids in named_rows.values() for row in ids if row not in keyword]
            keyword |= self.index.keyword_scores(question, others)
        rows = sorted(dense)  # id order breaks ties, as FAISS row order did
        dense_scores = np.array([dense[row] for row in rows], dtype=np.float32)
        keyword_scores = np.array([keyword.get(row, 0.0) for row in rows], dtype=np.float32)
        return rows, dense_scores, keyword_scores, named_rows

    def _ranking(self, dense: np.ndarray, keyword: np.ndarray) -> np.ndarray:
        if self.mode == "dense":
            return dense
        if self.mode == "keyword":
            return keyword + 1e-6 * dense  # dense breaks ties between equal BM25 scores
        if self.fusion == "weighted":
            top = keyword.max()
            return dense + self.keyword_weight * (keyword / top if top > 0 else keyword)
        return self.keyword_weight * rrf(keyword, keep=keyword > 0) + rrf(dense)


def bearing_on_question(hits: list[Hit], min_relative_score: float) -> list[Hit]:
    """The hits whose retrieval score is at least ``min_relative_score`` of the best one's, in
    order: a passage far behind the best is rarely the evidence and often a distraction."""
    best = max((hit.fused for hit in hits), default=0.0)
    if best <= 0:
        return list(hits)
    return [hit for hit in hits if hit.fused >= min_relative_score * best]


def position(rows: list[int], row: int) -> int:
    """Where a row is in the sorted candidate rows."""
    return bisect.bisect_left(rows, row)


def rrf(scores: np.ndarray, *, keep: np.ndarray | None = None) -> np.ndarray:
    """1/(RRF_K + rank) of each row in one ranking; rows not kept (no match) get nothing."""
    ranks = np.empty(len(scores), dtype=np.int64)
    ranks[np.argsort(-scores, kind="stable")] = np.arange(1, len(scores) + 1)
    contribution = 1.0 / (RRF_K + ranks)
    return contribution if keep is None else np.where(keep, contribution, 0.0)


def _cover_documents(
    order: list[int], k: int, named: list[str], document_of: dict[int, str]
) -> list[int]:
    """The top k rows, changed so that each named document has at least its best passage.

    A question that names two sources ("the thesis ... and the battle article") needs both;
    a missing document's best row replaces the lowest row of a document that has several.
    """
    top = order[:k]
    for document in named if len(named) > 1 else []:
        if any(document_of.get(row) == document for row in top):
            continue
        best = next((row for row in order if document_of.get(row) == document), None)
        if best is None:
            continue
        counts: dict[str, int] = {}
        for row in top:
            counts[document_of[row]] = counts.get(document_of[row], 0) + 1
        crowded = [i for i, row in enumerate(top) if counts[document_of[row]] > 1]
        if crowded:
            top[crowded[-1]] = best
    return top


def document_name_words(documents: list[str]) -> dict[str, set[str]]:
    """Per document, the stemmed words of its file name that at most half the names share."""
    unique = sorted(set(documents))
    names = {
        doc: {
            keyword_stem(w)
            for w in keyword_tokens(doc.rsplit("/", 1)[-1].rsplit(".", 1)[0])
            if len(w) >= 4
        }
        for doc in unique
    }
    counts: dict[str, int] = {}
    for name_words in names.values():
        for word in name_words:
            counts[word] = counts.get(word, 0) + 1

    def distinctive(word: str) -> bool:
        return counts[word] < len(unique) and 2 * counts[word] <= len(unique)

    return {doc: {w for w in ws if distinctive(w)} for doc, ws in names.items()}
