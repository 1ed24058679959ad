"""The refusal decision, in one place: before the model runs, and after it has answered.

Refusal is decided from evidence, not only from the model's wording:

- **Before the model runs**, a question whose best passage is less similar than ``min_score``
  is refused (off-topic), and so is one naming an identifier no shown passage contains
  (``relevance.unmentioned_identifiers``).
- **After it runs**, an answer is a refusal when the model says so, when not one of its
  sentences is supported by any shown passage (an answer with no evidence behind it is not shown
  as an answer), or when its supported sentences hold no value of the kind the question asks for
  (a "how many" answered without a number).

The checker reads a claim as an answer to the question (words echoed from the question claim
nothing) only when retrieval is confident, the best passage at least ``confident_score``
similar; below that, a claim must be backed on its own words. Each check can be switched off in
``GroundingSettings``; the answer stream only asks and builds the record.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from assistant.config import GroundingSettings
from assistant.grounding.refusal import RefusalReason, model_declined
from assistant.grounding.relevance import gives_expected_answer, unmentioned_identifiers
from assistant.grounding.support import SupportChecker
from assistant.grounding.verification import quote_pointed_passage, verify
from assistant.retrieval import Hit


@dataclass(frozen=True)
class Verdict:
    """What grounding made of one draft answer."""

    text: str  # the answer to show: markers moved or added, or the draft when unchecked
    refusal: RefusalReason | None = None
    supported_markers: frozenset[int] | None = None  # None: the answer was not verified
    unsupported: list[str] = field(default_factory=list)  # sentences no shown passage supports


class Grounding:
    """The checks between retrieval and a shown answer, configured by GroundingSettings."""

    def __init__(self, settings: GroundingSettings, checker: SupportChecker | None) -> None:
        self.settings = settings
        self.checker = checker if settings.verify_citations else None

    def off_topic(self, hits: list[Hit]) -> bool:
        """No passage is similar enough to the question to be worth the model's time."""
        return not hits or max(hit.score for hit in hits) < self.settings.min_score

    def unmentioned(self, question: str, shown: list[Hit]) -> list[str]:
        """Identifiers the question names that no shown passage contains ("MMLU")."""
        if not self.settings.check_relevance:
            return []
        return unmentioned_identifiers(question, [hit.chunk.text for hit in shown])

    def judge(self, question: str, text: str, shown: list[Hit], hits: list[Hit]) -> Verdict:
        """Verify the draft ``text`` (markers already resolved) against the shown passages."""
        if model_declined(text):
            return Verdict(text, RefusalReason.MODEL)
        if self.checker is None:
            return Verdict(text)
        text = quote_pointed_passage(text, shown, question, self.checker.embedder) or text
        confident = max(hit.score for hit in hits) >= self.settings.confident_score
        verification = verify(text, shown, self.checker, question=question if confident else None)
        if self.settings.refuse_unsupported and not verification.supported_markers:
            return Verdict(text, RefusalReason.UNSUPPORTED)
        supported = " ".join(verification.supported)
        if self.settings.check_relevance and not gives_expected_answer(supported, question):
            return Verdict(text, RefusalReason.NO_ANSWER)
        return Verdict(
            verification.text,
            None,
            verification.supported_markers,
            verification.unsupported,
        )
