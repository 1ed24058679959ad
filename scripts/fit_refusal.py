"""Fit the refusal model on evaluation runs, and report its cross-validated (held-out) figures.

The runs must be made with ``ASSISTANT_REFUSAL=off``, so every question reaches the model and
its answer carries the evidence (``Answer.evidence``) without a refusal model deciding. Each
question is labelled by its set: unanswerable questions should be refused. Then:

- **Cross-validation.** The questions of all runs are split into folds, stratified by run and
  by answerable or not. For each fold the model is fitted (and its threshold chosen) on the
  others and decides the fold's questions. The figures printed are those out-of-fold decisions:
  refusal rate, false refusal rate, and keyword and token recall with a refused answer scoring
  zero, per run. They are the held-out figures; the in-sample ones are printed beside them.
- **The shipped model** is then fitted on all questions and written as JSON
  (``assistant/grounding/refusal_model.json``), with the cross-validated figures inside.

The decision is the pipeline's: the model declined, no claim is supported, the supported
claims hold no value of the kind asked for (a "how many" answered without a number), or the
question names an identifier no shown passage has (the pipeline refuses that one before the
model runs) is always a refusal; otherwise the logistic model refuses from its threshold up.
The threshold maximises refusal rate minus ten times the false refusal rate on the training
folds (a wrong refusal of an answerable question costs the user more than a missed one). That
weight, ``FALSE_REFUSAL_COST``, and the ridge penalty ``L2`` were chosen (among 3, 6, 8 and 10,
and 1, 10, 30 and 100) on the repeated cross-validated figures of the tuning runs, by refusal
minus three times false refusal summed over the shipped and ClapNQ runs; the untouched check is
a run on questions none of this saw. (The twelfth pass of issue 10 moved the weight from 6 to
8: at 6, the seventeen runs gave a threshold that refused right shipped answers held out. The
thirteenth moved it to 10 on eighteen runs: 1.070 against 1.058 at 6 and 8 and 1.052 at 3;
the fitted threshold was 0.71 at all four (0.70 after numbers-v8, 0.51 at 3). The fourteenth
refitted on nineteen runs: 6, 8 and 10 give the same fit, threshold 0.71. The fifteenth, on
twenty: threshold 0.71 at 6, 8 and 10; at 6 shipped false refusal held out is 0.044, at 8 and
10 0.042. The sixteenth, on twenty-one (fresh30r and fresh30s added): threshold 0.71, the same
held-out figures on the shipped set and ClapNQ; refitted again after relevance-v4, the same.
The seventeenth, on twenty-two (fresh30t added), after key terms stopped counting how a
question asks ("pull together", the "s" of "Google's"), which moves the key-term features.
The eighteenth, on twenty-four (fresh30u and fresh30v added): threshold 0.76, the same held-out
figures on the shipped set and ClapNQ; refitted after a passage's section joined its text for
the key-term features: threshold 0.74, the same held-out figures.)

"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
from pathlib import Path

import numpy as np

from assistant import REFUSAL_FEATURES as FEATURES
from assistant import RefusalModel

FOLDS = 5
REPEATS = 5  # cross-validations, each with its own shuffle, averaged
L2 = 10.0  # ridge penalty on the standardised coefficients
FALSE_REFUSAL_COST = float(os.environ.get("FALSE_REFUSAL_COST", "10.0"))


def load(paths: list[Path]) -> list[dict]:
    rows = []
    for path in paths:
        report = json.loads(path.read_text(encoding="utf-8"))
        for record in report["records"]:
            answer = record.get("answer")
            if not answer:
                continue
            evidence = answer.get("evidence")
            metrics = record.get("metrics", {})
            rows.append(
                {
                    "run": path.parent.name if path.name == "report.json" else path.stem,
                    "id": record["id"],
                    "answerable": record["answerable"],
                    "evidence": evidence,
                    # a hard refusal: no evidence (no passage), the model declined, no support,
                    # no value of the kind asked for (a "how many" without a number), or an
                    # identifier the question names that no shown passage has ("H100")
                    "hard": evidence is None
                    or evidence["declined"] > 0
                    or evidence["supported_share"] == 0
                    or evidence["expected_answer"] == 0
                    or evidence["unmentioned"] > 0,
                    "keyword": _ratio(metrics.get("keyword_recall")),
                    "token": _ratio(metrics.get("token_recall")),
                }
            )
    return rows


def _ratio(pair):
    return None if not pair else pair[0] / pair[1]


def fit(rows: list[dict]) -> RefusalModel:
    soft = [row for row in rows if not row["hard"]]
    x = np.array([[row["evidence"][name] for name in FEATURES] for row in soft], dtype=float)
    y = np.array([0.0 if row["answerable"] else 1.0 for row in soft])
    means, scales = x.mean(axis=0), x.std(axis=0)
    scales[scales == 0] = 1.0
    z = np.hstack([np.ones((len(x), 1)), (x - means) / scales])
    weights = np.zeros(z.shape[1])
    penalty = np.eye(z.shape[1]) * L2
    penalty[0, 0] = 0.0
    for _ in range(50):  # Newton's method on the penalised log-likelihood
        p = 1 / (1 + np.exp(-np.clip(z @ weights, -30, 30)))
        gradient = z.T @ (p - y) + penalty @ weights
        hessian = z.T @ (z * (p * (1 - p))[:, None]) + penalty
        step = np.linalg.solve(hessian, gradient)
        weights -= step
        if np.abs(step).max() < 1e-8:
            break
    model = RefusalModel(
        coefficients={name: float(w) for name, w in zip(FEATURES, weights[1:], strict=True)},
        intercept=float(weights[0]),
        means={name: float(m) for name, m in zip(FEATURES, means, strict=True)},
        scales={name: float(s) for name, s in zip(FEATURES, scales, strict=True)},
        threshold=0.5,
        about={},
    )
    return _with_threshold(model, rows)


def refused(model: RefusalModel, row: dict) -> bool:
    return row["hard"] or model.refuses(row["evidence"])


def _with_threshold(model: RefusalModel, rows: list[dict]) -> RefusalModel:
    probabilities = [None if row["hard"] else model.probability(row["evidence"]) for row in rows]
    best, best_score = 0.5, -np.inf
    for threshold in np.linspace(0.05, 0.95, 91):
        decisions = [True if p is None else p >= threshold for p in probabilities]
        score = _utility(rows, decisions)
        if score > best_score:
            best, best_score = float(threshold), score
    return RefusalModel(**{**model.__dict__, "threshold": round(best, 3)})


def _utility(rows, decisions) -> float:
    answerable = [d for row, d in zip(rows, decisions, strict=True) if row["answerable"]]
    unanswerable = [d for row, d in zip(rows, decisions, strict=True) if not row["answerable"]]
    refusal = _mean(unanswerable) or 0.0
    false_refusal = _mean(answerable) or 0.0
    return refusal - FALSE_REFUSAL_COST * false_refusal


def figures(rows: list[dict], decisions: list[bool]) -> dict:
    """Per run: refusal, false refusal, keyword and token recall (a refusal scores zero)."""
    out = {}
    for run in sorted({row["run"] for row in rows}):
        pairs = [(r, d) for r, d in zip(rows, decisions, strict=True) if r["run"] == run]
        answerable = [d for r, d in pairs if r["answerable"]]
        unanswerable = [d for r, d in pairs if not r["answerable"]]
        keyword = [0.0 if d else r["keyword"] for r, d in pairs if r["keyword"] is not None]
        token = [0.0 if d else r["token"] for r, d in pairs if r["token"] is not None]
        out[run] = {
            "questions": len(pairs),
            "refusal_rate_unanswerable": _mean(unanswerable),
            "false_refusal_rate": _mean(answerable),
            "keyword_recall": _mean(keyword),
            "token_recall": _mean(token),
        }
    return out


def _command(path: Path) -> str | None:
    return json.loads(path.read_text(encoding="utf-8"))["run"].get("command")


def _mean(values):
    return round(statistics.mean(float(v) for v in values), 3) if values else None


def cross_validate(rows: list[dict], seed: int = 0) -> list[bool]:
    chance = random.Random(seed)
    folds = [0] * len(rows)
    strata: dict[tuple, list[int]] = {}
    for i, row in enumerate(rows):
        strata.setdefault((row["run"], row["answerable"]), []).append(i)
    for members in strata.values():
        chance.shuffle(members)
        for position, i in enumerate(members):
            folds[i] = position % FOLDS
    decisions = [False] * len(rows)
    for fold in range(FOLDS):
        training = [row for row, f in zip(rows, folds, strict=True) if f != fold]
        model = fit(training)
        for i, row in enumerate(rows):
            if folds[i] == fold:
                decisions[i] = refused(model, row)
    return decisions


def repeated(rows: list[dict]) -> dict:
    """The held-out figures averaged over ``REPEATS`` differently shuffled cross-validations (one
    split of a few hundred questions moves a rate by a question or two)."""
    runs = [figures(rows, cross_validate(rows, seed)) for seed in range(REPEATS)]
    return {
        run: {
            name: _mean([r[run][name] for r in runs]) if values[name] is not None else None
            for name in values
        }
        for run, values in runs[0].items()
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("reports", nargs="+", type=Path)
    parser.add_argument("--write", action="store_true", help=f"write {RefusalModel.DEFAULT_PATH}")
    args = parser.parse_args()
    rows = load(args.reports)
    held_out = repeated(rows)
    model = fit(rows)
    in_sample = figures(rows, [refused(model, row) for row in rows])
    hard_only = figures(rows, [row["hard"] for row in rows])
    print(f"{len(rows)} questions; features: {', '.join(FEATURES)}")
    print(f"threshold {model.threshold}; coefficients (standardised):")
    for name, weight in sorted(model.coefficients.items(), key=lambda kv: -abs(kv[1])):
        print(f"  {name:18s} {weight:+.3f}")
    header = "refusal  false-refusal  keyword-recall  token-recall"
    for title, table in (
        (f"held out ({FOLDS}-fold cross-validation, mean of {REPEATS})", held_out),
        ("in sample (fitted on everything)", in_sample),
        ("hard rules only (declined, unsupported, no value asked for, unmentioned)", hard_only),
    ):
        print(f"\n{title}\n  {'run':28s} {header}")
        for run, values in table.items():
            cells = [values[k] for k in list(values)[1:]]
            print(f"  {run:28s} " + "  ".join(f"{'n/a' if c is None else c:>12}" for c in cells))
    if args.write:
        about = {
            "runs": [str(path) for path in args.reports],
            # a regraded report names the recorded run it re-judged: that is what to keep
            "made_by": [_command(path) for path in args.reports],
            "questions": len(rows),
            "folds": FOLDS,
            "repeats": REPEATS,
            "held_out": held_out,
            "in_sample": in_sample,
        }
        model = RefusalModel(**{**model.__dict__, "about": about})
        RefusalModel.DEFAULT_PATH.write_text(model.to_json() + "\n", encoding="utf-8")
        print(f"\nwrote {RefusalModel.DEFAULT_PATH}")


if __name__ == "__main__":
    main()
