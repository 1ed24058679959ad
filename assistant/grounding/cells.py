"""Table rows read column by column: a claim must not give one column's cell to another.

``tables.readable`` writes each row of a glued table with its column names: "Accuracy - Closed
Models: Leading edge, ~24% higher median scores; Open Models: Competitive, narrowing gap." A
small model copying such a row often swaps the sides ("The thesis rates open models as leading
edge, ~24% higher median scores"), and every word of that sentence is in the row, so word
overlap backs it. ``swaps_columns`` reads the claim clause by clause (split at ";", ",",
"while", "whereas", "but", "compared to"). A clause that names one column (a word of that
column's name no other column's name has: "open", "closed") says something of that column.
When its words match another column's cell better than the named one's (two words or more),
the claim has swapped the cells. When the claim names one column only, the word may be plain
prose ("a milestone"), so the clause must also share nothing with that column's cell.

A claim that names no column, or a row whose column names share all their words, is left to
the other checks.

An enumeration of labels with their members in brackets is read the same way
(``swaps_labels``): "fully proprietary (API-only, no weights — GPT-4, Claude), open-weight
(... — Llama, Mistral), and open-source (... — rare, mostly academic)". A claim that names
members of one label only ("GPT-4 and Claude") and a word that only another label has ("...
fully open-source") gives them the other label, unless it also says every word of their own
("fully proprietary").
"""

from __future__ import annotations

import re

from assistant.grounding.relevance import POSSESSIVE, mentions, names_in
from assistant.tables import row_cells
from assistant.text import claim_stem, claim_words

_WORD = re.compile(r"[^\W_]+")
# Where a claim turns from one side to the other: "...; closed models ...", "..., while ...".
_CLAUSE = re.compile(r"[;,]|\b(?:while|whereas|but|compared (?:to|with))\b", re.IGNORECASE)
MIN_SWAPPED_WORDS = 2  # words of another column's cell that make a swap, more than its own


def swaps_columns(claim: str, sentence: str) -> bool:
    """The claim says of one column what the row ``sentence`` says of another, or gives the
    members of one bracketed label another label (``swaps_labels``)."""
    if swaps_labels(claim, sentence):
        return True
    row = row_cells(sentence)
    if len(row) < 2:
        return False
    names = [claim_words(name) for name, _ in row]
    keys = [name - set().union(*(other for other in names if other is not name)) for name in names]
    if not all(keys):
        return False
    values = [claim_words(value) for _, value in row]
    named = set().union(*names)
    clauses = _sides(claim, keys)
    both_sides = len(set().union(*(columns for _, columns in clauses))) >= 2
    for clause, columns in clauses:
        if len(columns) != 1:
            continue
        (column,) = columns
        said = claim_words(clause) - named
        own = len(said & values[column])
        other = max(len(said & value) for i, value in enumerate(values) if i != column)
        if both_sides and other >= MIN_SWAPPED_WORDS and other > own:
            return True
        # One side named ("milestone" may be a plain word): only a clause that shares nothing
        # with that side's cell.
        if not both_sides and own == 0 and other >= MIN_SWAPPED_WORDS:
            return True
    return False


def _sides(claim: str, keys: list[set[str]]) -> list[tuple[str, set[int]]]:
    """The claim's clauses with the columns each names; a clause that names none goes on with
    the one before ("Closed models: competitive, narrowing gap" says both of closed models)."""
    sides: list[tuple[str, set[int]]] = []
    for clause in _CLAUSE.split(claim):
        columns = _columns_named(clause, keys)
        if not columns and sides:
            before, columns = sides.pop()
            clause = f"{before} {clause}"
        sides.append((clause, columns))
    return sides


# "  • Anthropic Claude: Uses a “constitution” ...": a list item led by the name it is about.
_ITEM = re.compile(r"^\s*[-*\u2022]\s*([^:]{2,40}):\s+\S")
ITEM_LABEL_WORDS = 4


def swaps_cells(claim: str, sentences: list[str], evidence: set[int]) -> bool:
    """The claim swaps the columns of one of its ``evidence`` sentences (``swaps_columns``),
    or the named items of their list (``swaps_items``)."""
    swapped = any(swaps_columns(claim, sentences[i]) for i in evidence)
    return swapped or swaps_items(claim, sentences, evidence)


