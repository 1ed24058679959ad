"""The Streamlit app driven through ``streamlit.testing.v1.AppTest``: the real
``streamlit_app.py`` and its Documents page, with the library's test doubles (hashing
embedder, scripted generator) except in the one ``real`` test, which runs the real embedder
and the real default model end to end.

AppTest runs the script in this process, so ``st.cache_resource`` is shared between tests;
each test has its own corpus and index folders (conftest), which are part of the cache key.
"""

from __future__ import annotations

import re
import shutil

import pytest
from streamlit.delta_generator import DeltaGenerator
from streamlit.testing.v1 import AppTest

import ui_common
from assistant.config import PROJECT_ROOT
from assistant.llm import ScriptedGenerator
from assistant.store import read_manifest
from tests.conftest import REAL_MODEL_CACHE, make_pdf

APP = str(PROJECT_ROOT / "streamlit_app.py")
DOCUMENTS = "pages/1_Documents.py"
QUESTION = "What are the advantages of open models?"


@pytest.fixture
def app_corpus(default_corpus, monkeypatch):
    monkeypatch.setenv("ASSISTANT_MIN_SCORE", "0")  # the hashing embedder scores low
    return default_corpus


@pytest.fixture
def streamed(monkeypatch) -> list[list[str]]:
    """Records the pieces of every st.write_stream call."""
    calls: list[list[str]] = []
    original = DeltaGenerator.write_stream

    def spy(self, stream, **kwargs):
        pieces: list[str] = []
        calls.append(pieces)

        def recorded():
            for piece in stream:
                pieces.append(piece)
                yield piece

        return original(self, recorded(), **kwargs)

    monkeypatch.setattr(DeltaGenerator, "write_stream", spy)
    return calls


def scripted(monkeypatch, reply) -> None:
    """Make the app's (not yet cached) model a scripted one with this reply."""
    monkeypatch.setattr(ui_common, "load_generator", lambda settings: ScriptedGenerator(reply))


def start(timeout: float = 30) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=timeout).run()
    assert not at.exception, at.exception
    return at


def ask(at: AppTest, question: str) -> AppTest:
    at.chat_input[0].set_value(question).run()
    assert not at.exception, at.exception
    return at


def html_of(at: AppTest) -> list[str]:
    return [element.value for element in at.html if "<style>" not in element.value]


def plain(text: str) -> str:
    """Markdown-escaped text as a reader sees it."""
    return re.sub(r"\\(.)", r"\1", text)


def test_first_run_builds_the_index_with_progress(app_corpus):
    at = start()
    assert at.status[0].label.startswith("Index synced: 3 documents")
    assert any("First run" in info.value for info in at.info)
    captions = [c.value for c in at.sidebar.caption]
    assert "Index up to date: 3 documents." in captions
    assert "Model backend: scripted test double" in [plain(c) for c in captions]
    at.run()  # a rerun finds the index and builds nothing
    assert not at.status


def test_question_gets_a_streamed_answer_with_linked_citation_and_sources(app_corpus, streamed):
    at = ask(start(), QUESTION)
    assert [m.name for m in at.chat_message] == ["user", "assistant"]
    assert len(streamed) == 1 and "".join(streamed[0]) == "Scripted answer \\[1\\]\\."
    assert len(streamed[0]) > 1  # arrived in pieces
    answer, source, *_ = html_of(at)
    assert 'Scripted answer <a class="qa-cite" href="#turn0-source1"' in answer
    assert 'id="turn0-source1"' in source and "similarity" in source
    cited = at.session_state["conversation"].turns[0].answer.citations[0]
    assert f"<b>{cited.hit.chunk.document}" in source
    assert at.expander[0].label.startswith("Other retrieved passages")
    timings = at.chat_message[1].caption[-1].value
    assert re.search(r"retrieval \d+ ms · first token [\d.]+ s · .*prompt \d+ tokens", timings)


def test_history_is_replayed_and_can_be_cleared(app_corpus):
    at = ask(ask(start(), QUESTION), "Who builds closed models?")
    assert len(at.chat_message) == 4
    at.run()  # replayed on a plain rerun
    assert len(at.chat_message) == 4
    next(b for b in at.sidebar.button if b.label == "Clear the conversation").click().run()
    assert len(at.chat_message) == 0


