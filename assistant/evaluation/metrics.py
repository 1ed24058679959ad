"""Metric arithmetic for the evaluation, as defined in QUESTION-SET.md.

Every metric is stored per question as a (numerator, denominator) pair, and absent where it
does not apply (no evidence found, no keyword groups, a refused answer for citation metrics,
a retrieval-only run). Aggregation is then one rule per metric:

- *pooled* metrics are defined over items, not questions (recall@k over evidence items,
  citation validity over markers, precision over (sentence, cited passage) pairs, recall over
  answer sentences): sum of numerators / sum of denominators;
- the others are means over questions of numerator / denominator.

The same pairs feed the per-kind breakdown and the paired bootstrap in ``compare``, so every
number is recomputed from the report alone. A metric with no applicable question is ``None``
(JSON null), never 0.

Citation recall leaves out a *lead-in*: the first sentence of an answer of two or more
sentences when it ends with ':' or has fewer than 4 words ("Yes.", "The reasons are:").
Latency percentiles use linear interpolation between order statistics (numpy's default).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass

from assistant.text import answer_tokens, fold, strip_markers

LEAD_IN_WORDS = 4


@dataclass(frozen=True)
class MetricSpec:
    key: str  # per-question key in a record's "metrics"
    section: str  # section of the aggregate object
    name: str  # key inside that section
    pooled: bool  # sum(num) / sum(den) instead of the mean of num / den
    higher_is_better: bool = True


METRICS = (
    MetricSpec("recall_at_k", "retrieval", "recall_at_k", pooled=True),
    MetricSpec("hit_at_k", "retrieval", "hit_at_k", pooled=False),
    MetricSpec("mrr_at_10", "retrieval", "mrr_at_10", pooled=False),
    MetricSpec("keyword_recall", "answers", "keyword_recall", pooled=False),
    MetricSpec("token_recall", "answers", "token_recall", pooled=False),
    MetricSpec("citation_validity", "citations", "validity", pooled=True),
    MetricSpec("citation_precision", "citations", "precision", pooled=True),
    MetricSpec("citation_recall", "citations", "recall", pooled=True),
    MetricSpec("draft_citation_precision", "citations", "draft_precision", pooled=True),
    MetricSpec("draft_citation_recall", "citations", "draft_recall", pooled=True),
    MetricSpec("refusal_rate_unanswerable", "refusals", "refusal_rate_unanswerable", False),
    MetricSpec("false_refusal_rate", "refusals", "false_refusal_rate", False, False),
)
SECTIONS = ("retrieval", "answers", "citations", "refusals")
LATENCY = ("retrieval_ms", "ttft_s", "total_s", "prompt_tokens", "completion_tokens")
LATENCY_KEYS = (
    ("ttft_s", 50),
    ("ttft_s", 95),
    ("total_s", 50),
    ("total_s", 95),
    ("retrieval_ms", 50),
    ("retrieval_ms", 95),
    ("tokens_per_s", 50),
    ("tokens_per_s", 95),
    ("prompt_tokens", 50),
    ("prompt_tokens", 95),
    ("completion_tokens", 50),
    ("completion_tokens", 95),
)

# --- text matching ------------------------------------------------------------------------


def keyword_hits(answer: str, groups: Iterable[Iterable[str]]) -> tuple[int, int]:
    """(groups matched, groups): a group matches when any alternative occurs in the answer."""
    text = fold(strip_markers(answer))
    groups = [list(group) for group in groups]
    matched = sum(any(fold(alt) in text for alt in group if fold(alt)) for group in groups)
    return matched, len(groups)


def token_recall(answer: str, reference: str) -> float | None:
    """Share of the reference's tokens found in the answer (counted with multiplicity)."""
    wanted = Counter(answer_tokens(reference))
    if not wanted:
        return None
    found = Counter(answer_tokens(answer))
    return sum(min(count, found[token]) for token, count in wanted.items()) / sum(wanted.values())


# --- per question -------------------------------------------------------------------------


