"""The on-disk index: an SQLite database of passages, keyword terms and vectors, plus a FAISS
snapshot of the vectors that loading brings up to date.

Layout of the index folder::

    index.sqlite           manifest (format, embedder, chunking, keyword tokenizer, per-file
                           hashes, generation), chunk table, vectors, FTS5 keyword terms
    dense-<gen>.faiss      FAISS index of the vectors up to some chunk id (``vectors.py``)

A sync changes only the rows of the documents it touched, in one SQLite transaction that is
also its commit (``database.py``): a sync killed at any point leaves the old state or the new.
Rewriting the FAISS file for every sync would cost seconds at a million vectors, so the file is
a snapshot: loading reads it, removes the ids deleted since and adds the vectors inserted since
(both read from the database in the same read transaction, so they match the snapshot the
manifest names). A sync writes a new snapshot only when that backlog passes ``SNAPSHOT_BACKLOG``
rows or a tenth of the index, and keeps the snapshot it replaced for readers that are opening
it; a reader that loses even that race (two snapshots while it reads) simply reads again.

Loading holds only the vectors in memory; passages are read by id when a query needs them.
An index whose keyword terms were made with another tokenizer is usable for nothing but its
vectors: loading it asks for a sync, and a sync re-indexes the terms (no re-embedding).
"""

from __future__ import annotations

import contextlib
import fcntl
import shutil
import sqlite3
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from assistant import database, keywords, vectors
from assistant.chunking import Chunk
from assistant.database import DATABASE, FileEntry, Manifest
from assistant.embeddings import Embedder
from assistant.errors import AssistantError
from assistant.keywords import TOKENIZER

__all__ = ["FileEntry", "Manifest", "TOKENIZER"]

FORMAT_VERSION = 4
REBUILD_HINT = "Rebuild it with `assistant index --rebuild` (or the Rebuild button in the app)."
SYNC_HINT = "Run `assistant index` (or Sync in the app) to build it again from the documents."
LEGACY_FILES = ("manifest.json", "chunks-", "vectors-", "keywords-")  # format 2 and earlier
SNAPSHOT_BACKLOG = 20_000
APPROXIMATE_FROM = 200_000
_LOAD_ATTEMPTS = 3


