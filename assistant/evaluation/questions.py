"""Question sets: the JSON Lines format of QUESTION-SET.md, read into typed Questions.

A malformed line is reported by its number and never stops the others from being read; the
caller decides whether a file with bad lines may be scored (``--skip-invalid``).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from assistant.errors import AssistantError

KNOWN_FIELDS = {"id", "question", "answerable", "evidence", "answer_keywords", "reference_answer"}
SHIPPED_QUESTIONS = Path("evaluation") / "questions.jsonl"


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