def first_relevant_rank(hits, spans) -> int | None:
    for position, hit in enumerate(hits, start=1):
        if any(span.overlaps(hit.chunk) for span in spans):
            return position
    return None


RETRIEVAL_METRICS = ("recall_at_k", "hit_at_k", "mrr_at_10")


def retrieval_metrics(spans, top, ranked, depth: int = 10) -> dict[str, tuple[float, float]]:
    """recall@k, hit@k and MRR@10 for one question, over the evidence that was found."""
    found = [span for span in spans if span.start is not None]
    if not found:
        return {}
    covered = sum(any(span.overlaps(hit.chunk) for hit in top) for span in found)
    rank = first_relevant_rank(list(ranked)[:depth], found)
    return {
        "recall_at_k": (covered, len(found)),
        "hit_at_k": (1 if covered else 0, 1),
        "mrr_at_10": (1 / rank if rank else 0.0, 1),
    }


def is_recall_lead_in(sentence: str, position: int, count: int) -> bool:
    """The opening of an answer that citation recall leaves out (see the module docstring)."""
    if position != 0 or count < 2:
        return False
    text = strip_markers(sentence)
    return text.rstrip().endswith(":") or len(text.split()) < LEAD_IN_WORDS


def answer_metrics(question, answer: dict) -> dict[str, tuple[float, float]]:
    scores: dict[str, tuple[float, float]] = {}
    refused = bool(answer["refused"])
    # A refusal of an answerable question answers nothing, though the closest passages it
    # names may hold the answer's words in their headings.
    text = "" if refused and question.answerable else answer["text"]
    if question.answer_keywords:
        scores["keyword_recall"] = keyword_hits(text, question.answer_keywords)
    if question.reference_answer:
        recall = token_recall(text, question.reference_answer)
        if recall is not None:
            scores["token_recall"] = (recall, 1)
    key = "false_refusal_rate" if question.answerable else "refusal_rate_unanswerable"
    scores[key] = (1 if refused else 0, 1)
    if question.answerable and not refused:
        scores.update(citation_metrics(answer))
    return scores


def citation_metrics(answer: dict) -> dict[str, tuple[float, float]]:
    scores: dict[str, tuple[float, float]] = {}
    markers = answer["markers"]
    if markers["total"]:
        scores["citation_validity"] = (markers["valid"], markers["total"])
    scores.update(support_metrics(answer["sentences"], "citation"))
    draft = answer.get("draft_sentences")
    scores.update(
        support_metrics(answer["sentences"] if draft is None else draft, "draft_citation")
    )
    return scores


def support_metrics(sentences: list[dict], prefix: str) -> dict[str, tuple[float, float]]:
    """Precision over (sentence, cited passage) pairs; recall over sentences minus a lead-in."""
    scores = {}
    supports = [s for sentence in sentences for s in sentence["supports"]]
    if supports:
        supported = sum(bool(s.get("supported")) for s in supports)
        scores[f"{prefix}_precision"] = (supported, len(supports))
    body = [sentence for sentence in sentences if not sentence["lead_in"]]
    if body:
        scores[f"{prefix}_recall"] = (sum(s["supported"] for s in body), len(body))
    return scores


def question_metrics(question, spans, top, ranked, answer: dict | None) -> dict:
    scores = retrieval_metrics(spans, top, ranked) if question.answerable else {}
    if answer is not None:
        scores.update(answer_metrics(question, answer))
    return scores


def failures(question, spans, scores: dict, answer: dict | None) -> list[str]:
    """Labels for the failure filter: what went wrong with this question, if anything."""
    found: list[str] = []
    if any(span.error for span in spans):
        found.append("data-error")
    if "hit_at_k" in scores and not scores["hit_at_k"][0]:
        found.append("missed-retrieval")
    if answer is None:
        return found
    refused = answer["refused"]
    if not question.answerable:
        return found + ([] if refused else ["missed-refusal"])
    if refused:
        return found + ["false-refusal"]
    keywords = scores.get("keyword_recall")
    if keywords and keywords[0] < keywords[1]:
        found.append("wrong-answer")
    if not answer["citations"]:
        found.append("uncited")
    elif any(k in scores and scores[k][0] < scores[k][1] for k in CITATION_SUPPORT):
        found.append("unsupported")
    return found


