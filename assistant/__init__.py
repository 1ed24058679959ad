"""Private, local question answering over a folder of documents, with cited passages.

The pipeline, one module or package per stage, dependencies pointing one way::

    text, config, errors          shared vocabulary: words, sentences, markers; settings
    markup -> documents -> chunking  files (HTML, Word too) to Documents, then Chunks with spans
    embeddings, keywords, vectors  vectors, BM25 (SQLite FTS5) and FAISS indexes over the chunks
    database -> store              the on-disk index: SQLite rows + a FAISS snapshot
    sync                           the index brought in line with the corpus, file by file
    retrieval                      a question to scored Hits (dense, keyword, fused)
    llm/, prompts, citations       the model (local or on a server), its prompt, its markers
    grounding/                     support, verification, relevance, refusal decisions
    answer                         the streamed Answer record
    highlights, conversation       reading an answer back; turns and follow-ups
    pipeline                       the Assistant: components built once from Settings
    uploads, api                   adding documents; the assistant as an OpenAI-compatible API
    evaluation/, cli/              scoring question sets; the commands

This module is the public API the app and scripts import.
"""

from assistant.answer import Answer, AnswerStream, Timings
from assistant.api import MODEL_ID, create_app
from assistant.citations import Citation
from assistant.config import PROJECT_ROOT, GenerationSettings, Settings
from assistant.conversation import Conversation, Rewrite, Turn
from assistant.embeddings import Embedder, load_embedder
from assistant.errors import AssistantError
from assistant.grounding import FEATURES as REFUSAL_FEATURES
from assistant.grounding import RefusalModel, RefusalReason
from assistant.llm import Generator, default_model_path, load_generator, resolve_model_path
from assistant.pipeline import Assistant
from assistant.retrieval import Hit
from assistant.sync import CorpusStatus, SyncReport
from assistant.text import MARKER, marker_numbers
from assistant.uploads import (
    DocumentRow,
    UploadConflict,
    delete_document,
    list_documents,
    save_upload,
)

__all__ = [
    "REFUSAL_FEATURES",
    "RefusalModel",
    "MARKER",
    "MODEL_ID",
    "PROJECT_ROOT",
    "GenerationSettings",
    "Answer",
    "AnswerStream",
    "Assistant",
    "AssistantError",
    "Citation",
    "Conversation",
    "CorpusStatus",
    "DocumentRow",
    "Embedder",
    "Generator",
    "Hit",
    "RefusalReason",
    "Rewrite",
    "Settings",
    "SyncReport",
    "Timings",
    "Turn",
    "UploadConflict",
    "create_app",
    "default_model_path",
    "delete_document",
    "list_documents",
    "load_embedder",
    "load_generator",
    "marker_numbers",
    "resolve_model_path",
    "save_upload",
]
