"""Reading an answer back against its passages: which part of each cited passage supports it.

For a cited passage, ``supporting_spans`` finds the sentence(s) with the highest content-word
overlap with the answer sentences that cite it, so a UI can highlight the part that supports
the answer. Models often cite once at the end of a paragraph, so a sentence without a marker
counts as citing what the next cited sentence of the same paragraph cites.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from assistant.answer import Answer
from assistant.text import citing_sentences, markers_in, sentence_spans, strip_markers, topic_words


def sentences_citing(answer: str, marker: int) -> list[str]:
    """The answer's sentences that cite passage ``marker``, without their markers."""
    found = []
    for paragraph in re.split(r"\n\s*\n", answer):
        pending: list[str] = []
        for sentence in citing_sentences(paragraph):
            cited = set(markers_in(sentence))
            pending.append(strip_markers(sentence))
            if cited:
                found += pending if marker in cited else []
                pending = []
    return [sentence for sentence in found if sentence]


def supporting_spans(passage: str, claims: Sequence[str]) -> list[tuple[int, int]]:
    """Spans of the passage sentences that best support each claim (by content-word overlap).

    For each claim the passage sentence sharing the most content words with it is chosen, if
    it shares at least two (or one, when the claim has fewer than three); spans are returned
    sorted and without repeats. A claim that matches nothing adds nothing.
    """
    sentences = [
        (start, end, set(topic_words(passage[start:end]))) for start, end in sentence_spans(passage)
    ]
    chosen: set[tuple[int, int]] = set()
    for claim in claims:
        words = set(topic_words(claim))
        needed = 2 if len(words) >= 3 else 1
        best = max(sentences, key=lambda s: len(words & s[2]), default=None)
        if best is not None and len(words & best[2]) >= needed:
            chosen.add((best[0], best[1]))
    return sorted(chosen)


def support_highlights(answer: Answer) -> dict[int, list[tuple[int, int]]]:
    """For each citation, the spans of its passage that support the sentences citing it.

    A refusal's citations point at the closest passages, which support nothing: no highlight.
    """
    if answer.refused:
        return {}
    return {
        c.marker: supporting_spans(c.hit.chunk.text, sentences_citing(answer.text, c.marker))
        for c in answer.citations
    }
