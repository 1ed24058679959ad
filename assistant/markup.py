"""Saved web pages and Word files as plain text, with their headings and tables kept.

Both become the text a citation points into: one block per paragraph, list item or table (a
line per row), separated by blank lines, and each heading as a Markdown heading line
("## Costs"), which the chunker recognises, so passages are labelled with the heading they
stand under.

- **HTML** (BeautifulSoup over lxml, which also finds the page's encoding): the main text only.
  Scripts, styles, navigation, headers, footers, forms and asides are dropped; when the page
  marks its content with ``<main>`` or ``<article>``, only that is read. Table rows become
  "cell | cell" lines.
- **DOCX** (python-docx): paragraphs in document order with Heading and Title styles as
  headings, list paragraphs as "- item", and tables row by row ("cell | cell").
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

from assistant.errors import AssistantError

_DROPPED = {
    "script", "style", "noscript", "template", "nav", "header", "footer", "aside", "form",
    "iframe", "svg", "canvas", "button", "select", "input", "textarea", "head", "title", "meta",
}  # fmt: skip
_HEADINGS = {f"h{level}": level for level in range(1, 7)}
_TEXT_BLOCKS = {"p", "pre", "blockquote", "dt", "dd", "figcaption", "caption", "address"}
_CONTAINERS = {
    "html", "body", "main", "article", "section", "div", "ul", "ol", "dl", "figure", "details",
    "summary", "center",
}  # fmt: skip


def html_text(raw: bytes, name: str) -> str:
    """The main text of an HTML page, headings as "# ..." lines; AssistantError if unreadable."""
    from bs4 import BeautifulSoup

    if b"\x00" in raw[:8192] and not raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise AssistantError(f"{name}: looks like a binary file, not a web page. Remove it.")
    try:
        soup = BeautifulSoup(raw, "lxml")
    except Exception as error:  # the parser is lenient; anything it still rejects is damage
        raise AssistantError(
            f"{name}: the web page could not be parsed ({error}). Save it again from the browser."
        ) from None
    root = soup.find("main") or soup.find("article") or soup.body or soup
    blocks = list(_html_blocks(root))
    title = soup.title.get_text(" ", strip=True) if soup.title else ""
    if title and not root.find("h1"):
        blocks.insert(0, f"# {title}")
    return "\n\n".join(blocks)


def _html_blocks(node) -> Iterator[str]:
    """One text block per heading, paragraph, list item or table row, in document order."""
    from bs4 import Comment, NavigableString, Tag

    inline: list[str] = []
    for child in node.children:
        if isinstance(child, Comment) or not isinstance(child, NavigableString | Tag):
            continue
        if isinstance(child, NavigableString):
            inline.append(str(child))
            continue
        tag = child.name
        if tag in _DROPPED or _hidden(child):
            continue
        if tag == "br":
            inline.append("\n")
            continue
        if tag not in _HEADINGS and tag not in _TEXT_BLOCKS | _CONTAINERS | {"li", "table"}:
            inline.append(child.get_text())
            continue
        yield from _flushed(inline)
        if tag in _HEADINGS:
            yield from _nonempty("#" * _HEADINGS[tag] + " ", _collapsed(child.get_text(" ")))
        elif tag == "li":
            yield from _nonempty("- ", _collapsed(child.get_text(" ")))
        elif tag == "table":
            yield from _nonempty("", "\n".join(_html_rows(child)))
        elif tag in _TEXT_BLOCKS:
            yield from _nonempty("", _collapsed(child.get_text(" ")))
        else:
            yield from _html_blocks(child)
    yield from _flushed(inline)


def _html_rows(table) -> Iterator[str]:
    """One "cell | cell" line per row (a table inside a cell is read with its row)."""
    for row in table.find_all("tr"):
        cells = [_collapsed(cell.get_text(" ")) for cell in row.find_all(["td", "th"])]
        yield from _nonempty("", " | ".join(cell for cell in cells if cell))


def _hidden(tag) -> bool:
    role = (tag.get("role") or "").lower()
    return role in {"navigation", "banner", "contentinfo", "search"} or tag.has_attr("hidden")


def _flushed(inline: list[str]) -> Iterator[str]:
    text = _collapsed("".join(inline))
    inline.clear()
    yield from _nonempty("", text)


def _nonempty(prefix: str, text: str) -> Iterator[str]:
    if text:
        yield prefix + text


def _collapsed(text: str) -> str:
    return " ".join(text.split())


def docx_text(path: Path, name: str) -> str:
    """The text of a Word file, headings as "# ..." lines; AssistantError if it is damaged."""
    import zipfile

    from docx import Document as open_docx
    from docx.opc.exceptions import PackageNotFoundError
    from docx.table import Table

    try:
        document = open_docx(str(path))
        blocks = []
        for item in document.iter_inner_content():
            if isinstance(item, Table):
                blocks += _nonempty("", "\n".join(_table_rows(item)))
            else:
                blocks += _nonempty(_paragraph_prefix(item), _collapsed(item.text))
    except (PackageNotFoundError, zipfile.BadZipFile, KeyError, ValueError):
        raise AssistantError(
            f"{name}: the Word file is damaged, encrypted or not a .docx. Save it again as "
            ".docx without a password."
        ) from None
    except OSError as error:
        raise AssistantError(
            f"{name}: cannot be read ({error.strerror}). Check its permissions."
        ) from None
    return "\n\n".join(blocks)


def _paragraph_prefix(paragraph) -> str:
    style = (paragraph.style.name if paragraph.style is not None else "") or ""
    heading = re.fullmatch(r"Heading (\d)", style)
    if heading:
        return "#" * int(heading.group(1)) + " "
    if style == "Title":
        return "# "
    return "- " if style.startswith("List") else ""


def _table_rows(table) -> list[str]:
    rows = []
    for row in table.rows:
        cells: list[str] = []
        for cell in row.cells:
            text = _collapsed(cell.text)
            if text and (not cells or cells[-1] != text):  # a merged cell repeats itself
                cells.append(text)
        if cells:
            rows.append(" | ".join(cells))
    return rows