def test_follow_up_is_rewritten_before_retrieval_and_shown(app_corpus):
    at = ask(ask(start(), QUESTION), "and what about closed models?")
    turn = at.session_state["conversation"].turns[1]
    assert turn.answer.question == "What are the advantages of closed models?"
    captions = [plain(c.value) for c in at.chat_message[3].caption]
    assert "Follow-up read as: *What are the advantages of closed models?* (by a rule)" in captions


def test_pronoun_follow_up_is_rewritten_by_the_model(app_corpus, monkeypatch):
    def reply(messages):
        if "Follow-up:" in messages[-1]["content"]:
            return "What are the main risks of open models?"
        return "Open models can be inspected [1]."

    scripted(monkeypatch, reply)
    at = ask(ask(start(), QUESTION), "What are their main risks?")
    assert at.session_state["conversation"].turns[1].rewrite.method == "model"
    assert (
        at.session_state["conversation"].turns[1].answer.question
        == "What are the main risks of open models?"
    )
    assert any("(by the model)" in c.value for c in at.chat_message[3].caption)


@pytest.mark.parametrize("how", ["off-topic", "model"])
def test_refusal_looks_different_and_points_at_the_closest_passages(app_corpus, monkeypatch, how):
    if how == "off-topic":
        monkeypatch.setenv("ASSISTANT_MIN_SCORE", "0.99")
    else:
        scripted(monkeypatch, "The documents don't say.")
    at = ask(start(), "What is the airspeed velocity of an unladen swallow?")
    answer, *sources = html_of(at)
    assert 'class="qa-refusal"' in answer and "Not found in the documents: " in answer
    assert "The documents don&#x27;t say." in answer
    cited = [source for source in sources if "qa-uncited" not in source]
    assert len(cited) == 2 and 'id="turn0-source1"' in cited[0]  # the closest two, linked
    assert "<mark>" not in "".join(cited)  # they support nothing
    assert not at.chat_message[1].warning


def test_a_question_naming_what_no_passage_mentions_says_so(app_corpus):
    at = ask(start(), "What is the MMLU score of an unladen swallow?")
    answer, *_ = html_of(at)
    assert "Not found in the documents: the passages never mention" in answer
    assert "The documents don&#x27;t mention MMLU." in answer


def test_highlight_marks_the_passage_sentence_that_supports_the_answer(app_corpus, monkeypatch):
    scripted(
        monkeypatch,
        "CFM leveraged LLM-assisted labeling with Hugging Face Inference Endpoints [1].",
    )
    at = ask(start(), "What did Capital Fund Management use Hugging Face Inference Endpoints for?")
    answer = at.session_state["conversation"].turns[0].answer
    assert not answer.refused and answer.citations[0].verified
    source = html_of(at)[1]
    marked = re.findall(r"<mark>(.*?)</mark>", source, re.DOTALL)
    assert marked == ["• Leveraged LLM-assisted labeling with Hugging Face Inference Endpoints."]


def test_model_and_document_markup_is_shown_as_text(app_corpus, monkeypatch):
    monkeypatch.setenv("ASSISTANT_VERIFY_CITATIONS", "false")  # show the model text as is
    (app_corpus / "evil.md").write_text(
        "# <img src=x onerror=alert(1)>\n\nOpen models <script>alert(2)</script> advantages.\n",
        encoding="utf-8",
    )
    scripted(monkeypatch, "See <b>this</b> [1]. ![x](http://example.com/a.png) $x$")
    at = ask(start(), "<img src=y> open models advantages script")
    answer, *sources = html_of(at)
    assert "<b>this</b>" not in answer and "&lt;b&gt;this&lt;/b&gt;" in answer
    assert "<img" not in answer and "<img" not in "".join(sources)
    assert "<script>" not in "".join(sources) and "&lt;script&gt;" in "".join(sources)
    user_text = at.chat_message[0].markdown[0].value
    assert "<img" not in user_text.replace("\\<img", "")


