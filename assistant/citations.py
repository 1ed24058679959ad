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


# A small model often writes "[1] The answer." or "The answer, which is found in passage [1]."
_LEADING = re.compile(r"^([ \t]*(?:[-*\u2022][ \t]+)?)((?:\[\d{1,2}\][ \t]*)+)(\S[^\n]*)$", re.M)
_POINTER = re.compile(
    r",?[ \t]+(?:which is|(?:which is |which are |as )?(?:found|quoted|mentioned|stated|given"
    r"|shown|explained|described|outlined|discussed|detailed|listed|covered) in"
    r"|(?:taken )?from|according to)"
    r"(?:[ \t]+(?:the[ \t]+)?passages?)?[ \t]*"
    r"(?=(?:\[\d{1,2}\][ \t]*)+(?:[.!?](?=\s|$)|$))",  # "which is explained in [2][3]. Next"
    re.M,
)


# The prompt's instructions or a bare "Answer:" copied as a label, in front of a line or on a
# line of its own: "One sentence for a simple fact: Air-to-air photography is ...", "Two to four
# sentences for a why, how or list question:", "The answer is: ...", "Why: ...", "How: ...".
_LABEL = re.compile(
    r"^([ \t]*(?:[-*\u2022][ \t]+)?)(?:(?:one|two|three|four)(?: to (?:two|three|four|five))?"
    r" sentences?(?: for [^:\n]{1,40})?"
    r"|(?:the )?(?:short |final )?answer(?: is)?|why|how|reason|explanation)"
    r"[ \t]*:[ \t]*(?:(?=\S)|\n)",
    re.M | re.IGNORECASE,
)
# A line that only lists sources: "Passages: [1][3]", "Sources: [2], [4]".
_SOURCES_LINE = re.compile(
    r"^[ \t]*(?:sources?|passages?|references?|citations?)[ \t]*:[ \t]*(?:\[\d{1,2}\][ \t,]*)+$",
    re.M | re.IGNORECASE,
)
# "This is evident from the passage [3], which states that X", "The passage also mentions
# that X", "The passage [2] provides more context by mentioning that X", "This is supported by
# the passage [4], which states: X", "The passage from [1] states that X": the claim is X.
_REPORTED = re.compile(
    r"(^[ \t]*(?:[-*\u2022][ \t]+)?|(?<=[.!?] ))"
    r"(?:(?:(?:this (?:is|can be) (?:\w+ )?(?:evident|seen|shown|found|confirmed|supported"
    r"|described|stated|explained|mentioned) (?:from|in|by)|this is because|as stated in) (?:the )?"
    r"|the )(?:passage|document|text)s?(?: from)?(?:[ \t]*\[\d{1,2}\])*,?(?: which)?(?: also)?"
    r"(?: \w+){0,4}? (?:states?|says|mentions?|mentioning|notes?|noting|explains?|explaining"
    r"|indicates?|indicating|shows?|showing|describes|describing)"
    r"\b(?: that\b[ \t,:]*|[ \t]*:?[ \t]*(?=[\"“]))"
    r"|according to the passages?(?:[ \t]*\[\d{1,2}\])*,[ \t]*)"
    r"([\"“]?\w)",
    re.M | re.IGNORECASE,
)
_MARKER_LINE = re.compile(r"(\S)([.!?]?)[ \t]*\n[ \t]*((?:\[\d{1,2}\][ \t]*)+)[ \t]*$", re.M)


def tidy_markers(text: str) -> str:
    """Markers moved where they belong: a line's leading "[1]" goes to its end, and a dangling
    "which is found in passage [1]" becomes just "[1]". An instruction or "Answer:" the model
    copied as a label in front of a line is taken off, a line that only lists sources goes, and
    so does a sentence's report of where it comes from ("The passage [2] states that ..."): the
    sentence then has no marker, and verification gives it the passage that backs it."""

    def move(match: re.Match) -> str:
        bullet, markers, body = match.groups()
        body = body.rstrip()
        stop = body[-1] if body[-1] in ".!?" else ""
        return f"{bullet}{body[: len(body) - len(stop)].rstrip()} {markers.strip()}{stop}"

    text = _SOURCES_LINE.sub("", _LABEL.sub(r"\1", text))
    text = _REPORTED.sub(lambda m: m.group(1) + m.group(2).upper(), text)
    text = re.sub(r"\](?:[ \t]*,[ \t]*|[ \t]+and[ \t]+)\[", "][", text)  # "[2], [3]"
    text = _MARKER_LINE.sub(r"\1 \3\2", text)  # "...corporations.\n[1]" -> "corporations [1]."
    return _POINTER.sub(" ", _LEADING.sub(move, text))


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