@dataclass
class Index:
    """A loaded index: the vectors in FAISS, the passages in the database, read on demand."""

    folder: Path
    manifest: Manifest
    faiss_index: object
    size: int
    _db: sqlite3.Connection = field(repr=False)
    _lock: threading.RLock = field(default_factory=threading.RLock, repr=False)
    _searched: tuple[str, list[str]] = field(default=("", []), repr=False)  # last query, terms

    @contextlib.contextmanager
    def reading(self) -> Iterator[None]:
        """One consistent view of the passages for the reads inside (one query)."""
        with self._lock, database.reading(self._db):
            yield

    def dense_top(self, vector: np.ndarray, k: int) -> dict[int, float]:
        """The k chunk ids nearest the (unit) query vector, with their cosine similarity."""
        return dict(vectors.search(self.faiss_index, vector, k))

    def dense_scores(self, vector: np.ndarray, ids: list[int]) -> dict[int, float]:
        found = database.vectors_by_id(self._db, ids, self.manifest.dimension)
        query = np.asarray(vector, dtype=np.float32)
        return {row: float(stored @ query) for row, stored in found.items()}

    def keyword_top(self, query: str, k: int) -> dict[int, float]:
        terms = self.query_terms(query)
        return keywords.top_rows(self._db, query, k, rows=self.size, terms=terms)

    def query_terms(self, query: str) -> list[str]:
        """The query's keyword terms as searched, misspellings corrected (keywords.py). The
        last query's are kept: retrieval and the key terms ask for them several times."""
        searched = self._searched  # one read: another thread may replace it meanwhile
        if searched[0] != query or not query:
            searched = self._searched = (query, keywords.query_terms(self._db, query))
        return searched[1]

    def document_frequency(self, terms: list[str]) -> dict[str, int]:
        """How many passages hold each keyword term (for the key terms' rarity weights)."""
        return keywords.document_frequency(self._db, terms)

    def keyword_scores(self, query: str, ids: list[int]) -> dict[int, float]:
        found: dict[int, float] = {}
        for part in database.batched(ids):
            found.update(keywords.scores_of(self._db, query, part, terms=self.query_terms(query)))
        return found

    def chunks_by_id(self, ids: list[int]) -> dict[int, Chunk]:
        return database.chunks_by_id(self._db, ids)

    def document_rows(self, document: str) -> list[int]:
        rows = self._db.execute("SELECT id FROM chunks WHERE document = ?", (document,))
        return [row for (row,) in rows]

    def documents(self) -> list[str]:
        """The documents that hold passages."""
        with self.reading():
            return [name for (name,) in self._db.execute("SELECT DISTINCT document FROM chunks")]

    def search(self, vector: np.ndarray, k: int) -> list[tuple[Chunk, float]]:
        """The k passages nearest the query vector (dense search alone)."""
        found = vectors.search(self.faiss_index, vector, k)
        with self.reading():
            chunks = self.chunks_by_id([row for row, _ in found])
        return [(chunks[row], score) for row, score in found if row in chunks]

    @property
    def dense_kind(self) -> str:
        """Which FAISS index serves the dense side ("exact ..." or "IVF ...")."""
        return vectors.describe(self.faiss_index)

    def dense_recall(self, queries: np.ndarray, k: int = 10) -> float:
        """Recall@k of the dense index against exact search (1.0 when it is exact)."""
        return vectors.recall_at(self.faiss_index, queries, k)

    @property
    def chunks(self) -> list[Chunk]:
        """Every passage, in id order: reads the whole table (for tools and tests)."""
        with self.reading():
            return list(database.chunk_rows(self._db, "1 ORDER BY id", ()).values())


def chunking_params(max_tokens: int, overlap_tokens: int) -> dict:
    return {
        "max_tokens": max_tokens,
        "overlap_tokens": overlap_tokens,
        "splitter": "structure-v1",
        "search_text": "sections-v1",
    }


def check_index_folder(folder: Path) -> None:
    """AssistantError when the index folder's path names something that is not a folder."""
    if folder.exists() and not folder.is_dir():
        raise AssistantError(
            f"The index folder {folder} is a file, not a folder. Point --index "
            "(ASSISTANT_INDEX_DIR) at a folder; it is created when missing."
        )


def read_manifest(folder: Path) -> Manifest | None:
    """The index's manifest; None when the folder holds no index yet."""
    with _opened(folder) as db:
        if db is None:
            return None
        with database.reading(db):
            return database.read_manifest(db)


def read_generation(folder: Path) -> str | None:
    """The committed generation alone (cheap: to see whether a loaded index is current)."""
    with _opened(folder) as db:
        return None if db is None else database.meta(db).get("generation")


@contextlib.contextmanager
def _opened(folder: Path) -> Iterator[sqlite3.Connection | None]:
    """The folder's database, or None when there is none; old formats and damage explained."""
    check_index_folder(folder)
    if not (folder / DATABASE).exists():
        if any(p.name.startswith(LEGACY_FILES) for p in _listing(folder)):
            raise AssistantError(
                f"The index in {folder} was written by an older version of the assistant "
                f"(before format {FORMAT_VERSION}). {REBUILD_HINT}"
            )
        yield None
        return
    with _connected(folder) as db:
        yield db


def _listing(folder: Path) -> list[Path]:
    try:
        return list(folder.iterdir()) if folder.is_dir() else []
    except OSError:
        return []


def _unreadable(folder: Path, error: Exception) -> AssistantError:
    if isinstance(error, sqlite3.OperationalError) and "unable to open" in str(error):
        return AssistantError(
            f"The index in {folder} cannot be read ({error}). Check the permissions of the "
            "index folder."
        )
    return AssistantError(f"The index in {folder} is damaged ({error}). {REBUILD_HINT}")


