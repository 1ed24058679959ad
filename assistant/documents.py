"""Documents: finding the files of a corpus folder and reading them into citable text.

A Document keeps the text exactly as extracted (only line endings are unified), so a chunk's
character span always slices back to what the file says. Normalisation for retrieval (NFC,
collapsed whitespace) happens later, on copies, never on the stored text. A PDF becomes one
Page per PDF page, joined with a blank line, so a citation can name its page; HTML and Word
files become text with their headings as "# Heading" lines (``markup.py``), so passages are
labelled with the heading they stand under.

Plain text is read in whatever encoding it was saved in: a byte-order mark decides, then UTF-8,
then charset-normalizer's detection (Latin-1, cp1252, ...). A file is binary when it holds NUL
bytes without a UTF-16/32 byte-order mark.

Nothing outside the folder the user gave is read: ``scan_corpus`` never follows a link out of
it, and says what it left out and why (links, names that are not valid UTF-8, special files).
"""

from __future__ import annotations

import codecs
import hashlib
import logging
import os
from dataclasses import dataclass, field
from pathlib import Path

from assistant.errors import AssistantError
from assistant.markup import docx_text, html_text

TEXT_SUFFIXES = {".txt", ".md", ".markdown"}
PDF_SUFFIXES = {".pdf"}
HTML_SUFFIXES = {".html", ".htm"}
DOCX_SUFFIXES = {".docx"}
SUPPORTED_SUFFIXES = TEXT_SUFFIXES | PDF_SUFFIXES | HTML_SUFFIXES | DOCX_SUFFIXES
SUPPORTED_TEXT = ".txt, .md, .pdf, .html or .docx"
PAGE_SEPARATOR = "\n\n"
logging.getLogger("pypdf").setLevel(logging.ERROR)  # a damaged PDF gets our message, not its log
_WESTERN_SIGNS = set("€–—‘’‚“”„…•«»°£§©®™±×·¿¡\u00a0")
_FOLDER_LINK = {
    "outside": "a link to a folder outside the corpus folder (not read)",
    "inside": "a link to a folder inside the corpus (its files are read where they are)",
}
_BYTE_ORDER_MARKS = (  # UTF-32 first: its little-endian mark begins with UTF-16's
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)


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


def printable_name(name: str) -> str:
    """A file name safe to print: bytes that are not UTF-8 shown as replacement characters."""
    return name.encode("utf-8", "surrogateescape").decode("utf-8", "replace")


@dataclass(frozen=True)
class CorpusScan:
    """What a corpus folder holds: documents to read, other files, and what was left out."""

    files: list[Path] = field(default_factory=list)  # supported types, sorted
    unsupported: list[Path] = field(default_factory=list)  # other types, sorted
    skipped: list[dict] = field(default_factory=list)  # {"document", "reason"}, never read


def scan_corpus(corpus_dir: Path) -> CorpusScan:
    """The corpus folder's files, sorted; hidden ones ignored, links out of it never followed."""
    if not corpus_dir.is_dir():
        raise AssistantError(
            f"Corpus folder {corpus_dir} does not exist. Create it and put {SUPPORTED_TEXT} "
            "files in it, or point --corpus at your documents."
        )
    root = corpus_dir.resolve()
    scan = CorpusScan()
    for folder, folders, names in os.walk(corpus_dir):
        folders[:] = sorted(f for f in folders if not f.startswith("."))
        for link in [f for f in folders if (Path(folder) / f).is_symlink()]:
            folders.remove(link)  # os.walk would not enter it; say so instead of staying silent
            where = "inside" if (Path(folder) / link).resolve().is_relative_to(root) else "outside"
            _skip(scan, Path(folder) / link, corpus_dir, _FOLDER_LINK[where])
        for name in names:
            if not name.startswith("."):
                _add_file(scan, Path(folder) / name, corpus_dir, root)
    scan.files.sort()
    scan.unsupported.sort()
    return scan


