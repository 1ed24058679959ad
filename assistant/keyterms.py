"""Key terms: the words a question is about, weighted by how rare they are in the corpus.

A passage can support a sentence and still be about something other than what was asked
("where does the name Mistral come from?" answered from a passage on the origin of another
name). What tells the two apart is the question's rare words: names, products, technical terms.
``KeyTerms`` holds the question's keyword terms (``text.keyword_terms``, the words BM25 uses)
with their inverse document frequency over the indexed passages, and ``coverage`` says which
weighted share of them a text contains. Generic words ("model", "open") weigh little, names
weigh most.

Abbreviations meet their spelled-out form both ways: "LLMs" in a question is covered by "large
language models" in a passage (its initials), and "European Union" in a question by "EU" in a
passage. Question words the corpus never uses (a misspelling, or a name it does not know) carry
no weight here and are listed in ``unknown``; whether an unknown name means "not mentioned" is
for the refusal decision to weigh.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from assistant.text import claim_words, keyword_stem, keyword_terms, word_set

_ACRONYM = re.compile(r"\b([A-Z][A-Z0-9]{1,5})(s?)\b")
_WORD = re.compile(r"[^\W\d_]+")
_SKIPPED_IN_INITIALS = frozenset(["of", "and", "the", "for", "in", "on", "to", "a", "an", "&"])

Frequencies = Callable[[list[str]], dict[str, int]]
# How a question asks, not what about: "pull together everything", "give an overview".
REQUEST_WORDS = word_set("together everything anything pull gather summarise summarize overview")
REQUEST_TERMS = frozenset(map(keyword_stem, REQUEST_WORDS))
RARE_NAME = 0.7  # share of a one-passage word's weight that makes a name rare (``is_rare``)


def asks_only(term: str) -> bool:
    """A keyword term that says how the question asks, not what it is about: a lone letter
    left of a possessive or a contraction ("Google's" gives "s"), or a request word ("pull
    together everything on ...", "an overview of ...")."""
    return (len(term) == 1 and term.isalpha()) or term in REQUEST_TERMS


def idf(document_frequency: int, documents: int) -> float:
    """BM25's (Lucene's) inverse document frequency, always positive."""
    return math.log(1 + (documents - document_frequency + 0.5) / (document_frequency + 0.5))


def acronyms(text: str) -> list[str]:
    """Upper-case abbreviations in the text, plural "s" dropped: "LLMs" -> "LLM"."""
    return [match.group(1) for match in _ACRONYM.finditer(text) if match.group(1).isalpha()]


def spelled_out(acronym: str, text: str) -> list[str] | None:
    """The words of ``text`` whose initials spell ``acronym`` ("EU" -> European Union), or None.

    Small words may sit inside the phrase or not ("Bureau of Investigation"); at least two
    words must make the match, so one word starting with the letter is not an expansion.
    """
    letters = acronym.lower()
    if len(letters) < 2:
        return None
    words = _WORD.findall(text.lower())
    for start, word in enumerate(words):
        if not _initial_matches(word, letters[0]):
            continue
        matched, position = [], start
        for letter in letters:
            while position < len(words) and words[position] in _SKIPPED_IN_INITIALS and matched:
                position += 1
            if position >= len(words) or not _initial_matches(words[position], letter):
                break
            matched.append(words[position])
            position += 1
        else:
            return matched
    return None


def spelled_out_words(text: str, passage: str) -> set[str]:
    """The content words (``text.claim_words``) of the text's abbreviations that the passage
    spells out: "hf" of "The HF Hub hosts datasets" in a passage on the "Hugging Face Hub"."""
    spelled = [name for name in acronyms(text) if spelled_out(name, passage) is not None]
    return claim_words(" ".join(spelled))


def _initial_matches(word: str, letter: str) -> bool:
    """The word starts with the letter; an X also stands for "ex" (AMX: Advanced Matrix
    Extensions)."""
    return word[0] == letter or (letter == "x" and word.startswith("ex"))


@dataclass(frozen=True)
class KeyTerms:
    """The question's keyword terms with their corpus weights; see the module docstring."""

    question: str
    weights: dict[str, float]  # term -> idf (terms the corpus uses)
    unknown: tuple[str, ...] = ()  # terms no passage uses
    acronyms: dict[str, str] | None = None  # term -> the acronym it came from ("llm" -> "LLM")
    documents: int = 0  # the passages the weights were counted over

    @classmethod
    def of(
        cls,
        question: str,
        frequencies: Frequencies,
        documents: int,
        *,
        terms: list[str] | None = None,
    ) -> KeyTerms:
        """The key terms of ``question`` (or of its ``terms`` as searched, misspellings fixed)."""
        terms = keyword_terms(question) if terms is None else terms
        terms = list(dict.fromkeys(t for t in terms if not asks_only(t)))
        counts = frequencies(terms) if terms and documents else {}
        weights = {t: idf(counts[t], documents) for t in terms if counts.get(t, 0) > 0}
        found = {keyword_stem(a.lower()): a for a in acronyms(question)}
        unknown = tuple(t for t in terms if t not in weights)
        # An abbreviation the corpus never uses may still be spelled out in it: weigh it as rare.
        rare = idf(1, documents) if documents else 1.0
        for term in unknown:
            if term in found:
                weights[term] = rare
        unknown = tuple(t for t in unknown if t not in found)
        return cls(question, weights, unknown, found, documents)

    @property
    def total(self) -> float:
        return sum(self.weights.values())

    @property
    def focus(self) -> str | None:
        """The rarest term: usually the name the question is about."""
        return max(self.weights, key=self.weights.get) if self.weights else None

    def found_in(self, texts: Iterable[str]) -> set[str]:
        """The key terms the texts contain, abbreviations matched to their expansions."""
        text = "\n".join(texts)
        present = set(keyword_terms(text)) & set(self.weights)
        for term, acronym in (self.acronyms or {}).items():
            if term in self.weights and term not in present and spelled_out(acronym, text):
                present.add(term)
        for acronym in set(acronyms(text)):
            phrase = spelled_out(acronym, self.question)
            if phrase:
                present |= {keyword_stem(w) for w in phrase} & set(self.weights)
        return present

    def coverage(self, *texts: str) -> float:
        """Weighted share of the key terms the texts contain (1.0 when there are none)."""
        if not self.weights:
            return 1.0
        present = self.found_in(texts)
        return sum(self.weights[t] for t in present) / self.total

    def is_rare(self, name: str) -> bool:
        """One of the name's words is in few passages: its weight is at least RARE_NAME of a
        word in one passage's (about documents ** 0.3 passages or fewer: "DeepSeek" and "ONNX"
        in the default corpus, not "GPT-4", "Claude", "Meta" or "APIs")."""
        weights = [self.weights.get(term, 0.0) for term in keyword_terms(name)]
        single = idf(1, self.documents) if self.documents else math.inf
        return max(weights, default=0.0) >= RARE_NAME * single

    def covers_focus(self, *texts: str) -> bool:
        """The texts hold the rarest term, or one of the rarest when several tie ("sing",
        "theme" and "happy" each in one passage: any of them will do)."""
        if not self.weights:
            return True
        rarest = max(self.weights.values())
        tied = {term for term, weight in self.weights.items() if weight >= rarest - 1e-9}
        return bool(tied & self.found_in(texts))
