"""Shared pieces of the Streamlit pages: settings, cached components, sync progress, safe text.

Pages import from here so the embedder and the model load once per process
(``st.cache_resource``), whichever page a user opens first. The model is cached on the few
settings that decide which model answers (``GenerationSettings.weights_json``), so changing
top-k, the temperature or the answer length makes a new, cheap Assistant around the same loaded
embedder and model, and every browser session shares that one model. The assistant loads the
model the first time it needs it (``Assistant.generator``), so the Documents page never waits
for it.
``LlamaGenerator`` serialises generation with its own lock, so two tabs asking at once are
answered one after the other, both completely.

Text from documents and from the model is untrusted: ``md_escape`` makes it inert for
Streamlit markdown (no links, images, HTML or LaTeX). Passages are shown as cards built here
(``passage_card``, styled by ``CARD_STYLE``, drawn with ``st.html``): their text is
``html.escape``d first and only our own tags (``<mark>`` for the supporting sentence, a
citation badge) are added around it.
"""

from __future__ import annotations

import html
import re
from pathlib import Path

import streamlit as st

from assistant import (
    Assistant,
    AssistantError,
    CorpusStatus,
    Embedder,
    GenerationSettings,
    Generator,
    Hit,
    Settings,
    SyncReport,
    load_embedder,
    load_generator,
)

CARD_STYLE = """<style>
.qa-answer p { margin: 0 0 0.6em 0; line-height: 1.6; }
a.qa-cite, span.qa-cite {
  display: inline-block; min-width: 1.5em; padding: 0 0.35em; margin: 0 0.1em;
  border-radius: 0.75em; background: rgba(28, 131, 225, 0.15); color: rgb(28, 131, 225);
  font-size: 0.78em; font-weight: 600; line-height: 1.5; text-align: center;
  text-decoration: none; vertical-align: 0.15em;
}
a.qa-cite:hover { background: rgba(28, 131, 225, 0.3); }
.qa-refusal {
  background: rgba(255, 189, 69, 0.12); border: 1px solid rgba(255, 189, 69, 0.55);
  border-radius: 0.5rem; padding: 0.6em 0.9em 0.1em 0.9em;
}
.qa-refusal-head { font-size: 0.8em; font-weight: 600; opacity: 0.75; margin-bottom: 0.35em; }
.qa-source {
  border-left: 3px solid rgba(28, 131, 225, 0.55); padding: 0.2em 0 0.2em 0.8em;
  margin: 0.4em 0 0.9em 0; scroll-margin-top: 4rem;
}
.qa-source:target { background: rgba(28, 131, 225, 0.08); }
.qa-source.qa-uncited { border-left-color: rgba(128, 128, 128, 0.45); }
.qa-source-head { font-size: 0.85em; margin-bottom: 0.3em; }
.qa-source-head .qa-meta { opacity: 0.7; }
.qa-passage { white-space: pre-wrap; font-size: 0.9em; line-height: 1.55; }
.qa-passage mark {
  background: rgba(255, 208, 0, 0.45); color: inherit; padding: 0.05em 0.1em;
  border-radius: 0.2em;
}
</style>"""
_MARKDOWN_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!|<>~$:=^])")


def current_settings() -> Settings:
    """The settings chosen in the sidebar this session (defaults until changed)."""
    if "settings" not in st.session_state:
        st.session_state.settings = Settings()
    return st.session_state.settings


@st.cache_resource(show_spinner="Loading the embedder...")
def _embedder(name: str, backend: str, cache_dir: str) -> Embedder:
    return load_embedder(name, backend=backend, cache_dir=Path(cache_dir))


@st.cache_resource(show_spinner="Loading the model (the first time takes a while)...")
def _generator(weights_json: str) -> Generator:
    return load_generator(GenerationSettings.model_validate_json(weights_json))


@st.cache_resource
def _assistant(settings_json: str) -> Assistant:
    settings = Settings.model_validate_json(settings_json)
    weights = settings.generation.weights_json()
    return Assistant(
        settings,
        embedder=_embedder(
            settings.index.embedder,
            settings.index.embedder_backend,
            str(settings.index.embedder_cache_dir),
        ),
        generator_loader=lambda: _generator(weights),
    )


def get_assistant(settings: Settings | None = None) -> Assistant:
    settings = settings or current_settings()
    return _assistant(settings.model_dump_json())


