"""Citations: the [n] markers of an answer, resolved to the passages the model was shown.

A marker that points at no shown passage is dropped from the text and from the citation list;
``[2, 7]`` with two passages becomes ``[2]``. A Citation is the shown passage (a retrieval Hit)
with its marker and, once the support checker has run, whether it backs the sentences citing it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace

from assistant.retrieval import Hit
from assistant.text import MARKER, marker_numbers


@dataclass(frozen=True)
class Citation:
    marker: int
    hit: Hit
    verified: bool | None = (
        None  # does the passage support the sentences citing it? None: unchecked
    )

    def to_dict(self) -> dict:
        return {"marker": self.marker, **self.hit.to_dict(), "verified": self.verified}


def parse_citations(text: str, passages: list[Hit]) -> tuple[str, list[Citation]]:
    """(text without markers that point at no passage, citations in order of first use)."""
    citations: dict[int, Citation] = {}

    def keep_valid(match: re.Match) -> str:
        valid = [n for n in marker_numbers(match) if 1 <= n <= len(passages)]
        for number in valid:
            citations.setdefault(number, Citation(number, passages[number - 1]))
        return "".join(f"[{n}]" for n in valid)

    cleaned = MARKER.sub(keep_valid, text)
    cleaned = re.sub(r"[ \t]+([.,;:!?])", r"\1", cleaned).strip()
    return cleaned, list(citations.values())


def mark_verified(citations: list[Citation], supported_markers: frozenset[int]) -> list[Citation]:
    """The citations with ``verified`` set: does its passage support a sentence of the answer?"""
    return [replace(c, verified=c.marker in supported_markers) for c in citations]
