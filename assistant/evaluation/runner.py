"""Running a question set through the real pipeline: one typed record per question.

``EvaluationRun`` is the one run loop, used by ``assistant eval`` and by the app's Evaluation
page: iterate it for one ``QuestionResult`` per question (so a caller can show progress, stop
early and still keep what finished), then ``write`` the report, marked partial when it stopped.

Design choices:

- One depth-10 retrieval per question gives MRR@10 and, in a retrieval-only run, the top k
  for recall@k and hit@k. With the model, the top k is what ``ask`` itself retrieved
  (``Answer.retrieved``), so the metrics score exactly the passages the model was offered.
  (The query embedding dominates retrieval time, so the runner does not retrieve twice.)
- The model's raw output is collected while streaming, because the pipeline removes markers
  that point at no passage from ``Answer.text``; citation validity needs the raw markers.
- An answer's record is ``Answer.to_dict()`` (the shape ``ask --json`` prints) plus what the
  metrics need: the raw markers and each sentence's support decisions.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from pathlib import Path

from assistant.errors import AssistantError
from assistant.evaluation import metrics
from assistant.evaluation.evidence import EvidenceLocator, EvidenceSpan
from assistant.evaluation.questions import LineError, Question
from assistant.evaluation.reports import RunInfo, build_report, write_report
from assistant.grounding import SupportChecker
from assistant.grounding.support import in_answer
from assistant.pipeline import Assistant
from assistant.retrieval import Hit
from assistant.text import collapse_whitespace, markers_in, split_answer_sentences

MRR_DEPTH = 10
REPORTS_DIR = Path("evaluation") / "reports"


@dataclass(frozen=True)
class QuestionResult:
    """Everything measured for one question; ``metrics`` holds (numerator, denominator)."""

    question: Question
    evidence: tuple[EvidenceSpan, ...]
    retrieved: tuple[dict, ...]  # Hit.to_dict without text, plus "relevant" and "in_top_k"
    retrieval_ms: float
    answer: dict | None  # None in retrieval-only runs; see answer_record
    metrics: dict[str, tuple[float, float]]
    failures: tuple[str, ...]
    error: str | None = None  # why the question could not be answered (it is left unscored)

    @property
    def data_errors(self) -> list[str]:
        return [span.error for span in self.evidence if span.error]

    def to_dict(self) -> dict:
        question = self.question
        return {
            "id": question.id,
            "question": question.question,
            "answerable": question.answerable,
            "kind": question.kind,
            "extra": question.extra,
            "line": question.line,
            "reference_answer": question.reference_answer,
            "answer_keywords": [list(group) for group in question.answer_keywords],
            "evidence": [asdict(span) for span in self.evidence],
            "data_errors": self.data_errors,
            "retrieved": list(self.retrieved),
            "retrieval_ms": self.retrieval_ms,
            "answer": self.answer,
            "metrics": {name: list(value) for name, value in self.metrics.items()},
            "failures": list(self.failures),
            "error": self.error,
        }


def evaluate_questions(
    questions: list[Question],
    *,
    assistant: Assistant,
    k: int,
    retrieval_only: bool = False,
    checker: SupportChecker | None = None,
) -> Iterator[QuestionResult]:
    """Yield one result per question, in order. Stop iterating to stop the run."""
    locator = EvidenceLocator(assistant.settings.index.corpus_dir)
    for question in questions:
        spans = tuple(locator.spans(question))
        ranked, retrieval_ms = assistant.retriever.retrieve(question.question, max(k, MRR_DEPTH))
        top, answer, error = ranked[:k], None, None
        if not retrieval_only:
            try:
                answer, top = _answer(assistant, question, k=k, checker=checker)
                retrieval_ms = answer["timings"]["retrieval_ms"]
            except AssistantError as failure:  # one question's error never ends the run
                error = str(failure)
        scores = metrics.question_metrics(question, spans, top, ranked, answer)
        failures = metrics.failures(question, spans, scores, answer)
        yield QuestionResult(
            question=question,
            evidence=spans,
            retrieved=_retrieved(ranked, top, spans),
            retrieval_ms=round(retrieval_ms, 2),
            answer=answer,
            metrics=scores,
            failures=tuple(failures + (["answer-error"] if error else [])),
            error=error,
        )


def _retrieved(ranked: list[Hit], top: list[Hit], spans) -> tuple[dict, ...]:
    top_ids = {hit.chunk.id for hit in top}
    ranked_ids = {hit.chunk.id for hit in ranked}
    hits = list(ranked) + [hit for hit in top if hit.chunk.id not in ranked_ids]
    return tuple(
        {
            **hit.to_dict(text=False),
            "relevant": any(span.overlaps(hit.chunk) for span in spans),
            "in_top_k": hit.chunk.id in top_ids,
        }
        for hit in hits
    )


def _answer(assistant: Assistant, question: Question, *, k: int, checker) -> tuple[dict, list]:
    """(the answer record, the top k hits the pipeline retrieved for it)."""
    stream = assistant.ask(question.question, top_k=k)
    started = time.perf_counter()
    raw = "".join(stream)
    answer = stream.answer
    assert answer is not None
    record = answer_record(answer, raw, checker=checker, wall_s=time.perf_counter() - started)
    return record, list(answer.retrieved[:k])


def answer_record(answer, raw_text: str, *, checker, wall_s: float | None = None) -> dict:
    """What the report keeps of one answer, with each sentence's citation support decisions.

    ``raw_text`` is what streamed: the model's draft. When the pipeline rewrote the draft
    (markers moved or added by verification), the draft's own citations are scored too, as
    ``draft_sentences``, so the report shows what the model cited and what the user saw.
    """
    draft = answer.draft or raw_text
    markers = markers_in(draft)
    shown = answer.passages
    asked = answer.question
    rewritten = not answer.refused and collapse_whitespace(draft) != collapse_whitespace(
        answer.text
    )
    return {
        **answer.to_dict(),
        "raw_text": draft,
        "markers": {"total": len(markers), "valid": sum(1 <= n <= len(shown) for n in markers)},
        "sentences": [] if answer.refused else sentence_support(answer.text, shown, checker, asked),
        "draft_sentences": sentence_support(draft, shown, checker, asked) if rewritten else None,
        "wall_s": round(wall_s, 3) if wall_s is not None else None,
    }


def sentence_support(text: str, passages, checker, question: str | None = None) -> list[dict]:
    """Each answer sentence, its markers, and whether each cited passage supports it.

    The checker judges each sentence as an answer to ``question`` (its answer-overlap clause),
    read as part of this answer (``in_answer``), the way the pipeline verified it.
    """
    sentences = split_answer_sentences(text)
    cited = [sorted({n for n in markers_in(s) if 1 <= n <= len(passages)}) for s in sentences]
    pairs = [(n, s) for s, numbers in zip(sentences, cited, strict=True) for n in numbers]
    decided = []
    if checker and pairs:
        checked = [(sentence, passages[n - 1].chunk.readable_text) for n, sentence in pairs]
        decisions = checker.check_many(checked, question=question)
        read = in_answer([(n, d) for (n, _), d in zip(pairs, decisions, strict=True)])
        decided = [{**asdict(d), "supported": ok} for d, ok in zip(decisions, read, strict=True)]
    found = iter(decided)
    records = []
    for position, (sentence, numbers) in enumerate(zip(sentences, cited, strict=True)):
        supports = [{"marker": number, **next(found, {})} for number in numbers]
        records.append(
            {
                "text": sentence,
                "markers": numbers,
                "lead_in": metrics.is_recall_lead_in(sentence, position, len(sentences)),
                "supports": supports,
                "supported": any(s.get("supported") for s in supports),
            }
        )
    return records


class EvaluationRun:
    """A question set scored with one assistant; iterate for results, then ``write`` a report.

    With the model, it is loaded when the run is made, so no question's timing includes it.
    """

    def __init__(
        self,
        questions: list[Question],
        *,
        assistant: Assistant,
        retrieval_only: bool,
        questions_file: Path,
        command: str = "",
        skipped_lines: list[LineError] | None = None,
    ) -> None:
        self.questions = questions
        self.assistant = assistant
        self.retrieval_only = retrieval_only
        self.k = assistant.settings.retrieval.top_k
        self.checker = None if retrieval_only else assistant.checker
        if not retrieval_only:
            _ = assistant.generator
        self.records: list[dict] = []
        self._questions_file = questions_file
        self._command = command
        self._skipped_lines = skipped_lines or []
        self._started = time.time()

    def __iter__(self) -> Iterator[QuestionResult]:
        self._started = time.time()
        for result in evaluate_questions(
            self.questions,
            assistant=self.assistant,
            k=self.k,
            retrieval_only=self.retrieval_only,
            checker=self.checker,
        ):
            self.records.append(result.to_dict())
            yield result

    def progress_line(self, result: QuestionResult) -> str:
        """The question just scored and the running averages: "q7 (7/71)  hit@k 0.86 ..."."""
        done = f"{len(self.records)}/{len(self.questions)}"
        return f"{result.question.id} ({done})  {metrics.running_summary(self.records)}"

    def run_info(self, *, partial: bool) -> RunInfo:
        """The facts about the finished (or stopped) run that the report records."""
        assistant, checker = self.assistant, self.checker
        return RunInfo(
            questions_file=str(self._questions_file),
            corpus=str(assistant.settings.index.corpus_dir),
            index=str(assistant.settings.index.index_dir),
            k=self.k,
            retrieval_only=self.retrieval_only,
            model=None if self.retrieval_only else assistant.generator.name,
            embedder=assistant.embedder.name,
            checker=checker.name if checker else None,
            checker_rule=checker.describe() if checker else None,
            checker_thresholds=checker.thresholds() if checker else None,
            planned=len(self.questions),
            started_at=time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(self._started)),
            seconds=round(time.time() - self._started, 1),
            partial=partial,
            command=self._command,
            skipped_lines=[str(error) for error in self._skipped_lines],
            min_relative_score=assistant.settings.retrieval.min_relative_score,
        )

    def report(self, *, partial: bool) -> dict:
        return build_report(self.records, self.run_info(partial=partial))

    def write(self, folder: Path, *, partial: bool) -> tuple[dict, dict[str, Path]]:
        """(the report, the paths of report.json, summary.md and chart.png in ``folder``)."""
        report = self.report(partial=partial)
        return report, write_report(report, folder)


# --- where things go ----------------------------------------------------------------------


def scratch_index_dir(corpus_dir: Path, default_index_dir: Path) -> Path:
    """The index folder for a corpus other than the default one.

    ``indexes/<corpus folder name>-<8 hex of its absolute path>/`` next to the default index
    folder (git-ignored): reused across runs, never mixed with the default index, and two
    corpora with the same folder name do not collide.
    """
    resolved = corpus_dir.expanduser().resolve()
    digest = hashlib.sha1(str(resolved).encode()).hexdigest()[:8]
    return default_index_dir.parent / "indexes" / f"{resolved.name or 'corpus'}-{digest}"


def report_dir(base: Path = REPORTS_DIR) -> Path:
    """A new timestamped folder name under the reports folder (not created)."""
    stamp = time.strftime("%Y%m%d-%H%M%S")
    candidate, suffix = base / stamp, 1
    while candidate.exists():
        suffix += 1
        candidate = base / f"{stamp}-{suffix}"
    return candidate
