"""Grounding: check every answer sentence against the passages, and decide refusals.

After the answer has streamed, each sentence is checked with the SupportChecker
(``assistant/support.py``) against the passages it cites:

- a cited passage that supports the sentence is kept and marked verified;
- when none of the cited passages supports it but another shown passage does, the marker is
  moved to that passage (the small model often cites a neighbour of the right passage);
- a sentence without markers that a shown passage supports gets that passage's marker;
- a sentence no shown passage supports is listed as unsupported (kept in the text, flagged in
  the CLI, the JSON and the UI; never silently deleted).

Lead-ins ("Here is what the documents say:"), bare markers and the model's own refusals are
not claims and are left alone; an answer with no claim at all is not an answer, except that a
reply which only points at passages ("[2]") is replaced by the shown sentence closest to the
question, quoted, and checked like any answer.

Refusal is decided from evidence, not only from the model's wording. Before the model runs,
a question whose best passage is less similar than ``min_score`` is refused (off-topic), and so
is one naming an identifier no shown passage contains (``assistant/relevance.py``). After it
runs, an answer is a refusal when the model says so, when it makes no claim, when not one of its
sentences is supported by any shown passage (an answer with no evidence behind it is not shown
as an answer), or when its supported sentences hold no value of the kind the question asks for
(a "how many" answered without a number).

The checker reads a claim as an answer to the question (words echoed from the question claim
nothing) only when retrieval is confident, the best passage at least ``confident_score``
similar; below that, a claim must be backed on its own words.
A refusal still points at what the documents cover that is closest, with citations.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace

from assistant.retrieval import Hit
from assistant.support import (
    SupportChecker,
    content_words,
    markers_in,
    split_answer_sentences,
    split_sentences,
)

_MARKERS = re.compile(r"\s*\[\d{1,2}(?:\s*[,;]\s*\d{1,2})*\]")


@dataclass(frozen=True)
class Verification:
    text: str  # the answer with markers moved or added
    supported_markers: frozenset[int]  # passages that support at least one sentence
    unsupported: list[str]  # sentences no shown passage supports
    claims: int  # sentences checked
    supported: list[str] = field(default_factory=list)  # sentences a shown passage supports


def is_lead_in(sentence: str) -> bool:
    """A sentence that claims nothing: it ends with ':' or has no content word ("[2].")."""
    plain = _MARKERS.sub("", sentence).strip()
    return plain.endswith(":") or not content_words(plain)


def verify(
    text: str,
    passages: list[Hit],
    checker: SupportChecker,
    *,
    is_refusal,
    question: str | None = None,
) -> Verification:
    """Check each claim of ``text``; ``question`` lets the checker read claims as answers to it."""
    sentences = split_answer_sentences(text)
    claims = [s for s in sentences if not is_lead_in(s) and not is_refusal(s)]
    pairs = [(claim, hit.chunk.text) for claim in claims for hit in passages]
    decisions = iter(checker.check_many(pairs, question=question))
    supports = {claim: [next(decisions).supported for _ in passages] for claim in claims}

    rewritten, supported_markers, unsupported, supported = text, set(), [], []
    for claim in claims:
        backing = [n for n, ok in enumerate(supports[claim], start=1) if ok]
        cited = [n for n in dict.fromkeys(markers_in(claim)) if 1 <= n <= len(passages)]
        keep = [n for n in cited if n in backing]
        if not backing:
            unsupported.append(_MARKERS.sub("", claim).strip())
            continue
        supported.append(claim)
        chosen = keep or backing[:1]
        supported_markers.update(chosen)
        if chosen != cited:
            rewritten = rewritten.replace(claim, _with_markers(claim, chosen), 1)
    return Verification(
        rewritten, frozenset(supported_markers), unsupported, len(claims), supported
    )


def quote_pointed_passage(text: str, passages: list[Hit], question: str, embedder) -> str | None:
    """When the model only points at passages ("[2]"), the shown sentence closest to the question.

    The small model sometimes answers with a bare marker: it found the answer in the passages
    but did not write it. Its markers are unreliable (it cites a neighbour of the right passage
    about half the time), so the answer becomes the sentence of any shown passage most similar
    to the question, quoted and cited: 'Passage [1] says: "..."', and it is then checked like
    any answer. None when the text makes a claim of its own or points at no shown passage.
    """
    sentences = split_answer_sentences(text)
    if not sentences or not all(is_lead_in(sentence) for sentence in sentences):
        return None
    if not any(1 <= n <= len(passages) for n in markers_in(text)):
        return None
    candidates = [
        (number, sentence)
        for number, hit in enumerate(passages, start=1)
        for sentence in split_sentences(hit.chunk.text)
        if content_words(sentence)
    ]
    if not candidates:
        return None
    vectors = embedder.embed([question, *(sentence for _, sentence in candidates)])
    number, sentence = candidates[int((vectors[1:] @ vectors[0]).argmax())]
    return f'Passage [{number}] says: "{sentence}"'


def _with_markers(sentence: str, markers: list[int]) -> str:
    """The sentence with its markers replaced by the given ones, before the final stop."""
    plain = _MARKERS.sub("", sentence).rstrip()
    tail = ""
    if plain and plain[-1] in ".!?":
        plain, tail = plain[:-1].rstrip(), plain[-1]
    return f"{plain} {''.join(f'[{n}]' for n in markers)}{tail}"


def mark_verified(citations: list, supported_markers: frozenset[int]) -> list:
    return [replace(c, verified=c.marker in supported_markers) for c in citations]


def closest_coverage(hits: list[Hit], *, limit: int = 2) -> str:
    """'The closest the documents come: <heading or opening> [1]; ...' for a refusal."""
    parts = []
    for number, hit in enumerate(hits[:limit], start=1):
        topic = hit.chunk.heading or " ".join(hit.chunk.text.split()[:12]) + "..."
        parts.append(f"{topic.strip()} ({hit.chunk.document}) [{number}]")
    if not parts:
        return ""
    return " The closest they come: " + "; ".join(parts) + "."