def swaps_items(claim: str, sentences: list[str], evidence: set[int]) -> bool:
    """The claim gives what one named item of a list says to another item's name.

    "Gemini's safety layer uses a constitution of ethical principles" is backed word for word
    by "• Anthropic Claude: Uses a “constitution” of ethical principles to guide outputs." in a
    list that also has "• Google Gemini: Integrated safety layers ...": the claim names the
    other item (a name of its label) and no word of its evidence's label.
    """
    if not any(_item_label(sentences[i]) for i in evidence):
        return False  # the usual case: the evidence is no named list item
    labels = {i: _item_label(sentence) for i, sentence in enumerate(sentences)}
    labels = {i: label for i, label in labels.items() if label}
    for i in evidence & set(labels):
        if any(mentions(claim, word) for word in _naming_words(labels[i])):
            continue  # the claim names its evidence's item ("Claude ..., unlike Gemini")
        others = (label for j, label in labels.items() if j != i)
        if any(mentions(claim, name) for label in others for name in _label_names(label)):
            return True
    return False


def _item_label(sentence: str) -> str:
    """The name that leads a bulleted list item ("• Google Gemini: ..."), or "" when the lead
    is no name ("• Cost: ..."), is too long to be a label, or the line is no list item (a
    heading "📊 Comparison: Open vs Closed", a table row "Cost - Open Models: ...")."""
    match = _ITEM.match(sentence)
    if not match or len(match.group(1).split()) > ITEM_LABEL_WORDS:
        return ""
    return match.group(1) if _label_names(match.group(1)) else ""


def _label_names(label: str) -> list[str]:
    """The names in a label (``names_in``), and its first word when its shape makes it one
    ("OpenAI's gpt-oss models", "LLaMA 2"), which ``names_in`` leaves out as a sentence's opener."""
    first = POSSESSIVE.sub("", label.split()[0])
    shaped = any(ch.isupper() for ch in first[1:]) or any(ch.isdigit() for ch in first)
    return [first] * shaped + names_in(label, codes=True)


def _naming_words(label: str) -> list[str]:
    """The words of a label that could name its item: capitalised, with a digit or hyphenated
    ("Meta", "LLaMA", "GPT-4", "gpt-oss"), not "models" or "in" of "OpenAI's gpt-oss models"."""
    words = (POSSESSIVE.sub("", word) for word in label.split())
    return [w for w in words if w != w.lower() or any(ch.isdigit() for ch in w) or "-" in w]


def _columns_named(clause: str, keys: list[set[str]]) -> set[int]:
    stems = {claim_stem(word.lower()) for word in _WORD.findall(clause)}
    return {column for column, key in enumerate(keys) if stems & key}


# "open-weight (weights released ... — Llama, Mistral)": a short label and its bracketed members.
_LABELLED = re.compile(r"(?:^|[:;,]\s*|\band\s+)([^():;,]{2,40}?)\s*\(([^()]{3,})\)")


def swaps_labels(claim: str, sentence: str) -> bool:
    """The claim names members of one label of the sentence's bracketed enumeration and gives
    them a word only another label has; see the module docstring."""
    labelled = [
        (label, claim_words(members), names_in(members, codes=True))
        for label, members in _LABELLED.findall(sentence)
        if len(label.split()) <= 4
    ]
    if len(labelled) < 2:
        return False
    said = claim_words(claim)
    owners = {
        i for i, (_, _, names) in enumerate(labelled) if any(mentions(claim, n) for n in names)
    }
    if len(owners) != 1:
        return False
    (own,) = owners
    label, members, _ = labelled[own]
    others = set().union(*(claim_words(o) for i, (o, _, _) in enumerate(labelled) if i != own))
    foreign = others - claim_words(label) - members
    return bool(said & foreign) and not _says_phrase(claim, label)


def _says_phrase(claim: str, phrase: str) -> bool:
    """The claim has the phrase's words together, in order, however hyphenated or made plural:
    "open-weight" in "Llama is an open weight model", not in "its weights are open"."""
    words = [re.escape(word) for word in _WORD.findall(phrase.lower())]
    together = r"[\s-]+".join(words)
    return bool(words) and re.search(rf"\b{together}s?\b", claim.lower()) is not None
