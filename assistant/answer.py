"""Answering: retrieved passages -> prompt -> streamed answer -> a verified Answer record.

``AnswerStream`` is iterated for the text as the model writes it; when it ends, ``answer`` holds
the record: the verified text, its citations, the passages shown and retrieved, the timings and,
for a refusal, its reason. Of the top k retrieved, the model is shown those that score at least
``min_relative_score`` of the best one's (``retrieval.bearing_on_question``). The steps around
generation live beside it: prompt assembly in ``prompts.py``, marker parsing in
``citations.py``, and every check that can turn an answer into a refusal in ``grounding/`` (the
stream only asks ``Grounding``).
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field

from assistant.citations import Citation, mark_verified, parse_citations, tidy_markers
from assistant.config import GenerationSettings
from assistant.grounding import Grounding, RefusalReason, closest_coverage
from assistant.llm import Generator, Messages, answer_grammar
from assistant.prompts import Prompts, fit_passages
from assistant.retrieval import Hit, Retriever, bearing_on_question


@dataclass
class Timings:
    retrieval_ms: float = 0.0
    ttft_s: float | None = None
    total_s: float = 0.0
    generation_s: float = 0.0  # first token to last token
    prompt_tokens: int = 0
    completion_tokens: int = 0

    @property
    def tokens_per_s(self) -> float | None:
        if self.completion_tokens < 2 or self.generation_s <= 0:
            return None
        return (self.completion_tokens - 1) / self.generation_s

    def to_dict(self) -> dict:
        return {**asdict(self), "tokens_per_s": self.tokens_per_s}

    def describe(self, separator: str = ", ") -> str:
        """One line for people: "retrieval 12 ms, first token 3.9 s, 9.1 tokens/s, ..."."""
        parts = [f"retrieval {self.retrieval_ms:.0f} ms"]
        if self.ttft_s is None:
            parts.append("no model call")
        else:
            parts.append(f"first token {self.ttft_s:.1f} s")
            if self.tokens_per_s:
                parts.append(f"{self.tokens_per_s:.1f} tokens/s")
            parts.append(f"prompt {self.prompt_tokens} tokens")
            parts.append(f"answer {self.completion_tokens} tokens")
        parts.append(f"total {self.total_s:.1f} s")
        return separator.join(parts)


@dataclass
class Answer:
    question: str
    text: str
    refused: bool
    citations: list[Citation]
    passages: list[Hit]  # what the model was shown, in marker order
    retrieved: list[Hit]  # everything retrieved, shown or not
    timings: Timings
    prompt: Messages = field(default_factory=list)
    unsupported: list[str] = field(default_factory=list)  # sentences no shown passage supports
    draft: str = ""  # the model's own text, before verification
    refusal_reason: RefusalReason | None = None  # None when answered
    model: str = ""  # the model that wrote the draft ("" when none ran)
    backend: str = ""  # where it ran ("llama.cpp in this process", "OpenAI-compatible ...")
    evidence: dict[str, float] | None = None  # what the refusal decision read (grounding)

    def to_dict(self) -> dict:
        """The one JSON shape of an answer (``ask --json``, the API, evaluation reports)."""
        return {
            "question": self.question,
            "text": self.text,
            "refused": self.refused,
            "refusal_reason": self.refusal_reason,
            "citations": [citation.to_dict() for citation in self.citations],
            "passages": [hit.to_dict() for hit in self.passages],
            "unsupported": self.unsupported,
            "draft": self.draft,
            "prompt": self.prompt,
            "model": self.model,
            "backend": self.backend,
            "evidence": self.evidence,
            "timings": self.timings.to_dict(),
        }


_SENTENCE = re.compile(r"[^.!?\n]+[.!?]")


def repeats_itself(text: str, *, times: int = 3) -> bool:
    """Has the text's latest sentence already been written ``times - 1`` times before?"""
    said = [" ".join(match.group().lower().split()) for match in _SENTENCE.finditer(text)]
    return len(said) >= times and said.count(said[-1]) >= times


