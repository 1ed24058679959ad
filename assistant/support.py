"""Does a passage support a sentence? A CPU-only checker, no judge model.

The evaluation uses it for citation precision and recall, and the answer pipeline can use it to
verify citations as they are made, so it lives in the library and answers in milliseconds.

The rule (``overlap+embedding+question-v2``), for an answer sentence S (citation markers
removed), a passage P and, when known, the question Q the sentence answers:

- **content words** are lower-cased word tokens minus stop words (English, Hindi and romanised
  Hindi function words, and words that only point at the context such as "passage" or
  "according"), with light suffix stripping so "labeling", "labelling", "labels" and "labeled"
  all become "label". Devanagari tokens are kept whole (no stripping); numbers are kept exactly
  (thousands separators removed).
- **overlap** = share of S's content words that occur anywhere in P (0 when S has none).
- **similarity** = the highest cosine similarity between S and one sentence of P, with the
  embedder the index uses; that passage sentence is ``best_sentence``.
- **answer overlap** (only with Q) = share of S's *answer words*, its content words that are not
  in Q, that occur in P. Words an answer repeats from its question claim nothing, so "The library
  that came out of the Intel partnership is called Optimum Intel" is judged by "optimum" alone.
- **supported** when every number in S occurs in P, and overlap >= ``min_overlap`` (0.85) or
  similarity >= ``min_similarity`` (0.85) or answer overlap >= ``min_answer_overlap`` (0.75)
  with at least one answer word that is not a number.

Overlap catches a faithful answer that merges two passage sentences (no single sentence is
similar enough); similarity catches a paraphrase with few shared words; answer overlap catches
an answer that restates a paraphrased question around words the passage does contain. The number
rule rejects the commonest small-model error, a wrong year or count in an otherwise
well-matching sentence; an answer whose only new word is a number ("founded in 2023") must meet
one of the first two clauses, because a year somewhere in an on-topic passage is weak evidence.

The thresholds were tuned on the 61 hand-labelled pairs in ``evaluation/support_labels.jsonl``
(grid search for Cohen's kappa). A third, conjunctive clause (moderate overlap *and* moderate
similarity) was tried and dropped: no setting of it raised accuracy on those labels, because
each one that rescued a paraphrase also admitted topic-sharing but unsupported sentences
("The most critical dimension ... is governance" against a passage that merely lists
governance). The answer-overlap clause admits that last kind when the question asks for exactly
that word ("What is the most critical dimension?" "... is governance."): on the labels it costs
two pairs (kappa 0.907 without questions, 0.823 with them), and on the shipped questions it
halves the answerable questions refused for want of support (evaluation/README.md).
Agreement is reported there; ``assistant eval checker`` recomputes it.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

import numpy as np

CHECKER_NAME = "overlap+embedding+question-v2"

# The same marker syntax the answer parser reads: [1], [2, 3], [1; 4].
MARKER = re.compile(r"\[(\d{1,2}(?:\s*[,;]\s*\d{1,2})*)\]")

# Word characters, plus combining marks that Python's \w leaves out (Devanagari vowel signs,
# Latin diacritics), so "करते" stays one token. The danda (U+0964/5) is punctuation.
_WORD = re.compile(r"\d+(?:[.,]\d+)*|(?:[^\W_]|[\u0300-\u036f\u0900-\u0963\u0966-\u097f])+")
_NUMBER = re.compile(r"\d+(?:[.,]\d+)*")
_SENTENCE_BREAK = re.compile(r"(?<=[.!?\u0964\u0965])[\"'\u201d\u2019)\]]*\s+|\s*\n\s*")
_ABBREVIATIONS = ("e.g.", "i.e.", "vs.", "etc.", "approx.", "mr.", "ms.", "dr.", "u.s.", "no.")
_ONLY_MARKERS = re.compile(r"^(?:\s*\[\d{1,2}(?:\s*[,;]\s*\d{1,2})*\])+[\s.,;:!?]*$")
_LEADING_MARKERS = re.compile(r"^((?:\s*\[\d{1,2}(?:\s*[,;]\s*\d{1,2})*\])+[.,;:!?]?)\s*")

# English, Hindi and romanised Hindi function words, and words that only point at the context.
_STOP_TEXT = """
    a about above after again against all also am an and any are aren as at be because been
    before being below between both but by can cannot could did do does doing don down during
    each either few for from further had has have having he her here hers him his how however i
    if in into is isn it its itself just like may me might more most much must my neither no nor
    not of off on once one only or other our ours out over own same shall she should so some
    such than that the their theirs them then there these they this those through thus to too
    under until up upon us very via was wasn we were what when where whether which while who
    whom whose why will with within without would yes yet you your yours according context
    document documents passage passages text texts mention mentions mentioned state states
    stated say says said describe describes described provide provides है हैं था थे थी का की के
    को में से और या कि यह ये वह वे जो भी पर तो एक नहीं लिए साथ तक जैसे करते करता करती करना होता
    होती होते हो रहा रहे रही गया गई कर इस उस इन उन hai hain ka ki ke ko mein se aur ya kya yeh
    ye woh jo bhi par toh nahi nahin liye saath karte karta karti hota hoti hote
