"""The test double: a generator that replays a scripted reply, word by word."""

from __future__ import annotations

from collections.abc import Callable, Iterator

from assistant.llm.base import Messages


class ScriptedGenerator:
    """Test double: streams a scripted reply word by word; the script may depend on the prompt."""

    def __init__(self, reply: str | Callable[[Messages], str] = "Scripted answer [1].") -> None:
        self.name = "scripted"
        self.backend = "scripted test double"
        self.n_ctx = 2048
        self._reply = reply
        self.calls: list[Messages] = []
        self.grammars: list[str | None] = []  # the grammar each call was given

    def count_tokens(self, text: str) -> int:
        return max(1, len(text) // 4)

    def prompt_tokens(self, messages: Messages) -> int:
        return sum(self.count_tokens(m["content"]) + 5 for m in messages)

    def stream(
        self,
        messages: Messages,
        *,
        max_tokens: int,
        temperature: float,
        grammar: str | None = None,
    ) -> Iterator[str]:
        self.calls.append(messages)
        self.grammars.append(grammar)
        reply = self._reply(messages) if callable(self._reply) else self._reply
        words = reply.split(" ")
        for position, word in enumerate(words):
            yield word if position == 0 else " " + word
