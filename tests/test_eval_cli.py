"""`assistant eval` and `assistant eval compare`, through the CLI runner, plus the report writer
and a real smoke run on three questions of the shipped set."""

import json
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from assistant.cli import app
from assistant.config import PROJECT_ROOT
from assistant.evaluation import compare_reports, load_report, summary_markdown, write_report
from assistant.grounding import CHECKER_NAME

DATA = Path(__file__).parent / "data" / "eval"
QUESTIONS = DATA / "questions.jsonl"
AGGREGATE_KEYS = {
    "questions",
    "answerable",
    "unanswerable",
    "k",
    "retrieval",
    "answers",
    "citations",
    "refusals",
    "latency",
    "model",
    "embedder",
}
runner = CliRunner()


@pytest.fixture
def eval_corpus(corpus, monkeypatch):
    for path in (DATA / "corpus").iterdir():
        shutil.copy(path, corpus / path.name)
    monkeypatch.setenv("ASSISTANT_MIN_SCORE", "0.0")
    return corpus


def run_eval(*args: str):
    return runner.invoke(app, ["eval", "--questions", str(QUESTIONS), *args])


def test_retrieval_only_json_prints_only_the_aggregate(eval_corpus, tmp_path):
    result = run_eval("--retrieval-only", "--json", "--top-k", "2", "--out", str(tmp_path / "r"))
    assert result.exit_code == 0, result.output
    aggregate = json.loads(result.stdout)
    assert set(aggregate) >= AGGREGATE_KEYS
    assert (aggregate["questions"], aggregate["answerable"], aggregate["k"]) == (4, 3, 2)
    assert aggregate["retrieval"]["hit_at_k"] == 1.0  # e4's quote is a data error, not a miss
    assert aggregate["answers"] == {"keyword_recall": None, "token_recall": None}
    assert aggregate["refusals"]["false_refusal_rate"] is None
    assert aggregate["citations"]["checker"] is None and aggregate["model"] is None
    assert aggregate["latency"]["ttft_s_p50"] is None
    assert aggregate["latency"]["retrieval_ms_p50"] > 0
    assert aggregate["data_errors"] == 1 and aggregate["per_kind"]["fact"]["questions"] == 2
    summary = (tmp_path / "r" / "summary.md").read_text(encoding="utf-8")
    assert f"data error (line 4 of {QUESTIONS}): quote not found in" in summary


def test_full_run_writes_report_summary_and_chart(eval_corpus, tmp_path):
    out = tmp_path / "report"
    result = run_eval("--out", str(out), "--top-k", "2")
    assert result.exit_code == 0, result.output
    assert "# Evaluation" in result.stdout and "keyword recall" in result.stdout
    report = json.loads((out / "report.json").read_text())
    assert (out / "summary.md").exists() and (out / "chart.png").stat().st_size > 1000
    record = report["records"][0]
    assert {"retrieved", "answer", "metrics", "failures", "evidence", "extra"} <= set(record)
    assert record["answer"]["prompt"][0]["role"] == "system"
    assert record["answer"]["citations"][0]["marker"] == 1
    assert report["aggregate"]["model"] == "scripted"
    assert report["aggregate"]["citations"]["checker"] == CHECKER_NAME
    assert report["aggregate"]["citations"]["validity"] == 1.0
    assert report["run"]["command"].startswith("assistant eval --questions")
    assert report["records"][2]["failures"] == ["missed-refusal"]  # scripted always answers


