"""Refusal from all the evidence: a small logistic model over the signals the pipeline has.

Hand thresholds on one signal at a time refused answerable questions (a name BM25 finds at once
but the dense similarity puts under the gate) and let unanswerable ones through (a true sentence
copied from a passage about something else). ``Evidence`` gathers every signal for one answer:

- retrieval: the best passage's cosine similarity, the best rarity-weighted key-term coverage of
  a shown passage, whether the question's rarest term appears in one, the share of the
  question's terms the corpus never uses, and whether it names an identifier no passage has;
- the answer: whether the model declined, how many claims it made, the share a passage backs,
  the share that also answer the question (relevance-aware support), the best claim's relevance,
  and whether it holds the kind of value asked for (a year, a number).

``RefusalModel`` is a logistic regression over those features, fitted by
``scripts/fit_refusal.py`` on evaluation runs (questions labelled answerable or not) and stored
as JSON beside this module with its threshold and its cross-validated figures. Two rules stay
hard whatever the model says: an answer whose model declined, and one with no supported claim.
"""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass
from pathlib import Path

DEFAULT_MODEL = Path(__file__).with_name("refusal_model.json")


@dataclass(frozen=True)
class Evidence:
    top_score: float  # best cosine similarity of a retrieved passage
    top_coverage: float  # best key-term coverage of a shown passage
    focus_found: float  # 1 when the question's rarest term is in a shown passage
    unknown_share: float  # share of the question's terms no passage uses
    unmentioned: float  # 1 when the question names an identifier no shown passage has
    declined: float  # 1 when the model said the passages do not answer
    claims: float  # sentences that make a claim (capped at 5)
    backed_share: float  # share of claims some shown passage backs
    supported_share: float  # share backed and about the question
    relevance: float  # the best claim's relevance to the question
    expected_answer: float  # 1 when the supported text has the kind of value asked for

    def to_dict(self) -> dict[str, float]:
        return {name: round(value, 4) for name, value in asdict(self).items()}


FEATURES = tuple(Evidence.__dataclass_fields__)


@dataclass(frozen=True)
class RefusalModel:
    """P(the documents do not answer) from ``Evidence``; refuse from ``threshold`` up."""

    coefficients: dict[str, float]
    intercept: float
    means: dict[str, float]
    scales: dict[str, float]
    threshold: float
    about: dict  # how it was fitted and what it scored held out

    DEFAULT_PATH = DEFAULT_MODEL

    def probability(self, evidence: dict[str, float]) -> float:
        z = self.intercept + sum(
            weight * (evidence[name] - self.means[name]) / self.scales[name]
            for name, weight in self.coefficients.items()
        )
        return 1 / (1 + math.exp(-max(-30.0, min(30.0, z))))

    def refuses(self, evidence: dict[str, float]) -> bool:
        return self.probability(evidence) >= self.threshold

    def to_json(self) -> str:
        return json.dumps(asdict(self), indent=2)

    @classmethod
    def load(cls, path: Path = DEFAULT_MODEL) -> RefusalModel | None:
        """The fitted model, or None when the file does not exist."""
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return None
        return cls(**data)