def same_embedder(manifest: Manifest, embedder: Embedder) -> bool:
    return (manifest.embedder, manifest.dimension) == (embedder.name, embedder.dimension)


def check_compatible(
    manifest: Manifest,
    *,
    embedder: Embedder,
    chunking: dict,
    keyword_terms: bool = True,
    vectors: bool = True,
) -> None:
    """Raise AssistantError saying how to fix an index these settings cannot read.

    ``keyword_terms=False`` accepts terms made with another tokenizer, ``vectors=False``
    vectors made by another embedder (a sync redoes them).
    """
    folder_hint = "The index was built"
    if manifest.format_version != FORMAT_VERSION:
        raise AssistantError(
            f"{folder_hint} with index format {manifest.format_version}; this version reads "
            f"format {FORMAT_VERSION}. {SYNC_HINT}"
        )
    if vectors and not same_embedder(manifest, embedder):
        raise AssistantError(
            f"{folder_hint} with the embedder {manifest.embedder} ({manifest.dimension} "
            f"dimensions) but the current embedder is {embedder.name} ({embedder.dimension}). "
            "Run `assistant index` (or Sync in the app) to embed every passage again with it, "
            "or set ASSISTANT_EMBEDDER / ASSISTANT_EMBEDDER_BACKEND back."
        )
    if manifest.chunking != chunking:
        raise AssistantError(
            f"{folder_hint} with chunking {manifest.chunking}, the settings now ask for "
            f"{chunking}. {SYNC_HINT}"
        )
    if keyword_terms and manifest.keyword_tokenizer != TOKENIZER:
        raise AssistantError(
            f"{folder_hint} with the keyword tokenizer {manifest.keyword_tokenizer or '(unnamed)'}"
            f", this version uses {TOKENIZER}. Run `assistant index` (or Sync in the app) to "
            "re-index the keyword side; nothing is re-embedded."
        )


def load_index(folder: Path, *, embedder: Embedder, chunking: dict, keywords: bool = True) -> Index:
    """The index in the folder; ``keywords=False`` loads one whose keyword side is stale."""
    for attempt in range(1, _LOAD_ATTEMPTS + 1):
        with _opened(folder) as db:
            if db is None:
                raise AssistantError(f"No index in {folder}. Build it with `assistant index`.")
            with database.reading(db):
                manifest = database.read_manifest(db)
                if manifest is None:
                    raise AssistantError(f"No index in {folder}. Build it with `assistant index`.")
                check_compatible(
                    manifest, embedder=embedder, chunking=chunking, keyword_terms=keywords
                )
                state = database.meta(db)
                try:
                    faiss_index = _current_vectors(db, folder, state, manifest.dimension)
                except FileNotFoundError as error:
                    if attempt == _LOAD_ATTEMPTS:
                        raise AssistantError(
                            f"The index in {folder} is damaged ({error}). {REBUILD_HINT}"
                        ) from None
                    continue
            size = int(state.get("chunk_count", 0))
            if faiss_index.ntotal != size:
                raise AssistantError(
                    f"The index in {folder} is inconsistent ({faiss_index.ntotal} vectors for "
                    f"{size} chunks). {REBUILD_HINT}"
                )
            return Index(folder, manifest, faiss_index, size, database.connect(folder))
    raise AssertionError("unreachable")


def _current_vectors(db: sqlite3.Connection, folder: Path, state: dict, dimension: int):
    """The snapshot the state names, brought up to date from the database."""
    snapshot = state.get("snapshot", "")
    try:
        index = vectors.read(folder / snapshot) if snapshot else vectors.exact(dimension)
    except RuntimeError as error:
        raise _unreadable(folder, error) from None
    last_id = int(state.get("snapshot_last_id", -1))
    vectors.remove(index, database.removed_up_to(db, last_id))
    vectors.add(index, *database.vectors_after(db, last_id, dimension))
    return index