def test_regrade_replays_recorded_drafts_and_reproduces_an_unchanged_run(
    eval_corpus, tmp_path, monkeypatch
):
    out = tmp_path / "report"
    assert run_eval("--out", str(out), "--top-k", "2").exit_code == 0
    original = json.loads((out / "report.json").read_text())
    result = runner.invoke(app, ["eval", "regrade", str(out), "--out", str(tmp_path / "again")])
    assert result.exit_code == 0, result.output
    again = json.loads((tmp_path / "again" / "report.json").read_text())
    for part in ("retrieval", "answers", "citations", "refusals"):
        assert again["aggregate"][part] == original["aggregate"][part]
    assert again["run"]["command"].startswith("assistant eval regrade")
    assert [r["answer"]["text"] for r in again["records"]] == [
        r["answer"]["text"] for r in original["records"]
    ]
    # the decisions are today's: with a retrieval gate no passage passes, every answer is refused
    monkeypatch.setenv("ASSISTANT_MIN_SCORE", "0.99")
    result = runner.invoke(app, ["eval", "regrade", str(out), "--out", str(tmp_path / "strict")])
    strict = json.loads((tmp_path / "strict" / "report.json").read_text())
    assert strict["aggregate"]["refusals"]["false_refusal_rate"] == 1.0
    missing = runner.invoke(app, ["eval", "regrade", str(tmp_path / "nowhere")])
    assert missing.exit_code == 1 and "Cannot read the report" in missing.output


def test_regrade_shows_the_draft_the_passages_its_run_showed(eval_corpus, tmp_path, monkeypatch):
    monkeypatch.setenv("ASSISTANT_MIN_RELATIVE_SCORE", "0.99")  # most often the best one alone
    out = tmp_path / "report"
    assert run_eval("--out", str(out), "--top-k", "3").exit_code == 0
    original = json.loads((out / "report.json").read_text())
    assert original["run"]["min_relative_score"] == 0.99
    monkeypatch.delenv("ASSISTANT_MIN_RELATIVE_SCORE")  # the regrade reads the run's own
    result = runner.invoke(app, ["eval", "regrade", str(out), "--out", str(tmp_path / "again")])
    assert result.exit_code == 0, result.output
    again = json.loads((tmp_path / "again" / "report.json").read_text())

    def shown(report):
        return [len(r["answer"]["passages"]) for r in report["records"]]

    assert shown(again) == shown(original) and min(shown(original)) < 3
    assert again["aggregate"]["answers"] == original["aggregate"]["answers"]


def test_limit_scores_the_first_questions(eval_corpus, tmp_path):
    result = run_eval("--retrieval-only", "--json", "--limit", "2", "--out", str(tmp_path))
    assert json.loads(result.stdout)["questions"] == 2


def test_default_out_is_a_timestamped_folder_under_evaluation_reports(
    eval_corpus, tmp_path, monkeypatch
):
    monkeypatch.chdir(tmp_path)
    assert run_eval("--retrieval-only", "--json").exit_code == 0
    (folder,) = (tmp_path / "evaluation" / "reports").iterdir()
    assert (folder / "report.json").exists() and folder.name[:2] == "20"


def test_malformed_question_file_names_the_lines(eval_corpus, tmp_path):
    bad = str(DATA / "malformed.jsonl")
    result = runner.invoke(app, ["eval", "--questions", bad, "--retrieval-only"])
    assert result.exit_code == 1 and "Traceback" not in result.output
    assert "3 malformed line(s)" in result.output
    assert "line 2:" in result.output and "line 4:" in result.output
    skipped = runner.invoke(
        app,
        ["eval", "--questions", bad, "--retrieval-only", "--skip-invalid", "--json"]
        + ["--out", str(tmp_path)],
    )
    assert skipped.exit_code == 0 and json.loads(skipped.stdout)["questions"] == 1


def test_missing_question_file_and_option(eval_corpus, tmp_path):
    result = runner.invoke(app, ["eval", "--questions", str(tmp_path / "none.jsonl")])
    assert result.exit_code == 1 and "none.jsonl" in result.output
    assert runner.invoke(app, ["eval"]).exit_code == 2


