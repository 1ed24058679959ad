"""Claims whose wording promises more than the passage's words: quotations and comparisons.

Overlap backs a sentence whose content words are all somewhere in the passage, and two kinds of
sentence say more than their words: a quotation says the passage has those words in that order,
and a comparison says the passage sets one thing above another. A small model asked for a title
the documents never give invents one in quotation marks ('The title is "Hugging Face: A Case
Study in Open-Source AI Accessibility"'), and asked which of two things is bigger, it picks one
("Stable Diffusion was trained on more data than LLaMA 2") from a passage that lists both and
compares neither. Every word of both is in the passage.

``misquotes``: a span the claim puts in quotation marks (double, or single ones that open and
close at word boundaries), of at least ``MIN_QUOTED_WORDS`` words, must be in the passage or the
question word for word (case, punctuation and spacing aside).

``compares_unsaid``: a claim that compares ("more ... than", "bigger than", "not as ... as",
"outperforms") must have a passage sentence that compares too (a comparative word, "than",
"outperform", "rival", "lead", "ahead", "behind", "gap", "versus", "x faster") and shares at
least ``MIN_COMPARED_WORDS`` of the claim's content words.

Measured on the tuning runs and the shipped set (``evaluation/README.md``, nineteenth pass).
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from assistant.text import claim_words

MIN_QUOTED_WORDS = 2  # a one-word quote is a term ("open"), not a quotation
MIN_COMPARED_WORDS = 2  # of the comparing claim's content words, besides the comparison's own

_WORD = re.compile(r"\w+")
_QUOTED = re.compile(
    r"\"([^\"]+)\"|\u201c([^\u201c\u201d]+)\u201d|(?<![\w'\u2019])['\u2018]([^'\u2018\u2019]+)['\u2019](?!\w)"
)

_COMPARATIVE = (
    r"more|less|fewer|greater|better|worse|bigger|larger|smaller|faster|slower|cheaper|"
    r"costlier|higher|lower|stronger|weaker|safer|easier|harder|newer|older|earlier|later"
)
# In a claim: "more data than", "faster than", "not as powerful as", "outperforms".
_CLAIM_COMPARES = re.compile(
    rf"\b(?:(?:{_COMPARATIVE})\b(?:\s+\S+){{0,4}}?\s+than|not\s+as\s+\w+\s+as|"
    r"outperform\w*|surpass\w*|exceed\w*)\b",
    re.IGNORECASE,
)
# In a passage sentence: any word that sets one thing against another.
_PASSAGE_COMPARES = re.compile(
    rf"\b(?:{_COMPARATIVE}|than|outperform\w*|surpass\w*|exceed\w*|rival\w*|lead\w*|ahead|"
    r"behind|gap|versus|vs|compared|comparable|superior|inferior|\d+(?:\.\d+)?x)\b",
    re.IGNORECASE,
)
_COMPARISON_WORDS = frozenset(claim_words(_COMPARATIVE.replace("|", " ") + " than"))


def says_more(claim: str, passage: str, sentences: Sequence[str], question: str | None) -> bool:
    """The claim quotes or compares where the passage (its ``sentences``) does not."""
    return misquotes(claim, passage, question) or compares_unsaid(claim, sentences)


def misquotes(claim: str, passage: str, question: str | None = None) -> bool:
    """The claim quotes words that neither the passage nor the question has in that order."""
    quotes = [
        _words(next(group for group in match.groups() if group))
        for match in _QUOTED.finditer(claim)
    ]
    quotes = [quoted for quoted in quotes if len(quoted.split()) >= MIN_QUOTED_WORDS]
    if not quotes:  # most claims quote nothing: the passage is not read
        return False
    source = _words(passage) + _words(question or "")
    return any(quoted not in source for quoted in quotes)


def compares_unsaid(claim: str, sentences: Sequence[str]) -> bool:
    """The claim compares two things and no passage sentence about them compares anything."""
    if not _CLAIM_COMPARES.search(claim):
        return False
    said = claim_words(claim) - _COMPARISON_WORDS
    return not any(
        _PASSAGE_COMPARES.search(sentence)
        and len(said & claim_words(sentence)) >= MIN_COMPARED_WORDS
        for sentence in sentences
    )


def _words(text: str) -> str:
    """Lower-case words joined by single spaces and padded, so `in` finds whole words only."""
    return " " + " ".join(_WORD.findall(text.lower())) + " "
