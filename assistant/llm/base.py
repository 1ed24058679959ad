"""What every generator is: a chat prompt in, a stream of text pieces out.

Three implementations, chosen by ``GenerationSettings.generator``: ``local.LlamaGenerator``
(a GGUF in this process), ``server.ServerGenerator`` (any OpenAI-compatible model server) and
``scripted.ScriptedGenerator`` (the test double). Everything after generation (citations,
verification, refusals, timings) is the same whichever produced the text.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Protocol

Messages = list[dict[str, str]]


class Generator(Protocol):
    name: str  # the model
    backend: str  # where it runs, for the answer record and the app ("llama.cpp in this process")
    n_ctx: int

    def stream(
        self,
        messages: Messages,
        *,
        max_tokens: int,
        temperature: float,
        grammar: str | None = None,
    ) -> Iterator[str]:
        """Yield the answer in pieces as they are generated, within the GBNF ``grammar`` if
        one is given (``llm/grammar.py``)."""

    def count_tokens(self, text: str) -> int:
        """Tokens this text costs in the model's context."""

    def prompt_tokens(self, messages: Messages) -> int:
        """Tokens the whole chat prompt costs, template included."""