@contextlib.contextmanager
def locked(folder: Path) -> Iterator[None]:
    """One sync at a time per index folder (the app and the CLI may both sync)."""
    check_index_folder(folder)
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise AssistantError(
            f"The index folder {folder} cannot be created ({error.strerror}). Check the path "
            "and its permissions, or point --index (ASSISTANT_INDEX_DIR) elsewhere."
        ) from None
    with (folder / ".lock").open("w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


@dataclass
class Changes:
    """What one sync writes: the documents whose passages go, and the new passages."""

    removed_documents: list[str]
    chunks: list[Chunk]
    vectors: np.ndarray
    rebuild: bool = False  # start from an empty index
    reindex_keywords: bool = False  # the terms were made with another tokenizer


def commit(
    folder: Path,
    manifest: Manifest,
    changes: Changes,
    *,
    previous: Manifest | None,
    approximate_from: int = APPROXIMATE_FROM,
) -> int:
    """Apply the changes and the new manifest in one transaction; the number of chunks after."""
    if changes.rebuild:
        _remove_legacy_files(folder)
    with _connected(folder) as db, database.writing(db):
        state = database.meta(db)
        next_id = int(state.get("next_id", 0))  # ids are never reused, even by a rebuild
        replaced = state.get("snapshot", "")
        if changes.rebuild:
            database.clear(db)
            state = {}
        elif changes.reindex_keywords:
            database.reindex_keywords(db)
        gone = database.remove_documents(db, changes.removed_documents)
        database.add_chunks(db, next_id, changes.chunks, changes.vectors)
        database.write_manifest(db, manifest, None if changes.rebuild else previous)
        count = int(state.get("chunk_count", 0)) - len(gone) + len(changes.chunks)
        backlog = int(state.get("backlog", 0)) + len(gone) + len(changes.chunks)
        last_id = next_id + len(changes.chunks) - 1
        updates = {"next_id": last_id + 1, "chunk_count": count, "backlog": backlog}
        if changes.rebuild or backlog > max(SNAPSHOT_BACKLOG, count // 10):
            name = f"dense-{manifest.generation}.faiss"
            index = _current_vectors(db, folder, state, manifest.dimension)
            if not vectors.fits(index, count, approximate_from=approximate_from):
                everything = database.vectors_after(db, -1, manifest.dimension)
                index = vectors.built(*everything, approximate_from=approximate_from)
            vectors.write(index, folder / name)
            db.execute("DELETE FROM removed WHERE id <= ?", (last_id,))
            updates |= {"snapshot": name, "snapshot_last_id": last_id, "backlog": 0}
            updates["previous_snapshot"] = replaced
        database.set_meta(db, updates)
    _remove_stale_snapshots(folder)
    return count


def commit_manifest(folder: Path, manifest: Manifest, *, previous: Manifest) -> None:
    """Replace the manifest alone (same passages): who is skipped or a duplicate changed."""
    with _connected(folder) as db, database.writing(db):
        database.write_manifest(db, manifest, previous)


@contextlib.contextmanager
def _connected(folder: Path) -> Iterator[sqlite3.Connection]:
    """The index database, open; SQLite's errors become a "damaged index" message."""
    try:
        db = database.connect(folder)
    except sqlite3.Error as error:
        raise _unreadable(folder, error) from None
    try:
        yield db
    except sqlite3.DatabaseError as error:
        raise _unreadable(folder, error) from None
    finally:
        db.close()


def _remove_stale_snapshots(folder: Path) -> None:
    """Snapshots neither the current state nor the one before it names (for readers in
    flight), and temporary files of writes that were killed."""
    with _opened(folder) as db:
        state = database.meta(db) if db is not None else {}
    keep = {state.get("snapshot"), state.get("previous_snapshot")}
    for path in _listing(folder):
        stale = path.name.startswith("dense-") and path.name not in keep
        if stale or (path.name.startswith(".dense-") and path.name.endswith(".tmp")):
            path.unlink(missing_ok=True)


def _remove_legacy_files(folder: Path) -> None:
    for path in _listing(folder):
        if path.name.startswith(LEGACY_FILES):
            shutil.rmtree(path) if path.is_dir() else path.unlink(missing_ok=True)
