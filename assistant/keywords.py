"""Keyword side of retrieval: BM25 over the chunk texts, kept in SQLite FTS5 beside the chunks.

Its terms come from ``text.keyword_terms``: names, numbers and years stay whole ("2015",
"gpt-4" -> "gpt", "4"), English stop words go, and Snowball's English stemmer makes "labeling",
"labelling" and "labels" meet at "label" and "abuse" meet "abusing" (``keyword-terms-v2``; the
light suffix stripper of v1 left "promote" and "promotes" apart: shipped recall@4 0.885 -> 0.918,
ClapNQ MRR 0.959 -> 0.966). Devanagari and other scripts are kept as they are, so
the Hinglish wiki page is searchable. The index records the tokenizer's name
(``text.KEYWORD_TOKENIZER``) in the manifest, so an index built with other terms is re-indexed
rather than queried with new ones.

FTS5 updates incrementally: a sync adds and deletes the rows of the documents it changed, and
BM25's collection statistics (document frequencies, average length) stay exact because FTS5
keeps them per table. Our own tokenizer does the work, not FTS5's: each term is stored
hex-encoded (letters and digits only), so FTS5 cannot split "6.4" or fold a diacritic, and a
query is the same terms joined by OR. The table is contentless (the text lives in the chunk
table); deleting a row therefore names its terms again, recomputed from the chunk's text.

Scores come from FTS5's ``bm25()`` (k1 = 1.2, b = 0.75, negated so that higher is better), which
differs from the bm25s (Lucene) variant used before only in k1 and in giving words found in
more than half the passages no weight. On the shipped question set the switch kept recall@4 and
hit@4 exactly and moved MRR@10 from 0.928 to 0.938 (README, "How large a corpus").
"""

from __future__ import annotations

import functools
import sqlite3
from collections.abc import Iterable

from rapidfuzz import process
from rapidfuzz.distance import OSA
from wordfreq import top_n_list, zipf_frequency

from assistant.text import (
    KEYWORD_STOP_WORDS,
    KEYWORD_TOKENIZER,
    keyword_stem,
    keyword_terms,
    keyword_tokens,
)

TOKENIZER = KEYWORD_TOKENIZER
TABLE = "keyword_terms"
MATCH_BUDGET = 100_000  # passages a keyword query may have to score (see searched_terms)
FUZZY_MIN_LETTERS = 5  # shorter unknown words are not corrected ("gpt5" is no typo of "gpt4")
FUZZY_ZIPF_BELOW = 3.0  # English words rarer than once per million words may be misspellings
ENGLISH_WORDS = 50_000  # the commonest English words a misspelling may be one edit from


def create_table(db: sqlite3.Connection) -> None:
    db.execute(f"CREATE VIRTUAL TABLE IF NOT EXISTS {TABLE} USING fts5(terms, content='')")


def encoded_terms(text: str) -> str:
    """The text's keyword terms as FTS5 sees them: hex-encoded, joined by spaces."""
    return " ".join(term.encode("utf-8").hex() for term in keyword_terms(text))


def add(db: sqlite3.Connection, rows: Iterable[tuple[int, str]]) -> None:
    """Index (row id, search text) pairs."""
    db.executemany(
        f"INSERT INTO {TABLE}(rowid, terms) VALUES (?, ?)",
        ((row, encoded_terms(text)) for row, text in rows),
    )


def delete(db: sqlite3.Connection, rows: Iterable[tuple[int, str]]) -> None:
    """Remove (row id, search text) pairs; the text must be the one that was indexed."""
    db.executemany(
        f"INSERT INTO {TABLE}({TABLE}, rowid, terms) VALUES ('delete', ?, ?)",
        ((row, encoded_terms(text)) for row, text in rows),
    )


def delete_all(db: sqlite3.Connection) -> None:
    db.execute(f"INSERT INTO {TABLE}({TABLE}) VALUES ('delete-all')")


def match_expression(terms: list[str], kept: set[str] | None = None) -> str | None:
    """The FTS5 query for a question's terms: any of them (repeats count again, as in BM25)."""
    encoded = [term.encode("utf-8").hex() for term in terms]
    encoded = [term for term in encoded if kept is None or term in kept]
    return " OR ".join(f'"{term}"' for term in encoded) or None


def query_terms(db: sqlite3.Connection, query: str) -> list[str]:
    """The query's keyword terms, a misspelt word replaced by the corpus term it most likely
    means, as search engines' fuzzy queries do.

    A misspelling is a word of five letters or more that no passage holds and that is rare in
    English (wordfreq's Zipf frequency under ``FUZZY_ZIPF_BELOW``: "trian", "comunity", not
    "money" or "defend"). Its candidates are the indexed terms one edit away (a letter added,
    dropped, changed or two swapped: "trian" -> "train") and the stems of common English words
    one edit away ("comunity" -> "community" -> "communiti", which the stems alone would
    miss), both with the word's first letter; the candidate most passages hold wins.
    """
    words = [w for w in keyword_tokens(query) if w not in KEYWORD_STOP_WORDS]
    terms = [keyword_stem(word) for word in words]
    unknown = {t for t, n in document_frequency(db, terms).items() if n == 0}
    return [
        _correction(db, word, term) if term in unknown and _misspelt(word) else term
        for word, term in zip(words, terms, strict=True)
    ]


