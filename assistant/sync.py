"""Syncing the index with the corpus: embed only what changed, say what was left out and why.

Sync is incremental: files whose content hash matches the manifest keep their chunks and
vectors where they are, new or changed files are chunked and embedded, the rows of changed and
deleted files are dropped, and an unchanged corpus writes nothing at all. Nothing but the
manifest is read from the index: a one-file change costs that file, whatever the index size.

One bad file never stops the rest. A file that cannot be hashed or read (permissions, damage,
an unknown encoding), one over the size limit, a link out of the corpus folder or a name that
is not valid UTF-8 is skipped with a message; when an earlier version of it was indexed, that
version is kept rather than lost. The manifest remembers each skipped file by its hash, so the
status says "skipped" rather than "new" until the file changes.

Files with the same content are indexed once: the first in path order holds the chunks, the
others are recorded as its duplicates (the report and the Documents page name them), so one
passage cannot fill the answer's top k twice.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from assistant.chunking import Chunk, chunk_document
from assistant.documents import (
    SUPPORTED_TEXT,
    file_hash,
    load_document,
    printable_name,
    relative_name,
    scan_corpus,
)
from assistant.embeddings import Embedder, embed_in_batches
from assistant.errors import AssistantError
from assistant.keywords import TOKENIZER
from assistant.store import (
    APPROXIMATE_FROM,
    FORMAT_VERSION,
    Changes,
    FileEntry,
    Manifest,
    chunking_params,
    commit,
    commit_manifest,
    locked,
    read_manifest,
    same_embedder,
)

Progress = Callable[[str, int, int, str], None]  # (stage, done, total, detail)


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
    duplicates: list[dict] = field(default_factory=list)  # {"document", "same_as"}
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
    vectors_stale: bool = False  # the vectors were made by another embedder (model or backend)
    passages_stale: bool = False  # another index format, or passages cut with other settings
    skipped: list[str] = field(default_factory=list)  # tried before, unchanged since

    @property
    def up_to_date(self) -> bool:
        changes = self.new or self.changed or self.removed
        changes = changes or self.keywords_stale or self.vectors_stale or self.passages_stale
        return self.index_exists and not changes


def corpus_status(
    corpus_dir: Path, index_dir: Path, *, embedder: str | None = None, chunking: dict | None = None
) -> CorpusStatus:
    """``embedder``: the name of the embedder in use; an index of another's vectors is stale.
    ``chunking``: the passage settings in use; an index cut with others is stale."""
    scan = scan_corpus(corpus_dir)
    manifest = read_manifest(index_dir)
    known = manifest.files if manifest else {}
    tried = manifest.skipped if manifest else {}
    hashes = {relative_name(path, corpus_dir): _hash(path) for path in scan.files}
    skipped = {name for name, h in hashes.items() if tried.get(name, {}).get("sha256") == h}
    same = {name for name, h in hashes.items() if name in known and known[name].sha256 == h}
    return CorpusStatus(
        new=[name for name in hashes if name not in known and name not in skipped],
        changed=[name for name in hashes if name in known and name not in same | skipped],
        removed=[name for name in known if name not in hashes],
        unchanged=[name for name in hashes if name in same],
        index_exists=manifest is not None,
        keywords_stale=manifest is not None and manifest.keyword_tokenizer != TOKENIZER,
        vectors_stale=manifest is not None and embedder not in (None, manifest.embedder),
        passages_stale=manifest is not None and _outdated(manifest, chunking or manifest.chunking),
        skipped=sorted(skipped),
    )


def _hash(path: Path) -> str:
    """The file's SHA-256, or "" when it cannot be read (a sync records it so)."""
    try:
        return file_hash(path)
    except OSError:
        return ""


def sync_index(
    corpus_dir: Path,
    index_dir: Path,
    *,
    embedder: Embedder,
    max_tokens: int,
    overlap_tokens: int,
    max_file_mb: float | None = None,
    rebuild: bool = False,
    progress: Progress | None = None,
    approximate_from: int = APPROXIMATE_FROM,
) -> SyncReport:
    """Bring the index in line with the corpus, embedding only new or changed files.

    Past ``approximate_from`` passages the dense side becomes an approximate (IVF) index.
    """
    started = time.perf_counter()
    chunking = chunking_params(max_tokens, overlap_tokens)
    with locked(index_dir):
        previous, outdated = (None, False) if rebuild else _reusable(index_dir, chunking)
        # Vectors of another embedder (model or backend) cannot be searched with this one's:
        # every passage is embedded again.
        reembed = previous is not None and not same_embedder(previous, embedder)
        sync = _Sync(
            corpus_dir,
            None if reembed else previous,
            embedder=embedder,
            chunking=chunking,
            max_file_mb=max_file_mb,
            report=SyncReport(rebuilt=rebuild or reembed or outdated),
            progress=progress or (lambda *args: None),
        )
        sync.plan()
        sync.commit(index_dir, approximate_from=approximate_from)
    sync.report.seconds = round(time.perf_counter() - started, 3)
    return sync.report


