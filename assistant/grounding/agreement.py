"""The support checker's agreement with hand labels (``assistant eval checker``)."""

from __future__ import annotations

from collections.abc import Sequence

from assistant.grounding.support import SupportChecker


def agreement(checker: SupportChecker, labelled: Sequence[dict]) -> dict:
    """Accuracy and Cohen's kappa of the checker against hand labels.

    Each labelled item is ``{"sentence", "passage", "label": bool}``, with an optional
    ``"question"`` the sentence answers and an optional ``"on_question": bool`` (false: the
    passage backs the sentence but the sentence does not answer the question, which counts as
    not supported); kappa corrects accuracy for the agreement two raters
    with these label rates would reach by chance.
    """
    predicted = [
        checker.check(item["sentence"], item["passage"], question=item.get("question")).supported
        for item in labelled
    ]
    truth = [bool(item["label"]) and item.get("on_question", True) for item in labelled]
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
