"""Documents: what is in the corpus and the index, uploads, deletions, sync and rebuild.

The page is laid out top to bottom as index, upload, table, delete, but it *acts* in another
order, filling containers out of order: an upload is saved first, then a sync runs, then the
index status, the upload messages and the table are drawn, so what the page shows always
includes the change just made. Checking and saving files is the library's job
(``assistant.uploads``); the index only changes on an explicit sync or rebuild, which the chat
picks up without a restart (``Assistant.index`` reloads a replaced index).

Messages from an upload or a deletion survive the rerun that clears the file picker: they are
kept in ``st.session_state.upload_notes`` until the next action, and a successful sync clears
their "sync to use it" advice. A different document with the same name is never replaced
without the user's "Replace" click; its bytes wait in ``st.session_state.pending_replace``.
"""

from __future__ import annotations

import math
from datetime import datetime

import streamlit as st

from assistant import (
    Assistant,
    AssistantError,
    DocumentRow,
    Settings,
    UploadConflict,
    delete_document,
    list_documents,
    save_upload,
)
from ui_common import get_assistant, md_escape, status_text, sync_with_progress

STATE_LABELS = {
    "indexed": "indexed",
    "duplicate": "duplicate of {note} (indexed once)",
    "new": "new: not indexed yet",
    "changed": "changed since indexing",
    "removed": "deleted: still in the index",
    "skipped": "skipped: {note}",
    "unsupported": "unsupported type: skipped",
}


def upload_section(settings: Settings) -> None:
    st.subheader("Add documents")
    st.session_state.setdefault("upload_round", 0)
    st.session_state.setdefault("upload_notes", [])
    st.session_state.setdefault("pending_replace", {})
    files = st.file_uploader(
        "Upload .txt, .md, .pdf, .html or .docx files",
        accept_multiple_files=True,
        max_upload_size=math.ceil(settings.index.upload_max_mb),
        key=f"uploader-{st.session_state.upload_round}",
        help=f"At most {settings.index.upload_max_mb:g} MB per file. Files are checked before they "
        "are added; nothing is changed when a file is rejected.",
    )
    if files:
        st.session_state.upload_notes = [save_one(f.name, f.getvalue(), settings) for f in files]
        st.session_state.upload_round += 1  # a fresh, empty file picker
        st.rerun()


def upload_messages(settings: Settings) -> None:
    """What the last upload or deletion did, and any replacement waiting for an answer."""
    for kind, note in st.session_state.upload_notes:
        getattr(st, kind)(md_escape(note))
    for name, data in list(st.session_state.pending_replace.items()):
        ask_to_replace(name, data, settings)


def save_one(
    name: str, data: bytes, settings: Settings, *, replace: bool = False
) -> tuple[str, str]:
    """(message kind, message) for one uploaded file."""
    try:
        saved = save_upload(
            name,
            data,
            corpus_dir=settings.index.corpus_dir,
            max_mb=settings.index.upload_max_mb,
            replace=replace,
        )
    except UploadConflict as conflict:
        st.session_state.pending_replace[conflict.name] = data
        return "warning", str(conflict)
    except AssistantError as error:
        return "error", f"Not added: {error}"
    renamed = f" (renamed from “{name}”)" if saved.name != name else ""
    if saved.status == "unchanged":
        return "info", f"{saved.name} is already in the corpus with the same content."
    return (
        "success",
        f"{saved.status.capitalize()} {saved.name}{renamed}. Sync the index to use it.",
    )


def ask_to_replace(name: str, data: bytes, settings: Settings) -> None:
    replace, keep = st.columns(2)
    if replace.button(f"Replace {name}", key=f"replace-{name}", type="primary"):
        st.session_state.upload_notes = [save_one(name, data, settings, replace=True)]
        del st.session_state.pending_replace[name]
        st.rerun()
    if keep.button("Keep the existing file", key=f"keep-{name}"):
        st.session_state.upload_notes = []
        del st.session_state.pending_replace[name]
        st.rerun()


def delete_section(rows: list[DocumentRow], settings: Settings) -> None:
    names = [row.name for row in rows if row.state != "removed"]
    if not names:
        return
    st.subheader("Delete a document")
    name = st.selectbox("Document", names, index=None, placeholder="Choose a document")
    if name and st.button(f"Delete {name}", type="secondary"):
        st.session_state.confirm_delete = name
    pending = st.session_state.get("confirm_delete")
    if pending:
        st.warning(md_escape(f"Delete {pending} from the corpus folder? This removes the file."))
        yes, no = st.columns(2)
        if yes.button("Yes, delete it", type="primary"):
            delete_one(pending, settings)
        if no.button("Cancel"):
            st.session_state.confirm_delete = None
            st.rerun()


def delete_one(name: str, settings: Settings) -> None:
    st.session_state.confirm_delete = None
    try:
        delete_document(name, corpus_dir=settings.index.corpus_dir)
    except AssistantError as error:
        st.session_state.upload_notes = [("error", str(error))]
    else:
        note = f"Deleted {name}. Sync the index to drop its passages."
        st.session_state.upload_notes = [("success", note)]
    st.rerun()


def index_section(assistant: Assistant) -> None:
    st.subheader("Index")
    status = assistant.status()
    summary = st.empty()  # filled after a sync, so it describes the index as it is now
    with st.container(horizontal=True):
        sync = st.button("Sync the index", type="primary", disabled=status.up_to_date)
        rebuild = st.button("Rebuild from scratch", help="Re-read and re-embed every document.")
    if (sync or rebuild) and sync_with_progress(assistant, rebuild=rebuild):
        st.session_state.upload_notes = []  # "sync to use it" is done
        status = assistant.status()
    (summary.success if status.up_to_date else summary.warning)(status_text(status))


def documents_table(rows: list[DocumentRow]) -> None:
    table = [
        {
            "document": row.name,
            "type": row.kind,
            "size (KB)": round(row.size / 1024, 1),
            "pages": _blank_if_none(row.pages),
            "chunks": _blank_if_none(row.chunks),
            "last indexed": _when(row.indexed_at),
            "status": STATE_LABELS[row.state].format(note=row.note),
        }
        for row in rows
    ]
    st.dataframe(table, hide_index=True, width="stretch")


def _blank_if_none(value: int | None) -> str:
    return "" if value is None else str(value)


def _when(timestamp: str | None) -> str:
    if not timestamp:
        return ""
    moment = datetime.fromisoformat(timestamp)
    return moment.strftime("%Y-%m-%d %H:%M ") + (moment.tzname() or "")


def documents_page() -> None:
    st.title("Documents")
    assistant = get_assistant()
    settings = assistant.settings
    folders = settings.index
    st.caption(f"Corpus folder: `{folders.corpus_dir}` · index folder: `{folders.index_dir}`")
    index_box, upload_box, table_box = st.container(), st.container(), st.container()
    with upload_box:
        upload_section(settings)
    try:
        with index_box:
            index_section(assistant)
        rows = list_documents(settings.index.corpus_dir, settings.index.index_dir)
    except AssistantError as error:
        st.error(md_escape(str(error)))
        st.stop()
    with upload_box:
        upload_messages(settings)
    with table_box:
        st.subheader(f"In the corpus ({len(rows)})")
        documents_table(rows)
        delete_section(rows, settings)


documents_page()
