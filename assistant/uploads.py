"""Managing the corpus folder from the app: listing, adding (uploads) and deleting documents.

An upload is untrusted input, so ``save_upload`` never writes anything it has not checked:

- the file name is reduced to a plain base name (no folders, no ``..``, no leading dot, no
  control or shell-special characters), so nothing can land outside the corpus folder or hide
  from the index;
- the type, emptiness and size limit (``IndexSettings.upload_max_mb``) are checked before writing;
- the bytes are staged in a hidden temporary folder *inside* the corpus (hidden folders are
  never indexed) and read with the same ``load_document`` the index uses, so a corrupt or
  encrypted PDF is rejected with the loader's own message while the corpus is untouched;
- the checked file is then moved into place atomically: ``os.link`` when adding (fails rather
  than overwrite if the name appeared meanwhile), ``os.replace`` only when the caller asked to
  replace. A different document with the same name raises ``UploadConflict`` so the UI can ask.

Deleting goes through ``delete_document``, which only removes a regular file inside the corpus.
The index is not touched by either; the next sync picks the change up.
"""

from __future__ import annotations

import hashlib
import os
import re
import tempfile
import unicodedata
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from assistant.documents import (
    SUPPORTED_SUFFIXES,
    SUPPORTED_TEXT,
    file_hash,
    load_document,
    relative_name,
    scan_corpus,
)
from assistant.errors import AssistantError
from assistant.store import read_manifest
from assistant.sync import corpus_status

MAX_NAME_LENGTH = 120
_UNSAFE = re.compile(r"[^\w .()+,-]")  # \w includes letters of any script


class UploadConflict(AssistantError):
    """A different document with this name is already in the corpus."""

    def __init__(self, name: str) -> None:
        super().__init__(
            f"{name}: a different document with this name is already in the corpus. "
            "Replace it, or rename your file and upload it again."
        )
        self.name = name


@dataclass(frozen=True)
class SavedUpload:
    name: str  # the (sanitised) file name inside the corpus
    path: Path
    status: str  # "added", "replaced" or "unchanged" (same content was already there)


@dataclass(frozen=True)
class DocumentRow:
    """One line of the documents table: a corpus file, the index's view of it, or both."""

    name: str
    kind: str  # "pdf", "txt", "md", ...
    size: int
    pages: int | None
    chunks: int | None
    indexed_at: str | None
    # "indexed", "duplicate", "new", "changed", "removed" (still in the index), "skipped" or
    # "unsupported"; pages, chunks and indexed_at describe the indexed version (None: never)
    state: str
    note: str = ""  # for a duplicate the file holding its chunks, for a skipped file why


def safe_filename(name: str) -> str:
    """A harmless base name for an uploaded file, or AssistantError when none is left."""
    base = PurePosixPath(unicodedata.normalize("NFC", name).replace("\\", "/")).name
    base = "".join(ch for ch in base if unicodedata.category(ch)[0] != "C")
    base = _UNSAFE.sub("_", base)
    base = re.sub(r"\.{2,}", ".", re.sub(r"\s+", " ", base))
    base = base.strip(" .-_")
    stem, dot, suffix = base.rpartition(".")
    if not dot:
        stem, suffix = base, ""
    stem = stem.strip(" .-_")[: MAX_NAME_LENGTH - len(suffix) - 1]
    if not stem:
        raise AssistantError(f"'{name}' has no usable file name. Rename the file and try again.")
    return f"{stem}.{suffix.lower()}" if suffix else stem