def test_a_non_default_corpus_is_indexed_in_a_scratch_folder(tmp_path, monkeypatch):
    monkeypatch.setenv("ASSISTANT_MIN_SCORE", "0.0")
    bench = tmp_path / "bench" / "documents"
    shutil.copytree(DATA / "corpus", bench)
    result = run_eval("--corpus", str(bench), "--retrieval-only", "--out", str(tmp_path / "r"))
    assert result.exit_code == 0, result.output
    (scratch,) = (tmp_path / "indexes").iterdir()
    assert scratch.name.startswith("documents-") and (scratch / "index.sqlite").exists()
    assert not (tmp_path / "index").exists()  # the default index is untouched


def test_ctrl_c_keeps_finished_questions_in_a_partial_report(eval_corpus, tmp_path, monkeypatch):
    from assistant import pipeline
    from assistant.llm import ScriptedGenerator

    def reply(messages):
        if len(generator.calls) == 2:
            raise KeyboardInterrupt
        return "Bees make honey [1]."

    generator = ScriptedGenerator(reply)
    monkeypatch.setattr(pipeline, "load_generator", lambda settings: generator)
    out = tmp_path / "partial"
    result = run_eval("--out", str(out))
    assert result.exit_code == 130
    report = json.loads((out / "report.json").read_text())
    assert report["aggregate"]["partial"] is True and report["aggregate"]["questions"] == 1
    assert report["run"]["planned"] == 4
    assert "PARTIAL REPORT: stopped after 1 of 4" in (out / "summary.md").read_text()


# --- reports and compare ------------------------------------------------------------------


def test_report_writer_round_trips(tmp_path):
    report = load_report(DATA / "report_a.json")
    paths = write_report(report, tmp_path / "copy")
    assert load_report(tmp_path / "copy") == report  # a folder works as well as the file
    summary = paths["summary"].read_text()
    assert "| hit@2 | 0.500 |" in summary and "`e2` missed-retrieval, false-refusal" in summary
    assert "## By kind" in summary
    assert paths["chart"].read_bytes()[:4] == b"\x89PNG"


def test_partial_and_null_metrics_are_said_in_the_summary():
    report = load_report(DATA / "report_a.json")
    report["run"]["partial"], report["run"]["planned"] = True, 10
    report["aggregate"]["answers"]["token_recall"] = None
    text = summary_markdown(report)
    assert "PARTIAL REPORT: stopped after 3 of 10" in text
    assert "| token recall | n/a |" in text


def test_compare_gives_paired_differences_and_flips():
    a, b = load_report(DATA / "report_a.json"), load_report(DATA / "report_b.json")
    result = compare_reports(a, b, resamples=500, seed=1)
    hit = result["metrics"]["hit_at_k"]
    assert (hit["a"], hit["b"], hit["diff"], hit["n"]) == (0.5, 1.0, 0.5, 2)
    low, high = hit["ci95"]
    assert 0 <= low <= 0.5 <= high <= 1.0
    same = result["metrics"]["refusal_rate_unanswerable"]
    assert same["diff"] == 0 and same["ci95"] == [0, 0]
    assert result["metrics"]["total_s_p50"]["n"] == 3
    assert result["flipped"] == [
        {
            "id": "e2",
            "question": "Where do llamas come from?",
            "fixed": ["false-refusal", "missed-retrieval"],
            "broke": [],
        }
    ]
    assert compare_reports(a, b, resamples=500, seed=1) == result  # fixed seed: reproducible


def test_compare_uses_only_shared_questions_and_null_for_absent_metrics():
    a, b = load_report(DATA / "report_a.json"), load_report(DATA / "report_b.json")
    b["records"] = b["records"][:1]
    result = compare_reports(a, b)
    assert (result["shared"], result["only_a"], result["only_b"]) == (1, 2, 0)
    assert result["metrics"]["refusal_rate_unanswerable"]["diff"] is None


