"""The on-disk index: FAISS vectors + chunk table + a manifest that describes them.

Layout of the index folder::

    manifest.json          format version, embedder, chunking, keyword tokenizer, per-file
                           hashes, generation
    chunks-<gen>.jsonl     one Chunk per line, in FAISS row order
    vectors-<gen>.faiss    IndexFlatIP over unit vectors (inner product = cosine)
    keywords-<gen>/        BM25 over the same rows (bm25s), rebuilt from the chunk table

Writes are atomic by generation: a sync writes new ``*-<gen>`` files first and commits them by
replacing ``manifest.json`` (``os.replace``). An interrupted sync therefore leaves the previous
manifest pointing at complete files. The generation the replaced manifest named is kept until
the next commit, so a reader that read the old manifest just before the commit still opens
complete files; a reader that loses even that race (two commits while it reads) finds a file
gone, sees that the manifest moved on, and reads the new generation. Only files missing from
the generation the manifest names make the index damaged. ``sync.py`` decides what to write.

An index whose keyword side was built with another tokenizer is usable for nothing but its
vectors: loading it asks for a sync, and a sync rebuilds the keyword side from the chunk table
(no re-embedding).
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import shutil
import uuid
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from assistant.chunking import Chunk
from assistant.embeddings import Embedder
from assistant.errors import AssistantError
from assistant.keywords import TOKENIZER, KeywordIndex

FORMAT_VERSION = 2
MANIFEST = "manifest.json"
REBUILD_HINT = "Rebuild it with `assistant index --rebuild` (or the Rebuild button in the app)."
_GENERATION_FILES = ("chunks-", "vectors-", "keywords-")
_LOAD_ATTEMPTS = 3


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
    keyword_tokenizer: str = ""  # empty in indexes written before it was recorded
    skipped: dict[str, dict] = field(default_factory=dict)  # file -> {"sha256", "reason"}

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


def chunking_params(max_tokens: int, overlap_tokens: int) -> dict:
    return {"max_tokens": max_tokens, "overlap_tokens": overlap_tokens, "splitter": "structure-v1"}


def check_index_folder(folder: Path) -> None:
    """AssistantError when the index folder's path names something that is not a folder."""
    if folder.exists() and not folder.is_dir():
        raise AssistantError(
            f"The index folder {folder} is a file, not a folder. Point --index "
            "(ASSISTANT_INDEX_DIR) at a folder; it is created when missing."
        )


def read_manifest(folder: Path) -> Manifest | None:
    check_index_folder(folder)
    path = folder / MANIFEST
    if not path.exists():
        return None
    try:
        return Manifest.from_json(path.read_text(encoding="utf-8"))
    except OSError as error:
        raise AssistantError(
            f"The index manifest {path} cannot be read ({error.strerror}). Check the "
            "permissions of the index folder."
        ) from None
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
    for attempt in range(1, _LOAD_ATTEMPTS + 1):
        manifest = read_manifest(folder)
        if manifest is None:
            raise AssistantError(f"No index in {folder}. Build it with `assistant index`.")
        check_compatible(manifest, embedder=embedder, chunking=chunking, keywords=keywords)
        try:
            return _load_generation(folder, manifest)
        except FileNotFoundError as error:
            moved_on = (read_manifest(folder) or manifest).generation != manifest.generation
            if not moved_on or attempt == _LOAD_ATTEMPTS:
                raise AssistantError(
                    f"The index in {folder} is damaged ({error}). {REBUILD_HINT}"
                ) from None
    raise AssertionError("unreachable")


def _load_generation(folder: Path, manifest: Manifest) -> Index:
    """The files of one generation; FileNotFoundError when one is gone."""
    import faiss

    generation = manifest.generation
    try:
        with (folder / f"chunks-{generation}.jsonl").open(encoding="utf-8") as handle:
            chunks = [Chunk(**json.loads(line)) for line in handle if line.strip()]
        vectors = folder / f"vectors-{generation}.faiss"
        if not vectors.exists():  # faiss reports a missing file as a RuntimeError
            raise FileNotFoundError(f"No such file: {vectors}")
        faiss_index = faiss.read_index(str(vectors))
        keywords = KeywordIndex.load(folder / f"keywords-{generation}")
    except FileNotFoundError:
        raise
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


def write_generation(
    folder: Path, manifest: Manifest, chunks: list[Chunk], vectors: np.ndarray
) -> None:
    """Write a new generation and commit it; keep the one it replaces for readers in flight."""
    import faiss

    folder.mkdir(parents=True, exist_ok=True)
    gen = manifest.generation
    replaced = _committed_generation(folder)
    faiss_index = faiss.IndexFlatIP(manifest.dimension)
    if len(vectors):
        faiss_index.add(np.ascontiguousarray(vectors, dtype=np.float32))
    _atomic_write(folder / f"vectors-{gen}.faiss", faiss.serialize_index(faiss_index).tobytes())
    lines = "".join(json.dumps(asdict(c), ensure_ascii=False) + "\n" for c in chunks)
    _atomic_write(folder / f"chunks-{gen}.jsonl", lines.encode("utf-8"))
    KeywordIndex.build([chunk.search_text for chunk in chunks]).save(folder / f"keywords-{gen}")
    _atomic_write(folder / MANIFEST, manifest.to_json().encode("utf-8"))  # the commit point
    keep = {gen, replaced}
    for stale in folder.iterdir():
        if stale.name.startswith(_GENERATION_FILES) and _generation_of(stale.name) not in keep:
            shutil.rmtree(stale) if stale.is_dir() else stale.unlink(missing_ok=True)


def write_manifest(folder: Path, manifest: Manifest) -> None:
    """Replace the manifest alone (same generation): who is skipped or a duplicate changed."""
    _atomic_write(folder / MANIFEST, manifest.to_json().encode("utf-8"))


def _committed_generation(folder: Path) -> str | None:
    try:
        manifest = read_manifest(folder)
    except AssistantError:
        return None
    return manifest.generation if manifest else None


def _generation_of(file_name: str) -> str:
    """The generation a file belongs to: chunks-1700000000-ab12cd34.jsonl -> 1700000000-ab12cd34."""
    stem = file_name.split("-", 1)[1]
    return stem.split(".", 1)[0]


def _atomic_write(path: Path, data: bytes) -> None:
    temporary = path.with_name(f".{path.name}.{uuid.uuid4().hex[:8]}.tmp")
    with temporary.open("wb") as handle:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(temporary, path)
