"""Why the assistant refused: one reason per decision, each with the words a person reads.

Every refusal the pipeline makes carries one ``RefusalReason``; the app, the CLI, the JSON and
the evaluation reports all show the same value (a string such as ``"off-topic"``) and the same
explanation. A refusal still points at what the documents cover that is closest, with citations
(``closest_coverage``).
"""

from __future__ import annotations

import re
from enum import StrEnum

from assistant.chunking import SECTION_SEPARATOR
from assistant.retrieval import Hit

_DECLINED = re.compile(
    r"documents? (?:do(?:es)?n[’']t|do(?:es)? not) (?:say|mention|contain|state|provide|specify)"
    r"|(?:passages?|context|documents?) (?:do(?:es)?n[’']t|do(?:es)? not) "
    r"(?:contain|include|mention|say|provide)"
    r"|not (?:mentioned|stated|specified|provided|covered) in the (?:passages|documents|context)"
    r"|no information (?:about|on|regarding)",
    re.IGNORECASE,
)


class RefusalReason(StrEnum):
    OFF_TOPIC = "off-topic"  # no passage is similar enough to the question; the model never ran
    UNMENTIONED = "unmentioned"  # the question names what no shown passage mentions
    MODEL = "model"  # the model itself said the documents do not say
    UNSUPPORTED = "unsupported"  # no sentence of the draft is backed by a shown passage
    NO_ANSWER = "no-answer"  # the draft lacks the kind of value asked for (a year, a number)
    WEAK_EVIDENCE = "weak-evidence"  # the refusal model finds the evidence too weak

    @property
    def explanation(self) -> str:
        """Why, in words for the person who asked."""
        return _EXPLANATIONS[self]

    @property
    def rejects_draft(self) -> bool:
        """The model wrote an answer and the checks turned it down (worth showing the draft)."""
        return self in (
            RefusalReason.UNSUPPORTED,
            RefusalReason.NO_ANSWER,
            RefusalReason.WEAK_EVIDENCE,
        )


_EXPLANATIONS = {
    RefusalReason.OFF_TOPIC: "no passage is close enough to the question",
    RefusalReason.UNMENTIONED: "the passages never mention what the question names",
    RefusalReason.MODEL: "the model found no answer in the passages",
    RefusalReason.UNSUPPORTED: "no sentence of the model's draft is backed by a passage",
    RefusalReason.NO_ANSWER: "the draft does not give the kind of answer the question asks for",
    RefusalReason.WEAK_EVIDENCE: "the passages and the draft together are too weak evidence "
    "that the documents answer this question",
}


def model_declined(text: str) -> bool:
    """Does the text say the documents do not answer (or say nothing at all)?"""
    return bool(_DECLINED.search(text)) or not text.strip()


def closest_coverage(hits: list[Hit], *, limit: int = 2) -> str:
    """'The closest they come: <outermost section › heading, or opening> [1]; ...' for a refusal."""
    parts = []
    for number, hit in enumerate(hits[:limit], start=1):
        outermost = (hit.chunk.section or "").split(SECTION_SEPARATOR)[0]
        titles = [outermost, hit.chunk.heading] if hit.chunk.heading else []
        topic = SECTION_SEPARATOR.join(filter(None, titles))
        topic = topic or " ".join(hit.chunk.text.split()[:12]) + "..."
        parts.append(f"{topic.strip()} ({hit.chunk.document}) [{number}]")
    if not parts:
        return ""
    return " The closest they come: " + "; ".join(parts) + "."
