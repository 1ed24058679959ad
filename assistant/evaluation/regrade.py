"""Re-judging a report's recorded answers with today's grounding, without running the model.

Nearly all of an evaluation run is generation. A change to verification, the support checker
or the refusal decision leaves what the model wrote unchanged, so ``assistant eval regrade``
replays each recorded draft (``answer.raw_text``) through the same ``AnswerStream`` the
pipeline uses: the passages are the ones the run showed the model (its top k, read back from
the index by chunk id in their recorded order, less those under the run's
``min_relative_score``), the generator is a ``ScriptedGenerator`` that streams the draft, and
the grounding is the assistant's own. The answer is then scored the way a run scores it.

What it cannot show: anything that changes the draft (the prompt, retrieval, the model), and
answers the recorded run refused before the model ran (no draft to replay; they stay refused).
Record a run with ``ASSISTANT_REFUSAL=off`` so every question reaches the model. Timings are
the recorded ones.
"""

from __future__ import annotations

from collections.abc import Iterator

from assistant.answer import AnswerStream
from assistant.errors import AssistantError
from assistant.evaluation import metrics
from assistant.evaluation.evidence import EvidenceSpan
from assistant.evaluation.questions import Question
from assistant.evaluation.reports import RunInfo, build_report
from assistant.evaluation.runner import answer_record
from assistant.llm import ScriptedGenerator
from assistant.pipeline import Assistant
from assistant.retrieval import Hit, bearing_on_question

SCORES = ("score", "rank", "keyword_score", "fused", "coverage")


class _Recorded:
    """A retriever that returns the passages a recorded run showed."""

    def __init__(self, hits: list[Hit], retrieval_ms: float) -> None:
        self.hits, self.retrieval_ms = hits, retrieval_ms

    def retrieve(self, question: str, k: int) -> tuple[list[Hit], float]:
        return self.hits[:k], self.retrieval_ms


def regrade_records(report: dict, assistant: Assistant) -> Iterator[dict]:
    """Each record of ``report`` with its answer re-judged and re-scored (see module doc)."""
    chunks = {chunk.id: chunk for chunk in assistant.index.chunks}
    settings = assistant.settings
    for record in report["records"]:
        answer = record.get("answer")
        if not answer or not answer.get("raw_text"):
            yield record
            continue
        shown = [row for row in record["retrieved"] if row["in_top_k"]]
        missing = [row["chunk_id"] for row in shown if row["chunk_id"] not in chunks]
        if missing:
            raise AssistantError(
                f"Question {record['id']}: the index has no passage {missing[0]}. Regrade "
                "against the corpus and index the report was made with (--corpus, --index)."
            )
        hits = [Hit(chunks[row["chunk_id"]], **{k: row[k] for k in SCORES}) for row in shown]
        hits = bearing_on_question(hits, report["run"].get("min_relative_score", 0.0))
        generator = ScriptedGenerator(answer["raw_text"])
        generator.n_ctx = 1 << 20  # every recorded passage fits, as it did in the run
        stream = AnswerStream(
            record["question"],
            retriever=_Recorded(hits, record["retrieval_ms"]),
            generator=generator,
            prompts=assistant.prompts,
            grounding=assistant.grounding,
            generation=settings.generation,
            top_k=len(hits),
        )
        new = answer_record(stream.run(), answer["raw_text"], checker=assistant.checker)
        kept = {key: answer[key] for key in ("timings", "model", "backend", "prompt", "wall_s")}
        new.update(kept)
        question = _question(record)
        scores = {
            **{k: v for k, v in record["metrics"].items() if k in metrics.RETRIEVAL_METRICS},
            **metrics.answer_metrics(question, new),
        }
        spans = [EvidenceSpan(**span) for span in record["evidence"]]
        failures = metrics.failures(question, spans, scores, new)
        yield {**record, "answer": new, "metrics": scores, "failures": failures}


def regraded_report(report: dict, assistant: Assistant, *, command: str) -> dict:
    """The report of ``regrade_records``: the recorded run's facts, today's checker."""
    records = list(regrade_records(report, assistant))
    run, checker = report["run"], assistant.checker
    fields = {name: run[name] for name in RunInfo.__dataclass_fields__ if name in run}
    info = RunInfo(
        **{
            **fields,
            "corpus": str(assistant.settings.index.corpus_dir),
            "index": str(assistant.settings.index.index_dir),
            "checker": checker.name,
            "checker_rule": checker.describe(),
            "checker_thresholds": checker.thresholds(),
            "command": command,
        }
    )
    return build_report(records, info)


def _question(record: dict) -> Question:
    return Question(
        id=record["id"],
        question=record["question"],
        answerable=record["answerable"],
        evidence=(),
        answer_keywords=tuple(tuple(group) for group in record.get("answer_keywords") or []),
        reference_answer=record.get("reference_answer"),
        extra=record.get("extra") or ({"kind": record["kind"]} if record.get("kind") else {}),
        line=record.get("line") or 0,
    )
