"""Question sets, evidence spans and every metric, on small hand-made cases."""

import json
import shutil
from pathlib import Path

import pytest

from assistant.answer import Answer, Timings
from assistant.chunking import Chunk
from assistant.config import PROJECT_ROOT, Settings
from assistant.documents import load_document
from assistant.embeddings import HashingEmbedder
from assistant.evaluation import metrics
from assistant.evaluation.evidence import EvidenceSpan, locate_quote
from assistant.evaluation.questions import load_questions, parse_question
from assistant.evaluation.runner import answer_record, evaluate_questions, scratch_index_dir
from assistant.grounding import SupportChecker, SupportDecision
from assistant.llm import ScriptedGenerator
from assistant.pipeline import Assistant
from assistant.retrieval import Hit
from assistant.text import answer_tokens

DATA = Path(__file__).parent / "data" / "eval"


def chunk(document: str, start: int, end: int, n: int = 0) -> Chunk:
    return Chunk(f"{document}#{start}-{end}-{n}", document, None, start, end, None, "x")


def hits(*chunks: Chunk) -> list[Hit]:
    return [Hit(c, 0.5, rank) for rank, c in enumerate(chunks, start=1)]


def span(document: str, start: int | None, end: int | None, error=None) -> EvidenceSpan:
    return EvidenceSpan(document, "quote", start, end, error)


def question(**fields):
    line = {"id": "q1", "question": "Q?", "answerable": True}
    line.update(fields)
    if line["answerable"] and "evidence" not in line:
        line["evidence"] = [{"document": "d.txt", "quote": "x"}]
    return parse_question(json.dumps(line))


# --- the question file ----------------------------------------------------------------------


def test_questions_parse_with_extra_fields_kept():
    questions, errors = load_questions(DATA / "questions.jsonl")
    assert errors == [] and [q.id for q in questions] == ["e1", "e2", "e3", "e4"]
    first = questions[0]
    assert first.kind == "fact" and first.answer_keywords == (("honey",),)
    assert questions[3].extra == {
        "kind": "data",
        "note": "the quote is deliberately not in the document",
    }
    assert questions[2].evidence == () and not questions[2].answerable


def test_malformed_lines_are_reported_with_their_numbers():
    questions, errors = load_questions(DATA / "malformed.jsonl")
    assert [q.id for q in questions] == ["m1"]
    assert [e.line for e in errors] == [2, 4, 5]
    assert "not valid JSON" in errors[0].message
    assert "answerable" in errors[1].message
    assert "duplicate id" in errors[2].message
    assert str(errors[0]).startswith("line 2:")


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ('["a list"]', "JSON object"),
        ('{"id": "x", "question": "", "answerable": false}', "question"),
        ('{"id": "x", "question": "Q", "answerable": true}', 'needs "evidence"'),
        (
            '{"id": "x", "question": "Q", "answerable": true, "evidence": [{"quote": "q"}]}',
            "document",
        ),
        ('{"id": "x", "question": "Q", "answerable": false, "answer_keywords": [[1]]}', "group"),
    ],
)
def test_each_kind_of_malformed_line_says_what_is_wrong(line, message):
    with pytest.raises(ValueError, match=message):
        parse_question(line)


def test_a_bare_string_keyword_group_is_one_alternative():
    assert question(answer_keywords=["honey", ["a", "b"]]).answer_keywords == (
        ("honey",),
        ("a", "b"),
    )


# --- evidence spans -----------------------------------------------------------------------


def test_quote_span_ignores_case_and_whitespace_runs():
    text = "Intro.\n\nBees  make\nhoney from   the nectar."
    start, end = locate_quote(text, "bees make HONEY from the\n nectar")
    assert text[start:end] == "Bees  make\nhoney from   the nectar"
    assert locate_quote(text, "bees make wax") is None


def test_quote_span_maps_back_through_characters_that_change_length_when_lowered():
    text = "İstanbul has the Bosphorus."  # "İ".lower() is two characters
    start, end = locate_quote(text, "the bosphorus")
    assert text[start:end] == "the Bosphorus"


