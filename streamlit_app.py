"""Chat with your documents: streamed answers whose citations link to highlighted sources.

The UI holds no retrieval or prompt logic. The library makes a follow-up standalone
(``assistant.conversation``), retrieves and answers (``Assistant.ask``); this file lays the
conversation out. Each exchange is a ``Turn`` in ``st.session_state.turns``, replayed on every
rerun, so the page is always drawn from the conversation state.

Everything a model or a document says is untrusted. The answer streams through ``md_escape``;
the finished (verified) answer replaces the streamed draft as ``html.escape``d text whose [n]
markers become links to the passage cards below it (``ui_common.passage_card``); ``st.html``
sanitises with DOMPurify as well.

The router at the bottom registers the chat as the default page, ``pages/1_Documents.py`` for
the corpus and the index, and any other ``pages/*.py`` (the evaluation page) by its file name.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass, field
from pathlib import Path

import streamlit as st

from assistant.answer import Answer, Citation
from assistant.config import Settings
from assistant.conversation import (
    Rewrite,
    is_follow_up,
    rewrite_question,
    sentences_citing,
    supporting_spans,
)
from assistant.errors import AssistantError
from assistant.llm import resolve_model_path
from assistant.pipeline import Assistant
from assistant.retrieval import Hit
from assistant.store import CorpusStatus
from ui_common import (
    CARD_STYLE,
    current_settings,
    get_assistant,
    load_model,
    md_escape,
    passage_card,
    source_label,
    status_text,
    sync_with_progress,
)

PAGES = Path(__file__).parent / "pages"
DOCUMENTS_PAGE = "pages/1_Documents.py"


@dataclass
class Turn:
    """One exchange: what was asked, how it was read, and the answer (or the error)."""

    question: str
    rewrite: Rewrite | None = None
    answer: Answer | None = None
    error: str | None = None
    highlights: dict[int, list[tuple[int, int]]] = field(default_factory=dict)  # marker -> spans


def support_highlights(answer: Answer) -> dict[int, list[tuple[int, int]]]:
    """For each citation, the spans of its passage that support the sentences citing it.

    A refusal's citations point at the closest passages, which support nothing: no highlight.
    """
    if answer.refused:
        return {}
    return {
        c.marker: supporting_spans(c.text, sentences_citing(answer.text, c.marker))
        for c in answer.citations
    }


# --- settings and index (sidebar) -----------------------------------------------------------


def settings_sidebar() -> Settings:
    """Model, top-k, temperature and answer length; the same Settings object the CLI uses."""
    settings = current_settings()
    with st.sidebar:
        st.header("Answering")
        model = st.text_input(
            "Model file (GGUF)",
            value=str(settings.model_path or ""),
            placeholder="Default model (Qwen2.5 1.5B)",
            help="Leave empty for the default model, or give the path of any GGUF file.",
            key="model_path",
        ).strip()
        top_k = st.slider("Passages shown to the model", 1, 20, settings.top_k, key="top_k")
        temperature = st.slider(
            "Temperature", 0.0, 2.0, settings.temperature, 0.1, key="temperature"
        )
        max_tokens = st.slider(
            "Longest answer (tokens)", 16, 1024, max(16, settings.max_tokens), 16, key="max_tokens"
        )
    update = {"top_k": top_k, "temperature": temperature, "max_tokens": max_tokens}
    update["model_path"] = _checked_model_path(model, settings)
    st.session_state.settings = settings.model_copy(update=update)
    return st.session_state.settings


def _checked_model_path(text: str, settings: Settings) -> Path | None:
    if not text:
        return None
    try:
        return resolve_model_path(Path(text), settings.model_cache_dir)
    except AssistantError as error:
        st.sidebar.error(f"{md_escape(str(error))} Keeping the current model.")
        return settings.model_path


def index_sidebar(assistant: Assistant, status: CorpusStatus) -> None:
    with st.sidebar:
        st.header("Index")
        summary = st.empty()  # filled after a sync, so it describes the index as it is now
        if not status.up_to_date and st.button("Sync the index", type="primary"):
            sync_with_progress(assistant)
            status = assistant.status()
        (summary.caption if status.up_to_date else summary.warning)(status_text(status))
        st.page_link(DOCUMENTS_PAGE, label="Manage documents", icon=":material/folder_open:")
        st.divider()
        st.button("Clear the conversation", on_click=st.session_state.turns.clear)


def ensure_index(assistant: Assistant) -> CorpusStatus:
    """First run: build the index with progress shown instead of failing."""
    status = assistant.status()
    if not status.index_exists:
        st.info("First run: indexing the documents in the corpus folder.")
        sync_with_progress(assistant)
        status = assistant.status()
    return status


# --- one answer -----------------------------------------------------------------------------


def anchor(turn_number: int, marker: int) -> str:
    return f"turn{turn_number}-source{marker}"


def answer_html(answer: Answer, turn_number: int) -> str:
    """The answer as escaped text, its [n] markers turned into links to the sources below."""
    labels = {c.marker: source_label(c.document, c.page, c.heading) for c in answer.citations}

    def link(match: re.Match) -> str:
        marker = int(match.group(1))
        title = html.escape(labels.get(marker, ""), quote=True)
        href = anchor(turn_number, marker)
        return f'<a class="qa-cite" href="#{href}" title="{title}">{marker}</a>'

    paragraphs = [p for p in re.split(r"\n\s*\n", answer.text.strip()) if p.strip()]
    body = "".join(
        "<p>" + re.sub(r"\[(\d{1,2})\]", link, html.escape(p)).replace("\n", "<br>") + "</p>"
        for p in paragraphs
    )
    return f'<div class="qa-answer">{body}</div>'


def citation_html(citation: Citation, spans: list[tuple[int, int]], turn_number: int) -> str:
    note = "not confirmed by the support check" if citation.verified is False else ""
    return passage_card(
        text=citation.text,
        label=source_label(citation.document, citation.page, citation.heading),
        score=citation.score,
        spans=spans,
        marker=citation.marker,
        element_id=anchor(turn_number, citation.marker),
        note=note,
    )


def hit_html(hit: Hit, marker: int | None) -> str:
    chunk = hit.chunk
    return passage_card(
        text=chunk.text,
        label=source_label(chunk.document, chunk.page, chunk.heading),
        score=hit.score,
        spans=None,
        marker=marker,
        element_id=None,
        note=f"rank {hit.rank}",
    )


def timings_text(answer: Answer) -> str:
    t = answer.timings
    parts = [f"retrieval {t.retrieval_ms:.0f} ms"]
    if t.ttft_s is None:
        parts.append("no model call: no passage was similar enough")
    else:
        parts.append(f"first token {t.ttft_s:.1f} s")
        if t.tokens_per_s:
            parts.append(f"{t.tokens_per_s:.1f} tokens/s")
        parts.append(f"prompt {t.prompt_tokens} tokens")
        parts.append(f"{t.completion_tokens} tokens in {t.total_s:.1f} s")
    return " · ".join(parts)


REFUSAL_REASONS = {
    "off-topic": "no passage is close enough to the question",
    "unmentioned": "the passages never mention what the question names",
    "model": "the model found no answer in the passages",
    "unsupported": "the passages do not support the model's draft",
    "no-answer": "the draft does not give the kind of answer the question asks for",
}


def render_answer_text(answer: Answer, turn_number: int) -> None:
    """The answer, or a refusal in its own box that says why, with the draft behind it."""
    if not answer.refused:
        st.html(answer_html(answer, turn_number))
    else:
        reason = REFUSAL_REASONS.get(answer.refusal_reason or "", "")
        head = "Not found in the documents" + (f": {reason}" if reason else "")
        st.html(
            f'<div class="qa-refusal"><div class="qa-refusal-head">{head}</div>'
            f"{answer_html(answer, turn_number)}</div>"
        )
        if answer.refusal_reason in ("unsupported", "no-answer") and answer.draft:
            with st.expander("The model's draft"):
                st.markdown(md_escape(answer.draft))
    if answer.unsupported:
        unsupported = "; ".join(f"“{s}”" for s in answer.unsupported)
        st.caption(md_escape(f"Not supported by the passages: {unsupported}"))


def render_sources(turn: Turn, turn_number: int) -> None:
    """Cited passages in full with their support highlighted; the rest collapsed."""
    answer = turn.answer
    for citation in answer.citations:
        spans = turn.highlights.get(citation.marker, [])
        st.html(citation_html(citation, spans, turn_number))
    cited = {c.chunk_id for c in answer.citations}
    markers = {hit.chunk.id: n for n, hit in enumerate(answer.passages, start=1)}
    others = [hit for hit in answer.retrieved if hit.chunk.id not in cited]
    if others:
        with st.expander(f"Other retrieved passages ({len(others)})"):
            for hit in others:
                st.html(hit_html(hit, markers.get(hit.chunk.id)))


def render_turn(turn: Turn, turn_number: int) -> None:
    with st.chat_message("user"):
        st.markdown(md_escape(turn.question))
    with st.chat_message("assistant"):
        render_reply(turn, turn_number)


def render_reply(turn: Turn, turn_number: int) -> None:
    if turn.error or turn.answer is None:
        st.error(md_escape(turn.error or "The answer was interrupted before it was complete."))
        return
    render_answer_text(turn.answer, turn_number)
    if turn.rewrite is not None and turn.rewrite.rewritten:
        by = "the model" if turn.rewrite.method == "model" else "a rule"
        st.caption(f"Follow-up read as: *{md_escape(turn.rewrite.standalone)}* (by {by})")
    render_sources(turn, turn_number)
    st.caption(timings_text(turn.answer))


# --- asking ---------------------------------------------------------------------------------


def escaped(pieces):
    for piece in pieces:
        yield md_escape(piece)


def read_question(assistant: Assistant, question: str, history: list[str]) -> Rewrite:
    if not is_follow_up(question, history):
        return Rewrite(question, question, "unchanged")
    with st.spinner("Reading the follow-up as a standalone question..."):
        return rewrite_question(
            question, history, generator=assistant.generator, prompts=assistant.prompts
        )


def answer_question(assistant: Assistant, question: str) -> None:
    """Rewrite a follow-up, stream the answer, then redraw it with linked citations."""
    turns: list[Turn] = st.session_state.turns
    history = [t.rewrite.standalone for t in turns if t.rewrite is not None and t.answer]
    turn = Turn(question)
    turns.append(turn)
    with st.chat_message("user"):
        st.markdown(md_escape(question))
    with st.chat_message("assistant"):
        try:
            load_model(assistant)  # before the timings start, so they measure the answer
            turn.rewrite = read_question(assistant, question, history)
            stream = assistant.ask(turn.rewrite.standalone)
            placeholder = st.empty()
            placeholder.write_stream(escaped(stream))
            placeholder.empty()
            turn.answer = stream.answer
            turn.highlights = support_highlights(turn.answer)
        except AssistantError as error:
            turn.error = str(error)
        render_reply(turn, len(turns) - 1)


def chat_page() -> None:
    st.html(CARD_STYLE)
    st.session_state.setdefault("turns", [])
    settings = settings_sidebar()
    assistant = get_assistant(settings)
    st.title("Ask your documents")
    try:
        index_sidebar(assistant, ensure_index(assistant))
    except AssistantError as error:
        st.error(md_escape(str(error)))
        st.stop()
    if not st.session_state.turns:
        st.caption(
            "Answers come only from the documents in the corpus folder and cite their "
            "passages like [1]. Follow-up questions work too."
        )
    for number, turn in enumerate(st.session_state.turns):
        render_turn(turn, number)
    if question := st.chat_input("Ask a question about your documents"):
        answer_question(assistant, question)


def main() -> None:
    st.set_page_config(page_title="Document assistant", page_icon=":material/forum:")
    pages = [
        st.Page(chat_page, title="Chat", icon=":material/forum:", default=True),
        st.Page(DOCUMENTS_PAGE, title="Documents", icon=":material/folder_open:"),
    ]
    others = [path for path in sorted(PAGES.glob("*.py")) if path.name != "1_Documents.py"]
    pages += [st.Page(path) for path in others]
    st.navigation(pages).run()


main()
