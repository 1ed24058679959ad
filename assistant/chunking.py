"""Chunking: structure-aware passages that fit the embedder and map back to the source text.

The splitter never cuts at a fixed character count. It reads a page as blocks (separated by
blank lines), lines inside a block as headings, list items or wrapped prose, and prose as
sentences. Those pieces are packed greedily into chunks of at most ``max_tokens`` word pieces,
measured with the embedder's own tokenizer, because text past the embedder's limit is silently
dropped. A heading always starts a new chunk and is remembered as the chunk's ``heading``, and
the headings it sits under as its ``section`` (``_Outline``): "History of open source AI" for a
"Risks & Challenges" list that several parts of a document each have.
Consecutive chunks share whole trailing sentences up to ``overlap_tokens``; a partial sentence
is never repeated, so an overlap can be empty when the last sentence is long.

Every piece is a character span of ``Document.text``; a chunk's text is exactly
``document.text[start:end]``.
"""

from __future__ import annotations

import functools
import hashlib
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from assistant.documents import Document
from assistant.tables import LIST_ITEM, readable
from assistant.text import CHUNK_SENTENCE_END, normalize

TokenCounter = Callable[[str], int]

_BLOCK_BREAK = re.compile(r"\n[ \t\u00a0]*\n")
_MD_HEADING = re.compile(r"^\s*#{1,6}\s+\S")
_NUMBERED_HEADING = re.compile(r"^\s*\d{1,2}(?:\.\d{1,2})*\.?\s+\S")
_SUBSECTION_NUMBER = re.compile(r"\d+(?:\.\d+)*")  # "2.1" of "2.1. Scope"
_SPECIAL_TOKENS = 2  # [CLS] and [SEP] count against the embedder's limit


@dataclass(frozen=True)
class Chunk:
    id: str
    document: str
    page: int | None
    start: int
    end: int
    heading: str | None
    text: str
    section: str | None = None  # the headings above ``heading``, outermost first ("A › B")

    @functools.cached_property
    def readable_text(self) -> str:
        """The text that search, the prompt and the checker read: a table whose cells ran
        together is written out row by row (``tables.py``); any other text is unchanged."""
        return readable(self.text)

    @property
    def search_text(self) -> str:
        """What is embedded and keyword-indexed: the section and heading give a passage its
        topic."""
        titles = [self.section] if self.section else []
        if self.heading and self.heading not in self.text:
            titles.append(self.heading)
        return normalize(". ".join([*titles, self.readable_text]))

    def label(self, separator: str = ", ") -> str:
        """Where the passage comes from: "report.pdf, page 3, Costs › Hardware"."""
        parts = [self.document]
        if self.page is not None:
            parts.append(f"page {self.page}")
        if self.heading:
            parts.append(SECTION_SEPARATOR.join(filter(None, [self.section, self.heading])))
        return separator.join(parts)


@dataclass(frozen=True)
class _Piece:
    start: int
    end: int
    tokens: int
    heading: bool = False
    block_start: bool = False


def chunk_document(
    document: Document,
    *,
    count_tokens: TokenCounter,
    max_tokens: int = 128,
    overlap_tokens: int = 24,
) -> list[Chunk]:
    budget = max_tokens - _SPECIAL_TOKENS
    chunks: list[Chunk] = []
    outline = _Outline()  # a section goes on over page breaks
    for page in document.pages:
        pieces = list(_pieces(document.text, page.start, page.end, count_tokens, budget))
        for start, end, titles in _pack(pieces, document.text, budget, overlap_tokens, outline):
            chunks.append(_make_chunk(document, page.number, start, end, *titles))
    return chunks


class _Outline:
    """The headings open at a point of a document, outermost first.

    A heading's level comes from its style, as in reStructuredText: each style ("#", "##", "1.",
    "1.1", a leading symbol such as an emoji, capitals, plain words) is one level below the
    styles the document used before it. A heading closes those at its level or below it.
    """

    def __init__(self) -> None:
        self.levels: dict[str, int] = {}
        self.open: list[tuple[int, str]] = []

    def enter(self, line: str) -> str:
        """Open the heading ``line`` (its raw text); return it as a chunk's heading."""
        level = self.levels.setdefault(_heading_style(line), len(self.levels) + 1)
        while self.open and self.open[-1][0] >= level:
            self.open.pop()
        heading = normalize(line).lstrip("#").strip()
        self.open.append((level, heading))
        return heading

    @property
    def section(self) -> str | None:
        """The headings above the innermost one."""
        return SECTION_SEPARATOR.join(heading for _, heading in self.open[:-1]) or None


SECTION_SEPARATOR = " › "  # "History of open source AI › Risks & Challenges"


def _heading_style(line: str) -> str:
    line = line.strip()
    if marks := re.match(r"#+", line):
        return marks.group()
    if _NUMBERED_HEADING.match(line):
        return "1" + ".1" * _SUBSECTION_NUMBER.match(line).group().count(".")  # "2.1 Scope": "1.1"
    if not line[:1].isalnum():
        return "symbol"
    return "capitals" if line.isupper() else "plain"


def _make_chunk(
    document: Document, page: int | None, start: int, end: int, heading, section
) -> Chunk:
    text = document.text[start:end]
    digest = hashlib.sha1(f"{document.path}:{start}:{end}:{text}".encode()).hexdigest()[:12]
    return Chunk(
        id=f"{document.path}#{start}-{end}-{digest}",
        document=document.path,
        page=page,
        start=start,
        end=end,
        heading=heading,
        text=text,
        section=section,
    )


