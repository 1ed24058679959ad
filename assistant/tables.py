"""Tables pasted from web pages, whose cells ran together, made readable.

Copying an HTML table into a text file drops the cell borders::

    AspectOpen ModelsClosed Models
    SpeedDepends on hardwareOptimized cloud infrastructure

Keyword search then sees one word, "SpeedDepends", and a small model cannot tell which cell
belongs to which column. ``readable`` finds such tables (three or more short lines in a row,
each with a glued cell border) and writes every row out with its column names::

    Aspect | Open Models | Closed Models
    Speed - Open Models: Depends on hardware; Closed Models: Optimized cloud infrastructure.

A cell border is where a lower-case letter, a digit or ")" meets a capital that starts a word.
Names written that way ("DeepSeek", "LLaMA", "OpenClaw") look the same, so the table's
commonest cell count decides how many cells a line has: a line that splits into more keeps
together the shortest words it split, and a line that splits into fewer is also split where
an acronym meets a word ("AICheaper"). A row whose cells still do not match is written with
" | " between them. A column name leaves out what the header says in parentheses, so rows
stay short.

A first line that holds a value (a year, a price) or long cells is not taken for a header: a
table cut across two passages starts the second one with a row, and such a table is left as it
is rather than read under the wrong column names. A cut table whose first row looks like
column names ("AccuracyHigh but variableState-of-the-art") is still misread; tables that long
are rare in pasted text, and the chunker does not yet keep a table's header with its parts.

The stored text never changes (a citation slices it); this is the view that search, the
prompt and the support checker read.
"""

from __future__ import annotations

import itertools
import re

# "mitigationCompanies", "1977ELIZA", "(HBS)Enterprise", "R1Open"; the capital starts a word.
_BORDER = re.compile(r"(?<=[a-z0-9)\]%])(?=[A-Z][A-Za-z]|\$\d)")
# "AICheaper": tried only when a row has fewer cells than its header.
_ACRONYM_BORDER = re.compile(r"(?<=[A-Z]{2})(?=[A-Z][a-z]{2})")
# A line that starts a list item ("- ", "• ", "3. ", "b) "), never a table row; the chunker
# keeps such lines apart too.
LIST_ITEM = re.compile(r"^\s*(?:[-*+\u2022\u2023\u25e6\u25aa\u2043]|\d{1,3}[.)]|[a-z][.)])\s+")
# "Open Models (LLaMA 3.1, Qwen)" names a row's cell "Open Models".
_PARENTHESES = re.compile(r"\s*\([^)]*\)")
# "Accuracy - Closed Models: Leading edge; Open Models: Competitive, narrowing gap."
_ROW = re.compile(r"^\W*(?P<label>[^:;]+?) - (?P<cells>[^:;]+: [^;]+(?:; [^:;]+: [^;]+)+?)\.?$")
MIN_LINES = 3  # a header and two rows
MAX_WORDS = 25


def readable(text: str) -> str:
    """The text with each glued table written row by row with its column names."""
    if not _BORDER.search(text):
        return text
    lines = text.split("\n")
    out: list[str] = []
    start = 0
    while start < len(lines):
        end = start
        while end < len(lines) and _row_like(lines[end]):
            end += 1
        table = lines[start:end]
        if len(table) >= MIN_LINES and sum(" " in line.strip() for line in table) * 2 >= len(table):
            out.extend(_rows(table))
            start = end
        else:
            out.append(lines[start])
            start += 1
    return "\n".join(out)


def _row_like(line: str) -> bool:
    stripped = line.strip()
    return (
        0 < len(stripped.split()) <= MAX_WORDS
        and stripped[-1] not in ".!?:;"
        and not LIST_ITEM.match(stripped)
        and _BORDER.search(stripped) is not None
    )


def _rows(lines: list[str]) -> list[str]:
    indent = lines[0][: len(lines[0]) - len(lines[0].lstrip())]
    counts = [len(cells(line.strip())) for line in lines]
    columns = max(sorted(set(counts)), key=counts.count)  # the commonest; the fewest on a tie
    header = cells(lines[0].strip(), columns=columns)
    if not _looks_like_header(header):
        return lines  # no column names to read the rows by, and no way to tell names from borders
    out = [indent + " | ".join(header)]
    for line in lines[1:]:
        row = cells(line.strip(), columns=len(header))
        out.append(indent + _row_text(header, row))
    return out


def _row_text(header: list[str], row: list[str]) -> str:
    if len(row) != len(header):
        text = " | ".join(row)
    elif len(row) == 2:
        text = f"{row[0]}: {row[1]}"
    else:
        names = [_PARENTHESES.sub("", name).strip() or name for name in header[1:]]
        text = f"{row[0]} - " + "; ".join(
            f"{n}: {cell}" for n, cell in zip(names, row[1:], strict=True)
        )
    return text if text[-1] in ".!?" else text + "."


def row_cells(sentence: str) -> list[tuple[str, str]]:
    """(column name, cell) for each cell of a row ``_row_text`` wrote, else [] (the support
    checker reads rows back this way, ``grounding/cells.py``)."""
    found = _ROW.match(sentence.strip())
    if not found:
        return []
    parts = [cell.partition(": ") for cell in found["cells"].split("; ")]
    return [(name.strip(), value.strip().rstrip(".")) for name, _, value in parts]


def _looks_like_header(row: list[str]) -> bool:
    """Column names are short and not values: "Aspect | Open Models | Closed Models", not
    "2016 | PyTorch released | Community-driven ML" (a table cut across passages)."""
    return all(len(cell.split()) <= 6 and not cell[0].isdigit() and cell[0] != "$" for cell in row)


def cells(line: str, columns: int | None = None) -> list[str]:
    """A glued row's cells; with ``columns``, fitted to that many where the borders allow."""
    cuts = [m.start() for m in _BORDER.finditer(line)]
    if columns is not None and len(cuts) + 1 > columns:
        cuts = _drop_likeliest_names(line, cuts, len(cuts) + 1 - columns)
    elif columns is not None and len(cuts) + 1 < columns:
        extra = [m.start() for m in _ACRONYM_BORDER.finditer(line)]
        if len(cuts) + 1 + len(extra) == columns:
            cuts = sorted(cuts + extra)
    bounds = [0, *cuts, len(line)]
    return [line[a:b].strip() for a, b in itertools.pairwise(bounds) if line[a:b].strip()]


def _drop_likeliest_names(line: str, cuts: list[int], excess: int) -> list[int]:
    """Remove the ``excess`` cuts most likely inside a name: between two letters first, then
    the one whose glued word ("LLaMA" rather than "MixtralFrontier") is shortest."""

    def glued_length(i: int) -> int:
        cut = cuts[i]
        left = max(line.rfind(" ", 0, cut) + 1, cuts[i - 1] if i else 0)
        space = line.find(" ", cut)
        right = min(
            space if space != -1 else len(line), cuts[i + 1] if i + 1 < len(cuts) else len(line)
        )
        return right - left

    order = sorted(
        range(len(cuts)), key=lambda i: (not line[cuts[i] - 1].isalpha(), glued_length(i))
    )
    dropped = set(order[:excess])
    return [cut for i, cut in enumerate(cuts) if i not in dropped]
