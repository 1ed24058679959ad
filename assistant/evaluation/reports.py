"""Evaluation reports: report.json, summary.md and chart.png, and reading them back.

``report.json`` is self-contained: the aggregate object (QUESTION-SET.md), the run facts, and
one record per question with its metric pairs, so ``compare`` and the app recompute nothing
from the pipeline.
"""

from __future__ import annotations

import json
import platform
from dataclasses import asdict, dataclass, field
from pathlib import Path

from assistant.errors import AssistantError
from assistant.evaluation import metrics

REPORT_FORMAT = 1
REPORT_FILE = "report.json"
SUMMARY_FILE = "summary.md"
CHART_FILE = "chart.png"
LABELS = {
    "recall_at_k": "recall@k",
    "hit_at_k": "hit@k",
    "mrr_at_10": "MRR@10",
    "keyword_recall": "keyword recall",
    "token_recall": "token recall",
    "citation_validity": "citation validity",
    "citation_precision": "citation precision",
    "citation_recall": "citation recall",
    "draft_citation_precision": "citation precision (model's draft)",
    "draft_citation_recall": "citation recall (model's draft)",
    "refusal_rate_unanswerable": "refusal rate (unanswerable)",
    "false_refusal_rate": "false refusal rate",
}


@dataclass(frozen=True)
class RunInfo:
    questions_file: str
    corpus: str
    index: str
    k: int
    retrieval_only: bool
    model: str | None
    embedder: str
    checker: str | None = None
    checker_rule: str | None = None
    checker_thresholds: dict | None = None
    planned: int = 0  # questions the run meant to score
    started_at: str = ""
    seconds: float = 0.0
    partial: bool = False
    command: str = ""
    skipped_lines: list[str] = field(default_factory=list)
    min_relative_score: float = 0.0  # of the top k, the model saw those this close to the best

    @property
    def machine(self) -> str:
        return f"{platform.machine()} {platform.system()}, Python {platform.python_version()}"


def build_report(records: list[dict], run: RunInfo) -> dict:
    aggregate = metrics.aggregate(
        records,
        k=run.k,
        model=run.model,
        embedder=run.embedder,
        retrieval_only=run.retrieval_only,
        partial=run.partial,
        data_errors=sum(1 for r in records if r["data_errors"]),
    )
    aggregate["citations"]["checker"] = run.checker
    aggregate["citations"]["checker_rule"] = run.checker_rule
    return {
        "format": REPORT_FORMAT,
        "aggregate": aggregate,
        "run": {**asdict(run), "machine": run.machine},
        "failures": metrics.failure_counts(records),
        "records": records,
    }


def write_report(report: dict, folder: Path) -> dict[str, Path]:
    """Write report.json, summary.md and chart.png into the folder; return their paths."""
    folder.mkdir(parents=True, exist_ok=True)
    paths = {
        "report": folder / REPORT_FILE,
        "summary": folder / SUMMARY_FILE,
        "chart": folder / CHART_FILE,
    }
    paths["report"].write_text(
        json.dumps(report, ensure_ascii=False, indent=1, default=str), encoding="utf-8"
    )
    paths["summary"].write_text(summary_markdown(report), encoding="utf-8")
    write_chart(report, paths["chart"])
    return paths


def load_report(path: Path) -> dict:
    """A report.json (or the folder holding one), checked enough to compare or display."""
    path = path / REPORT_FILE if path.is_dir() else path
    try:
        report = json.loads(path.read_text(encoding="utf-8"))
    except OSError as error:
        raise AssistantError(f"Cannot read the report {path} ({error.strerror}).") from None
    except json.JSONDecodeError as error:
        raise AssistantError(f"{path} is not a report.json ({error.msg}).") from None
    if not isinstance(report, dict) or "records" not in report or "aggregate" not in report:
        raise AssistantError(f"{path} is not an evaluation report (no records/aggregate).")
    return report


def report_folders(base: Path) -> list[Path]:
    """Folders under base that hold a report.json, newest first."""
    if not base.is_dir():
        return []
    folders = [p.parent for p in base.glob(f"*/{REPORT_FILE}")]
    return sorted(folders, key=lambda p: (p / REPORT_FILE).stat().st_mtime, reverse=True)


# --- summary.md ---------------------------------------------------------------------------


def _fmt(value, digits: int = 3) -> str:
    if value is None:
        return "n/a"
    if isinstance(value, float):
        return f"{value:.{digits}f}"
    return str(value)


def metric_rows(aggregate: dict) -> list[tuple[str, float | None]]:
    rows = []
    for spec in metrics.METRICS:
        label = LABELS[spec.key].replace("@k", f"@{aggregate.get('k', 'k')}")
        rows.append((label, aggregate.get(spec.section, {}).get(spec.name)))
    return rows