def test_quote_span_in_a_pdf_spans_the_page_break(tmp_path):
    pytest.importorskip("fpdf")
    from tests.conftest import make_pdf

    pdf = make_pdf(tmp_path / "two.pdf", ["First page ends here", "second page starts here"])
    document = load_document(pdf, root=tmp_path)
    start, end = locate_quote(document.text, "ends here second page")
    assert document.page_at(start) == 1 and document.page_at(end - 1) == 2


@pytest.mark.parametrize(
    ("name", "size"),
    [
        ("questions.jsonl", 60),
        ("splits/shipped-fresh24.jsonl", 24),
        ("splits/shipped-fresh30.jsonl", 30),
        ("splits/shipped-fresh30b.jsonl", 30),
        ("splits/shipped-fresh30c.jsonl", 30),
        ("splits/shipped-fresh30d.jsonl", 30),
        ("splits/shipped-fresh30e.jsonl", 30),
        ("splits/shipped-fresh30f.jsonl", 30),
        ("splits/shipped-fresh30g.jsonl", 30),
        ("splits/shipped-fresh30h.jsonl", 30),
        ("splits/shipped-fresh30i.jsonl", 30),
        ("splits/shipped-fresh30j.jsonl", 30),
        ("splits/shipped-fresh30k.jsonl", 30),
        ("splits/shipped-fresh30l.jsonl", 30),
        ("splits/shipped-fresh30m.jsonl", 30),
        ("splits/shipped-fresh30n.jsonl", 30),
        ("splits/shipped-fresh30o.jsonl", 30),
        ("splits/shipped-fresh30p.jsonl", 30),
        ("splits/shipped-fresh30q.jsonl", 30),
        ("splits/shipped-fresh30r.jsonl", 30),
        ("splits/shipped-fresh30s.jsonl", 30),
        ("splits/shipped-fresh30t.jsonl", 30),
        ("splits/shipped-fresh30u.jsonl", 30),
        ("splits/shipped-fresh30v.jsonl", 30),
        ("splits/shipped-fresh30w.jsonl", 30),
        ("splits/shipped-fresh30x.jsonl", 30),
        ("splits/shipped-fresh30y.jsonl", 30),
        ("splits/shipped-fresh30z.jsonl", 30),
        ("splits/shipped-fresh30aa.jsonl", 30),
    ],
)
def test_every_shipped_evidence_quote_is_found_in_its_document(name, size):
    questions, errors = load_questions(PROJECT_ROOT / "evaluation" / name)
    assert errors == [] and len(questions) >= size
    corpus = PROJECT_ROOT / "corpus"
    missing = []
    for q in questions:
        for item in q.evidence:
            text = load_document(corpus / item.document, root=corpus).text
            if locate_quote(text, item.quote) is None:
                missing.append((q.id, item.quote))
    assert missing == []


@pytest.mark.parametrize(
    ("start", "end", "relevant"),
    [
        (0, 10, False),  # ends exactly where the quote starts: [start, end) do not meet
        (0, 11, True),  # one character of overlap
        (12, 15, True),  # inside
        (20, 30, False),  # starts exactly where the quote ends
        (19, 30, True),
    ],
)
def test_relevance_is_span_overlap_at_the_edges(start, end, relevant):
    evidence = span("d.txt", 10, 20)
    assert evidence.overlaps(chunk("d.txt", start, end)) is relevant
    assert not evidence.overlaps(chunk("other.txt", start, end))


def test_unfound_evidence_is_never_relevant():
    assert not span("d.txt", None, None, "not found").overlaps(chunk("d.txt", 0, 100))


# --- retrieval metrics --------------------------------------------------------------------


def test_recall_counts_evidence_items_and_hit_counts_questions():
    evidence = [span("a.txt", 0, 10), span("b.txt", 0, 10)]
    top = hits(chunk("a.txt", 5, 50), chunk("c.txt", 0, 10))
    scores = metrics.retrieval_metrics(evidence, top, top)
    assert scores == {"recall_at_k": (1, 2), "hit_at_k": (1, 1), "mrr_at_10": (1.0, 1)}


