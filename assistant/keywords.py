"""Keyword side of retrieval: a BM25 index over the chunk table (bm25s), and its tokenizer.

The tokenizer keeps what questions about these documents hinge on: names, numbers and years
stay whole ("2015", "gpt-4" -> "gpt", "4"), English stop words go, and a light suffix
stripper makes "labeling", "labelling" and "labels" meet at "label". Devanagari and other
scripts are kept as they are, so the Hinglish wiki page is searchable.

BM25's statistics (document frequencies, average length) belong to the whole collection, so
the keyword index is rebuilt from the chunk table on every sync that writes: that costs
tokenising the chunk texts, not embedding them, and keeps it exactly in step with FAISS.
"""

from __future__ import annotations

import re
import unicodedata
from pathlib import Path

import numpy as np

# Numbers stay whole ("6.4", "1,000"); letters and digits split apart ("GPT4" -> gpt, 4);
# combining marks (Devanagari vowel signs) stay inside their word.
_TOKEN = re.compile(r"\d+(?:[.,]\d+)*|(?:[^\W\d_]|[\u0300-\u036f\u0900-\u097f])+")
_STOP_WORDS_TEXT = """
a about above after again against all am an and any are as at be because been before being
below between both but by can could did do does doing down during each few for from further
had has have having he her here hers herself him himself his how i if in into is it its itself
just me more most my myself no nor not now of off on once only or other our ours ourselves out
over own same she should so some such than that the their theirs them themselves then there
these they this those through to too under until up very was we were what when where which
while who whom why will with would you your yours yourself yourselves also according says say
said tell told document documents article thesis page wiki
में का की के है हैं क्या और को से यह ये कि ka ki ke hai kya aur ko se ne mein
"""
STOP_WORDS = frozenset(_STOP_WORDS_TEXT.split())
_SUFFIXES = ("ations", "ation", "ings", "ing", "ied", "ies", "ers", "er", "ed", "es", "ly", "s")


def stem(word: str) -> str:
    """A deliberately light stemmer: enough to merge inflections, never below 3 letters."""
    if not word.isascii() or word.isdigit() or len(word) <= 3:
        return word
    for suffix in _SUFFIXES:
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            word = word[: -len(suffix)]
            break
    if len(word) > 3 and word[-1] == word[-2] and word[-1] not in "aeiou":
        word = word[:-1]  # labell -> label, modell -> model
    return word


def words(text: str) -> list[str]:
    """Lower-cased word tokens; letters and digits split apart so "GPT4" meets "GPT-4"."""
    return _TOKEN.findall(unicodedata.normalize("NFKC", text).lower())


def content_words(text: str) -> list[str]:
    """Lower-cased, stemmed tokens without stop words, in order."""
    return [stem(token) for token in words(text) if token not in STOP_WORDS]


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
        bm25.index([content_words(text) or ["\u2205"] for text in texts], show_progress=False)
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

    def scores(self, query: str) -> np.ndarray:
        """BM25 score of every row for the query (zeros when no query word is known)."""
        tokens = [token for token in content_words(query) if token in self._vocab]
        if self._bm25 is None or not tokens:
            return np.zeros(self.size, dtype=np.float32)
        return np.asarray(self._bm25.get_scores(tokens), dtype=np.float32)
