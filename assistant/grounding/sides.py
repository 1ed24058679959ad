"""Prose that says one thing of each side: a claim must not give one side's words to the other.

The documents compare open and closed models sentence by sentence: "Closed AI models currently
lead in performance, reliability, and multimodal integration, but at enormous cost. Open models
are rapidly catching up ...". A small model copying such a passage often swaps the sides ("open
models currently lead in performance"), and every word of that claim is in the passage, so
overlap backs it; the table rows are read column by column in ``cells.py``, this is the same
for prose.

``swaps_sides`` reads the claim clause by clause (split at ";", ",", "while", "whereas", "but",
"although", "because", "since", "compared to"). A clause that names one side only ("open",
"open-source", "open-weight"; "closed", "closed-source", "proprietary") says something of that
side. Read a second time, so do the clauses after it that name no side ("Closed AI models are
high-performing, safe, and commercially viable, but they trade off transparency"); either
reading can find a swap. When a passage clause that names the other side only holds at least
``MIN_SHARED_WORDS`` of its other words, and most of them, and no clause naming its own side
holds as many, the claim has swapped the sides; so has one that holds every word (at least
``MIN_SHARED_WORDS``) of a passage clause about the other side that no clause about its own side
has ("Open models reduce licensing fees and monetize via subscription or API usage" from "Open
models reduce licensing fees, while closed models monetize via subscription or API usage").
Names and numbers ("GPT-4", "Claude") are left out of the count: a clause may name the other
side's members ("open models set against GPT-4") without saying anything of them.

Measured (``evaluation/README.md``): regrading the nineteen tuning runs, the clause reading
(fourteenth pass) refuses one answer, a swapped sentence (fresh 30j q451), and ClapNQ does not
change; the joined reading (fifteenth pass, found on fresh 30r) changes no answer of the twenty
tuning runs and drops four swapped sentences of fresh 30r; the whole-clause reading (eighteenth
pass, found on fresh 30v q803) changes only that answer on the twenty-four runs and ClapNQ.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Sequence

from assistant.text import claim_words

# Where a sentence turns from one side to the other, or to a reason: "...; closed models ...",
# "..., while ...", "... a closed model because open models ...".
_CLAUSE = re.compile(
    r"[;,]|\b(?:while|whereas|but|although|though|because|since|compared (?:to|with))\b",
    re.IGNORECASE,
)

# The stems ``claim_words`` gives each side's words ("closed" -> "clos").
_SIDES = (
    frozenset(claim_words("open open-source open-weight")),
    frozenset(claim_words("closed closed-source proprietary")),
)
# Words every clause about either side has ("models"), and the side words themselves.
_SIDE_WORDS = _SIDES[0] | _SIDES[1] | frozenset(claim_words("source weight model ai system"))
_NAME = re.compile(r"\S*[A-Z0-9]\S*")  # "GPT-4", "Claude": members, not what is said of them
MIN_SHARED_WORDS = 3  # "currently lead performance"
MIN_SHARED_SHARE = 0.6  # of the claim clause's words besides the side


def swaps_sides(claim: str, sentences: Sequence[str]) -> bool:
    """The claim says of one side what a passage sentence says of the other; see above. Read
    clause by clause, and again with each clause that names no side joined to the one before."""
    return any(
        _swaps(_read(claim, joined), [_read(sentence, joined) for sentence in sentences])
        for joined in (False, True)
    )


def _swaps(claim: Sequence[tuple], sentences: Sequence[Sequence[tuple]]) -> bool:
    passage = [(side, words) for read in sentences for side, words in read if side is not None]
    for side, said in claim if passage else ():
        if side is None or not said:
            continue
        own = max((len(said & words) for s, words in passage if s == side), default=0)
        other = max((len(said & words) for s, words in passage if s != side), default=0)
        if other >= MIN_SHARED_WORDS and other >= MIN_SHARED_SHARE * len(said) and other > own:
            return True
        owns = set().union(*(words for s, words in passage if s == side))
        if any(_holds_all(said, words - owns) for s, words in passage if s != side):
            return True  # "Open models cut fees and monetize via subscriptions"
    return False


def _holds_all(said: frozenset[str], theirs: frozenset[str]) -> bool:
    """The claim clause holds everything a clause says of the other side alone."""
    return len(theirs) >= MIN_SHARED_WORDS and theirs <= said


@functools.lru_cache(maxsize=4096)  # a passage's sentences are read again for each claim
def _read(sentence: str, joined: bool) -> tuple[tuple[int | None, frozenset[str]], ...]:
    """The sentence's clauses: per clause, the one side it names (None for neither or both) and
    its other content words. ``joined``: a clause that names no side belongs to the one before
    ("Closed models are high-performing, safe, and commercially viable" says all three of
    closed models)."""
    spans: list[tuple[int | None, set[str]]] = []
    for clause in _CLAUSE.split(sentence):
        words = claim_words(clause)
        named = [side for side, stems in enumerate(_SIDES) if words & stems]
        said = claim_words(_NAME.sub(" ", clause)) - _SIDE_WORDS
        if named or not spans or not joined:
            spans.append((named[0] if len(named) == 1 else None, said))
        else:
            spans[-1][1].update(said)
    return tuple((side, frozenset(words)) for side, words in spans)
