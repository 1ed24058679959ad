"""Chat with your documents: streamed answers whose citations link to highlighted sources.

The UI holds no retrieval, prompt or conversation logic. The library's ``Conversation`` (in
``st.session_state.conversation``) reads a follow-up as a standalone question, asks the
``Assistant`` and records each ``Turn`` with its answer and highlights; this file lays the
turns out, replaying them on every rerun, so the page is always drawn from the conversation.

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
from pathlib import Path

import streamlit as st

from assistant import (
    MARKER,
    Answer,
    Assistant,
    AssistantError,
    Citation,
    Conversation,
    CorpusStatus,
    Hit,
    Settings,
    Turn,
    marker_numbers,
    resolve_model_path,
)
from ui_common import (
    CARD_STYLE,
    current_settings,
    get_assistant,
    md_escape,
    passage_card,
    status_text,
    sync_with_progress,
)

PAGES = Path(__file__).parent / "pages"
DOCUMENTS_PAGE = "pages/1_Documents.py"


# --- settings and index (sidebar) -----------------------------------------------------------


def settings_sidebar() -> Settings:
    """Model, top-k, temperature and answer length; the same Settings object the CLI uses."""
    settings = current_settings()
    with st.sidebar:
        st.header("Answering")
        st.caption(md_escape(f"Model backend: {backend_text(settings)}"))
        model = st.text_input(
            "Model file (GGUF)",
            value=str(settings.generation.model_path or ""),
            placeholder="Default model (Qwen2.5 1.5B)",
            help="Leave empty for the default model, or give the path of any GGUF file.",
            key="model_path",
        ).strip()
        top_k = st.slider(
            "Passages shown to the model", 1, 20, settings.retrieval.top_k, key="top_k"
        )
        generation = settings.generation
        temperature = st.slider(
            "Temperature", 0.0, 2.0, generation.temperature, 0.1, key="temperature"
        )
        longest = max(16, generation.max_tokens)
        max_tokens = st.slider("Longest answer (tokens)", 16, 1024, longest, 16, key="max_tokens")
    generation = generation.model_copy(
        update={
            "temperature": temperature,
            "max_tokens": max_tokens,
            "model_path": _checked_model_path(model, settings),
        }
    )
    retrieval = settings.retrieval.model_copy(update={"top_k": top_k})
    st.session_state.settings = settings.model_copy(
        update={"generation": generation, "retrieval": retrieval}
    )
    return st.session_state.settings


def backend_text(settings: Settings) -> str:
    """Where answers are written, from the settings (without loading the model)."""
    generation = settings.generation
    if generation.generator == "server":
        model = generation.server_model or "the first model it lists"
        return f"OpenAI-compatible server at {generation.server_url} ({model})"
    if generation.generator == "scripted":
        return "scripted test double"
    return "llama.cpp in this process"


def _checked_model_path(text: str, settings: Settings) -> Path | None:
    if not text:
        return None
    try:
        return resolve_model_path(Path(text), settings.generation.model_cache_dir)
    except AssistantError as error:
        st.sidebar.error(f"{md_escape(str(error))} Keeping the current model.")
        return settings.generation.model_path


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
        st.button("Clear the conversation", on_click=st.session_state.conversation.clear)


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
    labels = {c.marker: c.hit.chunk.label(" · ") for c in answer.citations}

    def link(match: re.Match) -> str:
        return "".join(
            f'<a class="qa-cite" href="#{anchor(turn_number, marker)}" '
            f'title="{html.escape(labels.get(marker, ""), quote=True)}">{marker}</a>'
            for marker in marker_numbers(match)
        )

    paragraphs = [p for p in re.split(r"\n\s*\n", answer.text.strip()) if p.strip()]
    body = "".join(
        "<p>" + MARKER.sub(link, html.escape(p)).replace("\n", "<br>") + "</p>" for p in paragraphs
    )
    return f'<div class="qa-answer">{body}</div>'


def citation_html(citation: Citation, spans: list[tuple[int, int]], turn_number: int) -> str:
    note = "not confirmed by the support check" if citation.verified is False else ""
    return passage_card(
        citation.hit,
        spans=spans,
        marker=citation.marker,
        element_id=anchor(turn_number, citation.marker),
        note=note,
    )


def hit_html(hit: Hit, marker: int | None) -> str:
    return passage_card(
        hit,
        spans=None,
        marker=marker,
        element_id=None,
        note=f"rank {hit.rank}",
    )


def render_answer_text(answer: Answer, turn_number: int) -> None:
    """The answer, or a refusal in its own box that says why, with the draft behind it."""
    if not answer.refused:
        st.html(answer_html(answer, turn_number))
    else:
        reason = answer.refusal_reason
        head = "Not found in the documents" + (f": {reason.explanation}" if reason else "")
        st.html(
            f'<div class="qa-refusal"><div class="qa-refusal-head">{head}</div>'
            f"{answer_html(answer, turn_number)}</div>"
        )
        if reason is not None and reason.rejects_draft and answer.draft:
            with st.expander("The model's draft"):
                st.markdown(md_escape(answer.draft))
    if answer.unsupported:
        unsupported = "; ".join(f"“{s}”" for s in answer.unsupported)
        st.caption(
            md_escape(
                "Left out of the answer, not backed by the passages or off the question: "
                + unsupported
            )
        )


def render_sources(turn: Turn, turn_number: int) -> None:
    """Cited passages in full with their support highlighted; the rest collapsed."""
    answer = turn.answer
    for citation in answer.citations:
        spans = turn.highlights.get(citation.marker, [])
        st.html(citation_html(citation, spans, turn_number))
    cited = {c.hit.chunk.id for c in answer.citations}
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
    st.caption(turn.answer.timings.describe(" · "))


# --- asking ---------------------------------------------------------------------------------


def escaped(pieces):
    for piece in pieces:
        yield md_escape(piece)


def answer_question(assistant: Assistant, question: str) -> None:
    """Read a follow-up, stream the answer, then redraw it with linked citations."""
    conversation: Conversation = st.session_state.conversation
    with st.chat_message("user"):
        st.markdown(md_escape(question))
    with st.chat_message("assistant"):
        try:  # the model loads (once) inside ask, before the answer's timings start
            if conversation.is_follow_up(question):
                with st.spinner("Reading the follow-up as a standalone question..."):
                    stream = conversation.ask(question, assistant=assistant)
            else:
                stream = conversation.ask(question, assistant=assistant)
            placeholder = st.empty()
            placeholder.write_stream(escaped(stream))
            placeholder.empty()
        except AssistantError as error:
            conversation.turns[-1].error = str(error)  # ask adds the turn before anything else
        render_reply(conversation.turns[-1], len(conversation.turns) - 1)


def chat_page() -> None:
    st.html(CARD_STYLE)
    st.session_state.setdefault("conversation", Conversation())
    settings = settings_sidebar()
    assistant = get_assistant(settings)
    st.title("Ask your documents")
    try:
        index_sidebar(assistant, ensure_index(assistant))
    except AssistantError as error:
        st.error(md_escape(str(error)))
        st.stop()
    turns = st.session_state.conversation.turns
    if not turns:
        st.caption(
            "Answers come only from the documents in the corpus folder and cite their "
            "passages like [1]. Follow-up questions work too."
        )
    for number, turn in enumerate(turns):
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
