"""Numbers in a claim and its passage: what must match, and what counts as the same number.

The support checker (``support.py``) rejects a sentence with a number its passage does not
hold: a wrong year or count is the commonest error of a small model. Digits are read by
``text.numbers_in``; this module adds counts written as words and rounding.
"""

from __future__ import annotations

import re

# Counts written as words are numbers too: "two lawsuits" needs a 2 or a "two" in the passage.
# ("one" is left out: "one of the first" counts nothing.)
_COUNTS = "two three four five six seven eight nine ten eleven twelve"
_COUNT_WORDS = {word: str(value) for value, word in enumerate(_COUNTS.split(), start=2)}
_COUNT_WORD = re.compile(rf"\b(?:{'|'.join(_COUNT_WORDS)})\b", re.IGNORECASE)


def counted_in_words(text: str) -> set[str]:
    """The counts a text writes as words, "two" to "twelve", as numbers ("2" to "12")."""
    return {_COUNT_WORDS[word.lower()] for word in _COUNT_WORD.findall(text)}


def numbers_found(claimed: set[str], passage: set[str]) -> bool:
    """Every number of a sentence is in the passage, or is a passage number rounded ("24")."""

    def rounded(number: str) -> bool:
        places = len(number.partition(".")[2])
        return any(
            len(given.partition(".")[2]) > places and round(float(given), places) == float(number)
            for given in passage
        )

    return all(number in passage or rounded(number) for number in claimed)