"""
STOP_WORDS = frozenset(_STOP_TEXT.split())
_SUFFIXES = ("ations", "ation", "ings", "ing", "edly", "ed", "ies", "es", "s", "ly")


class Embedder(Protocol):
    name: str

    def embed(self, texts: list[str]) -> np.ndarray:
        """Unit-length float32 vectors, one row per text."""


@dataclass(frozen=True)
class SupportDecision:
    supported: bool
    overlap: float  # share of the sentence's content words found in the passage
    similarity: float  # cosine similarity to the best-matching passage sentence
    best_sentence: str  # that passage sentence, for highlighting
    answer_overlap: float | None = None  # share of the words not taken from the question found


def strip_markers(text: str) -> str:
    """The text without citation markers and the space before them."""
    return re.sub(r"\s+([.,;:!?])", r"\1", MARKER.sub("", text)).strip()


def markers_in(text: str) -> list[int]:
    """Every citation number in the text, in order, repeats kept ("[1, 2]" gives 1 and 2)."""
    return [int(n) for match in MARKER.finditer(text) for n in re.split(r"[,;]", match.group(1))]


def split_sentences(text: str) -> list[str]:
    """Sentences of a passage: breaks after . ! ? and the danda, and at every line break."""
    pieces: list[str] = []
    for piece in _SENTENCE_BREAK.split(text):
        piece = piece.strip()
        if not piece:
            continue
        if pieces and _ends_without_sentence(pieces[-1]):
            pieces[-1] = f"{pieces[-1]} {piece}"
        else:
            pieces.append(piece)
    return pieces


def _ends_without_sentence(piece: str) -> bool:
    """A full stop that ends an abbreviation ("e.g.") or a list number ("4.") ends no sentence."""
    last = piece.rsplit(None, 1)[-1].lower()
    return last in _ABBREVIATIONS or bool(re.fullmatch(r"\(?\d{1,2}\.", last))


def split_answer_sentences(text: str) -> list[str]:
    """Sentences of an answer with their citation markers kept.

    A marker written after the full stop ("... in 2015. [1] Next") belongs to the sentence
    before it, and a piece made only of markers is appended to the previous sentence.
    """
    sentences: list[str] = []
    for piece in split_sentences(text):
        leading = _LEADING_MARKERS.match(piece)
        if leading and sentences:
            sentences[-1] = f"{sentences[-1]} {leading.group(1).strip()}"
            piece = piece[leading.end() :].strip()
        if not piece:
            continue
        if _ONLY_MARKERS.match(piece) and sentences:
            sentences[-1] = f"{sentences[-1]} {piece}"
        else:
            sentences.append(piece)
    return sentences


def stem(word: str) -> str:
    """Light suffix stripping for Latin-script words; other scripts and numbers are kept."""
    if not word.isascii() or not word.isalpha() or len(word) <= 2:
        return word
    for suffix in _SUFFIXES:
        if not word.endswith(suffix) or len(word) - len(suffix) < 2:
            continue
        if (suffix == "s" and word.endswith(("ss", "us", "is"))) or word.endswith("eed"):
            continue  # class, status, analysis; need, agreed keep their letters
        word = word[: -len(suffix)] + ("y" if suffix == "ies" else "")
        break
    if len(word) > 3 and word[-1] == word[-2] and word[-1] not in "aeiou":
        word = word[:-1]  # labell -> label, stopp -> stop
    if len(word) > 2 and word.endswith("e"):
        word = word[:-1]  # use/uses/using/used -> us
    return word


def content_words(text: str) -> set[str]:
    """Stemmed content words of a text (numbers exact, stop words removed)."""
    text = unicodedata.normalize("NFC", text).lower()
    words = set()
    for token in _WORD.findall(text):
        if _NUMBER.fullmatch(token):
            words.add(token.replace(",", ""))
        elif token not in STOP_WORDS and (len(token) > 1 or not token.isascii()):
            words.add(stem(token))
    return words


def numbers_in(text: str) -> set[str]:
    return {n.replace(",", "") for n in _NUMBER.findall(unicodedata.normalize("NFC", text))}


class SupportChecker:
    """Decides whether a passage supports an answer sentence; see the module docstring."""

    name = CHECKER_NAME

    def __init__(
        self,
        embedder: Embedder,
        *,
        min_overlap: float = 0.85,
        min_similarity: float = 0.85,
        min_answer_overlap: float = 0.75,
        cache_size: int = 4096,
    ) -> None:
        self.embedder = embedder
        self.min_overlap = min_overlap
        self.min_similarity = min_similarity
        self.min_answer_overlap = min_answer_overlap
        self._cache: dict[str, np.ndarray] = {}
        self._cache_size = cache_size

    def thresholds(self) -> dict[str, float]:
        return {
            "min_overlap": self.min_overlap,
            "min_similarity": self.min_similarity,
            "min_answer_overlap": self.min_answer_overlap,
        }

    def describe(self) -> str:
        return (
            f"{self.name} with {self.embedder.name}: supported when the passage has every "
            f"number of the sentence and (content-word overlap >= {self.min_overlap} or "
            f"similarity to its best-matching sentence >= {self.min_similarity} or, given the "
            f"question, overlap of the words not taken from it >= {self.min_answer_overlap})"
        )

    def check(self, sentence: str, passage: str, *, question: str | None = None) -> SupportDecision:
        return self.check_many([(sentence, passage)], question=question)[0]

    def check_many(
        self, pairs: Sequence[tuple[str, str]], *, question: str | None = None
    ) -> list[SupportDecision]:
        """Decisions for many (sentence, passage) pairs, embedding each distinct text once.

        ``question``, when given, is the question every sentence answers (the answer-overlap
        clause of the rule); without it the rule is the question-free one.
        """
        claims = [_clean(sentence) for sentence, _ in pairs]
        candidates = [split_sentences(passage) or [passage.strip()] for _, passage in pairs]
        self._embed_missing([*claims, *(s for group in candidates for s in group)])
        asked = content_words(question) if question else None
        return [
            self._decide(claim, passage, group, asked)
            for claim, (_, passage), group in zip(claims, pairs, candidates, strict=True)
        ]

    def _decide(
        self, claim: str, passage: str, candidates: list[str], asked: set[str] | None
    ) -> SupportDecision:
        claim_words = content_words(claim)
        passage_words = content_words(passage)
        overlap = len(claim_words & passage_words) / len(claim_words) if claim_words else 0
        answer_overlap = None
        answer_words = claim_words - asked if asked is not None else set()
        if answer_words and not all(_NUMBER.fullmatch(word) for word in answer_words):
            answer_overlap = len(answer_words & passage_words) / len(answer_words)
        vector = self._cache[claim]
        scores = [float(vector @ self._cache[candidate]) for candidate in candidates]
        best = int(np.argmax(scores)) if scores else 0
        similarity = scores[best] if scores else 0.0
        numbers_ok = numbers_in(claim) <= numbers_in(passage)
        supported = numbers_ok and (
            overlap >= self.min_overlap
            or similarity >= self.min_similarity
            or (answer_overlap is not None and answer_overlap >= self.min_answer_overlap)
        )
        return SupportDecision(
            supported=bool(supported and claim),
            overlap=round(float(overlap), 4),
            similarity=round(similarity, 4),
            best_sentence=candidates[best] if candidates else "",
            answer_overlap=None if answer_overlap is None else round(answer_overlap, 4),
        )

    def _embed_missing(self, texts: list[str]) -> None:
        missing = list(dict.fromkeys(t for t in texts if t not in self._cache))
        if not missing:
            return
        if len(self._cache) + len(missing) > self._cache_size:
            self._cache.clear()  # simpler than LRU; a batch is always embedded whole
            missing = list(dict.fromkeys(texts))
        vectors = self.embedder.embed(missing)
        self._cache.update(zip(missing, np.asarray(vectors, dtype=np.float32), strict=True))


def _clean(sentence: str) -> str:
    """The claim a sentence makes: markers and list bullets removed, whitespace collapsed."""
    text = strip_markers(sentence)
    text = re.sub(r"^\s*(?:[-*\u2022]|\d{1,2}[.)])\s+", "", text)
    return " ".join(unicodedata.normalize("NFC", text).split())


def agreement(checker: SupportChecker, labelled: Sequence[dict]) -> dict:
    """Accuracy and Cohen's kappa of the checker against hand labels.

    Each labelled item is ``{"sentence", "passage", "label": bool}``, with an optional
    ``"question"`` the sentence answers; kappa corrects accuracy for the agreement two raters
    with these label rates would reach by chance.
    """
    predicted = [
        checker.check(item["sentence"], item["passage"], question=item.get("question")).supported
        for item in labelled
    ]
    truth = [bool(item["label"]) for item in labelled]
    n = len(truth)
    if not n:
        return {"pairs": 0, "accuracy": None, "kappa": None}
    observed = sum(p == t for p, t in zip(predicted, truth, strict=True)) / n
    p_yes, t_yes = sum(predicted) / n, sum(truth) / n
    chance = p_yes * t_yes + (1 - p_yes) * (1 - t_yes)
    kappa = (observed - chance) / (1 - chance) if chance < 1 else None
    return {
        "pairs": n,
        "supported": sum(truth),
        "accuracy": round(observed, 4),
        "kappa": round(kappa, 4) if kappa is not None else None,
        "false_supported": sum(p and not t for p, t in zip(predicted, truth, strict=True)),
        "false_unsupported": sum(t and not p for p, t in zip(predicted, truth, strict=True)),
    }
