"""Generators: the model that writes the answer, in this process or on a model server."""

from assistant.config import GenerationSettings
from assistant.llm.base import Generator, Messages
from assistant.llm.grammar import answer_grammar
from assistant.llm.local import (
    DEFAULT_MODEL_NAME,
    LlamaGenerator,
    default_model_path,
    resolve_model_path,
)
from assistant.llm.scripted import ScriptedGenerator
from assistant.llm.server import GenerationInterrupted, ServerGenerator


def load_generator(settings: GenerationSettings) -> Generator:
    """The generator the settings name, with the model loaded or the server reached (once)."""
    if settings.generator == "scripted":
        return ScriptedGenerator()
    if settings.generator == "server":
        return ServerGenerator(
            settings.server_url,
            model=settings.server_model,
            timeout=settings.server_timeout,
            n_ctx=settings.n_ctx,
        )
    path = resolve_model_path(settings.model_path, settings.model_cache_dir)
    return LlamaGenerator(path, n_ctx=settings.n_ctx, n_threads=settings.n_threads)


__all__ = [
    "DEFAULT_MODEL_NAME",
    "GenerationInterrupted",
    "Generator",
    "LlamaGenerator",
    "Messages",
    "ScriptedGenerator",
    "ServerGenerator",
    "answer_grammar",
    "default_model_path",
    "load_generator",
    "resolve_model_path",
]
