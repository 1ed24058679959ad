import json

from typer.testing import CliRunner

from assistant.cli import app

runner = CliRunner()


def write_corpus(corpus):
    (corpus / "llamas.txt").write_text(
        "Llamas\n\nLlamas are domesticated South American camelids. They carry loads.\n",
        encoding="utf-8",
    )
    (corpus / "bees.md").write_text("# Bees\n\nBees make honey from nectar.\n", encoding="utf-8")


def test_index_json_reports_counts(corpus):
    write_corpus(corpus)
    result = runner.invoke(app, ["index", "--json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["documents"] == 2 and report["embedded"] == report["chunks"] > 0
    again = json.loads(runner.invoke(app, ["index", "--json"]).stdout)
    assert (again["embedded"], again["removed"]) == (0, 0)


def test_ask_json_syncs_first_and_returns_citations(corpus, monkeypatch):
    write_corpus(corpus)
    monkeypatch.setenv("ASSISTANT_MIN_SCORE", "0.0")
    monkeypatch.setenv("ASSISTANT_MIN_RELATIVE_SCORE", "0")  # show all of the top k
    result = runner.invoke(app, ["ask", "What do bees make?", "--json", "--top-k", "2"])
    assert result.exit_code == 0, result.output
    answer = json.loads(result.stdout)
    assert set(answer) >= {"text", "refused", "citations", "passages", "timings", "draft"}
    assert answer["citations"][0]["marker"] == 1
    assert {"marker", "document", "page", "text"} <= set(answer["citations"][0])
    assert len(answer["passages"]) == 2
    assert set(answer["timings"]) >= {
        "retrieval_ms",
        "ttft_s",
        "total_s",
        "prompt_tokens",
        "completion_tokens",
    }


def test_ask_streams_text_and_lists_sources(corpus, monkeypatch):
    write_corpus(corpus)
    monkeypatch.setenv("ASSISTANT_MIN_SCORE", "0.0")
    result = runner.invoke(app, ["ask", "What do bees make?"])
    assert result.exit_code == 0, result.output
    assert "Scripted answer [1]." in result.stdout
    assert "Sources" in result.stdout and "[1]" in result.stdout


def test_missing_corpus_is_one_clear_error(tmp_path):
    result = runner.invoke(app, ["index", "--corpus", str(tmp_path / "missing")])
    assert result.exit_code == 1
    assert "does not exist" in result.output and "Traceback" not in result.output


def test_missing_model_file_is_one_clear_error(corpus, monkeypatch, tmp_path):
    write_corpus(corpus)
    monkeypatch.setenv("ASSISTANT_GENERATOR", "llama")
    monkeypatch.setenv("ASSISTANT_MIN_SCORE", "0.0")
    result = runner.invoke(app, ["ask", "Bees?", "--model", str(tmp_path / "none.gguf")])
    assert result.exit_code == 1
    assert "none.gguf does not exist" in result.output


def test_corrupt_model_file_is_refused(corpus, monkeypatch, tmp_path):
    write_corpus(corpus)
    (tmp_path / "bad.gguf").write_bytes(b"not a model")
    monkeypatch.setenv("ASSISTANT_GENERATOR", "llama")
    result = runner.invoke(app, ["ask", "Bees?", "--model", str(tmp_path / "bad.gguf")])
    assert result.exit_code == 1 and "not a GGUF" in result.output


def test_skipped_files_are_reported(corpus):
    write_corpus(corpus)
    (corpus / "broken.pdf").write_bytes(b"%PDF garbage")
    result = runner.invoke(app, ["index"])
    assert result.exit_code == 0
    assert "Skipped" in result.output and "broken.pdf" in result.output


def test_chat_holds_a_conversation_until_exit(corpus, monkeypatch):
    write_corpus(corpus)
    monkeypatch.setenv("ASSISTANT_MIN_SCORE", "0.0")
    typed = "What do bees make?\n\nand llamas?\nexit\nnever asked\n"
    result = runner.invoke(app, ["chat"], input=typed)
    assert result.exit_code == 0, result.output
    assert result.stdout.count("Scripted answer [1].") == 2  # the blank line is skipped
    assert "never asked" not in result.stdout
    assert "read as:" in result.output  # the follow-up was made standalone
    assert result.stdout.count("Sources") == 2


def test_a_question_too_long_for_the_model_is_one_clear_error(corpus, monkeypatch):
    write_corpus(corpus)
    monkeypatch.setenv("ASSISTANT_MIN_SCORE", "0.0")
    result = runner.invoke(app, ["ask", "Bees? " * 2000])
    assert result.exit_code == 1 and "Traceback" not in result.output
    assert "too long for the model" in result.output