def test_missing_or_corrupt_model_says_what_to_fix(app_corpus, monkeypatch, tmp_path):
    broken = tmp_path / "broken.gguf"
    broken.write_bytes(b"GGUF\x03\x00\x00\x00 truncated")
    monkeypatch.setenv("ASSISTANT_GENERATOR", "llama")
    monkeypatch.setenv("ASSISTANT_MODEL_PATH", str(broken))
    at = ask(start(), QUESTION)
    (error,) = at.chat_message[1].error
    assert "Cannot load the model" in plain(error.value) and "make install" in plain(error.value)
    not_gguf = tmp_path / "notes.gguf"
    not_gguf.write_text("hello")
    at.sidebar.text_input[0].set_value(str(not_gguf)).run()
    assert "is not a GGUF model file" in plain(at.sidebar.error[0].value)


def test_sessions_share_one_model_loaded_once(app_corpus, monkeypatch):
    loaded: list[ScriptedGenerator] = []

    def load(settings):
        loaded.append(ScriptedGenerator())
        return loaded[-1]

    monkeypatch.setattr(ui_common, "load_generator", load)
    first, second = ask(start(), QUESTION), ask(start(), "Who builds closed models?")
    second.sidebar.slider(key="top_k").set_value(2).run()  # a new Assistant, the same model
    ask(second, QUESTION)
    assert len(loaded) == 1 and len(loaded[0].calls) == 3
    assert (
        first.session_state["conversation"].turns[0].answer
        and len(second.session_state["conversation"].turns) == 2
    )


def test_settings_reach_the_assistant(app_corpus):
    at = start()
    at.sidebar.slider(key="top_k").set_value(2).run()
    at.sidebar.slider(key="max_tokens").set_value(64).run()
    settings = at.session_state["settings"]
    assert (settings.retrieval.top_k, settings.generation.max_tokens) == (2, 64)
    ask(at, QUESTION)
    assert len(at.session_state["conversation"].turns[0].answer.retrieved) == 2


# --- the Documents page ---------------------------------------------------------------------


def documents(at: AppTest | None = None) -> AppTest:
    at = at or start()
    at.switch_page(DOCUMENTS).run()
    assert not at.exception, at.exception
    return at


def upload(at: AppTest, name: str, data: bytes) -> AppTest:
    at.file_uploader[0].upload(name, data).run()
    assert not at.exception, at.exception
    return at


def button(at: AppTest, label: str):
    return next(b for b in at.button if b.label == label)


def test_upload_sync_and_ask_about_the_new_file(app_corpus, tmp_path):
    at = documents()
    pdf = make_pdf(tmp_path / "x.pdf", ["Vicunas live in the high Andes and give fine wool."])
    upload(at, "../vicunas.pdf", pdf.read_bytes())
    (note,) = at.success[:1]
    assert plain(note.value).startswith("Added vicunas.pdf (renamed from “../vicunas.pdf”)")
    assert (app_corpus / "vicunas.pdf").exists()
    assert "1 new" in at.warning[0].value
    button(at, "Sync the index").click().run()
    assert at.status[0].label.startswith("Index synced: 4 documents")
    assert at.status[0].state == "complete"
    assert "Index up to date: 4 documents." in at.success[-1].value
    table = at.dataframe[0].value
    row = table[table["document"] == "vicunas.pdf"].iloc[0]
    assert (row["type"], row["pages"], row["status"]) == ("pdf", "1", "indexed")

    chat = ask(start(), "Where do vicunas live and what wool do vicunas give?")
    documents_cited = {
        c.hit.chunk.document for c in chat.session_state["conversation"].turns[0].answer.citations
    }
    assert documents_cited == {"vicunas.pdf"}