def _pack(pieces: list[_Piece], text: str, budget: int, overlap_tokens: int, outline: _Outline):
    """Yield (start, end, (heading, section)) for chunks built from consecutive pieces."""
    current: list[_Piece] = []
    heading: tuple[str | None, str | None] = (None, None)
    chunk_heading = heading

    def used() -> int:
        return sum(piece.tokens for piece in current)

    for piece in pieces:
        if piece.heading:
            if current and not all(p.heading for p in current):
                yield current[0].start, current[-1].end, chunk_heading
                current = []
            heading = (outline.enter(text[piece.start : piece.end]), outline.section)
            chunk_heading = heading  # the nearest heading of a run of headings wins
            current.append(piece)
            continue
        if current and used() + piece.tokens > budget:
            yield current[0].start, current[-1].end, chunk_heading
            current = _overlap(current, overlap_tokens, budget - piece.tokens)
            chunk_heading = heading
        if not current:
            chunk_heading = heading
        current.append(piece)
    if current:
        yield current[0].start, current[-1].end, chunk_heading


def _overlap(previous: list[_Piece], overlap_tokens: int, room: int) -> list[_Piece]:
    kept: list[_Piece] = []
    total = 0
    for piece in reversed(previous):
        if piece.heading or total + piece.tokens > min(overlap_tokens, room):
            break
        kept.insert(0, piece)
        total += piece.tokens
    return kept


def _pieces(text: str, start: int, end: int, count_tokens: TokenCounter, budget: int):
    for block_start, block_end in _spans_between(text, start, end, _BLOCK_BREAK):
        lines = list(_lines(text, block_start, block_end))
        first = True
        for line_start, line_end, kind in _group_lines(text, lines, single=len(lines) == 1):
            if kind == "heading":
                tokens = count_tokens(text[line_start:line_end])
                yield _Piece(line_start, line_end, min(tokens, budget), True, first)
            else:
                for s, e in _sentences(text, line_start, line_end):
                    for piece in _fit(text, s, e, count_tokens, budget):
                        yield _Piece(piece[0], piece[1], piece[2], False, first)
                        first = False
            first = False


def _spans_between(text: str, start: int, end: int, separator: re.Pattern) -> Iterator:
    """Non-blank spans of text[start:end] separated by the pattern, trimmed of whitespace."""
    position = start
    for match in separator.finditer(text, start, end):
        yield from _trimmed(text, position, match.start())
        position = match.end()
    yield from _trimmed(text, position, end)


def _trimmed(text: str, start: int, end: int) -> Iterator[tuple[int, int]]:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    if start < end:
        yield start, end


def _lines(text: str, start: int, end: int) -> Iterator[tuple[int, int]]:
    position = start
    while position < end:
        newline = text.find("\n", position, end)
        line_end = end if newline == -1 else newline
        yield from _trimmed(text, position, line_end)
        position = line_end + 1


def _group_lines(text: str, lines: list[tuple[int, int]], *, single: bool):
    """Merge wrapped prose lines; headings and list items stand alone."""
    group_start = group_end = None
    for line_start, line_end in lines:
        line = text[line_start:line_end]
        kind = _line_kind(line, single=single)
        if kind == "prose" and group_start is not None:
            group_end = line_end
            continue
        if group_start is not None:
            yield group_start, group_end, "prose"
            group_start = None
        if kind == "heading":
            yield line_start, line_end, "heading"
        else:  # a list item or the first line of prose starts a new group
            group_start, group_end = line_start, line_end
    if group_start is not None:
        yield group_start, group_end, "prose"


def _line_kind(line: str, *, single: bool) -> str:
    if _MD_HEADING.match(line):
        return "heading"
    numbered = bool(_NUMBERED_HEADING.match(line))
    if LIST_ITEM.match(line) and not (numbered and looks_like_heading(line)):
        return "item"
    if looks_like_heading(line) and (single or numbered):
        return "heading"
    return "prose"


def looks_like_heading(line: str) -> bool:
    """Short, unpunctuated at the end, not starting lower-case: 'The Case for Open'."""
    stripped = line.strip()
    words = stripped.split()
    if not 0 < len(words) <= 10 or len(stripped) > 80:
        return False
    return stripped[-1] not in ".!?,;:\u0964" and not stripped[0].islower()


def _sentences(text: str, start: int, end: int) -> Iterator[tuple[int, int]]:
    yield from _spans_between(text, start, end, CHUNK_SENTENCE_END)


def _fit(text: str, start: int, end: int, count_tokens: TokenCounter, budget: int):
    """Split a span that alone exceeds the budget at word boundaries."""
    tokens = count_tokens(text[start:end])
    if tokens <= budget:
        yield start, end, tokens
        return
    words = [m.span() for m in re.finditer(r"\S+", text[start:end])]
    window_start = 0
    while window_start < len(words):
        low, high = window_start + 1, len(words)
        while low < high:  # the longest run of words that fits
            middle = (low + high + 1) // 2
            span = text[start + words[window_start][0] : start + words[middle - 1][1]]
            if count_tokens(span) <= budget:
                low = middle
            else:
                high = middle - 1
        piece_start = start + words[window_start][0]
        piece_end = start + words[low - 1][1]
        yield piece_start, piece_end, count_tokens(text[piece_start:piece_end])
        window_start = low
