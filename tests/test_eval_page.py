"""The Evaluation page, driven by Streamlit's AppTest over a small hand-made report."""

import shutil
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from assistant.config import PROJECT_ROOT
from assistant.evaluation.reports import load_report, write_report

DATA = Path(__file__).parent / "data" / "eval"
PAGE = str(PROJECT_ROOT / "pages" / "2_Evaluation.py")


@pytest.fixture
def reports(tmp_path, monkeypatch):
    """A project-like working folder with two reports; the newer one is report_b."""
    monkeypatch.chdir(tmp_path)
    base = tmp_path / "evaluation" / "reports"
    write_report(load_report(DATA / "report_a.json"), base / "20250101-000000")
    newer = base / "20250102-000000"
    write_report(load_report(DATA / "report_b.json"), newer)
    old = base / "20250101-000000" / "report.json"
    import os

    os.utime(old, (1, 1))
    return base


def page() -> AppTest:
    return AppTest.from_file(PAGE, default_timeout=30)


def test_no_report_yet_says_how_to_make_one(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    app = page().run()
    assert not app.exception
    assert "No evaluation report yet" in app.info[0].value


def test_latest_report_shows_metrics_chart_and_table(reports):
    app = page().run()
    assert not app.exception
    assert app.selectbox[0].value == "20250102-000000"
    labels = {metric.label: metric.value for metric in app.metric}
    assert labels["hit@2"] == "1.00" and labels["refusal rate (unanswerable)"] == "0.00"
    assert labels["token recall"] == "0.80"
    assert len(app.get("image")) == 1
    table = app.dataframe[0].value
    assert list(table["id"]) == ["e1", "e2", "e3"]


def test_failure_filter_and_details(reports):
    app = page().run()
    app.selectbox[0].set_value("20250101-000000").run()
    app.selectbox[1].set_value("Any failure").run()
    assert list(app.dataframe[0].value["id"]) == ["e2", "e3"]
    app.selectbox[1].set_value("Missed refusal").run()
    assert list(app.dataframe[0].value["id"]) == ["e3"]
    details = app.selectbox[2]
    assert details.options == ["e3"]
    texts = [element.value for element in app.text]
    # model text is shown literally, never rendered as HTML
    assert "Augustus <script>alert(1)</script> [1]." in texts
    assert any("Llamas are domesticated" in text for text in texts)


def test_partial_report_is_flagged(reports, tmp_path):
    report = load_report(DATA / "report_a.json")
    report["run"]["partial"], report["run"]["planned"] = True, 71
    write_report(report, reports / "20250103-000000")
    app = page().run()
    assert "Partial report: stopped after 3 of 71" in app.warning[0].value


def test_run_button_evaluates_the_shipped_set_retrieval_only(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    corpus = Path(monkeypatch_env(monkeypatch))
    for path in (PROJECT_ROOT / "corpus").iterdir():
        shutil.copy(path, corpus / path.name)
    app = page().run()
    app.checkbox[0].check().run()
    app.number_input[0].set_value(3).run()
    app.button[0].click().run(timeout=120)
    assert not app.exception
    (folder,) = (tmp_path / "evaluation" / "reports").iterdir()
    report = load_report(folder)
    assert report["aggregate"]["questions"] == 3 and report["run"]["retrieval_only"]
    assert list(app.dataframe[0].value["id"])[:1] == ["q001"]


def monkeypatch_env(monkeypatch) -> str:
    import os

    return os.environ["ASSISTANT_CORPUS_DIR"]
