"""Numbers in a claim and its passage: what must match, and what counts as the same number.

The support checker (``support.py``) rejects a sentence with a number its passage does not
hold: a wrong year or count is the commonest error of a small model. Digits are read by
``text.numbers_in``; this module adds counts written as words, rounding, and what a number
measures: the passage's "$191 million" is not "191 million parameters", nor its "24.2%" 24
benchmarks.
"""

from __future__ import annotations

import re
import unicodedata

from assistant.text import NUMBER, claim_words, numbers_in

# Counts written as words are numbers too: "two lawsuits" needs a 2 or a "two" in the passage.
# ("one" is left out: "one of the first" counts nothing.)
_COUNTS = "two three four five six seven eight nine ten eleven twelve"
_COUNT_WORDS = {word: str(value) for value, word in enumerate(_COUNTS.split(), start=2)}
_COUNT_WORD = re.compile(rf"\b(?:{'|'.join(_COUNT_WORDS)})\b", re.IGNORECASE)


def counted_in_words(text: str) -> set[str]:
    """The counts a text writes as words, "two" to "twelve", as numbers ("2" to "12")."""
    return {_COUNT_WORDS[word.lower()] for word in _COUNT_WORD.findall(text)}


# A count the claim spells out itself: "two versions: 20B and 120B", "three kinds (A, B and C)",
# "two named methods for making AI safer: Constitutional AI (Anthropic) and RLHF (OpenAI)".
_LISTED = re.compile(
    rf"\b({'|'.join(_COUNT_WORDS)})\b(?:\s+[\w-]+){{0,10}}?"
    r"\s*(?:[:\u2013\u2014-]\s*([^.;]+)|\(([^.;)]+)\))",
    re.IGNORECASE,
)
_ITEM_BREAK = re.compile(r",\s*(?:and|or)\s+|,\s*|\s+(?:and|or)\s+")
_BRACKETED = re.compile(r"\s*\([^()]*\)")  # "(Anthropic)" of an item: no item of its own


def given_numbers(passage: str) -> set[str]:
    """The numbers a passage gives, in digits or as count words."""
    return numbers_in(passage) | counted_in_words(passage)


def claimed_counts(claim: str, question: str | None = None) -> set[str]:
    """The counts a claim writes as words, less those its question gives ("its three case
    studies") and those it lists the items of itself ("two versions: 20B and 120B")."""
    listed = {
        _COUNT_WORDS[match[1].lower()]
        for match in _LISTED.finditer(claim)
        if _items(match[2] or match[3]) == int(_COUNT_WORDS[match[1].lower()])
    }
    return counted_in_words(claim) - counted_in_words(question or "") - listed


def _items(listed: str) -> int:
    """How many items a list names ("A (a), B and C" names three)."""
    return len([item for item in _ITEM_BREAK.split(_BRACKETED.sub("", listed)) if item.strip()])


def numbers_found(claimed: set[str], passage: set[str]) -> bool:
    """Every number of a sentence is in the passage, or is a passage number rounded ("24")."""

    def rounded(number: str) -> bool:
        places = len(number.partition(".")[2])
        return any(
            len(given.partition(".")[2]) > places and round(float(given), places) == float(number)
            for given in passage
        )

    return all(number in passage or rounded(number) for number in claimed)


_CURRENCY_SIGN = "[$€£¥₹]"
_MAGNITUDES = {
    "k": "thousand",
    "m": "million",
    "mn": "million",
    "b": "billion",
    "bn": "billion",
    "t": "trillion",
    "tn": "trillion",
}
_MAGNITUDE = re.compile(r"(?<![^\W_])\d+(?:[.,]\d+)*(k|mn|m|bn|b|tn|t)\b")  # not "8x7B"


# Not "≈" for "about": "GPT-4 Turbo cost approximately $78 million" would then pass on
# "GPT‑4 training cost ≈ $78 million" (fresh30l q488), the claim's only other new word a name's.
_SYMBOLS = {
    "<": "less under below fewer",
    "≤": "less under below fewer",
    ">": "more over above greater",
    "≥": "more over above greater",
}
_SYMBOL = re.compile(rf"([{''.join(_SYMBOLS)}])\s*{_CURRENCY_SIGN}?\s*\d")


