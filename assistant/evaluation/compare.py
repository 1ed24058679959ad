"""Comparing two evaluation reports: a paired bootstrap over the questions both share.

The same resampled questions are scored in both runs, which cancels the per-question
difficulty that an unpaired comparison would count as noise. Each metric keeps its own
aggregation (pooled or mean); latency is compared by its median.
"""

from __future__ import annotations

import numpy as np

from assistant.evaluation import metrics


def compare_reports(a: dict, b: dict, *, resamples: int = 1000, seed: int = 0) -> dict:
    """Per-metric difference B - A with a paired bootstrap 95% interval, and flipped questions.

    Only questions present in both reports count; each metric uses the questions where it
    applies in both runs. Resampling picks questions with replacement and scores both runs on
    the same picks, with the metric's own aggregation (pooled or mean, median for latency).
    """
    by_id_b = {record["id"]: record for record in b["records"]}
    shared = [(r, by_id_b[r["id"]]) for r in a["records"] if r["id"] in by_id_b]
    rng = np.random.default_rng(seed)
    result = {
        "shared": len(shared),
        "only_a": len(a["records"]) - len(shared),
        "only_b": len(b["records"]) - len(shared),
        "resamples": resamples,
        "seed": seed,
        "metrics": {},
        "flipped": flipped_questions(shared),
    }
    for spec in metrics.METRICS:
        pairs = [
            (tuple(ra["metrics"][spec.key]), tuple(rb["metrics"][spec.key]))
            for ra, rb in shared
            if spec.key in ra["metrics"]
            and spec.key in rb["metrics"]
            and ra["metrics"][spec.key][1]
            and rb["metrics"][spec.key][1]
        ]
        result["metrics"][spec.key] = _bootstrap_ratio(spec, pairs, rng, resamples)
    for name in ("total_s", "ttft_s", "retrieval_ms"):
        values = [
            (metrics.latency_values([ra], name), metrics.latency_values([rb], name))
            for ra, rb in shared
        ]
        values = [(va[0], vb[0]) for va, vb in values if va and vb]
        result["metrics"][f"{name}_p50"] = _bootstrap_median(values, rng, resamples)
    return result


def _interval(diffs, point: float) -> dict:
    low, high = np.percentile(diffs, [2.5, 97.5])
    return {"diff": round(float(point), 4), "ci95": [round(float(low), 4), round(float(high), 4)]}


def _bootstrap_ratio(spec, pairs, rng, resamples: int) -> dict:
    if not pairs:
        return {"a": None, "b": None, "diff": None, "ci95": None, "n": 0}
    values = np.array([[na, da, nb, db] for (na, da), (nb, db) in pairs], dtype=float)
    picks = rng.integers(0, len(pairs), size=(resamples, len(pairs)))

    def score(num, den, rows=None):
        num, den = (num, den) if rows is None else (num[rows], den[rows])
        if spec.pooled:
            return num.sum(axis=-1) / den.sum(axis=-1)
        return (num / den).mean(axis=-1)

    a = score(values[:, 0], values[:, 1])
    b = score(values[:, 2], values[:, 3])
    diffs = score(values[:, 2], values[:, 3], picks) - score(values[:, 0], values[:, 1], picks)
    return {
        "a": round(float(a), 4),
        "b": round(float(b), 4),
        **_interval(diffs, b - a),
        "n": len(pairs),
    }


def _bootstrap_median(pairs, rng, resamples: int) -> dict:
    if not pairs:
        return {"a": None, "b": None, "diff": None, "ci95": None, "n": 0}
    values = np.array(pairs, dtype=float)
    picks = rng.integers(0, len(pairs), size=(resamples, len(pairs)))
    a, b = np.median(values[:, 0]), np.median(values[:, 1])
    diffs = np.median(values[picks, 1], axis=1) - np.median(values[picks, 0], axis=1)
    return {
        "a": round(float(a), 4),
        "b": round(float(b), 4),
        **_interval(diffs, b - a),
        "n": len(pairs),
    }


def flipped_questions(shared: list[tuple[dict, dict]]) -> list[dict]:
    """Questions whose failure labels changed: what B fixed and what B broke."""
    flipped = []
    for ra, rb in shared:
        before, after = set(ra.get("failures", [])), set(rb.get("failures", []))
        if before != after:
            flipped.append(
                {
                    "id": ra["id"],
                    "question": ra["question"],
                    "fixed": sorted(before - after),
                    "broke": sorted(after - before),
                }
            )
    return flipped
