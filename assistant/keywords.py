"""Keyword side of retrieval: a BM25 index over the chunk table (bm25s).

Its terms come from ``text.keyword_terms``: names, numbers and years stay whole ("2015",
"gpt-4" -> "gpt", "4"), English stop words go, and a light suffix stripper makes "labeling",
"labelling" and "labels" meet at "label". Devanagari and other scripts are kept as they are, so
the Hinglish wiki page is searchable. The index records the tokenizer's name
(``text.KEYWORD_TOKENIZER``) in the manifest, so an index built with other terms is re-indexed
rather than queried with new ones.

BM25's statistics (document frequencies, average length) belong to the whole collection, so
the keyword index is rebuilt from the chunk table on every sync that writes: that costs
tokenising the chunk texts, not embedding them, and keeps it exactly in step with FAISS.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from assistant.text import KEYWORD_TOKENIZER, keyword_terms

TOKENIZER = KEYWORD_TOKENIZER


class KeywordIndex:
    """BM25 over chunk texts; rows are the same as the FAISS rows."""

    def __init__(self, bm25, size: int) -> None:
        self._bm25 = bm25
        self._vocab = bm25.vocab_dict if bm25 is not None else {}
        self.size = size

    @classmethod
    def build(cls, texts: list[str]) -> KeywordIndex:
        import bm25s

        if not texts:
            return cls(None, 0)
        bm25 = bm25s.BM25()
        bm25.index([keyword_terms(text) or ["\u2205"] for text in texts], show_progress=False)
        return cls(bm25, len(texts))

    def save(self, folder: Path) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        if self._bm25 is not None:
            self._bm25.save(str(folder), show_progress=False)
        (folder / "size.txt").write_text(str(self.size))

    @classmethod
    def load(cls, folder: Path) -> KeywordIndex:
        import bm25s

        size = int((folder / "size.txt").read_text())
        if size == 0:
            return cls(None, 0)
        return cls(bm25s.BM25.load(str(folder), show_progress=False), size)

    def document_frequency(self, terms: list[str]) -> dict[str, int]:
        """How many rows contain each term (0 for a term no row uses)."""
        if self._bm25 is None:
            return dict.fromkeys(terms, 0)
        starts = self._bm25.scores["indptr"]
        return {
            term: int(starts[row + 1] - starts[row])
            if (row := self._vocab.get(term)) is not None and row + 1 < len(starts)
            else 0
            for term in terms
        }

    def scores(self, query: str) -> np.ndarray:
        """BM25 score of every row for the query (zeros when no query word is known)."""
        tokens = [token for token in keyword_terms(query) if token in self._vocab]
        if self._bm25 is None or not tokens:
            return np.zeros(self.size, dtype=np.float32)
        return np.asarray(self._bm25.get_scores(tokens), dtype=np.float32)