def save_upload(
    name: str, data: bytes, *, corpus_dir: Path, max_mb: float, replace: bool = False
) -> SavedUpload:
    """Check an uploaded file and move it into the corpus; AssistantError says what is wrong."""
    safe = safe_filename(name)
    _check_upload(safe, data, max_mb)
    corpus = corpus_dir.resolve()
    target = corpus / safe
    if target.is_symlink() or (target.exists() and not target.is_file()):
        raise AssistantError(
            f"{safe}: something other than a document has this name in the corpus."
        )
    existed = target.exists()
    if existed and file_hash(target) == hashlib.sha256(data).hexdigest():
        return SavedUpload(safe, target, "unchanged")
    if existed and not replace:
        raise UploadConflict(safe)
    try:
        corpus.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(dir=corpus, prefix=".upload-") as staging:
            staged = Path(staging) / safe
            staged.write_bytes(data)
            load_document(staged, root=Path(staging))  # raises with the loader's message
            _move_into_place(staged, target, replace=replace)
    except FileExistsError:
        raise UploadConflict(safe) from None
    except OSError as error:
        raise AssistantError(
            f"{safe}: cannot be written to the corpus folder {corpus} ({error.strerror})."
        ) from None
    return SavedUpload(safe, target, "replaced" if existed else "added")


def _check_upload(name: str, data: bytes, max_mb: float) -> None:
    suffix = Path(name).suffix.lower()
    if suffix not in SUPPORTED_SUFFIXES:
        raise AssistantError(
            f"{name}: unsupported file type '{suffix or '(none)'}'. Upload {SUPPORTED_TEXT} files."
        )
    if not data:
        raise AssistantError(f"{name}: the file is empty.")
    if len(data) > max_mb * 1024 * 1024:
        raise AssistantError(
            f"{name}: {len(data) / 1024 / 1024:.1f} MB is over the upload limit of {max_mb:g} MB "
            "(setting ASSISTANT_UPLOAD_MAX_MB)."
        )


def _move_into_place(staged: Path, target: Path, *, replace: bool) -> None:
    if replace:
        os.replace(staged, target)
        return
    try:
        os.link(staged, target)  # atomic, and never overwrites
    except FileExistsError:
        raise
    except OSError:  # a file system without hard links: check, then move
        if target.exists():
            raise FileExistsError(target) from None
        os.replace(staged, target)


def delete_document(name: str, *, corpus_dir: Path) -> Path:
    """Remove one document (a corpus-relative name such as 'notes/a.txt') from the corpus."""
    relative = PurePosixPath(name)
    corpus = corpus_dir.resolve()
    target = corpus / relative
    inside = not relative.is_absolute() and ".." not in relative.parts
    if not inside or not target.parent.resolve().is_relative_to(corpus) or not target.is_file():
        raise AssistantError(f"{name} is not a document in the corpus folder {corpus}.")
    target.unlink()
    return target


def list_documents(corpus_dir: Path, index_dir: Path) -> list[DocumentRow]:
    """Every document in the corpus or the index, with what the index knows about it."""
    status = corpus_status(corpus_dir, index_dir)
    manifest = read_manifest(index_dir)
    entries = manifest.files if manifest else {}
    tried = manifest.skipped if manifest else {}
    states = {name: "new" for name in status.new}
    states |= {name: "changed" for name in status.changed}
    states |= {name: "removed" for name in status.removed}
    states |= {name: "indexed" for name in status.unchanged}
    states |= {name: "skipped" for name in status.skipped}
    rows = []
    for name, state in sorted(states.items()):
        entry = entries.get(name)
        path = corpus_dir / name
        note = tried[name]["reason"].removeprefix(f"{name}: ") if state == "skipped" else ""
        if state == "indexed" and entry.duplicate_of:
            state, note = "duplicate", entry.duplicate_of
        rows.append(
            DocumentRow(
                name=name,
                kind=Path(name).suffix.lower().lstrip("."),
                size=path.stat().st_size if path.exists() else entry.size,
                pages=entry.pages if entry else None,
                chunks=entry.chunks if entry else None,
                indexed_at=entry.indexed_at if entry else None,
                state=state,
                note=note,
            )
        )
    for path in scan_corpus(corpus_dir).unsupported:
        name, kind = relative_name(path, corpus_dir), path.suffix.lower().lstrip(".")
        rows.append(DocumentRow(name, kind, path.stat().st_size, None, None, None, "unsupported"))
    return rows
