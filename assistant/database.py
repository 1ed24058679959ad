"""The index database: manifest, chunk table, vectors and keyword terms in one SQLite file.

SQLite is the source of truth and its transactions are the commit: a sync changes the rows of
the documents it touched and the manifest in one transaction, so a sync killed at any point
leaves the database as it was before or after it, never between (WAL journal). Readers run in
read transactions and see one committed state, even while a sync writes.

Chunk ids are integers handed out once (``next_id``) and never reused, so a FAISS snapshot
taken at some point (``store.py``) can be brought up to date from the ``vectors`` rows added
after it and the ``removed`` ids deleted since.
"""

from __future__ import annotations

import contextlib
import json
import sqlite3
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from assistant import keywords
from assistant.chunking import Chunk

DATABASE = "index.sqlite"
_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS files (
    name TEXT PRIMARY KEY, sha256 TEXT NOT NULL, size INTEGER NOT NULL, chunks INTEGER NOT NULL,
    pages INTEGER, indexed_at TEXT NOT NULL, duplicate_of TEXT);
CREATE TABLE IF NOT EXISTS skipped (name TEXT PRIMARY KEY, sha256 TEXT NOT NULL, reason TEXT);
CREATE TABLE IF NOT EXISTS chunks (
    id INTEGER PRIMARY KEY, chunk_id TEXT NOT NULL, document TEXT NOT NULL, page INTEGER,
    start_char INTEGER NOT NULL, end_char INTEGER NOT NULL, heading TEXT, text TEXT NOT NULL,
    section TEXT);
