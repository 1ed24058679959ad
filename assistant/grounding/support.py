"""Does a passage support a sentence? A CPU-only checker, no judge model.

The evaluation uses it for citation precision and recall, the answer pipeline to verify citations.

The rule (``overlap+embedding+question-v3``), for an answer sentence S (citation markers
removed), a passage P and, when known, the question Q the sentence answers:

- **content words** (``text.claim_words``) are lower-cased word tokens minus stop words
  (English, Hindi and romanised Hindi function words, and words that only point at the context
  such as "passage" or "according"), with light suffix stripping so "labeling", "labelling",
  "labels" and "labeled" all become "label". Devanagari tokens are kept whole (no stripping);
  numbers are kept exactly (thousands separators removed).
- **overlap** = share of S's content words that occur anywhere in P (0 when S has none).
- **similarity** = the highest cosine similarity between S and one sentence of P, with the
  embedder the index uses; that passage sentence is ``best_sentence``.
- **answer overlap** (only with Q) = share of S's *answer words*, its content words that are not
  in Q, that occur in P. Words an answer repeats from its question claim nothing, so "The library
  that came out of the Intel partnership is called Optimum Intel" is judged by "optimum" alone.
- **supported** when every number in S occurs in P, and overlap >= ``min_overlap`` (0.85) or
  similarity >= ``min_similarity`` (0.85) or answer overlap >= ``min_answer_overlap`` (0.75)
  with at least one answer word that is not a number. Counts written as words ("two" to
  "twelve") are numbers too (``-v3``): "Two copyright lawsuits have been filed" needs a 2 or a
  "two" in the passage, unless the question says it ("its three case studies").

**Echoes** (``-v3``). With the question known, a sentence whose content words are all the
question's ("The Stanford AI Index 2024 used 10 benchmarks to compare open and closed models."
for "Which 10 benchmarks did it use?") says nothing the question did not, and is not supported
whatever the passage holds. A yes/no or either-or question ("Is GPT-2 open?", "Which is
faster, open or closed?") may be answered in its own words, so its answers are not held to this
(``relevance.answerable_in_its_words``).

Overlap catches an answer merging two passage sentences; similarity, a paraphrase with few
shared words; answer overlap, a paraphrased question restated around the passage's words. The
number rule rejects a wrong year or count in an otherwise matching sentence; an answer whose
only new word is a number ("founded in 2023") must meet one of the first two clauses.
Unless (``numbers-v5``) one passage sentence holds the number with every other claim word the
passage has, and the words it lacks are the question's own: "Meta put out the 405B LLaMA 3 in
2024" for "what year did Meta put out the 405B LLaMA 3?" from "LLaMA 3 (2024): Meta's 405B
parameter model ..." (``attribution.number_in_its_sentence``).

Thresholds: tuned on hand-labelled pairs (``evaluation/support_labels.jsonl``, Cohen's kappa;
``assistant eval checker`` recomputes it). A conjunctive clause (moderate overlap *and*
similarity) admitted topic-sharing, unsupported sentences; the answer-overlap clause ("... is
governance." for "What is the most critical dimension?") costs two labelled pairs and halves
the shipped answerable questions refused for want of support (evaluation/README.md).

**Relevance** (``-relevance-v4``). With the question known, a backed pair also has to be about
the question: relevance = the cosine of question and claim (or of question and claim read with
the passage sentence that backs it, when higher, so "24.2%." is judged in context) plus 0.2
times the share of the question's rarity-weighted key terms (``keyterms.py``) that claim and
passage hold, halved when neither holds the rarest of them (``-v3``: the question's focus, so
"The name Llama comes from the animal" covering "name" and "come" is not taken for an answer
to "Where does the name Mistral come from?"; on the hand labels this raised relevance agreement
from 0.600 to 0.636). Below ``min_relevance`` (0.5) the pair is backed (``backed``) but not
supported, unless (``-v4``, ``sections.py``) the question points at the passage's section by
its heading ("In its comparative analysis, ..."). On the 55 pairs labelled for it this catches
the plainly off-question copies and misses the subtle ones (another aspect of the same entity);
a stricter threshold drops correct terse answers in real runs (evaluation/README.md).

**Read as one answer** (``-v2``, ``in_answer``). A sentence read alone may not look like an
answer to the question though it continues one: "Violations can result in account suspension."
after "Providers enforce their rules through terms of service.", or the items of a list. Within
one answer, a pair the passage backs counts as supported when its evidence sentence is within
two sentences of the evidence of an on-question sentence (or of another continuation) in the
same passage. A sentence's evidence is its best-matching passage sentence and every passage
sentence it restates (``drawn_on``: most of that sentence's content words are in it): an
answer that merges two bullets ("improved NER ... by LLM-assisted labeling with Inference
Endpoints") anchors the bullets after both, so "Fine-tuned smaller models ..." continues it.
The pipeline and the evaluation's citation metrics both read answers this way.

**Table cells** (``cells-v1``, ``cells.py``). A sentence backed by a table row must not say of
one column what the row says of another ("open models are leading edge" from "Closed Models:
Leading edge ...; Open Models: Competitive ..."), nor (``-v2``) give the bracketed members of
one label another label ("GPT-4 and Claude are fully open-source" from "fully proprietary (...
GPT-4, Claude), ..."), nor (``-v3``) one named list item's words another's name ("Gemini uses a
constitution" from "• Anthropic Claude: Uses a constitution" beside "• Google Gemini: ...").
Prose alike (``sides-v3``, ``sides.py``): not "open models currently lead" from "Closed AI models
currently lead ...", nor of a list after it (``-v2``), nor its clause and the other's (``-v3``).
(``wording-v1``, ``wording.py``) No quotation the passage lacks, nor a comparison it never makes.

**Misread numbers** (``numbers-v4``, ``attribution.py``): not "191 million parameters" from "$191
million", nor "In 2026 closed models led by 24%" from "AI Index (2024): ... a median 24.2%".
(``numbers-v6``) A passage's "$5M" says "million" and its "<$6M" says "less" ("$5 million to $10
million" from "$5M–$10M"), and the digits of a name are no number given to it: "Mixtral 8x7B
has 7 billion parameters" borrows LLaMA 2's "7B", whatever "8x7B" holds. (``numbers-v7``) A
number a passage gives in general ("Often under permissive licenses (e.g., Apache 2.0)") is no
one thing's: not "TensorFlow is released under the Apache 2.0 license". (``numbers-v8``) Nor is
the number of another item of the same sentence ("GPT-4 cost $78 million, Gemini Ultra $191
million"), and a question in lower case names the claim's names it has. (``numbers-v9``) A
multiple is no count: not "2 Gaudi2 chips were used" from "Gaudi2 ... 2x faster". (``-v10``) A
count whose items the claim lists is its own: "two versions: 20B and 120B" (``claimed_counts``).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace

import numpy as np

from assistant.embeddings import Embedder
from assistant.grounding.attribution import misreads_number, number_in_its_sentence
from assistant.grounding.cells import swaps_cells
from assistant.grounding.numbers import claimed_counts, given_numbers, number_words, numbers_found
from assistant.grounding.relevance import answerable_in_its_words
from assistant.grounding.sections import names_its_section
from assistant.grounding.sides import swaps_sides
from assistant.grounding.wording import says_more
from assistant.keyterms import KeyTerms, spelled_out_words
from assistant.text import (
    NUMBER,
    claim_text,
    claim_words,
    is_list_item,
    numbers_in,
    split_sentences,
)

CHECKER_NAME = "overlap+embedding+question-v3+relevance-v4+cells-v4+sides-v3+wording-v1+numbers-v11"
RELEVANCE_COVERAGE_WEIGHT = 0.2
FOCUS_MISSING_SHARE = 0.5  # of the key-term credit, when the question's rarest term is missing
CONTINUES_WITHIN = 2  # passage sentences between an answer's evidence and a continuation's
DRAWN_SHARE = 0.6  # of a passage sentence's content words a claim holds when it restates it
DRAWN_MIN_WORDS = 3  # content words a passage sentence needs for that ("Approach:" has one)
HEADING_WORDS = 12  # a passage's first line this short, without a full stop, is its heading


@dataclass(frozen=True)
class SupportDecision:
    supported: bool
    overlap: float  # share of the sentence's content words found in the passage
    similarity: float  # cosine similarity to the best-matching passage sentence
    best_sentence: str  # that passage sentence, for highlighting
    answer_overlap: float | None = None  # share of the words not taken from the question found
    backed: bool | None = None  # the passage backs the claim, whatever the question (None: same)
    relevance: float | None = None  # how much the pair is about the question (None: unknown)
    position: int = 0  # where best_sentence is among the passage's sentences
    heading_on_question: bool = False  # a list item, from a passage headed by the question
    drawn_from: tuple[int, ...] = ()  # the passage sentences the claim restates (``drawn_on``)


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
        min_relevance: float = 0.5,
        key_terms: Callable[[str], KeyTerms] | None = None,
        cache_size: int = 4096,
    ) -> None:
        self.embedder = embedder
        self.min_relevance = min_relevance
        self._key_terms = key_terms
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
            "min_relevance": self.min_relevance,
            "relevance_coverage_weight": RELEVANCE_COVERAGE_WEIGHT,
            "focus_missing_share": FOCUS_MISSING_SHARE,
            "continues_within": CONTINUES_WITHIN,
            "drawn_share": DRAWN_SHARE,
        }

    def describe(self) -> str:
        return (
            f"{self.name} with {self.embedder.name}: supported when the passage has every "
            f"number of the sentence as money, percent or multiple alike (and, given the "
            f"question, not only in sentences about another subject), the sentence adds a word "
            f"to a question that is not yes/no or either-or, it gives no table column another's "
            f"cell (nor a bracketed label's members another label, nor a named list item's words "
            f"another item's name, nor one side, open or closed, what the passage says of the "
            f"other), quotes no words the passage lacks, compares only where the passage "
            f"compares, and (content-word overlap "
            f">= {self.min_overlap} or similarity to its best-matching sentence >= "
            f"{self.min_similarity} or, given the question, overlap of the words not taken from "
            f"it >= {self.min_answer_overlap} or, given the question, the only new word is a "
            f"number one passage sentence writes next to a name of the sentence, with all its "
            f"other words the passage has), "
            f"and, given the question, relevance (cosine of "
            f"question and sentence + {RELEVANCE_COVERAGE_WEIGHT} x key-term coverage of sentence "
            f"and passage, x {FOCUS_MISSING_SHARE} without the rarest term) >= "
            f"{self.min_relevance} or, within an answer, its evidence (best sentence and those "
            f"it restates, >= {DRAWN_SHARE} of their words) is within {CONTINUES_WITHIN} passage "
            f"sentences of evidence that counts"
        )

    def key_terms(self, question: str) -> KeyTerms | None:
        return self._key_terms(question) if self._key_terms else None

    def check(self, sentence: str, passage: str, *, question: str | None = None) -> SupportDecision:
        return self.check_many([(sentence, passage)], question=question)[0]

    def check_many(
        self,
        pairs: Sequence[tuple[str, str]],
        *,
        question: str | None = None,
        read_as_answers: bool = True,
    ) -> list[SupportDecision]:
        """Decisions for many (sentence, passage) pairs, embedding each distinct text once.

        ``question``, when given, is the question every sentence answers: a pair counts only
        when it is about that question (``relevance``), and with ``read_as_answers`` words
        echoed from the question claim nothing (the answer-overlap clause). Without a question
        the rule is the question-free one.
        """
        claims = [claim_text(sentence) for sentence, _ in pairs]
        candidates = [split_sentences(passage) or [passage.strip()] for _, passage in pairs]
        asking = [question] if question else []
        self._embed_missing([*asking, *claims, *(s for group in candidates for s in group)])
        asked = claim_words(question) if question and read_as_answers else None
        must_add = (
            claim_words(question) if question and not answerable_in_its_words(question) else None
        )
        decisions = [
            self._decide(claim, passage, group, asked, must_add, question)
            for claim, (_, passage), group in zip(claims, pairs, candidates, strict=True)
        ]
        if not question:
            return decisions
        terms = self.key_terms(question)
        listed = {  # only list items are read against their passage's heading
            passage: group
            for (sentence, passage), group in zip(pairs, candidates, strict=True)
            if is_list_item(sentence)
        }
        headings = {p: self._heading_on_question(question, g, terms) for p, g in listed.items()}
        return [
            replace(
                self._judge_relevance(decision, question, claim, passage, terms),
                heading_on_question=is_list_item(sentence) and headings[passage],
            )
            for decision, claim, (sentence, passage) in zip(decisions, claims, pairs, strict=True)
        ]

    def _heading_on_question(self, question: str, sentences: list[str], terms) -> bool:
        """Whether the passage opens with a heading (a short line without a full stop) that is
        about the question: "Examples of Closed AI Models" for "Which closed models ...?"."""
        first = sentences[0].strip() if sentences else ""
        if len(sentences) < 2 or len(first.split()) > HEADING_WORDS or first[-1:] in ".!?":
            return False
        return self.relevance(question, first, first, terms) >= self.min_relevance

    def relevance(
        self, question: str, claim: str, passage: str, terms: KeyTerms | None, evidence: str = ""
    ) -> float:
        """How much a claim and its passage are about the question; see the module docstring.

        The cosine of the question with the claim, or with the claim read together with the
        passage sentence that backs it (``evidence``) when that is higher: a terse answer
        ("24.2%.") is judged in its context. Plus a little for the key terms the pair contains.
        """
        context = f"{claim} {evidence}".strip()
        self._embed_missing([question, claim, context])
        vector = self._cache[question]
        similarity = max(float(vector @ self._cache[claim]), float(vector @ self._cache[context]))
        coverage = terms.coverage(claim, passage) if terms is not None else 0.0
        if terms is not None and not terms.covers_focus(claim, passage):
            coverage *= FOCUS_MISSING_SHARE  # "name" and "come" without "Mistral"
        return similarity + RELEVANCE_COVERAGE_WEIGHT * coverage

    def _judge_relevance(self, decision, question, claim, passage, terms) -> SupportDecision:
        relevance = self.relevance(question, claim, passage, terms, decision.best_sentence)
        on_question = relevance >= self.min_relevance or names_its_section(question, passage)
        return replace(
            decision,
            supported=decision.supported and on_question,
            backed=decision.supported,
            relevance=round(relevance, 4),
        )

    def _decide(
        self,
        claim: str,
        passage: str,
        candidates: list[str],
        asked: set[str] | None,
        must_add: set[str] | None = None,
        question: str | None = None,
    ) -> SupportDecision:
        said = claim_words(claim)
        passage_words = claim_words(passage) | spelled_out_words(claim, passage)  # "HF"
        passage_words |= number_words(passage)  # "$5M" says "million", "<$6M" "less"
        overlap = len(said & passage_words) / len(said) if said else 0
        answer_overlap = None
        answer_words = said - asked if asked is not None else set()
        if answer_words and not all(NUMBER.fullmatch(word) for word in answer_words):
            answer_overlap = len(answer_words & passage_words) / len(answer_words)
        vector = self._cache[claim]
        scores = [float(vector @ self._cache[candidate]) for candidate in candidates]
        best = int(np.argmax(scores)) if scores else 0
        similarity = scores[best] if scores else 0.0
        claimed = numbers_in(claim) | claimed_counts(claim, question)
        numbers_ok = numbers_found(claimed, given_numbers(passage))
        numbers_ok = numbers_ok and not misreads_number(claim, passage, candidates, question)
        echoes = must_add is not None and said <= must_add  # says only what was asked
        drawn = drawn_on(said, candidates)
        swapped = bool(candidates) and swaps_cells(claim, candidates, {best, *drawn})
        swapped = swapped or swaps_sides(claim, candidates)
        swapped = swapped or says_more(claim, passage, candidates, question)
        supported = (
            numbers_ok
            and not echoes
            and not swapped
            and (
                overlap >= self.min_overlap
                or similarity >= self.min_similarity
                or (answer_overlap is not None and answer_overlap >= self.min_answer_overlap)
                or number_in_its_sentence(
                    said, claim_words(question or ""), passage_words, candidates
                )
            )
        )
        return SupportDecision(
            supported=bool(supported and claim),
            overlap=round(float(overlap), 4),
            similarity=round(similarity, 4),
            best_sentence=candidates[best] if candidates else "",
            position=best,
            answer_overlap=None if answer_overlap is None else round(answer_overlap, 4),
            drawn_from=drawn,
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


def in_answer(decisions: Sequence[tuple[int, SupportDecision]]) -> list[bool]:
    """Whether each (passage number, decision) pair of one answer counts as supported.

    A pair the passage backs but which is off the question read alone counts when it continues
    an on-question sentence of the answer: its evidence lies in the same passage, within
    ``CONTINUES_WITHIN`` sentences of evidence that already counts (so a list read item by item
    counts, while a sentence copied from another part of the same passage does not). For the
    items of a list, a heading about the question that opens the passage counts as such
    evidence: the items under "Examples of Closed AI Models" answer "Which closed models ...?"
    though none names it. (Prose is not anchored so: a page title is about the question's
    topic whether or not the page answers it.)
    """
    counted = [decision.supported for _, decision in decisions]
    headings = {(n, 0) for n, d in decisions if d.heading_on_question}
    grew = True
    while grew:
        grew = False
        anchors = {
            (n, position)
            for (n, d), ok in zip(decisions, counted, strict=True)
            if ok
            for position in _evidence(d)
        }
        anchors |= headings
        for i, (number, decision) in enumerate(decisions):
            near = any(
                (number, position + step) in anchors
                for position in _evidence(decision)
                for step in range(-CONTINUES_WITHIN, CONTINUES_WITHIN + 1)
            )
            if not counted[i] and decision.backed and near:
                counted[i] = grew = True
    return counted


def _evidence(decision: SupportDecision) -> set[int]:
    """Where in its passage a decision's evidence lies: its best sentence and those it restates."""
    return {decision.position, *decision.drawn_from}


def drawn_on(said: set[str], sentences: Sequence[str]) -> tuple[int, ...]:
    """The passage sentences a claim with content words ``said`` restates: those with three
    content words or more, most of which (``DRAWN_SHARE``) the claim holds. A claim that merges
    two bullets ("improved NER ... by LLM-assisted labeling with Inference Endpoints") draws on
    both, though only one is its ``best_sentence``."""
    drawn = []
    for position, sentence in enumerate(sentences):
        words = claim_words(sentence)
        if len(words) >= DRAWN_MIN_WORDS and len(words & said) >= DRAWN_SHARE * len(words):
            drawn.append(position)
    return tuple(drawn)
