"""Evaluation: score the assistant on a question set (QUESTION-SET.md) and compare runs.

``questions`` reads a set, ``evidence`` finds each evidence quote in its document, ``runner``
runs the set through the real pipeline (one loop for the CLI and the app), ``metrics`` holds
the arithmetic, ``reports`` writes and reads report.json, summary.md and chart.png, and
``compare`` is the paired bootstrap between two reports.
"""

from assistant.evaluation.compare import compare_reports
from assistant.evaluation.metrics import METRICS
from assistant.evaluation.questions import SHIPPED_QUESTIONS, Question, load_questions
from assistant.evaluation.reports import (
    CHART_FILE,
    LABELS,
    build_report,
    load_report,
    report_folders,
    summary_markdown,
    write_report,
)
from assistant.evaluation.runner import (
    REPORTS_DIR,
    EvaluationRun,
    QuestionResult,
    evaluate_questions,
    report_dir,
    scratch_index_dir,
)

__all__ = [
    "CHART_FILE",
    "LABELS",
    "METRICS",
    "REPORTS_DIR",
    "SHIPPED_QUESTIONS",
    "EvaluationRun",
    "Question",
    "QuestionResult",
    "build_report",
    "compare_reports",
    "evaluate_questions",
    "load_questions",
    "load_report",
    "report_dir",
    "report_folders",
    "scratch_index_dir",
    "summary_markdown",
    "write_report",
]