class AnswerStream:
    """Iterate to receive the answer text as it is generated; ``answer`` is set at the end.

    The streamed text is the model's draft. The final ``answer.text`` is the verified version
    (markers moved or added, or a refusal when no sentence is supported), which a UI shows in
    place of the draft once the stream ends. Callbacks added with ``on_answer`` run with the
    finished record (a conversation records its turn that way).
    """

    def __init__(
        self,
        question: str,
        *,
        retriever: Retriever,
        generator: Generator | None,
        prompts: Prompts,
        grounding: Grounding,
        generation: GenerationSettings,
        top_k: int,
        min_relative_score: float = 0.0,
    ) -> None:
        self.question = question
        self._retriever = retriever
        self._generator = generator
        self._prompts = prompts
        self._grounding = grounding
        self._generation = generation
        self._top_k = top_k
        self._min_relative_score = min_relative_score
        self._callbacks: list[Callable[[Answer], None]] = []
        self.answer: Answer | None = None

    def on_answer(self, callback: Callable[[Answer], None]) -> AnswerStream:
        self._callbacks.append(callback)
        return self

    def __iter__(self) -> Iterator[str]:
        started = time.perf_counter()
        yield from self._pieces(started)
        assert self.answer is not None
        self.answer.timings.total_s = round(time.perf_counter() - started, 3)
        for callback in self._callbacks:
            callback(self.answer)

    def _pieces(self, started: float) -> Iterator[str]:
        hits, retrieval_ms = self._retriever.retrieve(self.question, self._top_k)
        timings = Timings(retrieval_ms=round(retrieval_ms, 1))
        if self._grounding.off_topic(hits) or self._generator is None:
            self.answer = self._refusal(hits, timings, RefusalReason.OFF_TOPIC)
            yield self.answer.text
            return
        shown, messages, timings.prompt_tokens = fit_passages(
            self.question,
            bearing_on_question(hits, self._min_relative_score),
            prompts=self._prompts,
            generator=self._generator,
            max_tokens=self._generation.max_tokens,
        )
        unmentioned = self._grounding.unmentioned(self.question, shown)
        if unmentioned:
            self.answer = self._refusal(
                hits, timings, RefusalReason.UNMENTIONED, names=unmentioned, prompt=messages
            )
            yield self.answer.text
            return
        pieces: list[str] = []
        # Only a generator asked for a grammar is given one: one written without grammars works.
        options = {}
        if self._generation.answer_grammar and 1 <= len(shown) <= 9:
            options["grammar"] = answer_grammar(len(shown), self._prompts["refusal"])
        for piece in self._generator.stream(
            messages,
            max_tokens=self._generation.max_tokens,
            temperature=self._generation.temperature,
            **options,
        ):
            if timings.ttft_s is None:
                timings.ttft_s = round(time.perf_counter() - started, 3)
            pieces.append(piece)
            yield piece
            if any(mark in piece for mark in ".!?\n") and repeats_itself("".join(pieces)):
                break  # greedy decoding caught in a loop: stop instead of filling max_tokens
        timings.completion_tokens = len(pieces)
        if timings.ttft_s is not None:
            timings.generation_s = round(time.perf_counter() - started - timings.ttft_s, 3)
        self.answer = self._finish("".join(pieces), shown, hits, timings, messages)
        self.answer.model, self.answer.backend = self._generator.name, self._generator.backend

    def _finish(self, raw, shown, hits, timings, messages) -> Answer:
        text, citations = parse_citations(tidy_markers(raw), shown)
        verdict = self._grounding.judge(self.question, text, shown, hits)
        if verdict.refusal is not None:
            refusal = self._refusal(hits, timings, verdict.refusal, draft=raw, prompt=messages)
            refusal.evidence = verdict.evidence
            return refusal
        if verdict.supported_markers is not None:
            text, citations = parse_citations(verdict.text, shown)
            citations = mark_verified(citations, verdict.supported_markers)
        return Answer(
            self.question,
            text,
            False,
            citations,
            shown,
            hits,
            timings,
            messages,
            unsupported=verdict.unsupported,
            draft=raw,
            evidence=verdict.evidence,
        )

    def _refusal(self, hits, timings, reason, *, draft="", prompt=None, names=()) -> Answer:
        """'The documents don't say', pointing at the closest passages with citations."""
        closest = hits[:2]
        if names:
            elsewhere = self._grounding.indexed_elsewhere(list(names))
            template = "refusal_unmentioned_shown" if elsewhere else "refusal_unmentioned"
            lead = self._prompts[template].format(names=", ".join(names))
        else:
            lead = self._prompts["refusal"]
        text = lead + closest_coverage(closest)
        _, citations = parse_citations(text, closest)
        return Answer(
            self.question,
            text,
            True,
            citations,
            closest,
            hits,
            timings,
            prompt or [],
            draft=draft,
            refusal_reason=reason,
        )

    def run(self) -> Answer:
        for _ in self:
            pass
        assert self.answer is not None
        return self.answer