def _add_file(scan: CorpusScan, path: Path, corpus_dir: Path, root: Path) -> None:
    name = relative_name(path, corpus_dir)
    try:
        name.encode("utf-8")
    except UnicodeEncodeError:
        _skip(scan, path, corpus_dir, "the file name is not valid UTF-8; rename the file")
        return
    if path.is_symlink():
        target = path.resolve()
        if not target.exists():
            _skip(scan, path, corpus_dir, "a link to a file that does not exist")
            return
        if not target.is_relative_to(root):
            _skip(scan, path, corpus_dir, "a link to a file outside the corpus folder (not read)")
            return
    if not path.is_file():
        _skip(scan, path, corpus_dir, "not a regular file")
        return
    (scan.files if path.suffix.lower() in SUPPORTED_SUFFIXES else scan.unsupported).append(path)


def _skip(scan: CorpusScan, path: Path, corpus_dir: Path, reason: str) -> None:
    name = printable_name(relative_name(path, corpus_dir))
    scan.skipped.append({"document": name, "reason": f"{name}: {reason}."})


def load_document(path: Path, *, root: Path) -> Document:
    """Read one file; raise AssistantError naming the file and the fix when it cannot be used."""
    name = relative_name(path, root)
    suffix = path.suffix.lower()
    if suffix in TEXT_SUFFIXES:
        text = decode_text(_read_bytes(path, name), name)
        pages = (Page(None, 0, len(text)),)
    elif suffix in PDF_SUFFIXES:
        text, pages = _read_pdf(path, name)
    elif suffix in HTML_SUFFIXES:
        text = _unified(html_text(_read_bytes(path, name), name))
        pages = (Page(None, 0, len(text)),)
    elif suffix in DOCX_SUFFIXES:
        text = _unified(docx_text(path, name))
        pages = (Page(None, 0, len(text)),)
    else:
        raise AssistantError(
            f"{name}: unsupported file type '{suffix}'. Convert it to {SUPPORTED_TEXT}."
        )
    if not text.strip():
        raise AssistantError(f"{name}: the file has no text. Add content or remove the file.")
    return Document(path=name, text=text, pages=pages)


def _read_bytes(path: Path, name: str) -> bytes:
    try:
        return path.read_bytes()
    except OSError as error:
        raise AssistantError(
            f"{name}: cannot be read ({error.strerror}). Check its permissions."
        ) from None


def decode_text(raw: bytes, name: str) -> str:
    """The text of a plain-text file in the encoding it was saved in, line endings unified."""
    for mark, encoding in _BYTE_ORDER_MARKS:
        if raw.startswith(mark):
            try:
                return _unified(raw.decode(encoding))
            except UnicodeDecodeError:
                raise AssistantError(
                    f"{name}: starts like {encoding.upper()} text but is damaged. "
                    "Re-save it with UTF-8 encoding."
                ) from None
    if b"\x00" in raw[:8192]:
        raise AssistantError(
            f"{name}: looks like a binary file, not text. Remove it or export it as text."
        )
    try:
        return _unified(raw.decode("utf-8"))
    except UnicodeDecodeError:
        pass
    from charset_normalizer import from_bytes

    western = _western(raw)
    if western is not None:  # detection needs more accents than English text usually holds
        return _unified(western)
    best = from_bytes(raw).best()
    if best is None:
        raise AssistantError(
            f"{name}: is not text in any encoding that could be recognised. "
            "Re-save it as UTF-8 text."
        )
    return _unified(str(best))


def _western(raw: bytes) -> str | None:
    """The text as Windows-1252 (a superset of Latin-1) when it reads as Western text: mostly
    ASCII, and nearly every other character a letter or a common typographic sign. Statistical
    detection reads a few accents in English text as Arabic or CJK ("café" as two ideographs)."""
    try:
        text = raw.decode("cp1252")
    except UnicodeDecodeError:
        return None
    others = [ch for ch in text if ord(ch) > 127]
    ascii_share = 1 - len(others) / max(len(text), 1)
    readable = sum(ch.isalpha() or ch in _WESTERN_SIGNS for ch in others)
    return text if ascii_share >= 0.5 and readable >= 0.9 * len(others) else None


def _unified(text: str) -> str:
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
