"""Evaluation: how far to trust the answers, from the latest report of `assistant eval`.

The page reads ``report.json`` files under ``evaluation/reports/`` (the newest first) and shows
the aggregate metrics, the chart, and a per-question table that can be filtered to failures,
with each question's answer, citations and passages one selection away. A button runs the
shipped question set through the same library code as the CLI (``evaluate_questions``), with
a progress bar; stopping the page mid-run still writes a partial report of what finished.
The run loop is the library's ``EvaluationRun``, the one ``assistant eval`` uses.

All document and model text is shown with ``st.text`` or escaped with ``md_escape``: it is
untrusted and never rendered as HTML or markdown.
"""

from __future__ import annotations

import streamlit as st

from assistant import PROJECT_ROOT, AssistantError
from assistant.evaluation import (
    CHART_FILE,
    LABELS,
    METRICS,
    REPORTS_DIR,
    SHIPPED_QUESTIONS,
    EvaluationRun,
    load_questions,
    load_report,
    report_dir,
    report_folders,
)
from ui_common import current_settings, get_assistant, md_escape, sync_with_progress

FILTERS = {
    "All questions": None,
    "Any failure": "any",
    "Missed retrieval": "missed-retrieval",
    "Wrong answer": "wrong-answer",
    "Uncited answer": "uncited",
    "Unsupported citation": "unsupported",
    "Missed refusal": "missed-refusal",
    "False refusal": "false-refusal",
    "Data error": "data-error",
    "Not answered (error)": "answer-error",
}

LATENCY_CELLS = (
    ("first token p50 / p95", "ttft_s", "s"),
    ("total p50 / p95", "total_s", "s"),
    ("retrieval p50 / p95", "retrieval_ms", "ms"),
    ("tokens/s p50 / p95", "tokens_per_s", ""),
)


def run_section() -> None:
    with st.expander("Run the shipped question set", expanded=False):
        st.caption(
            f"{SHIPPED_QUESTIONS} through the assistant with the current settings. With the model "
            "a question takes about 10 s on a laptop CPU; retrieval only takes seconds."
        )
        retrieval_only = st.checkbox("Retrieval only (no model)", value=False)
        limit = st.number_input("Questions (0 = all)", min_value=0, value=0, step=1)
        if st.button("Start evaluation", type="primary"):
            run_shipped_set(retrieval_only=retrieval_only, limit=int(limit))


def run_shipped_set(*, retrieval_only: bool, limit: int) -> None:
    assistant = get_assistant(current_settings())
    questions, errors = load_questions(PROJECT_ROOT / SHIPPED_QUESTIONS)
    if errors:
        st.error(md_escape("; ".join(str(e) for e in errors)))
        return
    questions = questions[:limit] if limit else questions
    if sync_with_progress(assistant) is None:
        return
    with st.spinner("Loading the model..."):
        run = EvaluationRun(
            questions,
            assistant=assistant,
            retrieval_only=retrieval_only,
            questions_file=SHIPPED_QUESTIONS,
            command="(the app's Evaluation page)",
        )
    folder = report_dir()
    with st.status(f"Evaluating {len(questions)} questions...", expanded=True) as box:
        bar = st.progress(0.0, text="Starting...")
        finished = False
        try:
            for result in run:
                text = md_escape(run.progress_line(result))
                bar.progress(len(run.records) / len(questions), text=text)
            finished = True
        finally:  # a stopped page still keeps what finished, marked partial
            if run.records:
                run.write(folder, partial=not finished)
        box.update(label=f"Report written to {folder}", state="complete", expanded=False)
    st.session_state.eval_report = str(folder)
    st.rerun()


def pick_report():
    # your own runs first, then the committed baseline runs (evaluation/runs/)
    folders = report_folders(REPORTS_DIR) + report_folders(REPORTS_DIR.parent / "runs")
    if not folders:
        return None, None
    names = [f.name if f.parent == REPORTS_DIR else f"runs/{f.name}" for f in folders]
    wanted = st.session_state.get("eval_report")
    default = next((n for n, f in enumerate(folders) if str(f) == wanted), 0)
    where = f"Folders under {REPORTS_DIR}/ and evaluation/runs/"
    name = st.selectbox("Report", names, index=default, help=where)
    folder = folders[names.index(name)]
    try:
        return folder, load_report(folder)
    except AssistantError as error:
        st.error(md_escape(str(error)))
        return folder, None


