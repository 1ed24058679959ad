"""Documents: reading .txt, .md and .pdf files into text a citation can point back into.

A Document keeps the text exactly as extracted (only line endings are unified), so a chunk's
character span always slices back to what the file says. Normalisation for retrieval (NFC,
collapsed whitespace) happens later, on copies, never on the stored text. A PDF becomes one
Page per PDF page, joined with a blank line, so a citation can name its page.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

from assistant.errors import AssistantError

TEXT_SUFFIXES = {".txt", ".md", ".markdown"}
PDF_SUFFIXES = {".pdf"}
SUPPORTED_SUFFIXES = TEXT_SUFFIXES | PDF_SUFFIXES
PAGE_SEPARATOR = "\n\n"


@dataclass(frozen=True)
class Page:
    number: int | None  # 1-based PDF page; None for plain text
    start: int  # character span inside Document.text
    end: int


@dataclass(frozen=True)
class Document:
    path: str  # relative to the corpus folder, with forward slashes
    text: str
    pages: tuple[Page, ...]

    def page_at(self, offset: int) -> int | None:
        for page in self.pages:
            if page.start <= offset < page.end or offset == page.end == len(self.text):
                return page.number
        return None


def file_hash(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def relative_name(path: Path, root: Path) -> str:
    return path.relative_to(root).as_posix()


def scan_corpus(corpus_dir: Path) -> tuple[list[Path], list[Path]]:
    """(supported files, unsupported files) under the corpus folder, sorted; hidden ones ignored."""
    if not corpus_dir.is_dir():
        raise AssistantError(
            f"Corpus folder {corpus_dir} does not exist. Create it and put .txt, .md or .pdf "
            "files in it, or point --corpus at your documents."
        )
    supported, unsupported = [], []
    for path in sorted(corpus_dir.rglob("*")):
        parts = path.relative_to(corpus_dir).parts
        if not path.is_file() or any(part.startswith(".") for part in parts):
            continue
        (supported if path.suffix.lower() in SUPPORTED_SUFFIXES else unsupported).append(path)
    return supported, unsupported


def load_document(path: Path, *, root: Path) -> Document:
    """Read one file; raise AssistantError naming the file and the fix when it cannot be used."""
    name = relative_name(path, root)
    suffix = path.suffix.lower()
    if suffix in TEXT_SUFFIXES:
        text = _read_text(path, name)
        pages = (Page(None, 0, len(text)),)
    elif suffix in PDF_SUFFIXES:
        text, pages = _read_pdf(path, name)
    else:
        raise AssistantError(
            f"{name}: unsupported file type '{suffix}'. Convert it to .txt, .md or .pdf."
        )
    if not text.strip():
        raise AssistantError(f"{name}: the file has no text. Add content or remove the file.")
    return Document(path=name, text=text, pages=pages)


def _read_text(path: Path, name: str) -> str:
    try:
        raw = path.read_bytes()
    except OSError as error:
        raise AssistantError(
            f"{name}: cannot be read ({error.strerror}). Check its permissions."
        ) from None
    if b"\x00" in raw[:8192]:
        raise AssistantError(
            f"{name}: looks like a binary file, not text. Remove it or export it as text."
        )
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise AssistantError(
            f"{name}: is not UTF-8 text (bad byte at position {error.start}). "
            "Re-save it with UTF-8 encoding."
        ) from None
    return text.replace("\r\n", "\n").replace("\r", "\n")


def _read_pdf(path: Path, name: str) -> tuple[str, tuple[Page, ...]]:
    from pypdf import PdfReader
    from pypdf.errors import PdfReadError

    try:
        reader = PdfReader(path)
        if reader.is_encrypted and not reader.decrypt(""):
            raise AssistantError(
                f"{name}: the PDF is password-protected. Save an unencrypted copy instead."
            )
        page_texts = [(page.extract_text() or "").strip() for page in reader.pages]
    except AssistantError:
        raise
    except (PdfReadError, ValueError, KeyError, TypeError, OSError) as error:
        raise AssistantError(
            f"{name}: the PDF is damaged or not a PDF ({error}). Re-export or replace it."
        ) from None
    except Exception as error:  # pypdf raises many types on malformed input
        if "decrypt" in str(error).lower() or "encrypt" in str(error).lower():
            raise AssistantError(
                f"{name}: the PDF is encrypted and cannot be opened. Save an unencrypted copy."
            ) from None
        raise AssistantError(
            f"{name}: the PDF could not be read ({type(error).__name__}: {error}). "
            "Re-export or replace it."
        ) from None
    if not any(page_texts):
        raise AssistantError(
            f"{name}: the PDF has no extractable text (scanned images?). "
            "Run OCR on it or add a text version."
        )
    pages, parts, offset = [], [], 0
    for number, page_text in enumerate(page_texts, start=1):
        if parts:
            offset += len(PAGE_SEPARATOR)
        pages.append(Page(number, offset, offset + len(page_text)))
        parts.append(page_text)
        offset += len(page_text)
    return PAGE_SEPARATOR.join(parts), tuple(pages)