def md_escape(text: str) -> str:
    """Text shown literally by st.markdown: every markdown-active character backslashed."""
    return _MARKDOWN_SPECIAL.sub(r"\\\1", text)


def highlighted(text: str, spans: list[tuple[int, int]]) -> str:
    """Escaped passage text with the given character spans wrapped in <mark>."""
    parts, position = [], 0
    for start, end in spans:
        parts.append(html.escape(text[position:start]))
        parts.append(f"<mark>{html.escape(text[start:end])}</mark>")
        position = end
    parts.append(html.escape(text[position:]))
    return "".join(parts)


def passage_card(
    hit: Hit,
    *,
    spans: list[tuple[int, int]] | None,
    marker: int | None,
    element_id: str | None,
    note: str,
) -> str:
    """A passage card; ``spans`` None marks a passage the answer does not cite."""
    label, score, text = hit.chunk.label(" · "), hit.score, hit.chunk.text
    badge = f'<span class="qa-cite">{marker}</span> ' if marker else ""
    extra = f" · {html.escape(note)}" if note else ""
    cited = "" if spans is not None else " qa-uncited"
    identity = f' id="{element_id}"' if element_id else ""
    return (
        f'<div class="qa-source{cited}"{identity}>'
        f'<div class="qa-source-head">{badge}<b>{html.escape(label)}</b>'
        f'<span class="qa-meta"> · similarity {score:.2f}{extra}</span></div>'
        f'<div class="qa-passage">{highlighted(text, spans or [])}</div></div>'
    )


def status_text(status: CorpusStatus) -> str:
    if not status.index_exists:
        return "No index yet."
    skipped = f" ({len(status.skipped)} skipped)" if status.skipped else ""
    if status.up_to_date:
        return f"Index up to date: {len(status.unchanged)} documents{skipped}."
    changes = [
        f"{len(names)} {label}"
        for names, label in (
            (status.new, "new"),
            (status.changed, "changed"),
            (status.removed, "removed"),
        )
        if names
    ]
    if status.keywords_stale:
        changes.append("the keyword index is from another version")
    if status.vectors_stale:
        changes.append("the passages were embedded by another embedder")
    if status.passages_stale:
        changes.append("the index is from another version or passage size")
    return f"Index out of date: {', '.join(changes)} since the last sync."


def sync_with_progress(assistant: Assistant, *, rebuild: bool = False) -> SyncReport | None:
    """Sync (or rebuild) the index inside an ``st.status`` box that reports files and chunks."""
    label = "Rebuilding the index..." if rebuild else "Syncing the index..."
    with st.status(label, expanded=True) as box:
        bar = st.progress(0.0, text="Scanning the corpus...")

        def progress(stage: str, done: int, total: int, detail: str) -> None:
            bar.progress(
                min(done / total, 1.0) if total else 1.0,
                text=_stage_text(stage, done, total, detail),
            )

        try:
            report = assistant.sync(rebuild=rebuild, progress=progress)
        except AssistantError as error:
            box.update(label="The index could not be synced", state="error")
            st.error(md_escape(str(error)))
            return None
        bar.progress(1.0, text="Done.")
        for skipped in report.skipped:
            st.warning(md_escape(skipped["reason"]), icon=":material/warning:")
        for duplicate in report.duplicates:
            note = f"{duplicate['document']} has the same content as {duplicate['same_as']}"
            st.info(md_escape(f"{note}: indexed once."), icon=":material/content_copy:")
        notes = bool(report.skipped or report.duplicates)
        box.update(label=_report_text(report), state="complete", expanded=notes)
    return report


def _stage_text(stage: str, done: int, total: int, detail: str) -> str:
    if stage == "reading":
        return f"Reading file {done} of {total}: {md_escape(detail)}"
    if stage == "embedding":
        return f"Embedding chunks: {done} of {total}" + (f" ({detail})" if detail else "")
    if stage == "writing":
        return "Writing the index..."
    return f"{md_escape(stage.capitalize())}: {done} of {total}"


def _report_text(report: SyncReport) -> str:
    if not report.written:
        return f"Index already up to date: {report.documents} documents, {report.chunks} chunks."
    return (
        f"Index synced: {report.documents} documents, {report.chunks} chunks "
        f"({report.embedded} embedded, {report.removed} removed) in {report.seconds:.1f} s."
    )
