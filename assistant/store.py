"""The on-disk index: FAISS vectors + chunk table + a manifest that describes them.

Layout of the index folder::

    manifest.json          format version, embedder, chunking, keyword tokenizer, per-file
                           hashes, generation
    chunks-<gen>.jsonl     one Chunk per line, in FAISS row order
    vectors-<gen>.faiss    IndexFlatIP over unit vectors (inner product = cosine)
    keywords-<gen>/        BM25 over the same rows (bm25s), rebuilt from the chunk table

Writes are atomic by generation: a sync writes new ``*-<gen>`` files first and commits them by
replacing ``manifest.json`` (``os.replace``), then deletes the previous generation. An
interrupted sync therefore leaves the previous manifest pointing at complete files.

Sync is incremental: files whose content hash matches the manifest keep their chunks and
vectors (read back from the flat FAISS index), new or changed files are chunked and embedded,
deleted files are dropped, and an unchanged corpus writes nothing at all. An index whose
keyword side was built with another tokenizer is usable for nothing but its vectors: loading it
asks for a sync, and a sync rebuilds the keyword side from the chunk table (no re-embedding).
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import shutil
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

from assistant.chunking import Chunk, chunk_document
from assistant.documents import file_hash, load_document, relative_name, scan_corpus
from assistant.embeddings import Embedder, embed_in_batches
from assistant.errors import AssistantError
from assistant.keywords import TOKENIZER, KeywordIndex

FORMAT_VERSION = 2
MANIFEST = "manifest.json"
REBUILD_HINT = "Rebuild it with `assistant index --rebuild` (or the Rebuild button in the app)."

Progress = Callable[[str, int, int, str], None]  # (stage, done, total, detail)


@dataclass(frozen=True)
class FileEntry:
    sha256: str
    size: int
    chunks: int
    pages: int | None
    indexed_at: str


@dataclass
class Manifest:
    format_version: int
    embedder: str
    dimension: int
    chunking: dict
    generation: str
    files: dict[str, FileEntry] = field(default_factory=dict)
    updated_at: str = ""
    keyword_tokenizer: str = ""  # empty in indexes written before it was recorded

    def to_json(self) -> str:
        return json.dumps(asdict(self), indent=2, ensure_ascii=False)

    @classmethod
    def from_json(cls, text: str) -> Manifest:
        data = json.loads(text)
        data["files"] = {name: FileEntry(**entry) for name, entry in data["files"].items()}
        return cls(**data)


@dataclass
class Index:
    """A loaded index: chunks in FAISS row order plus the vectors."""

    folder: Path
    manifest: Manifest
    chunks: list[Chunk]
    faiss_index: object  # faiss.IndexFlatIP
    keywords: KeywordIndex
    _matrix: np.ndarray | None = field(default=None, repr=False)

    def dense_scores(self, vector: np.ndarray) -> np.ndarray:
        """Cosine similarity of every row to the (unit) query vector."""
        if not self.chunks:
            return np.zeros(0, dtype=np.float32)
        if self._matrix is None:  # a flat index is small; keep one copy for exact scoring
            self._matrix = self.vectors()
        return self._matrix @ vector.astype(np.float32)

    def search(self, vector: np.ndarray, k: int) -> list[tuple[Chunk, float]]:
        if not self.chunks:
            return []
        k = min(k, len(self.chunks))
        scores, rows = self.faiss_index.search(vector.reshape(1, -1).astype(np.float32), k)
        return [
            (self.chunks[r], float(s)) for r, s in zip(rows[0], scores[0], strict=True) if r >= 0
        ]

    def vectors(self) -> np.ndarray:
        if not self.chunks:
            return np.zeros((0, self.manifest.dimension), dtype=np.float32)
        return self.faiss_index.reconstruct_n(0, len(self.chunks))


@dataclass
class SyncReport:
    documents: int = 0
    chunks: int = 0
    embedded: int = 0
    removed: int = 0
    added_files: list[str] = field(default_factory=list)
    changed_files: list[str] = field(default_factory=list)
    removed_files: list[str] = field(default_factory=list)
    skipped: list[dict] = field(default_factory=list)  # {"document", "reason"}
    rebuilt: bool = False
    written: bool = False
    seconds: float = 0.0

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class CorpusStatus:
    """How the corpus differs from the index, found by hashing only (no embedding)."""

    new: list[str]
    changed: list[str]
    removed: list[str]
    unchanged: list[str]
    index_exists: bool
    keywords_stale: bool = False  # the keyword side was built with another tokenizer

    @property
    def up_to_date(self) -> bool:
        changes = self.new or self.changed or self.removed or self.keywords_stale
        return self.index_exists and not changes


def chunking_params(max_tokens: int, overlap_tokens: int) -> dict:
    return {"max_tokens": max_tokens, "overlap_tokens": overlap_tokens, "splitter": "structure-v1"}


def read_manifest(folder: Path) -> Manifest | None:
    path = folder / MANIFEST
    if not path.exists():
        return None
    try:
        return Manifest.from_json(path.read_text(encoding="utf-8"))
    except (ValueError, TypeError, KeyError) as error:
        raise AssistantError(
            f"The index manifest {path} is unreadable ({error}). {REBUILD_HINT}"
        ) from None


def check_compatible(
    manifest: Manifest, *, embedder: Embedder, chunking: dict, keywords: bool = True
) -> None:
    """Raise AssistantError saying how to fix an index these settings cannot read.

    ``keywords=False`` accepts a keyword side built with another tokenizer (a sync rebuilds it).
    """
    folder_hint = "The index was built"
    if manifest.format_version != FORMAT_VERSION:
        raise AssistantError(
            f"{folder_hint} with index format {manifest.format_version}; this version reads "
            f"format {FORMAT_VERSION}. {REBUILD_HINT}"
        )
    if (manifest.embedder, manifest.dimension) != (embedder.name, embedder.dimension):
        raise AssistantError(
            f"{folder_hint} with the embedder {manifest.embedder} ({manifest.dimension} "
            f"dimensions) but the current embedder is {embedder.name} ({embedder.dimension}). "
            f"{REBUILD_HINT}"
        )
    if manifest.chunking != chunking:
        raise AssistantError(
            f"{folder_hint} with chunking {manifest.chunking}, the settings now ask for "
            f"{chunking}. {REBUILD_HINT}"
        )
    if keywords and manifest.keyword_tokenizer != TOKENIZER:
        raise AssistantError(
            f"{folder_hint} with the keyword tokenizer {manifest.keyword_tokenizer or '(unnamed)'}"
            f", this version uses {TOKENIZER}. Run `assistant index` (or Sync in the app) to "
            "re-index the keyword side; nothing is re-embedded."
        )


def load_index(folder: Path, *, embedder: Embedder, chunking: dict, keywords: bool = True) -> Index:
    """The index in the folder; ``keywords=False`` loads one whose keyword side is stale."""
    import faiss

    manifest = read_manifest(folder)
    if manifest is None:
        raise AssistantError(f"No index in {folder}. Build it with `assistant index`.")
    check_compatible(manifest, embedder=embedder, chunking=chunking, keywords=keywords)
    chunks_path = folder / f"chunks-{manifest.generation}.jsonl"
    vectors_path = folder / f"vectors-{manifest.generation}.faiss"
    try:
        with chunks_path.open(encoding="utf-8") as handle:
            chunks = [Chunk(**json.loads(line)) for line in handle if line.strip()]
        faiss_index = faiss.read_index(str(vectors_path))
        keywords = KeywordIndex.load(folder / f"keywords-{manifest.generation}")
    except (OSError, ValueError, TypeError, RuntimeError) as error:
        raise AssistantError(
            f"The index in {folder} is damaged ({error}). {REBUILD_HINT}"
        ) from None
    if faiss_index.ntotal != len(chunks):
        raise AssistantError(
            f"The index in {folder} is inconsistent ({faiss_index.ntotal} vectors for "
            f"{len(chunks)} chunks). {REBUILD_HINT}"
        )
    return Index(folder, manifest, chunks, faiss_index, keywords)


def corpus_status(corpus_dir: Path, index_dir: Path) -> CorpusStatus:
    files, _ = scan_corpus(corpus_dir)
    manifest = read_manifest(index_dir)
    known = manifest.files if manifest else {}
    hashes = {relative_name(path, corpus_dir): file_hash(path) for path in files}
    return CorpusStatus(
        new=[name for name in hashes if name not in known],
        changed=[name for name, h in hashes.items() if name in known and known[name].sha256 != h],
        removed=[name for name in known if name not in hashes],
        unchanged=[name for name, h in hashes.items() if name in known and known[name].sha256 == h],
        index_exists=manifest is not None,
        keywords_stale=manifest is not None and manifest.keyword_tokenizer != TOKENIZER,
    )


@contextlib.contextmanager
def _locked(folder: Path) -> Iterator[None]:
    """One sync at a time per index folder (the app and the CLI may both sync)."""
    folder.mkdir(parents=True, exist_ok=True)
    with (folder / ".lock").open("w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def sync_index(
    corpus_dir: Path,
    index_dir: Path,
    *,
    embedder: Embedder,
    max_tokens: int,
    overlap_tokens: int,
    rebuild: bool = False,
    progress: Progress | None = None,
) -> SyncReport:
    """Bring the index in line with the corpus, embedding only new or changed files."""
    started = time.perf_counter()
    progress = progress or (lambda *args: None)
    chunking = chunking_params(max_tokens, overlap_tokens)
    report = SyncReport(rebuilt=rebuild)
    with _locked(index_dir):
        files, unsupported = scan_corpus(corpus_dir)
        for path in unsupported:
            report.skipped.append(
                {
                    "document": relative_name(path, corpus_dir),
                    "reason": f"unsupported file type '{path.suffix or '(none)'}'; "
                    "use .txt, .md or .pdf",
                }
            )
        previous = None if rebuild else _previous_index(index_dir, embedder, chunking)
        old_files = previous.manifest.files if previous else {}
        old_chunks = _chunks_by_document(previous)

        kept: dict[str, list[int]] = {}  # document -> rows in the previous index
        fresh: dict[str, list[Chunk]] = {}
        entries: dict[str, FileEntry] = {}
        now = datetime.now(UTC).isoformat(timespec="seconds")
        for number, path in enumerate(files, start=1):
            name = relative_name(path, corpus_dir)
            progress("reading", number, len(files), name)
            digest = file_hash(path)
            if name in old_files and old_files[name].sha256 == digest:
                kept[name] = old_chunks.get(name, [])
                entries[name] = old_files[name]
                continue
            try:
                document = load_document(path, root=corpus_dir)
            except AssistantError as error:
                report.skipped.append({"document": name, "reason": str(error)})
                if name in old_files:  # keep the last good version rather than lose it
                    kept[name] = old_chunks.get(name, [])
                    entries[name] = old_files[name]
                continue
            chunks = chunk_document(
                document,
                count_tokens=embedder.count_tokens,
                max_tokens=max_tokens,
                overlap_tokens=overlap_tokens,
            )
            fresh[name] = chunks
            (report.changed_files if name in old_files else report.added_files).append(name)
            entries[name] = FileEntry(
                sha256=digest,
                size=path.stat().st_size,
                chunks=len(chunks),
                pages=len(document.pages) if document.pages[0].number else None,
                indexed_at=now,
            )
        report.removed_files = [name for name in old_files if name not in entries]
        report.removed = sum(len(old_chunks.get(n, [])) for n in report.removed_files) + sum(
            len(old_chunks.get(n, [])) for n in report.changed_files
        )
        report.documents = len(entries)

        unchanged = (
            previous is not None
            and not fresh
            and not report.removed_files
            and previous.manifest.keyword_tokenizer == TOKENIZER
        )
        if unchanged:
            report.chunks = len(previous.chunks)
        else:
            new_chunks = [chunk for chunks in fresh.values() for chunk in chunks]
            new_vectors = embed_in_batches(
                [chunk.search_text for chunk in new_chunks],
                embedder,
                report=lambda done, total: progress("embedding", done, total, ""),
            )
            report.embedded = len(new_chunks)
            rows = [row for name in entries if name in kept for row in kept[name]]
            chunks = [previous.chunks[row] for row in rows] if previous else []
            vectors = previous.vectors()[rows] if previous and rows else None
            chunks += new_chunks
            vectors = new_vectors if vectors is None else np.vstack([vectors, new_vectors])
            manifest = Manifest(
                format_version=FORMAT_VERSION,
                embedder=embedder.name,
                dimension=embedder.dimension,
                chunking=chunking,
                generation=f"{int(time.time())}-{uuid.uuid4().hex[:8]}",
                files=dict(sorted(entries.items())),
                updated_at=now,
                keyword_tokenizer=TOKENIZER,
            )
            progress("writing", 0, 1, str(index_dir))
            _write(index_dir, manifest, chunks, vectors)
            report.chunks = len(chunks)
            report.written = True
    report.seconds = round(time.perf_counter() - started, 3)
    return report


def _previous_index(folder: Path, embedder: Embedder, chunking: dict) -> Index | None:
    if read_manifest(folder) is None:
        return None
    return load_index(folder, embedder=embedder, chunking=chunking, keywords=False)


def _chunks_by_document(index: Index | None) -> dict[str, list[int]]:
    rows: dict[str, list[int]] = {}
    for row, chunk in enumerate(index.chunks if index else []):
        rows.setdefault(chunk.document, []).append(row)
    return rows


def _write(folder: Path, manifest: Manifest, chunks: list[Chunk], vectors: np.ndarray) -> None:
    import faiss

    folder.mkdir(parents=True, exist_ok=True)
    gen = manifest.generation
    faiss_index = faiss.IndexFlatIP(manifest.dimension)
    if len(vectors):
        faiss_index.add(np.ascontiguousarray(vectors, dtype=np.float32))
    _atomic_write(folder / f"vectors-{gen}.faiss", faiss.serialize_index(faiss_index).tobytes())
    lines = "".join(json.dumps(asdict(c), ensure_ascii=False) + "\n" for c in chunks)
    _atomic_write(folder / f"chunks-{gen}.jsonl", lines.encode("utf-8"))
    KeywordIndex.build([chunk.search_text for chunk in chunks]).save(folder / f"keywords-{gen}")
    _atomic_write(folder / MANIFEST, manifest.to_json().encode("utf-8"))  # the commit point
    for stale in folder.iterdir():
        if stale.name.startswith(("chunks-", "vectors-", "keywords-")) and gen not in stale.name:
            shutil.rmtree(stale) if stale.is_dir() else stale.unlink(missing_ok=True)


def _atomic_write(path: Path, data: bytes) -> None:
    temporary = path.with_name(f".{path.name}.{uuid.uuid4().hex[:8]}.tmp")
    with temporary.open("wb") as handle:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(temporary, path)