def number_words(text: str) -> set[str]:
    """The words a text writes as letters or signs around its numbers, as claim words: "$5M"
    says "million", "405B" "billion", "<$6 million" "less". A passage's "$5M–$10M" backs a
    claim's "$5 million to $10 million", and its "<$6 million" a claim's "less than $6
    million"."""
    said = [_MAGNITUDES[found] for found in _MAGNITUDE.findall(text.lower())]
    said += [_SYMBOLS[found] for found in _SYMBOL.findall(text)]
    return claim_words(" ".join(said))


_CURRENCY_WORD = r"dollars?|euros?|pounds?|usd|eur|yen|rupees?|crores?|lakhs?"
# A sum of money: a currency sign or word ("$5", "5 million euros").
MONEY = re.compile(rf"{_CURRENCY_SIGN}|\b(?:{_CURRENCY_WORD})\b", re.IGNORECASE)
_CURRENCY_BEFORE = re.compile(rf"{_CURRENCY_SIGN}\s*[<>≈~]?\s*\Z")
_CURRENCY_AFTER = re.compile(
    rf"\s*(?:k|m|bn|b|mn|thousand|million|billion|trillion)?\s*(?:{_CURRENCY_WORD})\b",
    re.IGNORECASE,
)
_PERCENT_AFTER = re.compile(r"\s*(?:%|percent\b|per cent\b)", re.IGNORECASE)
_SAYS_TIMES = re.compile(r"\d\s*(?:times|[x×])(?!\w)|\b(?:twice|double|triple)\b", re.IGNORECASE)
_ITEM_NUMBER_AFTER = re.compile(r"[.)]\s")
# A multiple: "2x faster", "80× cheaper", "tenfold", "3 times more" (not "8x7B", "won 5 times").
_MULTIPLE_AFTER = re.compile(
    r"\s?[x×](?!\w)|-?fold\b|\s*times (?:more|less|fewer|faster|slower|cheaper|larger|bigger"
    r"|smaller|higher|lower|greater|as)\b",
    re.IGNORECASE,
)
# A sentence that speaks of money may drop the currency sign: "GPT-4 cost 78 million to train".
_SPEAKS_OF_MONEY = re.compile(
    rf"\b(?:{_CURRENCY_WORD}|costs?|costing|price[ds]?|paid|pay|spen[dt]"
    r"|funding|raised|revenues?|budgets?|invest\w*|fees?)\b",
    re.IGNORECASE,
)


def measures(number: str, text: str) -> list[str | None]:
    """What each occurrence of the number in the text measures: "money", "percent", "multiple"
    or None."""
    text = unicodedata.normalize("NFC", text)
    found = []
    for match in NUMBER.finditer(text):
        before, after = text[max(0, match.start() - 4) : match.start()], text[match.end() :]
        line_start = text[: match.start()].rpartition("\n")[2]
        of_a_name = line_start[-1:].isalpha()  # "Gaudi2"
        item_number = not line_start.strip() and bool(_ITEM_NUMBER_AFTER.match(after))  # "2. "
        if match[0].replace(",", "") != number or of_a_name or item_number:
            continue
        if _CURRENCY_BEFORE.search(before) or _CURRENCY_AFTER.match(after):
            found.append("money")
        elif _PERCENT_AFTER.match(after):
            found.append("percent")
        else:
            found.append("multiple" if _MULTIPLE_AFTER.match(after) else None)
    return found


def measures_differ(claim: str, passage: str) -> bool:
    """A number of the claim measures something else in the passage: every occurrence there is
    money and the claim's is not (nor does the claim speak of money), every one is a percentage
    (or a multiple, "2x faster") and the claim's is not, or the claim's is a percentage and none
    there is. "2 Gaudi2 chips were used" is not backed by "2x faster"; "80 times cost reduction"
    is by "80x cost reduction"."""
    for number in numbers_in(claim):
        said, given = measures(number, claim), measures(number, passage)
        if not said or not given:
            continue
        money_said = "money" in said or bool(_SPEAKS_OF_MONEY.search(claim))
        if not money_said and all(kind == "money" for kind in given):
            return True
        if "percent" in said and "percent" not in given:
            return True
        if "percent" not in said and all(kind == "percent" for kind in given):
            return True
        multiple_said = "multiple" in said or bool(_SAYS_TIMES.search(claim))
        if not multiple_said and all(kind == "multiple" for kind in given):
            return True
    return False