def test_mrr_uses_the_first_relevant_rank_and_is_zero_without_a_hit():
    evidence = [span("a.txt", 0, 10)]
    ranked = hits(chunk("c.txt", 0, 9), chunk("c.txt", 10, 20), chunk("a.txt", 0, 5))
    assert metrics.retrieval_metrics(evidence, ranked[:2], ranked)["mrr_at_10"] == (1 / 3, 1)
    assert metrics.retrieval_metrics(evidence, ranked[:2], ranked)["hit_at_k"] == (0, 1)
    miss = hits(*(chunk("c.txt", n, n + 1, n) for n in range(12)))
    assert metrics.retrieval_metrics(evidence, miss[:4], miss)["mrr_at_10"] == (0.0, 1)
    beyond = hits(*(chunk("c.txt", n, n + 1, n) for n in range(10)), chunk("a.txt", 0, 5))
    assert metrics.retrieval_metrics(evidence, beyond[:4], beyond)["mrr_at_10"] == (0.0, 1)


def test_data_errors_are_left_out_of_retrieval_metrics():
    found, lost = span("a.txt", 0, 10), span("a.txt", None, None, "quote not found")
    top = hits(chunk("a.txt", 0, 5))
    assert metrics.retrieval_metrics([found, lost], top, top)["recall_at_k"] == (1, 1)
    assert metrics.retrieval_metrics([lost], top, top) == {}


# --- answer metrics -----------------------------------------------------------------------


def test_keyword_groups_match_any_alternative_case_and_space_insensitive():
    groups = [["South  America", "Andes"], ["camelid"], ["purple"]]
    assert metrics.keyword_hits("Llamas are from the ANDES, south\namerica; camelids.", groups) == (
        2,
        3,
    )
    assert metrics.keyword_hits("Nothing here [1].", [["1"]]) == (0, 1)  # markers are not text


def test_token_recall_normalises_case_punctuation_and_articles():
    assert answer_tokens("The U.S. model, an LLM [2]!") == ["u", "s", "model", "llm"]
    assert metrics.token_recall("honey [1].", "The honey.") == 1.0
    assert metrics.token_recall("Honey from flowers", "Honey, from the nectar of flowers.") == 0.6
    assert metrics.token_recall("honey", "honey honey") == 0.5  # counted with multiplicity
    assert metrics.token_recall("anything", "The.") is None


# --- citations and refusals ---------------------------------------------------------------


def decision(supported: bool) -> SupportDecision:
    return SupportDecision(supported, 1.0 if supported else 0.0, 0.5, "best")


class KeywordChecker:
    """Supports a sentence when the passage contains the sentence's last word (test double)."""

    def check_many(self, pairs, question=None):
        return [decision(s.strip(" .[]0123456789").split()[-1] in p) for s, p in pairs]


def fake_answer(text, passages, refused=False) -> Answer:
    timings = Timings(retrieval_ms=3.0, ttft_s=1.0, total_s=3.0, completion_tokens=10)
    return Answer("Q?", text, refused, [], passages, passages, timings)


def passages(*texts):
    return [
        Hit(Chunk(f"c{n}", "d.txt", None, 0, 1, None, t), 0.5, n) for n, t in enumerate(texts, 1)
    ]


def test_citation_validity_counts_raw_markers_against_the_shown_passages():
    answer = fake_answer("Honey [1].", passages("honey"))
    record = answer_record(answer, "Honey [1]. Wax [3]. Also [1, 2].", checker=KeywordChecker())
    assert record["markers"] == {"total": 4, "valid": 2}
    assert metrics.citation_metrics(record)["citation_validity"] == (2, 4)


def test_citation_precision_and_recall_use_the_support_decisions():
    shown = passages("bees make honey", "llamas carry loads")
    text = "Bees do make honey [1]. Llamas carry loads [1][2]. Camels spit. Done here now [2]."
    record = answer_record(fake_answer(text, shown), text, checker=KeywordChecker())
    sentences = record["sentences"]
    assert [s["markers"] for s in sentences] == [[1], [1, 2], [], [2]]
    scores = metrics.citation_metrics(record)
    # pairs: (s1,[1]) yes, (s2,[1]) no, (s2,[2]) yes, (s4,[2]) no -> 2 of 4
    assert scores["citation_precision"] == (2, 4)
    # sentences with a supporting citation: s1, s2 -> 2 of 4
    assert scores["citation_recall"] == (2, 4)


