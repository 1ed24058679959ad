"""Cutting a claim no passage supports back to the parts of it that one does.

The small model often states the answer and then adds an explanation of its own: "NER stands
for Named Entity Recognition, which is a task in natural language processing that ...". The
explanation is not in the passage, so the sentence is not supported, and the answer it starts
with was lost. Its longest leading clause that a passage supports ("NER stands for Named Entity
Recognition.") replaces the sentence.

It also joins two findings into one sentence, often from two passages: "Decision transparency
focuses on making AI systems explainable, while governance transparency involves making
corporate policies ... visible to the public." No one passage has both sides, so neither was
kept. A later side of such a contrast ("..., while ...", "..., whereas ...", "...; ...", "...,
but ...") that a passage supports on its own is kept too, as a sentence of its own; not one of
a sentence that builds on the one before ("This is because ..., while ..."): it gives a reason.

Each part is then checked again like any claim (``verification.verify``).
"""

from __future__ import annotations

import re

from assistant.grounding.support import SupportChecker, SupportDecision
from assistant.retrieval import Hit
from assistant.text import claim_words, remove_markers

# Where a sentence's head clause may end: before "; ...", " (...", " - ..." and a comma that
# opens a clause or an apposition (", which ...", ", a technology that ...", ", leading to ..."),
# not the comma of a series ("to explore, mine, and sell").
_CLAUSE_BREAK = re.compile(
    r"\s*(?:;\s|\s\(|\s[-\u2013\u2014]\s|,\s(?=(?:which|who|whom|whose|where|while|whereas"
    r"|although|though|but|because|as|since|so|a|an|the|this|that|these|its|their|\w+ing)\b))",
    re.IGNORECASE,
)
# Where the other side of a contrast starts: after "; ", ", while", ", whereas" or ", but", when
# what follows names its own subject ("but it ..." leans on the side before it).
_OTHER_SIDE = re.compile(
    r"(?:;\s+|,\s+(?:while|whereas|but)\s+)"
    r"(?!(?:it|its|they|them|their|this|these|those|that|he|she|also|not|only)\b)",
    re.IGNORECASE,
)
HEAD_WORDS = 3  # content words a head clause needs to be a claim of its own
HEAD_NEW_WORDS = 2  # of them, words the question does not have


def backed_parts(
    claims: list[str],
    decided: list[SupportDecision],
    passages: list[Hit],
    checker: SupportChecker,
    question: str | None,
    read_as_answers: bool,
) -> dict[str, str]:
    """For each claim no passage supports (``decided``: claim by passage), what replaces it:
    its longest leading clause that a passage supports and each later side of a contrast that
    one supports, each a sentence citing its first supporting passage. Claims with no such part
    are left out."""
    width = len(passages)
    asked = claim_words(question) if question else set()
    options: list[tuple[str, int, int, str]] = []  # (claim, start, end, part)
    for i, claim in enumerate(claims):
        if any(d.backed or d.supported for d in decided[i * width : (i + 1) * width]):
            continue  # backed, if only as the continuation of an answer: it stays whole
        plain = remove_markers(claim).rstrip()
        cuts = reversed([m.start() for m in _CLAUSE_BREAK.finditer(plain)])
        options += [(claim, 0, cut, plain[:cut].rstrip()) for cut in cuts]  # longest first
        sides = [] if leans_back(plain, question or "") else list(_OTHER_SIDE.finditer(plain))
        ends = [side.start() for side in sides[1:]] + [len(plain)]
        for side, end in zip(sides, ends, strict=False):  # no sides, no ends
            options.append((claim, side.end(), end, plain[side.end() : end]))
    options = [option for option in options if _could_stand(option[3], asked)]
    if not options:
        return {}
    tried = [(part, hit.chunk.readable_text) for *_, part in options for hit in passages]
    verdicts = checker.check_many(tried, question=question, read_as_answers=read_as_answers)
    kept: dict[str, list[tuple[int, int, str]]] = {}  # claim -> its parts (start, end, text)
    for k, (claim, start, end, part) in enumerate(options):
        backing = [n for n, d in enumerate(verdicts[k * width : (k + 1) * width], 1) if d.supported]
        parts = kept.setdefault(claim, [])
        if backing and all(start >= other_end for _, other_end, _ in parts):
            parts.append((start, end, f"{_sentence(part)} [{backing[0]}]."))
    return {claim: " ".join(text for *_, text in parts) for claim, parts in kept.items() if parts}


def _could_stand(clause: str, asked: set[str]) -> bool:
    """A part that can stand as a claim: enough content words, two of them not the question's
    ("DeepSeek R1 was built by OpenAI" adds one word to its question, and one word found
    somewhere in a passage is weak evidence), and no quotation left open."""
    words = claim_words(clause)
    open_quote = clause.count('"') % 2 or clause.count("\u201c") > clause.count("\u201d")
    return len(words) >= HEAD_WORDS and len(words - asked) >= HEAD_NEW_WORDS and not open_quote


def _sentence(part: str) -> str:
    """The part as a sentence of its own: its first letter capitalised, no full stop yet."""
    part = part.strip().rstrip(".")
    return part[:1].upper() + part[1:]


# "This is because ...", "This means ...", "As a result, ...": a sentence that builds on the one
# before it. "This license ..." (a noun after the demonstrative) may name what the question asks.
_LEANS_BACK = re.compile(
    r"^(?:(?:this|that|these|those)(?:\s+(?P<noun>[a-z][\w-]*))?\b"
    r"|as a result\b|therefore\b|thus\b|hence\b|because of this\b|for this reason\b)",
    re.IGNORECASE,
)


def leans_back(sentence: str, question: str) -> bool:
    """The sentence builds on the one before it ("This is because closed models ..."), so it
    cannot stand when that one was taken out. A demonstrative before a word of the question
    ("These restrictions ..." asked about restrictions) points at the question instead."""
    found = _LEANS_BACK.match(remove_markers(sentence).lstrip(" \"'-*\u2022"))
    if not found:
        return False
    noun = found.group("noun")
    return not (noun and claim_words(noun) and claim_words(noun) <= claim_words(question))
