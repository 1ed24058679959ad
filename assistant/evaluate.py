"""Evaluation: run a question set through the real pipeline, one typed record per question.

The question-set format and the metric definitions are fixed in ``QUESTION-SET.md`` (shared
with other question sets run through the same command). This module reads the set, finds each
evidence quote's character span in its document, runs retrieval (and, unless retrieval-only,
the full answer) and yields one ``QuestionResult`` per question, so a caller can show progress,
stop early and still keep what finished. The metric arithmetic is in ``metrics.py``, the
report files and ``compare`` in ``reports.py``.

Design choices:

- A quote is matched after collapsing runs of whitespace and ignoring case, on a lower-cased,
  whitespace-collapsed copy of ``Document.text`` with a map back to original offsets, so the
  span is in the same coordinates as chunk spans.
- A quote that cannot be found is a *data error* of that question: the evidence item is left
  out of the retrieval metrics and listed in the report, never scored as a retrieval miss.
- One depth-10 retrieval per question gives MRR@10 and, in a retrieval-only run, the top k
  for recall@k and hit@k. With the model, the top k is what ``ask`` itself retrieved
  (``Answer.retrieved``), so the metrics score exactly the passages the model was offered.
  (The query embedding dominates retrieval time, so the runner does not retrieve twice.)
- The model's raw output is collected while streaming, because the pipeline removes markers
  that point at no passage from ``Answer.text``; citation validity needs the raw markers.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path

from assistant.documents import load_document
from assistant.errors import AssistantError

KNOWN_FIELDS = {"id", "question", "answerable", "evidence", "answer_keywords", "reference_answer"}
MRR_DEPTH = 10
SHIPPED_QUESTIONS = Path("evaluation") / "questions.jsonl"
REPORTS_DIR = Path("evaluation") / "reports"


@dataclass(frozen=True)
class Evidence:
    document: str  # path relative to the corpus folder
    quote: str


@dataclass(frozen=True)
class Question:
    id: str
    question: str
    answerable: bool
    evidence: tuple[Evidence, ...] = ()
    answer_keywords: tuple[tuple[str, ...], ...] = ()
    reference_answer: str | None = None
    extra: dict = field(default_factory=dict)  # unknown fields, e.g. "kind", kept as is
    line: int = 0

    @property
    def kind(self) -> str | None:
        kind = self.extra.get("kind")
        return str(kind) if kind is not None else None


@dataclass(frozen=True)
class LineError:
    line: int
    message: str

    def __str__(self) -> str:
        return f"line {self.line}: {self.message}"


# --- reading a question set -------------------------------------------------------------


def load_questions(path: Path) -> tuple[list[Question], list[LineError]]:
    """The questions of a JSON Lines file and the errors of its malformed lines (by number)."""
    try:
        lines = path.read_text(encoding="utf-8-sig").splitlines()
    except OSError as error:
        raise AssistantError(
            f"Cannot read the question file {path} ({error.strerror}). Check the --questions path."
        ) from None
    except UnicodeDecodeError:
        raise AssistantError(f"{path} is not UTF-8 text. Save it as UTF-8 JSON Lines.") from None
    questions: list[Question] = []
    errors: list[LineError] = []
    seen: set[str] = set()
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            question = parse_question(line, line_number=number)
        except ValueError as error:
            errors.append(LineError(number, str(error)))
            continue
        if question.id in seen:
            errors.append(LineError(number, f"duplicate id {question.id!r}"))
            continue
        seen.add(question.id)
        questions.append(question)
    if not questions and not errors:
        errors.append(LineError(0, "the file has no questions"))
    return questions, errors


def parse_question(line: str, *, line_number: int = 0) -> Question:
    """One question from one JSON line; ValueError says what is wrong with it."""
    try:
        data = json.loads(line)
    except json.JSONDecodeError as error:
        raise ValueError(f"not valid JSON ({error.msg} at column {error.colno})") from None
    if not isinstance(data, dict):
        raise ValueError("expected a JSON object")
    qid, text, answerable = data.get("id"), data.get("question"), data.get("answerable")
    if not isinstance(qid, str | int) or isinstance(qid, bool) or not str(qid).strip():
        raise ValueError('"id" must be a non-empty string')
    if not isinstance(text, str) or not text.strip():
        raise ValueError(f'{qid}: "question" must be a non-empty string')
    if not isinstance(answerable, bool):
        raise ValueError(f'{qid}: "answerable" must be true or false')
    evidence = _parse_evidence(data.get("evidence") or [], qid)
    if answerable and not evidence:
        raise ValueError(f'{qid}: an answerable question needs "evidence"')
    reference = data.get("reference_answer")
    if reference is not None and not isinstance(reference, str):
        raise ValueError(f'{qid}: "reference_answer" must be a string')
    return Question(
        id=str(qid),
        question=text,
        answerable=answerable,
        evidence=evidence,
        answer_keywords=_parse_keywords(data.get("answer_keywords") or [], qid),
        reference_answer=reference if reference and reference.strip() else None,
        extra={k: v for k, v in data.items() if k not in KNOWN_FIELDS},
        line=line_number,
    )


def _parse_evidence(items: object, qid: object) -> tuple[Evidence, ...]:
    if not isinstance(items, list):
        raise ValueError(f'{qid}: "evidence" must be a list of {{document, quote}} objects')
    evidence = []
    for item in items:
        if not isinstance(item, dict):
            raise ValueError(f'{qid}: each "evidence" item must be an object')
        document, quote = item.get("document"), item.get("quote")
        if not isinstance(document, str) or not document.strip():
            raise ValueError(f'{qid}: an evidence item needs a "document" path')
        if not isinstance(quote, str) or not quote.strip():
            raise ValueError(f'{qid}: an evidence item needs a non-empty "quote"')
        evidence.append(Evidence(document.strip().replace("\\", "/"), quote))
    return tuple(evidence)


def _parse_keywords(groups: object, qid: object) -> tuple[tuple[str, ...], ...]:
    if not isinstance(groups, list):
        raise ValueError(f'{qid}: "answer_keywords" must be a list of lists of strings')
    parsed = []
    for group in groups:
        alternatives = [group] if isinstance(group, str) else group
        if not isinstance(alternatives, list) or not all(isinstance(a, str) for a in alternatives):
            raise ValueError(f'{qid}: each "answer_keywords" group must be a list of strings')
        alternatives = [a for a in alternatives if a.strip()]
        if alternatives:
            parsed.append(tuple(alternatives))
    return tuple(parsed)


# --- evidence spans ----------------------------------------------------------------------


def _folded(text: str) -> tuple[str, list[int]]:
    """Lower-cased text with whitespace runs collapsed to one space, and each character's
    offset in the original (lower() may change a character's length, hence per character)."""
    chars: list[str] = []
    offsets: list[int] = []
    in_space = False
    for position, char in enumerate(text):
        if char.isspace():
            if not in_space:
                chars.append(" ")
                offsets.append(position)
            in_space = True
            continue
        in_space = False
        for lowered in char.lower():
            chars.append(lowered)
            offsets.append(position)
    return "".join(chars), offsets


class FoldedText:
    """A document's text folded once, for locating many quotes in it."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.folded, self.offsets = _folded(text)

    def find(self, quote: str) -> tuple[int, int] | None:
        folded_quote, _ = _folded(quote.strip())
        found = self.folded.find(folded_quote) if folded_quote else -1
        if found < 0:
            return None
        return self.offsets[found], self.offsets[found + len(folded_quote) - 1] + 1


def locate_quote(text: str, quote: str) -> tuple[int, int] | None:
    """The [start, end) span of the quote in text, whitespace-collapsed and case-insensitive."""
    return FoldedText(text).find(quote)


@dataclass(frozen=True)
class EvidenceSpan:
    document: str
    quote: str
    start: int | None  # None: the quote was not found (a data error)
    end: int | None
    error: str | None = None

    def overlaps(self, chunk) -> bool:
        """Is a chunk relevant to this evidence: same document, overlapping [start, end)?"""
        return (
            self.start is not None
            and chunk.document == self.document
            and chunk.start < self.end
            and self.start < chunk.end
        )


class EvidenceLocator:
    """Finds evidence spans in the corpus documents, reading each document once."""

    def __init__(self, corpus_dir: Path) -> None:
        self.corpus_dir = corpus_dir
        self._texts: dict[str, FoldedText | AssistantError] = {}

    def spans(self, question: Question) -> list[EvidenceSpan]:
        return [self.span(item) for item in question.evidence]

    def span(self, evidence: Evidence) -> EvidenceSpan:
        text = self._text(evidence.document)
        if isinstance(text, AssistantError):
            return EvidenceSpan(evidence.document, evidence.quote, None, None, str(text))
        found = text.find(evidence.quote)
        if found is None:
            message = f"quote not found in {evidence.document}: {evidence.quote[:80]!r}"
            return EvidenceSpan(evidence.document, evidence.quote, None, None, message)
        return EvidenceSpan(evidence.document, evidence.quote, *found)

    def _text(self, document: str) -> FoldedText | AssistantError:
        if document not in self._texts:
            path = self.corpus_dir / document
            root = self.corpus_dir.resolve()
            if not path.is_file() or root not in path.resolve().parents:
                self._texts[document] = AssistantError(
                    f"document {document} is not in the corpus folder {self.corpus_dir}"
                )
            else:
                try:
                    document_text = load_document(path, root=self.corpus_dir).text
                    self._texts[document] = FoldedText(document_text)
                except AssistantError as error:
                    self._texts[document] = error
        return self._texts[document]


# --- running ----------------------------------------------------------------------------


@dataclass(frozen=True)
class RetrievedChunk:
    rank: int
    chunk_id: str
    document: str
    page: int | None
    start: int
    end: int
    score: float  # cosine similarity
    fused: float | None  # the score the retrieval mode ranked by, where it has one
    relevant: bool
    in_top_k: bool  # among the k passages retrieved for the answer


@dataclass(frozen=True)
class QuestionResult:
    """Everything measured for one question; ``metrics`` holds (numerator, denominator)."""

    question: Question
    evidence: tuple[EvidenceSpan, ...]
    retrieved: tuple[RetrievedChunk, ...]
    retrieval_ms: float
    answer: dict | None  # None in retrieval-only runs; see metrics.answer_record
    metrics: dict[str, tuple[float, float]]
    failures: tuple[str, ...]

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
            "retrieved": [asdict(chunk) for chunk in self.retrieved],
            "retrieval_ms": self.retrieval_ms,
            "answer": self.answer,
            "metrics": {name: list(value) for name, value in self.metrics.items()},
            "failures": list(self.failures),
        }


def evaluate_questions(
    questions: list[Question],
    *,
    assistant,
    k: int,
    retrieval_only: bool = False,
    checker=None,
) -> Iterator[QuestionResult]:
    """Yield one result per question, in order. Stop iterating to stop the run."""
    from assistant import metrics

    locator = EvidenceLocator(assistant.settings.corpus_dir)
    for question in questions:
        spans = tuple(locator.spans(question))
        ranked, retrieval_ms = assistant.retriever.retrieve(question.question, max(k, MRR_DEPTH))
        top, answer = ranked[:k], None
        if not retrieval_only:
            answer, top = _answer(assistant, question, k=k, checker=checker)
            retrieval_ms = answer["timings"]["retrieval_ms"]
        retrieved = _retrieved(ranked, top, spans)
        scores = metrics.question_metrics(question, spans, top, ranked, answer)
        yield QuestionResult(
            question=question,
            evidence=spans,
            retrieved=retrieved,
            retrieval_ms=round(retrieval_ms, 2),
            answer=answer,
            metrics=scores,
            failures=tuple(metrics.failures(question, spans, scores, answer)),
        )


def _retrieved(ranked, top, spans) -> tuple[RetrievedChunk, ...]:
    top_ids = {hit.chunk.id for hit in top}
    hits = list(ranked) + [hit for hit in top if hit.chunk.id not in {h.chunk.id for h in ranked}]
    return tuple(
        RetrievedChunk(
            rank=hit.rank,
            chunk_id=hit.chunk.id,
            document=hit.chunk.document,
            page=hit.chunk.page,
            start=hit.chunk.start,
            end=hit.chunk.end,
            score=round(float(hit.score), 4),
            fused=round(float(hit.fused), 5) if hasattr(hit, "fused") else None,
            relevant=any(span.overlaps(hit.chunk) for span in spans),
            in_top_k=hit.chunk.id in top_ids,
        )
        for hit in hits
    )


def _answer(assistant, question: Question, *, k: int, checker) -> tuple[dict, list]:
    """(the answer record, the top k hits the pipeline retrieved for it)."""
    from assistant.metrics import answer_record

    stream = assistant.ask(question.question, top_k=k)
    started = time.perf_counter()
    raw = "".join(stream)
    answer = stream.answer
    assert answer is not None
    record = answer_record(answer, raw, checker=checker, wall_s=time.perf_counter() - started)
    return record, list(answer.retrieved[:k])


def run_info(
    assistant,
    *,
    questions_file: Path,
    k: int,
    retrieval_only: bool,
    checker,
    planned: int,
    started: float,
    partial: bool,
    command: str = "",
    skipped_lines: list[LineError] | None = None,
):
    """The facts about a finished (or stopped) run that the report records."""
    from assistant.reports import RunInfo

    return RunInfo(
        questions_file=str(questions_file),
        corpus=str(assistant.settings.corpus_dir),
        index=str(assistant.settings.index_dir),
        k=k,
        retrieval_only=retrieval_only,
        model=None if retrieval_only else assistant.generator.name,
        embedder=assistant.embedder.name,
        checker=checker.name if checker else None,
        checker_rule=checker.describe() if checker else None,
        checker_thresholds=checker.thresholds() if checker else None,
        planned=planned,
        started_at=time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(started)),
        seconds=round(time.time() - started, 1),
        partial=partial,
        command=command,
        skipped_lines=[str(error) for error in skipped_lines or []],
    )


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