def _misspelt(word: str) -> bool:
    if len(word) < FUZZY_MIN_LETTERS or not word.isascii() or not word.isalpha():
        return False
    return zipf_frequency(word, "en") < FUZZY_ZIPF_BELOW


def _correction(db: sqlite3.Connection, word: str, term: str) -> str:
    candidates = set(_near_indexed_terms(db, term))
    near_words = process.extract(word, _english_words(), scorer=OSA.distance, score_cutoff=1)
    candidates |= {keyword_stem(near) for near, _, _ in near_words if near[0] == word[0]}
    counts = {t: n for t, n in document_frequency(db, sorted(candidates)).items() if n}
    return max(counts, key=counts.get) if counts else term


def _near_indexed_terms(db: sqlite3.Connection, term: str) -> list[str]:
    """Indexed terms one edit from ``term`` that start with its letter (a range of the index's
    vocabulary, as the terms are stored hex-encoded in byte order)."""
    first = term[0].encode().hex()
    after = chr(ord(term[0]) + 1).encode().hex()
    found = db.execute(
        f"SELECT term FROM temp.{TABLE}_vocabulary WHERE term >= ? AND term < ?", (first, after)
    )
    words = (bytes.fromhex(encoded).decode("utf-8", "replace") for (encoded,) in found)
    return [word for word in words if OSA.distance(word, term, score_cutoff=1) <= 1]


@functools.cache
def _english_words() -> list[str]:
    return [word for word in top_n_list("en", ENGLISH_WORDS) if word.isalpha()]


def document_frequency(db: sqlite3.Connection, terms: list[str]) -> dict[str, int]:
    """How many passages hold each term (0 for a term none uses)."""
    _vocabulary(db)
    counts = {}
    for term in terms:
        found = db.execute(
            f"SELECT doc FROM temp.{TABLE}_vocabulary WHERE term = ?", (term.encode("utf-8").hex(),)
        )
        counts[term] = (found.fetchone() or (0,))[0]
    return counts


def _vocabulary(db: sqlite3.Connection) -> None:
    db.execute(
        f"CREATE VIRTUAL TABLE IF NOT EXISTS temp.{TABLE}_vocabulary "
        f"USING fts5vocab(main, {TABLE}, 'row')"
    )


def searched_terms(db: sqlite3.Connection, terms: list[str], rows: int) -> set[str]:
    """The query's terms worth matching, by how many of the ``rows`` passages hold them.

    FTS5 scores every passage that matches any term before it can sort them, so one very
    common word makes a query cost the whole index. Terms in half the passages or more weigh
    nothing in FTS5's BM25 (their idf is clamped to 1e-6), so leaving them out changes no
    score that matters; past that, the most common terms are left out while the rest would
    match more than ``MATCH_BUDGET`` passages (a few milliseconds' work per 10,000).
    """
    _vocabulary(db)
    frequency = {}
    for term in {term.encode("utf-8").hex() for term in terms}:
        found = db.execute(f"SELECT doc FROM temp.{TABLE}_vocabulary WHERE term = ?", (term,))
        frequency[term] = (found.fetchone() or (0,))[0]
    weighty = sorted((n, term) for term, n in frequency.items() if 0 < n < rows / 2)
    kept, matched = set(), 0
    for count, term in weighty:
        if kept and matched + count > MATCH_BUDGET:
            break
        kept.add(term)
        matched += count
    return kept


def top_rows(
    db: sqlite3.Connection, query: str, k: int, *, rows: int, terms: list[str] | None = None
) -> dict[int, float]:
    """The k rows (of ``rows`` in all) with the best BM25 score for the query, by row id
    (``terms``: the query's ``query_terms``, when already worked out)."""
    terms = query_terms(db, query) if terms is None else terms
    expression = match_expression(terms, searched_terms(db, terms, rows))
    if expression is None:
        return {}
    found = db.execute(
        f"SELECT rowid, -bm25({TABLE}) FROM {TABLE} WHERE {TABLE} MATCH ? "
        f"ORDER BY bm25({TABLE}) LIMIT ?",
        (expression, k),
    )
    return dict(found.fetchall())


def scores_of(
    db: sqlite3.Connection, query: str, rows: list[int], *, terms: list[str] | None = None
) -> dict[int, float]:
    """BM25 scores of the given rows (rows that match no query term are left out)."""
    expression = match_expression(query_terms(db, query) if terms is None else terms)
    if expression is None or not rows:
        return {}
    marks = ",".join("?" * len(rows))
    found = db.execute(
        f"SELECT rowid, -bm25({TABLE}) FROM {TABLE} WHERE {TABLE} MATCH ? AND rowid IN ({marks})",
        (expression, *rows),
    )
    return dict(found.fetchall())