CITATION_SUPPORT = ("citation_precision", "citation_recall")
FAILURES = (
    "missed-retrieval",
    "wrong-answer",
    "uncited",
    "unsupported",
    "missed-refusal",
    "false-refusal",
    "data-error",
    "answer-error",
)

# --- aggregation --------------------------------------------------------------------------


def combine(spec: MetricSpec, pairs: list[tuple[float, float]]) -> float | None:
    pairs = [(num, den) for num, den in pairs if den]
    if not pairs:
        return None
    if spec.pooled:
        return sum(num for num, _ in pairs) / sum(den for _, den in pairs)
    return sum(num / den for num, den in pairs) / len(pairs)


def percentile(values: list[float], q: float) -> float | None:
    values = sorted(v for v in values if v is not None)
    if not values:
        return None
    position = (len(values) - 1) * q / 100
    low = int(position)
    high = min(low + 1, len(values) - 1)
    return values[low] + (values[high] - values[low]) * (position - low)


def latency_values(records: list[dict], name: str) -> list[float]:
    values = []
    for record in records:
        if name == "retrieval_ms":
            values.append(record.get("retrieval_ms"))
        elif record.get("answer"):
            timings = record["answer"]["timings"]
            # ttft and tokens/s exist only where the model generated; a refusal made without
            # calling the model still counts for total_s, which is what the user waits
            generated = timings.get("ttft_s") is not None
            if name == "total_s" or generated:
                values.append(timings.get(name))
    return [v for v in values if v is not None]


def sections(records: list[dict]) -> dict[str, dict[str, float | None]]:
    """The metric sections of the aggregate, computed from the records' metric pairs."""
    result: dict[str, dict[str, float | None]] = {name: {} for name in SECTIONS}
    for spec in METRICS:
        pairs = [tuple(r["metrics"][spec.key]) for r in records if spec.key in r["metrics"]]
        value = combine(spec, pairs)
        result[spec.section][spec.name] = round(value, 4) if value is not None else None
    return result


def latency(records: list[dict]) -> dict[str, float | None]:
    result = {}
    for name, q in LATENCY_KEYS:
        value = percentile(latency_values(records, name), q)
        result[f"{name}_p{q}"] = round(value, 3) if value is not None else None
    return result


def aggregate(records: list[dict], **header) -> dict:
    """The aggregate object of QUESTION-SET.md (plus per-kind sections and run facts)."""
    answerable = sum(1 for r in records if r["answerable"])
    result = {
        "questions": len(records),
        "answerable": answerable,
        "unanswerable": len(records) - answerable,
        **header,
        **sections(records),
        "latency": latency(records),
    }
    kinds = sorted({r["kind"] for r in records if r.get("kind") is not None})
    if kinds:
        result["per_kind"] = {kind: by_kind(records, kind) for kind in kinds}
    return result


def by_kind(records: list[dict], kind: str) -> dict:
    subset = [r for r in records if r.get("kind") == kind]
    answerable = sum(1 for r in subset if r["answerable"])
    return {
        "questions": len(subset),
        "answerable": answerable,
        "unanswerable": len(subset) - answerable,
        **sections(subset),
    }


def failure_counts(records: list[dict]) -> dict[str, int]:
    counts = Counter(label for r in records for label in r.get("failures", []))
    return {label: counts[label] for label in FAILURES if counts[label]}


def running_summary(records: list[dict]) -> str:
    """A one-line running average for progress displays."""
    parts = []
    values = sections(records)
    for section, name, label in (
        ("retrieval", "hit_at_k", "hit@k"),
        ("retrieval", "mrr_at_10", "MRR"),
        ("answers", "keyword_recall", "keywords"),
        ("citations", "recall", "cited"),
        ("refusals", "refusal_rate_unanswerable", "refused(unans.)"),
    ):
        value = values[section][name]
        if value is not None:
            parts.append(f"{label} {value:.2f}")
    return "  ".join(parts)
