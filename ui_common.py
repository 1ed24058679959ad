"""Shared pieces of the Streamlit pages: the settings in use and the cached components.

Pages import from here so the embedder and the model load once per process
(``st.cache_resource``), whichever page a user opens first. Changing top-k or the temperature
makes a new (cheap) Assistant around the same loaded embedder and model.
"""

from __future__ import annotations

import streamlit as st

from assistant.config import Settings
from assistant.embeddings import Embedder, load_embedder
from assistant.llm import Generator, load_generator
from assistant.pipeline import Assistant


def current_settings() -> Settings:
    """The settings chosen in the sidebar this session (defaults until changed)."""
    if "settings" not in st.session_state:
        st.session_state.settings = Settings()
    return st.session_state.settings


@st.cache_resource(show_spinner="Loading the embedder...")
def _embedder(name: str) -> Embedder:
    return load_embedder(name)


@st.cache_resource(show_spinner="Loading the model (the first time takes a while)...")
def _generator(settings_json: str) -> Generator:
    return load_generator(Settings.model_validate_json(settings_json))


@st.cache_resource
def _assistant(settings_json: str) -> Assistant:
    settings = Settings.model_validate_json(settings_json)
    model_settings = settings.model_copy(
        update={"top_k": 4, "temperature": 0.0, "max_tokens": 256, "min_score": 0.0}
    )  # only model path, context and threads decide which model object is needed
    return Assistant(
        settings,
        embedder=_embedder(settings.embedder),
        generator=_LazyGenerator(model_settings.model_dump_json()),
    )


class _LazyGenerator:
    """Loads the model on first use, so the documents page never waits for it."""

    def __init__(self, settings_json: str) -> None:
        self._settings_json = settings_json

    def __getattr__(self, name: str):
        return getattr(_generator(self._settings_json), name)


def get_assistant(settings: Settings | None = None) -> Assistant:
    settings = settings or current_settings()
    return _assistant(settings.model_dump_json())