def show_aggregate(report: dict) -> None:
    aggregate, run = report["aggregate"], report["run"]
    if run.get("partial"):
        st.warning(
            f"Partial report: stopped after {aggregate['questions']} of {run['planned']} "
            "questions. The numbers cover only those."
        )
    mode = "retrieval only" if run["retrieval_only"] else f"model {run['model']}"
    st.caption(
        md_escape(
            f"{run['questions_file']}: {aggregate['questions']} questions "
            f"({aggregate['answerable']} answerable), k = {aggregate['k']}, {mode}, "
            f"embedder {run['embedder']}, {run['started_at']}"
        )
    )
    shown = [spec for spec in METRICS if not spec.key.startswith("draft_")]
    for start in range(0, len(shown), 5):
        for column, spec in zip(st.columns(5), shown[start : start + 5], strict=False):
            value = aggregate.get(spec.section, {}).get(spec.name)
            label = LABELS[spec.key].replace("@k", f"@{aggregate['k']}")
            column.metric(label, "n/a" if value is None else f"{value:.2f}")
    latency = aggregate["latency"]
    for column, (label, key, unit) in zip(st.columns(4), LATENCY_CELLS, strict=True):
        p50, p95 = latency.get(f"{key}_p50"), latency.get(f"{key}_p95")
        text = "n/a" if p50 is None else f"{p50:.1f} / {p95:.1f} {unit}".strip()
        column.metric(label, text)
    if run.get("checker_rule"):
        st.caption("Support checker: " + md_escape(run["checker_rule"]))


def matches(failures: list[str], wanted: str | None) -> bool:
    if wanted is None:
        return True
    return bool(failures) if wanted == "any" else wanted in failures


def question_rows(records: list[dict], wanted: str | None) -> list[dict]:
    rows = []
    for record in records:
        failures = record.get("failures", [])
        if not matches(failures, wanted):
            continue
        scores = record["metrics"]
        answer = record.get("answer") or {}

        def value(key: str, scores=scores):
            pair = scores.get(key)
            return round(pair[0] / pair[1], 3) if pair and pair[1] else None

        rows.append(
            {
                "id": record["id"],
                "kind": record.get("kind"),
                "answerable": record["answerable"],
                "failures": ", ".join(failures),
                "hit@k": value("hit_at_k"),
                "MRR": value("mrr_at_10"),
                "keywords": value("keyword_recall"),
                "cited": value("citation_recall"),
                "refused": answer.get("refused"),
                "total s": (answer.get("timings") or {}).get("total_s"),
                "question": record["question"],
            }
        )
    return rows


def show_question(record: dict) -> None:
    st.subheader(f"{record['id']}: details")
    st.text(record["question"])
    if record.get("failures"):
        st.caption("Failures: " + ", ".join(record["failures"]))
    for error in record.get("data_errors", []):
        st.error("Data error: " + md_escape(error))
    answer = record.get("answer")
    if answer:
        st.markdown("**Answer**" + (" (refused)" if answer["refused"] else ""))
        st.text(answer["text"])
        if answer.get("raw_text") and answer["raw_text"].strip() != answer["text"].strip():
            with st.expander("The model's draft (before verification)"):
                st.text(answer["raw_text"])
        for sentence in answer.get("sentences", []):
            for support in sentence["supports"]:
                verdict = "supports" if support.get("supported") else "does not support"
                st.caption(
                    md_escape(
                        f"[{support['marker']}] {verdict} “{sentence['text']}” (overlap "
                        f"{support.get('overlap', 0):.2f}, similarity "
                        f"{support.get('similarity', 0):.2f})"
                    )
                )
        for number, passage in enumerate(answer.get("passages", []), start=1):
            where = passage["document"] + (f", page {passage['page']}" if passage["page"] else "")
            with st.expander(f"[{number}] {where} (similarity {passage['score']:.2f})"):
                st.text(passage["text"])
    if record.get("reference_answer"):
        st.markdown("**Reference answer**")
        st.text(record["reference_answer"])
    if record.get("evidence"):
        st.markdown("**Evidence**")
        for item in record["evidence"]:
            found = "found" if item["start"] is not None else "NOT FOUND"
            st.text(f"{item['document']} ({found}): {item['quote']}")
    st.markdown("**Retrieved**")
    st.dataframe(
        [
            {
                "rank": chunk["rank"],
                "document": chunk["document"],
                "span": f"{chunk['start']}-{chunk['end']}",
                "score": chunk["score"],
                "relevant": chunk["relevant"],
                "in top k": chunk["in_top_k"],
            }
            for chunk in record.get("retrieved", [])
        ],
        hide_index=True,
    )


def evaluation_page() -> None:
    st.title("Evaluation")
    run_section()
    folder, report = pick_report()
    if folder is None:
        st.info(
            "No evaluation report yet. Run the shipped set above, or from the command line: "
            "`assistant eval --questions evaluation/questions.jsonl`."
        )
        return
    if report is None:
        return
    show_aggregate(report)
    chart = folder / CHART_FILE
    if chart.exists():
        st.image(str(chart))
    st.subheader("Questions")
    choice = st.selectbox("Show", list(FILTERS), index=0)
    rows = question_rows(report["records"], FILTERS[choice])
    st.dataframe(rows, hide_index=True, width="stretch")
    if not rows:
        st.caption("No question matches this filter.")
        return
    by_id = {record["id"]: record for record in report["records"]}
    picked = st.selectbox("Question details", [row["id"] for row in rows])
    show_question(by_id[picked])


evaluation_page()
