"""Shared fixtures. Tests never touch the user's corpus, index or model cache: an autouse
fixture points every path setting at a temporary folder. Real models load once per session."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from assistant.config import PROJECT_ROOT, Settings
from assistant.embeddings import HashingEmbedder

DEFAULT_CORPUS = PROJECT_ROOT / "corpus"
REAL_MODEL_CACHE = Path.home() / ".cache" / "local-assistant" / "models"


@pytest.fixture(autouse=True)
def isolated_paths(tmp_path, monkeypatch):
    """Every Settings() made during a test reads and writes under tmp_path."""
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    monkeypatch.setenv("ASSISTANT_CORPUS_DIR", str(corpus))
    monkeypatch.setenv("ASSISTANT_INDEX_DIR", str(tmp_path / "index"))
    monkeypatch.setenv("ASSISTANT_MODEL_CACHE_DIR", str(tmp_path / "models"))
    monkeypatch.setenv("ASSISTANT_EMBEDDER_CACHE_DIR", str(tmp_path / "embedders"))
    monkeypatch.setenv("ASSISTANT_EMBEDDER", "hashing")
    monkeypatch.setenv("ASSISTANT_GENERATOR", "scripted")
    # Scripted replies are not grounded in the test passages: flag them, don't refuse them.
    monkeypatch.setenv("ASSISTANT_REFUSE_UNSUPPORTED", "false")
    # The fitted refusal model reads all-MiniLM-L6-v2 similarities, which the hashing test
    # double does not make: tests use the hand rules unless they ask for the fitted model
    # (tests/test_real.py runs it with the real embedder and model).
    monkeypatch.setenv("ASSISTANT_REFUSAL", "rules")
    return tmp_path


@pytest.fixture
def settings(tmp_path) -> Settings:
    return Settings()


@pytest.fixture
def corpus(settings) -> Path:
    return settings.index.corpus_dir


@pytest.fixture
def embedder() -> HashingEmbedder:
    return HashingEmbedder()


@pytest.fixture
def default_corpus(corpus) -> Path:
    for path in DEFAULT_CORPUS.iterdir():
        shutil.copy(path, corpus / path.name)
    return corpus


def make_pdf(path: Path, pages: list[str], *, password: str | None = None) -> Path:
    """A real PDF with one text page per entry (fpdf2), optionally encrypted."""
    from fpdf import FPDF

    pdf = FPDF()
    pdf.set_font("Helvetica", size=12)
    for text in pages:
        pdf.add_page()
        pdf.multi_cell(0, 8, text)
    if password:
        pdf.set_encryption(owner_password=password, user_password=password)
    pdf.output(str(path))
    return path


@pytest.fixture(scope="session")
def real_embedder():
    from assistant.embeddings import SentenceTransformerEmbedder

    return SentenceTransformerEmbedder("default")


@pytest.fixture(scope="session")
def real_generator():
    """The default GGUF, assembled into the user's cache once (it is 1.1 GB; reused)."""
    from assistant.llm import LlamaGenerator, default_model_path

    path = default_model_path(REAL_MODEL_CACHE)
    return LlamaGenerator(path, n_ctx=2048, n_threads=2)