def summary_markdown(report: dict) -> str:
    aggregate, run = report["aggregate"], report["run"]
    lines = [f"# Evaluation: {run['questions_file']}", ""]
    if run["partial"]:
        lines += [
            f"**PARTIAL REPORT: stopped after {aggregate['questions']} of {run['planned']} "
            "questions; the numbers cover only those.**",
            "",
        ]
    mode = "retrieval only (no model)" if run["retrieval_only"] else f"model {run['model']}"
    lines += [
        f"- questions: {aggregate['questions']} ({aggregate['answerable']} answerable, "
        f"{aggregate['unanswerable']} unanswerable), k = {aggregate['k']}",
        f"- corpus: `{run['corpus']}`, index: `{run['index']}`",
        f"- {mode}; embedder {run['embedder']}",
        f"- support checker: {run['checker_rule'] or 'not used'}",
        f"- started {run['started_at']}, {run['seconds']:.1f} s, on {run['machine']}",
        f"- command: `{run['command']}`" if run["command"] else "",
        "",
        "| metric | value |",
        "| --- | --- |",
        *(f"| {label} | {_fmt(value)} |" for label, value in metric_rows(aggregate)),
        "",
        "| latency | p50 | p95 |",
        "| --- | --- | --- |",
    ]
    latency = aggregate["latency"]
    for name in metrics.LATENCY + ("tokens_per_s",):
        p50, p95 = latency.get(f"{name}_p50"), latency.get(f"{name}_p95")
        lines.append(f"| {name} | {_fmt(p50, 2)} | {_fmt(p95, 2)} |")
    lines += _kind_table(aggregate) + _failure_lines(report)
    return "\n".join(line for line in lines if line is not None) + "\n"


def _kind_table(aggregate: dict) -> list[str]:
    kinds = aggregate.get("per_kind")
    if not kinds:
        return []
    columns = [
        spec
        for spec in metrics.METRICS
        if spec.key in ("hit_at_k", "mrr_at_10", "keyword_recall", "token_recall")
        or spec.section in ("refusals",)
        or spec.key in ("citation_precision", "citation_recall")
    ]
    lines = [
        "",
        "## By kind",
        "",
        "| kind | n | " + " | ".join(LABELS[s.key] for s in columns) + " |",
        "| --- | --- | " + " | ".join("---" for _ in columns) + " |",
    ]
    for kind, values in kinds.items():
        cells = [_fmt(values.get(s.section, {}).get(s.name), 2) for s in columns]
        lines.append(f"| {kind} | {values['questions']} | " + " | ".join(cells) + " |")
    return lines


def _failure_lines(report: dict) -> list[str]:
    lines = ["", "## Failures", ""]
    counts = report.get("failures") or {}
    if not counts:
        return [*lines, "None."]
    lines.append(", ".join(f"{label}: {count}" for label, count in counts.items()))
    lines.append("")
    for record in report["records"]:
        if record["failures"]:
            question = " ".join(record["question"].split())
            lines.append(f"- `{record['id']}` {', '.join(record['failures'])}: {question}")
            where = f"line {record.get('line', '?')} of {report['run']['questions_file']}"
            lines += [f"  - data error ({where}): {error}" for error in record["data_errors"]]
            if record.get("error"):
                lines.append(f"  - not answered: {record['error']}")
    for skipped in report["run"].get("skipped_lines") or []:
        lines.append(f"- skipped question file {skipped}")
    return lines


# --- chart.png ----------------------------------------------------------------------------


def write_chart(report: dict, path: Path) -> None:
    """Metric bars (n/a where not computable) beside the latency distribution."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    aggregate, records = report["aggregate"], report["records"]
    rows = metric_rows(aggregate)
    figure, (left, right) = plt.subplots(1, 2, figsize=(11, 4.6), width_ratios=[1.2, 1])
    labels = [label for label, _ in rows][::-1]
    values = [value for _, value in rows][::-1]
    left.barh(labels, [v or 0 for v in values], color="#4C72B0")
    for y, value in enumerate(values):
        text = "n/a" if value is None else f"{value:.2f}"
        left.text((value or 0) + 0.01, y, text, va="center", fontsize=8)
    left.set_xlim(0, 1.12)
    title = f"{aggregate['questions']} questions, k={aggregate['k']}"
    left.set_title(title + (" (PARTIAL)" if aggregate.get("partial") else ""), fontsize=10)
    _latency_panel(right, records)
    figure.tight_layout()
    figure.savefig(path, dpi=100)
    plt.close(figure)


def _latency_panel(axis, records: list[dict]) -> None:
    total = metrics.latency_values(records, "total_s")
    if total:
        ttft = metrics.latency_values(records, "ttft_s")
        axis.hist([total, ttft], bins=15, label=["total s", "first token s"], alpha=0.8)
        axis.set_xlabel("seconds per question")
        axis.legend(fontsize=8)
    else:
        axis.hist(metrics.latency_values(records, "retrieval_ms"), bins=15, color="#55A868")
        axis.set_xlabel("retrieval ms per question")
    axis.set_ylabel("questions")
    axis.set_title("Latency distribution", fontsize=10)