CREATE INDEX IF NOT EXISTS chunks_by_document ON chunks (document);
CREATE TABLE IF NOT EXISTS vectors (id INTEGER PRIMARY KEY, vector BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS removed (id INTEGER PRIMARY KEY);
"""
_CHUNK_COLUMNS = "id, chunk_id, document, page, start_char, end_char, heading, text, section"
_MANIFEST_KEYS = ("format_version", "embedder", "dimension", "chunking", "generation")
_MANIFEST_KEYS += ("updated_at", "keyword_tokenizer")
BATCH = 10_000  # rows per statement, under SQLite's limit on bound parameters


@dataclass(frozen=True)
class FileEntry:
    sha256: str
    size: int
    chunks: int
    pages: int | None
    indexed_at: str
    duplicate_of: str | None = None  # same content as this file, which holds the chunks


@dataclass
class Manifest:
    format_version: int
    embedder: str
    dimension: int
    chunking: dict
    generation: str
    files: dict[str, FileEntry] = field(default_factory=dict)
    updated_at: str = ""
    keyword_tokenizer: str = ""
    skipped: dict[str, dict] = field(default_factory=dict)  # file -> {"sha256", "reason"}

    def to_json(self) -> str:
        return json.dumps(asdict(self), indent=2, ensure_ascii=False)


def connect(folder: Path) -> sqlite3.Connection:
    """The folder's database (created when missing), in autocommit mode: callers open
    transactions explicitly with ``reading`` or ``writing``."""
    db = sqlite3.connect(
        folder / DATABASE, timeout=60, isolation_level=None, check_same_thread=False
    )
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA synchronous=NORMAL")  # with WAL: consistent after a crash, and fast
    db.execute("PRAGMA journal_size_limit=67108864")
    return db


@contextlib.contextmanager
def reading(db: sqlite3.Connection) -> Iterator[sqlite3.Connection]:
    """One read transaction: every statement inside sees the same committed state."""
    db.execute("BEGIN")
    try:
        yield db
    finally:
        db.execute("COMMIT")


@contextlib.contextmanager
def writing(db: sqlite3.Connection) -> Iterator[sqlite3.Connection]:
    """One write transaction, committed only when the block finishes."""
    db.execute("BEGIN IMMEDIATE")
    try:
        for statement in _SCHEMA.split(";"):  # not executescript, which would commit
            db.execute(statement)
        keywords.create_table(db)
        yield db
    except BaseException:
        db.execute("ROLLBACK")
        raise
    db.execute("COMMIT")


def meta(db: sqlite3.Connection) -> dict[str, str]:
    try:
        return dict(db.execute("SELECT key, value FROM meta").fetchall())
    except sqlite3.OperationalError as error:
        if "no such table" in str(error):
            return {}
        raise


def set_meta(db: sqlite3.Connection, values: dict[str, object]) -> None:
    db.executemany(
        "INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)",
        [(key, str(value)) for key, value in values.items()],
    )


def read_manifest(db: sqlite3.Connection) -> Manifest | None:
    values = meta(db)
    if "generation" not in values:
        return None
    files = {
        row[0]: FileEntry(*row[1:])
        for row in db.execute(
            "SELECT name, sha256, size, chunks, pages, indexed_at, duplicate_of FROM files"
        )
    }
    skipped = {
        name: {"sha256": digest, "reason": reason}
        for name, digest, reason in db.execute("SELECT name, sha256, reason FROM skipped")
    }
    return Manifest(
        format_version=int(values["format_version"]),
        embedder=values["embedder"],
        dimension=int(values["dimension"]),
        chunking=json.loads(values["chunking"]),
        generation=values["generation"],
        files=dict(sorted(files.items())),
        updated_at=values["updated_at"],
        keyword_tokenizer=values["keyword_tokenizer"],
        skipped=dict(sorted(skipped.items())),
    )


def write_manifest(db: sqlite3.Connection, manifest: Manifest, previous: Manifest | None) -> None:
    """Store the manifest, writing only the file entries that changed since ``previous``."""
    old = previous.files if previous else {}
    gone = [(name,) for name in old if name not in manifest.files]
    db.executemany("DELETE FROM files WHERE name = ?", gone)
    db.executemany(
        "INSERT OR REPLACE INTO files VALUES (?, ?, ?, ?, ?, ?, ?)",
        [
            (name, *asdict(entry).values())
            for name, entry in manifest.files.items()
            if old.get(name) != entry
        ],
    )
    db.execute("DELETE FROM skipped")
    db.executemany(
        "INSERT INTO skipped VALUES (?, ?, ?)",
        [(name, item["sha256"], item["reason"]) for name, item in manifest.skipped.items()],
    )
    values = {key: getattr(manifest, key) for key in _MANIFEST_KEYS}
    values["chunking"] = json.dumps(manifest.chunking, sort_keys=True)
    set_meta(db, values)


def add_chunks(db: sqlite3.Connection, first_id: int, chunks: list[Chunk], vectors: np.ndarray):
    """Insert chunks with ids from ``first_id`` on, with their vectors and keyword terms."""
    rows = list(enumerate(chunks, start=first_id))
    db.executemany(
        f"INSERT INTO chunks ({_CHUNK_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [
            (i, c.id, c.document, c.page, c.start, c.end, c.heading, c.text, c.section)
            for i, c in rows
        ],
    )
    vectors = np.ascontiguousarray(vectors, dtype=np.float32)
    db.executemany(
        "INSERT INTO vectors (id, vector) VALUES (?, ?)",
        [(i, vectors[n].tobytes()) for n, (i, _) in enumerate(rows)],
    )
    keywords.add(db, ((i, chunk.search_text) for i, chunk in rows))


def remove_documents(db: sqlite3.Connection, documents: list[str]) -> list[int]:
    """Delete the documents' chunks, vectors and terms; their ids go to ``removed``."""
    gone: list[int] = []
    for document in documents:
        found = chunk_rows(db, "document = ?", (document,))
        keywords.delete(db, ((i, chunk.search_text) for i, chunk in found.items()))
        gone += found
    for part in batched(gone):
        marks = ",".join("?" * len(part))
        db.execute(f"DELETE FROM chunks WHERE id IN ({marks})", part)
        db.execute(f"DELETE FROM vectors WHERE id IN ({marks})", part)
    db.executemany("INSERT OR IGNORE INTO removed (id) VALUES (?)", [(i,) for i in gone])
    return gone


def clear(db: sqlite3.Connection) -> None:
    """Empty every table (a rebuild), in the caller's transaction. The passages' table is made
    anew, as an index of an older format may lack a column."""
    for table in ("meta", "files", "skipped", "vectors", "removed"):
        db.execute(f"DELETE FROM {table}")
    db.execute("DROP TABLE chunks")
    for statement in _SCHEMA.split(";"):
        db.execute(statement)
    keywords.delete_all(db)


def reindex_keywords(db: sqlite3.Connection) -> None:
    """Rebuild the keyword terms of every chunk from its text (a new tokenizer)."""
    keywords.delete_all(db)
    rows = db.execute(f"SELECT {_CHUNK_COLUMNS} FROM chunks")
    while part := rows.fetchmany(BATCH):
        keywords.add(db, ((row[0], _chunk(row).search_text) for row in part))


def chunk_rows(db: sqlite3.Connection, where: str, parameters: tuple) -> dict[int, Chunk]:
    rows = db.execute(f"SELECT {_CHUNK_COLUMNS} FROM chunks WHERE {where}", parameters)
    return {row[0]: _chunk(row) for row in rows}


def chunks_by_id(db: sqlite3.Connection, ids: list[int]) -> dict[int, Chunk]:
    found: dict[int, Chunk] = {}
    for part in batched(ids):
        found.update(chunk_rows(db, f"id IN ({','.join('?' * len(part))})", tuple(part)))
    return found


def vectors_by_id(db: sqlite3.Connection, ids: list[int], dimension: int) -> dict[int, np.ndarray]:
    found: dict[int, np.ndarray] = {}
    for part in batched(ids):
        marks = ",".join("?" * len(part))
        for row, blob in db.execute(f"SELECT id, vector FROM vectors WHERE id IN ({marks})", part):
            found[row] = np.frombuffer(blob, dtype=np.float32, count=dimension)
    return found


def vectors_after(db: sqlite3.Connection, last_id: int, dimension: int):
    """(ids, vectors) of the rows with ids above ``last_id``, in id order."""
    rows = db.execute("SELECT id, vector FROM vectors WHERE id > ? ORDER BY id", (last_id,))
    ids, blobs = [], []
    for row, blob in rows:
        ids.append(row)
        blobs.append(blob)
    vectors = np.frombuffer(b"".join(blobs), dtype=np.float32).reshape(len(ids), dimension)
    return np.asarray(ids, dtype=np.int64), vectors


def removed_up_to(db: sqlite3.Connection, last_id: int) -> list[int]:
    return [row for (row,) in db.execute("SELECT id FROM removed WHERE id <= ?", (last_id,))]


def batched(ids: list[int]) -> Iterator[list[int]]:
    for start in range(0, len(ids), BATCH):
        yield ids[start : start + BATCH]


def _chunk(row: tuple) -> Chunk:
    _, chunk_id, document, page, start, end, heading, text, section = row
    return Chunk(chunk_id, document, page, start, end, heading, text, section)