def test_a_short_or_colon_lead_in_is_left_out_of_citation_recall():
    shown = passages("honey")
    for lead in ("Yes.", "The answer is as follows:\n"):
        text = f"{lead} Bees make the honey [1]."
        record = answer_record(fake_answer(text, shown), text, checker=KeywordChecker())
        assert [s["lead_in"] for s in record["sentences"]] == [True, False]
        assert metrics.citation_metrics(record)["citation_recall"] == (1, 1)
    alone = answer_record(fake_answer("2015 [1].", shown), "2015 [1].", checker=None)
    assert alone["sentences"][0]["lead_in"] is False  # a one-sentence answer is the answer


def test_refusals_are_read_from_the_answer_and_skip_citation_metrics():
    answerable, unanswerable = question(), question(answerable=False)
    refused = {"text": "The documents don't say.", "refused": True}
    answered = answer_record(fake_answer("Honey.", passages("x")), "Honey.", checker=None)
    assert metrics.answer_metrics(unanswerable, refused) == {"refusal_rate_unanswerable": (1, 1)}
    assert metrics.answer_metrics(answerable, refused) == {"false_refusal_rate": (1, 1)}
    scores = metrics.answer_metrics(answerable, answered)
    assert scores["false_refusal_rate"] == (0, 1) and scores["citation_recall"] == (0, 1)
    assert "citation_validity" not in scores  # no markers at all: nothing to be valid
    # a refusal that names a passage holding the answer still answers nothing
    asked = question(answer_keywords=[["References"]], reference_answer="References and reading")
    pointed = {"text": "The documents don't say. The closest: 15. References [1].", "refused": True}
    assert metrics.answer_metrics(asked, pointed)["keyword_recall"] == (0, 1)
    assert metrics.answer_metrics(asked, pointed)["token_recall"] == (0.0, 1)
    # refusing an unanswerable question is its answer, scored on its words
    absent = question(answerable=False, reference_answer="The documents don't say.")
    assert metrics.answer_metrics(absent, pointed)["token_recall"][0] > 0


def test_refusal_detection_comes_from_the_pipeline(default_corpus):
    settings = Settings().with_overrides(min_score=0.0)
    assistant = Assistant(settings, generator=ScriptedGenerator("The documents don't say."))
    assistant.sync()
    (result,) = evaluate_questions([question(answerable=False)], assistant=assistant, k=2)
    assert result.answer["refused"] and result.failures == ()
    assert result.metrics["refusal_rate_unanswerable"] == (1, 1)


# --- aggregation --------------------------------------------------------------------------


def record(metrics_map, kind=None, answerable=True, **timings):
    answer = {"timings": {"ttft_s": None, "total_s": 0.1, **timings}} if timings else None
    return {
        "answerable": answerable,
        "kind": kind,
        "metrics": metrics_map,
        "retrieval_ms": 10.0,
        "answer": answer,
        "failures": [],
    }


def test_pooled_metrics_sum_items_and_others_average_questions():
    records = [
        record({"recall_at_k": (1, 1), "keyword_recall": (1, 1)}),
        record({"recall_at_k": (0, 3), "keyword_recall": (0, 3)}),
    ]
    values = metrics.sections(records)
    assert values["retrieval"]["recall_at_k"] == 0.25  # 1 of 4 evidence items
    assert values["answers"]["keyword_recall"] == 0.5  # mean of 1.0 and 0.0


def test_a_metric_that_cannot_be_computed_is_null_not_zero():
    values = metrics.aggregate([record({"hit_at_k": (0, 1)})], k=4)
    assert values["retrieval"]["hit_at_k"] == 0.0
    assert values["answers"] == {"keyword_recall": None, "token_recall": None}
    assert values["refusals"]["false_refusal_rate"] is None
    assert values["latency"]["ttft_s_p50"] is None and values["latency"]["retrieval_ms_p50"] == 10


def test_latency_percentiles_interpolate_and_skip_questions_without_generation():
    assert metrics.percentile([1, 2, 3, 4, 5], 50) == 3
    assert metrics.percentile([1, 2, 3, 4, 5], 95) == pytest.approx(4.8)
    assert metrics.percentile([], 50) is None
    records = [record({}, ttft_s=1.0, total_s=4.0), record({}, ttft_s=None, total_s=0.2)]
    assert metrics.latency_values(records, "ttft_s") == [1.0]
    assert metrics.latency_values(records, "total_s") == [4.0, 0.2]


