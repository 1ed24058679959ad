"""A number taken from a sentence about something else: "the 2024 margin" given for 2026.

Asked about a thing the documents give no figure for, a small model often takes the figure the
passage gives for a neighbour: "In the 2026 benchmarks closed models led by about 24%" from
"Stanford AI Index (2024): Closed models achieved a median 24.2% ...", or "The Xeon processors
gave a 2x speed-up" from "Habana Gaudi2 HPUs ... benchmarked at 2x faster". Every word and
number of such a sentence is in the passage, so overlap backs it.

What gives it away is whom the number belongs to. The claim names the question's subject
("2026", "Xeon"); the passage sentence that holds the number names neither, but names
something else the claim and question do not ("2024", "Gaudi2"). When every passage sentence
holding one of the claim's new numbers is such a sentence, the number is borrowed.

A sentence that names its subject earlier ("Mistral AI was founded in 2023. It raised ...")
names no rival in the sentence with the number, and is left alone; one that says what holds in
general ("Licensing: Often under permissive licenses (e.g., Apache 2.0)") gives its number to no
one thing, and "TensorFlow is released under the Apache 2.0 license" borrows it. Within one
sentence, a number belongs to its own clause: in "GPT-4 training cost $78 million, Gemini Ultra
$191 million", the $191 million is Gemini Ultra's. The question's names are those it writes with
capitals or, written in lower case ("where is the manhattan center?"), the claim's names it has.

The other way round, a number can back a claim that adds nothing else to its question
(``number_in_its_sentence``): "Meta put out the 405B LLaMA 3 in 2024", asked "what year did
Meta put out the 405B LLaMA 3?", from "LLaMA 3 (2024): Meta's 405B parameter model ...". The
words the passage lacks ("put out") are the question's own, one sentence holds the number with
all the claim's other words, and the name written next to the number is the claim's: "LLaMA 3
(2024)" answers for LLaMA 3, while "Mixtral 8x7B (2023): ... Mistral AI showed ..." does not
date Mistral AI.
"""

from __future__ import annotations

import calendar
import re
from collections.abc import Sequence

from assistant.chunking import looks_like_heading
from assistant.grounding.numbers import measures_differ, numbers_found
from assistant.grounding.relevance import POSSESSIVE, mentions, names_in
from assistant.text import NUMBER, claim_words, standalone_numbers, surface_tokens


def misreads_number(
    claim: str, passage: str, sentences: Sequence[str], question: str | None
) -> bool:
    """A number of the claim is the passage's, but measures something else there ("$191
    million" as "191 million parameters", ``numbers.measures_differ``) or, given the question,
    belongs to something else (``borrows_number``)."""
    if measures_differ(claim, passage):
        return True
    return bool(question) and borrows_number(claim, sentences, question)


# A sentence that says what holds in general ("Often under permissive licenses (e.g., Apache
# 2.0)"), which gives no one thing its number.
_GENERAL = re.compile(
    r"\b(?:often|usually|typically|generally|commonly|e\.g\.|such as|for example)(?!\w)",
    re.IGNORECASE,
)
# Where one item of a list or comparison ends and the next begins.
_CLAUSE = re.compile(r",\s+(?:and\s+|or\s+)?|;\s+|\s+(?:vs\.?|versus|compared to|while|whereas)\s+")
_MONTHS = frozenset(month.lower() for month in calendar.month_name if month)  # not names


def borrows_number(claim: str, sentences: Sequence[str], question: str) -> bool:
    """The claim gives the question's subject a number its passage gives something else."""
    subjects = _subjects(claim, question)
    if not subjects:
        return False
    named = f"{claim} {question}"

    def misses_subject(text: str) -> bool:
        return any(not mentions(text, name) for name in subjects)

    def names_another(text: str) -> bool:
        rivals = [name for name in names_in(text, codes=True) if name.lower() not in _MONTHS]
        return misses_subject(text) and any(not mentions(named, name) for name in rivals)

    def about_another(sentence: str, number: str) -> bool:
        general = misses_subject(sentence) and _GENERAL.search(sentence)
        if names_another(sentence) or general:
            return True
        # "GPT-4 cost $78 million, Gemini Ultra $191 million": the clause holding the number.
        own = [part for part in _CLAUSE.split(sentence) if _holds(part, number)]
        return bool(own) and all(names_another(part) for part in own)

    # The digits of a name ("Mixtral 8x7B", "GPT-3.5") are no number it is given.
    for number in set(standalone_numbers(claim)) - set(standalone_numbers(question)):
        holding = [s for s in sentences if _holds(s, number)]
        if holding and all(about_another(sentence, number) for sentence in holding):
            return True
    return False


def _subjects(claim: str, question: str) -> list[str]:
    """The names of the question the claim says, or, for a question written in lower case
    ("which is bigger, the largest llama 2 ...?"), the claim's names the question has."""
    asked = [name for name in names_in(question, codes=True) if mentions(claim, name)]
    words = set(surface_tokens(question.lower()))
    said = [name for name in names_in(claim, codes=True) if len(name) > 1]
    return asked + [name for name in said if name not in asked and name.lower() in words]


def _holds(text: str, number: str) -> bool:
    """The text has the number standing alone (not as the digits of a name)."""
    return numbers_found({number}, set(standalone_numbers(text)))


def number_in_its_sentence(
    said: set[str], asked: set[str], passage_words: set[str], sentences: Sequence[str]
) -> bool:
    """The claim's content words (``text.claim_words``) add only numbers to the question's
    (``asked``), the words the passage lacks are the question's, and one passage sentence holds
    the claim's other words (those of the passage's headings aside) with each number written
    next to a name the claim says."""
    added = said - asked
    if not added or not all(NUMBER.fullmatch(word) for word in added):
        return False
    held = said & passage_words
    if not said - passage_words <= asked or len(held - added) < 2:
        return False
    titled = set().union(*(claim_words(s) for s in sentences if looks_like_heading(s)))
    return any(
        held <= (claim_words(sentence) | titled)
        and (held - added) & claim_words(sentence)
        and all(_named_next_to(number, sentence, said) for number in added)
        for sentence in sentences
    )


def _named_next_to(number: str, sentence: str, said: set[str]) -> bool:
    """The name or code written nearest before the number (after it, when none is before) is
    one the claim says: "LLaMA 3 (2024)" for a claim on LLaMA 3, not "Mixtral 8x7B (2023)".
    A capitalised word opening the sentence or a list item is no name, nor is a number after it:
    "Published in 2022, revised in 2024, the case explores Hugging Face's ..." dates the case."""
    tokens = surface_tokens(sentence)
    if number not in tokens:
        return False
    at = tokens.index(number)
    named = {POSSESSIVE.sub("", name) for name in names_in(sentence)}
    names = [
        t
        for t in tokens
        if t != number
        and (
            any(ch.isdigit() for ch in t)
            or sum(ch.isupper() for ch in t) > 1  # "(CFM)", "LLaMA": a name wherever it stands
            or POSSESSIVE.sub("", t) in named
        )
    ]
    before = [t for t in tokens[:at] if t in names]
    after = (t for t in tokens[at + 1 :] if t in names and not t.isdigit())  # not "2021, 2023"
    nearest = before[-1] if before else next(after, None)
    return nearest is not None and bool(claim_words(nearest)) and claim_words(nearest) <= said
