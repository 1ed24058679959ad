"""Grounding: is the answer backed by the passages, and should the assistant refuse?

``support`` decides whether a passage supports a sentence (``numbers`` says which numbers must
match), ``verification`` checks every sentence of an answer and moves markers to their
evidence, ``relevance`` checks that an answer answers the question, ``refusal`` names each
reason to refuse, and ``decision`` puts them together in the order the answer stream asks.
"""

from assistant.grounding.agreement import agreement
from assistant.grounding.decision import Grounding, Verdict
from assistant.grounding.evidence import FEATURES, Evidence, RefusalModel
from assistant.grounding.refusal import RefusalReason, closest_coverage, model_declined
from assistant.grounding.support import CHECKER_NAME, SupportChecker, SupportDecision

__all__ = [
    "CHECKER_NAME",
    "FEATURES",
    "Evidence",
    "RefusalModel",
    "Grounding",
    "RefusalReason",
    "SupportChecker",
    "SupportDecision",
    "Verdict",
    "agreement",
    "closest_coverage",
    "model_declined",
]