def test_metrics_are_broken_down_by_kind():
    records = [record({"hit_at_k": (1, 1)}, kind="fact"), record({"hit_at_k": (0, 1)}, kind="typo")]
    values = metrics.aggregate(records, k=4)
    assert values["retrieval"]["hit_at_k"] == 0.5
    assert values["per_kind"]["fact"]["retrieval"]["hit_at_k"] == 1.0
    assert values["per_kind"]["typo"]["questions"] == 1


# --- the runner -----------------------------------------------------------------------------


@pytest.fixture
def eval_corpus(corpus):
    for path in (DATA / "corpus").iterdir():
        shutil.copy(path, corpus / path.name)
    return corpus


def test_runner_scores_retrieval_and_reports_unfound_quotes_as_data_errors(eval_corpus):
    questions, _ = load_questions(DATA / "questions.jsonl")
    assistant = Assistant(Settings().with_overrides(min_score=0.0))
    assistant.sync()
    results = {
        r.question.id: r
        for r in evaluate_questions(questions, assistant=assistant, k=2, retrieval_only=True)
    }
    assert results["e1"].metrics["hit_at_k"] == (1, 1)
    assert results["e1"].to_dict()["retrieved"][0]["relevant"] is True
    broken = results["e4"]
    assert broken.data_errors and "quote not found in llamas.txt" in broken.data_errors[0]
    assert "recall_at_k" not in broken.metrics and broken.failures == ("data-error",)
    assert results["e3"].metrics == {}  # unanswerable, retrieval-only: nothing to score
    assert results["e1"].answer is None


def test_runner_records_answers_with_support_decisions(eval_corpus):
    questions, _ = load_questions(DATA / "questions.jsonl")
    reply = ScriptedGenerator("Bees make honey from the nectar of flowers [1]. Wrong [7].")
    assistant = Assistant(Settings().with_overrides(min_score=0.0), generator=reply)
    assistant.sync()
    checker = SupportChecker(HashingEmbedder())
    (result,) = evaluate_questions(questions[:1], assistant=assistant, k=2, checker=checker)
    answer = result.answer
    assert answer["markers"] == {"total": 2, "valid": 1}
    assert answer["sentences"][0]["supports"][0]["supported"] is True
    assert result.metrics["keyword_recall"] == (1, 1)
    assert result.metrics["citation_validity"] == (1, 2)
    assert answer["prompt"] and answer["timings"]["total_s"] >= 0
    record_dict = result.to_dict()
    assert record_dict["extra"] == {"kind": "fact"} and json.dumps(record_dict)


def test_a_non_default_corpus_gets_its_own_scratch_index(tmp_path):
    a = scratch_index_dir(tmp_path / "bench" / "documents", tmp_path / "index")
    b = scratch_index_dir(tmp_path / "other" / "documents", tmp_path / "index")
    assert a.parent == tmp_path / "indexes" and a.name.startswith("documents-") and a != b
    assert a == scratch_index_dir(tmp_path / "bench" / "documents", tmp_path / "index")


def test_a_question_that_cannot_be_answered_is_reported_and_the_run_goes_on(default_corpus):
    from assistant.evaluation.reports import build_report, summary_markdown
    from assistant.evaluation.runner import EvaluationRun

    questions = [
        question(id="long", question="Why " + "exactly " * 2500 + "?"),
        question(id="short", question="Why are open models useful?"),
    ]
    assistant = Assistant(Settings().with_overrides(min_score=0.0), generator=ScriptedGenerator())
    assistant.sync()
    run = EvaluationRun(
        questions, assistant=assistant, retrieval_only=False, questions_file=Path("q.jsonl")
    )
    results = list(run)
    assert "answer-error" in results[0].failures and "too long" in results[0].error
    assert results[1].answer is not None and results[1].error is None
    summary = summary_markdown(build_report(run.records, run.run_info(partial=False)))
    assert "- not answered: The question is too long" in summary