def test_compare_command(tmp_path):
    a, b = str(DATA / "report_a.json"), str(DATA / "report_b.json")
    result = runner.invoke(app, ["eval", "compare", a, b, "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["metrics"]["hit_at_k"]["diff"] == 0.5
    table = runner.invoke(app, ["eval", "compare", a, b])
    assert "hit@k" in table.stdout and "1 questions flipped" in table.stdout
    assert "e2: fixed false-refusal, missed-retrieval" in table.stdout
    broken = tmp_path / "x.json"
    broken.write_text("{}")
    failed = runner.invoke(app, ["eval", "compare", a, str(broken)])
    assert failed.exit_code == 1 and "not an evaluation report" in failed.output


# --- the real pipeline ----------------------------------------------------------------------


@pytest.mark.real
def test_smoke_real_eval_on_three_shipped_questions(
    default_corpus, real_embedder, real_generator, tmp_path
):
    from assistant import Assistant, Settings
    from assistant.evaluation import EvaluationRun, load_questions

    questions, errors = load_questions(PROJECT_ROOT / "evaluation" / "questions.jsonl")
    picked = [q for q in questions if q.id in ("q001", "q003", "q005")]  # 1 unanswerable, 2 facts
    settings = Settings().with_overrides(
        embedder="default", generator="llama", max_tokens=64, top_k=4
    )
    assistant = Assistant(settings, embedder=real_embedder, generator=real_generator)
    assistant.sync()
    run = EvaluationRun(
        picked,
        assistant=assistant,
        retrieval_only=False,
        questions_file=Path("evaluation/questions.jsonl"),
    )
    records = [r.to_dict() for r in run]
    report, paths = run.write(tmp_path / "smoke", partial=False)
    aggregate = json.loads(paths["report"].read_text())["aggregate"]
    assert set(aggregate) >= AGGREGATE_KEYS and aggregate["questions"] == 3
    assert aggregate["retrieval"]["hit_at_k"] == 1.0
    assert aggregate["latency"]["total_s_p50"] > 0
    assert aggregate["model"].endswith(".gguf")
    facts = [r for r in records if r["answerable"]]
    assert all(
        r["answer"]["timings"]["completion_tokens"] > 0 for r in facts if not r["answer"]["refused"]
    )


def test_checker_command_reports_agreement_with_the_hand_labels():
    labels = str(PROJECT_ROOT / "evaluation" / "support_labels.jsonl")
    questions = str(PROJECT_ROOT / "evaluation" / "questions.jsonl")
    result = runner.invoke(
        app, ["eval", "checker", "--labels", labels, "--questions", questions, "--json"]
    )
    assert result.exit_code == 0, result.output
    agreement = json.loads(result.stdout)
    assert agreement["pairs"] >= 40 and agreement["checker"] == CHECKER_NAME
    assert 0 <= agreement["accuracy"] <= 1 and {"kappa", "min_answer_overlap"} <= set(agreement)
    assert agreement["without_questions"]["pairs"] == agreement["pairs"]


def test_terminating_a_background_run_writes_a_partial_report(eval_corpus, tmp_path):
    """`kill PID` on a long run stops it like Ctrl-C: the finished questions are reported."""
    import signal
    import subprocess
    import sys

    one = json.loads(QUESTIONS.read_text(encoding="utf-8").splitlines()[0])
    many = tmp_path / "many.jsonl"
    many.write_text(
        "".join(json.dumps({**one, "id": f"m{n}"}) + "\n" for n in range(5000)), encoding="utf-8"
    )
    out = tmp_path / "partial"
    command = "from assistant.cli import app; app()"
    process = subprocess.Popen(
        [sys.executable, "-c", command, "eval", "--questions", str(many), "--out", str(out)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=PROJECT_ROOT,
    )
    for line in process.stderr:  # one progress line a question
        if "(3/5000)" in line:
            process.send_signal(signal.SIGTERM)
            break
    process.communicate(timeout=120)
    assert process.returncode == 130  # as after Ctrl-C
    report = json.loads((out / "report.json").read_text(encoding="utf-8"))
    assert report["run"]["partial"] and 3 <= len(report["records"]) < 5000
