"""The refusal decision, in one place: before the model runs, and after it has answered.

Refusal is decided from evidence, not only from the model's wording:

- **Before the model runs**, a question whose best passage is less similar than ``min_score``
  is refused (off-topic), and so is one naming an identifier no shown passage contains
  (``relevance.unmentioned_identifiers``).
- **After it runs**, an answer is a refusal when the model says so, when not one of its
  sentences is supported by any shown passage (an answer with no evidence behind it is not shown
  as an answer), or when its supported sentences hold no value of the kind the question asks for
  (a "how many" answered without a number, a "what does NER stand for" without the words that
  spell it). Only sentences on the question by themselves count for that, not those kept as
  their continuation (``support.in_answer``): "requires billions of dollars" after "OpenAI
  sells API access" gives no amount for "how much does OpenAI make?". Then the fitted refusal
  model weighs the rest of the evidence.
- **Before refusing for want of support**, a claim close to a passage sentence (cosine
  ``QUOTE_FROM``) is replaced by that sentence, quoted: the model paraphrased something the
  passage says, too loosely for the checker. Only a sentence that holds some of what the claim
  adds to the question is quoted (``says_what_claim_adds``), and only one that names what the
  question names (``relevance.asked_names``; "the Zubnet wiki" names a source, not a subject):
  one that shares only the question's topic would not answer it ("<$6 million for some open
  reasoning models" for "How much did DeepSeek R1 cost?"). The quote is checked like any
  answer. Likewise a yes/no answer that only restates its question ("Yes, Anthropic makes the
  principles behind Claude public.") is replaced by the shown sentence closest to the question,
  quoted: the reader sees what the passages say instead of a refusal or an unchecked "yes"
  (``_quote_asked``).

The checker reads a claim as an answer to the question (words echoed from the question claim
nothing) only when retrieval is confident, the best passage at least ``confident_score``
similar; below that, a claim must be backed on its own words. Each check can be switched off in
``GroundingSettings``; the answer stream only asks and builds the record.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from assistant.config import GroundingSettings
from assistant.grounding.evidence import Evidence, RefusalModel
from assistant.grounding.refusal import RefusalReason, model_declined
from assistant.grounding.relevance import gives_expected_answer, unmentioned_identifiers
from assistant.grounding.support import SupportChecker
from assistant.grounding.verification import (
    Closest,
    names_what_was_asked,
    quote_pointed_passage,
    verify,
)
from assistant.keyterms import KeyTerms
from assistant.retrieval import Hit
from assistant.text import claim_words, keyword_terms


@dataclass(frozen=True)
class Verdict:
    """What grounding made of one draft answer."""

    text: str  # the answer to show: markers moved or added, or the draft when unchecked
    refusal: RefusalReason | None = None
    supported_markers: frozenset[int] | None = None  # None: the answer was not verified
    unsupported: list[str] = field(default_factory=list)  # sentences no shown passage supports
    evidence: dict[str, float] | None = None  # the refusal model's features (None: unchecked)


QUOTE_FROM = 0.65  # similarity of an unbacked claim to a passage sentence worth quoting
KEY_TERMS_CONFIDENT = 0.6  # a passage's share of the question's rarity-weighted key terms


def says_what_claim_adds(closest: Closest, question: str) -> bool:
    """Does the passage sentence hold some of what the claim adds to the question?

    A claim close to a sentence only in the question's own words ("Google led the Google team
    that open-sourced TensorFlow." near "Google open-sourced its ML framework") or whose answer
    the sentence lacks ("The EU AI Act is enforced by the European Commission." near "Compliance
    with laws (like the EU AI Act) adds overhead.") is not a paraphrase of it: quoting the
    sentence would answer with a passage about the question's topic that does not answer it.
    """
    added = claim_words(closest.claim) - claim_words(question)
    return bool(added & claim_words(closest.sentence))


class Grounding:
    """The checks between retrieval and a shown answer, configured by GroundingSettings.

    ``refusal`` chooses how the refusal is decided: ``fitted`` (the logistic ``RefusalModel``
    over all the evidence, after the model has answered; before it, only a question naming an
    identifier no shown passage has), ``rules`` (the hand thresholds of earlier versions, some
    before the model runs) or ``off`` (only the two hard rules: the model declined, or no claim
    is supported; evaluation runs use it to gather evidence).
    """

    def __init__(
        self,
        settings: GroundingSettings,
        checker: SupportChecker | None,
        *,
        key_terms: Callable[[str], KeyTerms] | None = None,
        model: RefusalModel | None = None,
        frequencies: Callable[[list[str]], dict[str, int]] | None = None,
    ) -> None:
        self.settings = settings
        self.checker = checker if settings.verify_citations else None
        self.key_terms = key_terms
        self.frequencies = frequencies  # keyword term -> passages of the index holding it
        self.mode = settings.refusal
        self.model = model
        if self.mode == "fitted" and model is None:
            self.mode = "rules"  # no fitted model on disk: the hand rules

    def off_topic(self, hits: list[Hit]) -> bool:
        """No passage is similar enough to the question to be worth the model's time."""
        if not hits:
            return True
        return self.mode == "rules" and max(hit.score for hit in hits) < self.settings.min_score

    def unmentioned(self, question: str, shown: list[Hit]) -> list[str]:
        """Identifiers the question names that no shown passage contains ("MMLU"), its section
        and heading included ("AI" of "Definition of closed AI models › Limitations")."""
        if not self.settings.check_relevance or self.mode == "off":
            return []
        return unmentioned_identifiers(question, [hit.chunk.search_text for hit in shown])

    def indexed_elsewhere(self, names: list[str]) -> bool:
        """Some name the shown passages lack is in other indexed passages ("LLMs" in a case
        study the search did not show): the documents do mention it, only not where they answer
        the question, so the refusal must not say they never do. False when unknown."""
        if self.frequencies is None:
            return False
        terms = {name: keyword_terms(name) for name in names}
        counts = self.frequencies(sorted({t for found in terms.values() for t in found}))
        return any(found and all(counts.get(t, 0) for t in found) for found in terms.values())

    def confident(self, question: str, hits: list[Hit]) -> bool:
        """Retrieval found what was asked: a passage similar enough, or one holding most of the
        question's key terms (a misspelled or Hinglish question the embedder misreads)."""
        if max(hit.score for hit in hits) >= self.settings.confident_score:
            return True
        return max(hit.coverage for hit in hits) >= KEY_TERMS_CONFIDENT

    def judge(self, question: str, text: str, shown: list[Hit], hits: list[Hit]) -> Verdict:
        """Verify the draft ``text`` (markers already resolved) against the shown passages."""
        if self.checker is None:
            return Verdict(text, RefusalReason.MODEL if model_declined(text) else None)
        declined = model_declined(text)
        text = quote_pointed_passage(text, shown, question, self.checker.embedder) or text
        confident = self.confident(question, hits)
        verification = verify(
            text, shown, self.checker, question=question, read_as_answers=confident
        )
        if not declined and not verification.supported_markers:
            quoted = self._quote_closest(verification, shown, question, confident)
            quoted = quoted or self._quote_asked(text, shown, question, confident)
            if quoted is not None:
                text, verification = quoted
        # The value asked for ("how much money?") must come from a sentence on the question by
        # itself, not from one that only continues it ("... requires billions of dollars").
        supported = " ".join(verification.answering)
        evidence = self.evidence(question, hits, shown, declined, verification, supported)
        reason = self._refusal(declined, verification, evidence)
        if reason is not None:
            return Verdict(text, reason, evidence=evidence)
        return Verdict(
            verification.text,
            None,
            verification.supported_markers,
            verification.unsupported,
            evidence=evidence,
        )

    def _quote_closest(self, verification, shown, question, confident):
        """No claim is backed, but one is close to a passage sentence: that sentence, quoted.

        The small model often says the right thing in words of its own that the checker cannot
        match closely enough. The passage sentence it paraphrased is then the answer, labelled as
        a quote, and it is checked like any answer (it must still be about the question).
        """
        closest = verification.closest
        if closest is None or closest.similarity < QUOTE_FROM:
            return None
        if not says_what_claim_adds(closest, question):
            return None
        if not names_what_was_asked(closest.sentence, question, shown):
            return None  # "How much did DeepSeek R1 cost?": not a cost line naming others
        text = f'Passage [{closest.number}] says: "{closest.sentence}"'
        quoted = verify(text, shown, self.checker, question=question, read_as_answers=confident)
        return (text, quoted) if quoted.supported_markers else None

    def _quote_asked(self, text, shown, question, confident):
        """No claim is backed, and the answer only restates a yes/no question ("Yes, Anthropic
        makes the principles behind Claude public."): the shown sentence closest to the
        question, quoted, and checked like any answer. The reader sees what the passages say
        rather than a refusal or an unchecked "yes"."""
        embedder = self.checker.embedder
        text = quote_pointed_passage(text, shown, question, embedder, restated=True)
        if text is None:
            return None
        quoted = verify(text, shown, self.checker, question=question, read_as_answers=confident)
        return (text, quoted) if quoted.supported_markers else None

    def _refusal(self, declined, verification, evidence):
        if declined:
            return RefusalReason.MODEL
        if self.settings.refuse_unsupported and not verification.supported_markers:
            return RefusalReason.UNSUPPORTED
        checks = self.mode != "off" and self.settings.check_relevance
        if checks and not evidence["expected_answer"]:
            return RefusalReason.NO_ANSWER
        if self.mode == "fitted" and self.model is not None and self.model.refuses(evidence):
            return RefusalReason.WEAK_EVIDENCE
        return None

    def evidence(self, question, hits, shown, declined, verification, supported) -> dict:
        """Every signal the refusal model reads, for this answer (see ``evidence.py``)."""
        terms = self.key_terms(question) if self.key_terms else None
        texts = [hit.chunk.search_text for hit in shown]  # with its section and heading
        counted = len(terms.weights) + len(terms.unknown) if terms else 0
        claims = verification.claims
        return Evidence(
            top_score=max((hit.score for hit in hits), default=0.0),
            top_coverage=max((terms.coverage(t) for t in texts), default=0.0) if terms else 0.0,
            focus_found=float(bool(terms) and any(terms.covers_focus(t) for t in texts)),
            unknown_share=len(terms.unknown) / counted if counted else 0.0,
            unmentioned=float(bool(unmentioned_identifiers(question, texts))),
            declined=float(declined),
            claims=float(min(claims, 5)),
            backed_share=verification.backed / claims if claims else 0.0,
            supported_share=len(verification.supported) / claims if claims else 0.0,
            relevance=verification.relevance or 0.0,
            expected_answer=float(gives_expected_answer(supported, question)),
        ).to_dict()