@pytest.mark.parametrize(
    ("name", "data", "message"),
    [
        ("tool.exe", b"MZ\x90\x00", "unsupported file type"),
        ("empty.txt", b"", "the file is empty"),
        ("big.txt", b"x" * 4096, "over the upload limit"),
        ("broken.pdf", b"%PDF-1.4 not really", "PDF"),
        ("secret.pdf", None, "PDF is (password-protected|encrypted)"),
    ],
)
def test_bad_upload_is_rejected_and_corpus_and_index_stay_intact(
    app_corpus, settings, monkeypatch, tmp_path, name, data, message
):
    monkeypatch.setenv("ASSISTANT_UPLOAD_MAX_MB", "0.002")
    if data is None:
        data = make_pdf(tmp_path / name, ["Secret"], password="pw").read_bytes()
    at = documents()
    corpus_before = sorted(p.name for p in app_corpus.iterdir())
    index_before = read_manifest(settings.index.index_dir)
    upload(at, name, data)
    (error,) = at.error
    assert re.search(message, plain(error.value)) and plain(error.value).startswith("Not added:")
    assert sorted(p.name for p in app_corpus.iterdir()) == corpus_before
    assert read_manifest(settings.index.index_dir) == index_before
    assert "Index up to date" in at.success[0].value


def test_a_different_file_with_the_same_name_is_replaced_only_when_asked(app_corpus):
    target = app_corpus / "open-vs-closed-zubnet-wiki.txt"
    original = target.read_bytes()
    at = upload(documents(), target.name, b"Replacement text about alpacas.\n")
    assert "already in the corpus" in plain(at.warning[0].value)
    assert target.read_bytes() == original
    button(at, f"Replace {target.name}").click().run()
    assert target.read_bytes() == b"Replacement text about alpacas.\n"
    assert any("Replaced" in plain(s.value) for s in at.success)


def test_delete_a_document_after_confirming(app_corpus):
    at = documents()
    name = "open-vs-closed-zubnet-wiki.txt"
    at.selectbox[0].set_value(name).run()
    button(at, f"Delete {name}").click().run()
    assert (app_corpus / name).exists()  # not before the confirmation
    button(at, "Yes, delete it").click().run()
    assert not (app_corpus / name).exists()
    assert "1 removed" in at.warning[0].value
    button(at, "Sync the index").click().run()
    assert at.status[0].label.startswith("Index synced: 2 documents")


def test_an_incompatible_index_is_explained_and_rebuilt(app_corpus, monkeypatch):
    start()  # builds the index with the default chunking
    monkeypatch.setenv("ASSISTANT_CHUNK_TOKENS", "64")
    chat = ask(start(), QUESTION)
    (error,) = chat.chat_message[1].error
    assert "chunking" in plain(error.value) and "Sync in the app" in plain(error.value)
    at = upload(documents(), "notes.txt", b"Alpacas are smaller than llamas.\n")
    assert any("another version or passage size" in plain(w.value) for w in at.warning)
    button(at, "Sync the index").click().run()  # cut into passages again, every file
    assert at.status[0].label.startswith("Index synced: 4 documents")
    assert ask(start(), QUESTION).session_state["conversation"].turns[0].answer is not None


def test_documents_page_copes_with_a_missing_corpus(tmp_path):
    shutil.rmtree(tmp_path / "corpus")
    at = documents(AppTest.from_file(APP, default_timeout=30).run())
    assert "does not exist" in at.error[0].value


# --- the real path ----------------------------------------------------------------------------


@pytest.mark.real
def test_real_model_answers_with_a_highlighted_citation(default_corpus, monkeypatch, capsys):
    monkeypatch.setenv("ASSISTANT_EMBEDDER", "default")
    monkeypatch.setenv("ASSISTANT_GENERATOR", "llama")
    monkeypatch.setenv("ASSISTANT_MODEL_CACHE_DIR", str(REAL_MODEL_CACHE))
    monkeypatch.setenv("ASSISTANT_MAX_TOKENS", "64")
    at = start(timeout=600)
    assert at.status[0].label.startswith("Index synced: 3 documents")
    at.chat_input[0].set_value(
        "What did Capital Fund Management use Hugging Face Inference Endpoints for?"
    ).run(timeout=600)
    assert not at.exception, at.exception
    answer = at.session_state["conversation"].turns[0].answer
    assert not answer.refused and "label" in answer.text.lower()
    assert any(c.hit.chunk.document == "open-vs-closed-ai-thesis.txt" for c in answer.citations)
    shown = "".join(html_of(at))
    assert 'class="qa-cite"' in shown and "<mark>" in shown
    with capsys.disabled():
        print(f"\nreal answer timings: {answer.timings} tokens/s={answer.timings.tokens_per_s}")