class _Sync:
    """One sync: a plan file by file (keep, embed, skip, or note as a duplicate), then a commit."""

    def __init__(
        self,
        corpus_dir: Path,
        previous: Manifest | None,
        *,
        embedder: Embedder,
        chunking: dict,
        max_file_mb: float | None,
        report: SyncReport,
        progress: Progress,
    ) -> None:
        self.corpus_dir = corpus_dir
        self.previous = previous
        self.old_files = previous.files if previous else {}
        self.embedder = embedder
        self.chunking = chunking
        self.limit_mb = max_file_mb
        self.report = report
        self.progress = progress
        self.now = datetime.now(UTC).isoformat(timespec="seconds")
        self.kept: set[str] = set()  # documents whose rows in the index stay as they are
        self.fresh: dict[str, list[Chunk]] = {}
        self.entries: dict[str, FileEntry] = {}
        self.skipped: dict[str, dict] = {}  # document -> {"sha256" ("" unreadable), "reason"}
        self.holders: dict[str, str] = {}  # sha256 -> the document that holds its chunks

    def plan(self) -> None:
        scan = scan_corpus(self.corpus_dir)
        self.report.skipped += scan.skipped
        for path in scan.unsupported:
            name = printable_name(relative_name(path, self.corpus_dir))
            reason = f"unsupported file type '{path.suffix or '(none)'}'; use {SUPPORTED_TEXT}"
            self.report.skipped.append({"document": name, "reason": f"{name}: {reason}."})
        files = []  # (path, name, sha256, size) of every readable file
        for number, path in enumerate(scan.files, start=1):
            name = relative_name(path, self.corpus_dir)
            self.progress("reading", number, len(scan.files), name)
            try:
                files.append((path, name, file_hash(path), path.stat().st_size))
            except OSError as error:
                reason = f"{name}: cannot be read ({error.strerror}). Check its permissions."
                self._skip(name, "", reason)
        # A file that already holds its content's chunks keeps them, so a copy added later (in
        # whatever path order) is the duplicate; otherwise the first in path order holds them.
        files.sort(key=lambda file: not self._holds_chunks(file[1], file[2]))
        copies = []
        for path, name, digest, size in files:
            if digest in self.holders:
                copies.append((path, name, digest, size))
            else:
                self._plan_file(path, name, digest, size)
        for path, name, digest, size in copies:
            holder = self.holders.get(digest)
            if holder is not None:
                self._duplicate(name, digest, size, holder, self.old_files.get(name))
            else:
                self._plan_file(path, name, digest, size)

    def _holds_chunks(self, name: str, digest: str) -> bool:
        old = self.old_files.get(name)
        return old is not None and old.sha256 == digest and old.duplicate_of is None

    def _plan_file(self, path: Path, name: str, digest: str, size: int) -> None:
        old = self.old_files.get(name)
        if self._holds_chunks(name, digest):
            self._keep_old(name)
        elif self.limit_mb is not None and size > self.limit_mb * 1024 * 1024:
            self._skip(
                name,
                digest,
                f"{name}: {size / 1024 / 1024:.1f} MB is over the limit of {self.limit_mb:g} MB "
                "per file; raise ASSISTANT_MAX_FILE_MB to index it.",
            )
        else:
            self._read(path, name, digest, size, old)

    def _read(self, path: Path, name: str, digest: str, size: int, old: FileEntry | None) -> None:
        try:
            document = load_document(path, root=self.corpus_dir)
        except AssistantError as error:
            self._skip(name, digest, str(error))
            return
        chunks = chunk_document(
            document,
            count_tokens=self.embedder.count_tokens,
            max_tokens=self.chunking["max_tokens"],
            overlap_tokens=self.chunking["overlap_tokens"],
        )
        self.fresh[name] = chunks
        pages = len(document.pages) if document.pages[0].number else None
        self.entries[name] = FileEntry(digest, size, len(chunks), pages, self.now)
        self.holders[digest] = name
        (self.report.changed_files if old else self.report.added_files).append(name)

    def _duplicate(self, name, digest, size, holder, old: FileEntry | None) -> None:
        pages = self.entries[holder].pages
        self.entries[name] = FileEntry(digest, size, 0, pages, self.now, duplicate_of=holder)
        if old is not None and (old.sha256, old.duplicate_of) == (digest, holder):
            self.entries[name] = old
        elif old is None:
            self.report.added_files.append(name)
        else:
            self.report.changed_files.append(name)
        self.report.duplicates.append({"document": name, "same_as": holder})

    def _keep_old(self, name: str) -> None:
        """Carry the indexed version over (unchanged, or the last good one of a bad file)."""
        old = self.old_files.get(name)
        if old is None:
            return
        self.kept.add(name)
        self.entries[name] = old
        if old.duplicate_of is None:
            self.holders.setdefault(old.sha256, name)

    def _skip(self, name: str, digest: str, reason: str) -> None:
        self.report.skipped.append({"document": name, "reason": reason})
        self.skipped[name] = {"sha256": digest, "reason": reason}
        self._keep_old(name)

    def commit(self, index_dir: Path, *, approximate_from: int) -> None:
        """Write what changed: nothing, the manifest alone, or the changed documents' rows."""
        report, previous = self.report, self.previous
        report.removed_files = [name for name in self.old_files if name not in self.entries]
        dropped = [
            name
            for name, entry in self.old_files.items()
            if entry.duplicate_of is None and name not in self.kept
        ]
        report.removed = sum(self.old_files[name].chunks for name in dropped)
        report.documents = len(self.entries)
        report.chunks = sum(entry.chunks for entry in self.entries.values())
        keywords_stale = previous is not None and previous.keyword_tokenizer != TOKENIZER
        if previous is not None and not self.fresh and not dropped and not keywords_stale:
            manifest = self._manifest(previous.generation)
            if (previous.files, previous.skipped) != (manifest.files, manifest.skipped):
                commit_manifest(index_dir, manifest, previous=previous)  # skipped or duplicates
            return
        new_chunks = [chunk for chunks in self.fresh.values() for chunk in chunks]
        new_vectors = embed_in_batches(
            [chunk.search_text for chunk in new_chunks],
            self.embedder,
            report=_embedding_progress(self.progress),
        )
        report.embedded = len(new_chunks)
        self.progress("writing", 0, 1, str(index_dir))
        changes = Changes(
            dropped, new_chunks, new_vectors, previous is None, reindex_keywords=keywords_stale
        )
        report.chunks = commit(
            index_dir,
            self._manifest(None),
            changes,
            previous=previous,
            approximate_from=approximate_from,
        )
        report.written = True

    def _manifest(self, generation: str | None) -> Manifest:
        return Manifest(
            format_version=FORMAT_VERSION,
            embedder=self.embedder.name,
            dimension=self.embedder.dimension,
            chunking=self.chunking,
            generation=generation or f"{int(time.time())}-{uuid.uuid4().hex[:8]}",
            files=dict(sorted(self.entries.items())),
            updated_at=self.now,
            keyword_tokenizer=TOKENIZER,
            skipped=dict(sorted(self.skipped.items())),
        )


def _embedding_progress(progress: Progress) -> Callable[[int, int], None]:
    """Embedding progress with its rate and the time left, for the CLI bar and the app."""
    started = time.perf_counter()

    def report(done: int, total: int) -> None:
        elapsed = time.perf_counter() - started
        rate = done / elapsed if elapsed > 0 else 0.0
        left = (total - done) / rate if rate else 0.0
        detail = f"{rate:.0f} chunks/s, about {_duration(left)} left" if done < total else ""
        progress("embedding", done, total, detail)

    return report


def _duration(seconds: float) -> str:
    if seconds < 90:
        return f"{seconds:.0f} s"
    if seconds < 5400:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"


def _reusable(folder: Path, chunking: dict) -> tuple[Manifest | None, bool]:
    """The index's manifest, when its passages can be kept, and whether they cannot: an index
    of another format, or cut into passages another way, is built again from the corpus."""
    manifest = read_manifest(folder)
    if manifest is not None and _outdated(manifest, chunking):
        return None, True
    return manifest, False


def _outdated(manifest: Manifest, chunking: dict) -> bool:
    return manifest.format_version != FORMAT_VERSION or manifest.chunking != chunking
