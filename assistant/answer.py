"""Answering: retrieved passages -> prompt -> streamed answer -> parsed citations.

The model sees numbered, delimited passages (templates in ``prompts/``) and is asked to cite
them as [1], [2]. Passages are added in rank order while they fit the context window next to
the answer budget. When the best passage is less similar than ``min_score`` the assistant
refuses without calling the model. After streaming, markers are parsed into Citations; a
marker that points at no shown passage is dropped from the text and the citation list.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path

from assistant.grounding import closest_coverage, mark_verified, quote_pointed_passage, verify
from assistant.injection import neutralize
from assistant.llm import Generator, Messages
from assistant.relevance import gives_expected_answer, unmentioned_identifiers
from assistant.retrieval import Hit, Retriever
from assistant.support import MARKER, SupportChecker

_REFUSAL = re.compile(
    r"documents? (?:do(?:es)?n[’']t|do(?:es)? not) (?:say|mention|contain|state|provide|specify)"
    r"|(?:passages?|context|documents?) (?:do(?:es)?n[’']t|do(?:es)? not) "
    r"(?:contain|include|mention|say|provide)"
    r"|not (?:mentioned|stated|specified|provided|covered) in the (?:passages|documents|context)"
    r"|no information (?:about|on|regarding)",
    re.IGNORECASE,
)
CONTEXT_MARGIN = 32  # tokens kept free for template overhead the count cannot see


@dataclass(frozen=True)
class Citation:
    marker: int
    document: str
    page: int | None
    heading: str | None
    start: int
    end: int
    text: str
    score: float
    chunk_id: str
    verified: bool | None = (
        None  # does the passage support the sentences citing it? None: unchecked
    )


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
    # "off-topic", "unmentioned", "model", "unsupported", "no-answer"; None when answered
    refusal_reason: str | None = None

    def to_dict(self) -> dict:
        timings = asdict(self.timings)
        timings["tokens_per_s"] = self.timings.tokens_per_s
        return {
            "question": self.question,
            "answer": self.text,
            "refused": self.refused,
            "citations": [asdict(c) for c in self.citations],
            "passages": [hit.to_dict() for hit in self.passages],
            "unsupported": self.unsupported,
            "draft": self.draft,
            "refusal_reason": self.refusal_reason,
            "timings": timings,
        }


class Prompts:
    """Prompt templates loaded by name from the prompts folder."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def __getitem__(self, name: str) -> str:
        return (self.folder / f"{name}.txt").read_text(encoding="utf-8").strip()


def source_label(hit: Hit) -> str:
    chunk = hit.chunk
    parts = [chunk.document]
    if chunk.page is not None:
        parts.append(f"page {chunk.page}")
    if chunk.heading:
        parts.append(chunk.heading)
    return ", ".join(parts)


def build_messages(question: str, hits: list[Hit], prompts: Prompts) -> Messages:
    passages = "\n\n".join(
        prompts["passage"].format(
            number=n, source=source_label(hit), text=neutralize(hit.chunk.text).strip()
        )
        for n, hit in enumerate(hits, start=1)
    )
    user = prompts["answer_user"].format(passages=passages, question=question.strip())
    return [
        {"role": "system", "content": prompts["answer_system"]},
        {"role": "user", "content": user},
    ]


def fit_passages(
    question: str, hits: list[Hit], *, prompts: Prompts, generator: Generator, max_tokens: int
) -> tuple[list[Hit], Messages, int]:
    """The leading hits whose prompt fits the context window with room for the answer."""
    budget = generator.n_ctx - max_tokens - CONTEXT_MARGIN
    shown: list[Hit] = []
    messages = build_messages(question, shown, prompts)
    size = generator.prompt_tokens(messages)
    for hit in hits:
        candidate = build_messages(question, [*shown, hit], prompts)
        candidate_size = generator.prompt_tokens(candidate)
        if candidate_size > budget:
            break
        shown, messages, size = [*shown, hit], candidate, candidate_size
    return shown, messages, size


def parse_citations(text: str, passages: list[Hit]) -> tuple[str, list[Citation]]:
    """(text without markers that point at no passage, citations in order of first use)."""
    citations: dict[int, Citation] = {}

    def keep_valid(match: re.Match) -> str:
        numbers = [int(n) for n in re.split(r"[,;]", match.group(1))]
        valid = [n for n in numbers if 1 <= n <= len(passages)]
        for number in valid:
            if number not in citations:
                hit = passages[number - 1]
                citations[number] = Citation(
                    marker=number,
                    document=hit.chunk.document,
                    page=hit.chunk.page,
                    heading=hit.chunk.heading,
                    start=hit.chunk.start,
                    end=hit.chunk.end,
                    text=hit.chunk.text,
                    score=round(hit.score, 4),
                    chunk_id=hit.chunk.id,
                )
        return "".join(f"[{n}]" for n in valid)

    cleaned = MARKER.sub(keep_valid, text)
    cleaned = re.sub(r"[ \t]+([.,;:!?])", r"\1", cleaned).strip()
    return cleaned, list(citations.values())


def is_refusal(text: str) -> bool:
    return bool(_REFUSAL.search(text)) or not text.strip()


class AnswerStream:
    """Iterate to receive the answer text as it is generated; ``answer`` is set at the end.

    The streamed text is the model's draft. The final ``answer.text`` is the verified version
    (markers moved or added, or a refusal when no sentence is supported), which a UI shows in
    place of the draft once the stream ends.
    """

    def __init__(
        self,
        question: str,
        *,
        retriever: Retriever,
        generator: Generator | None,
        prompts: Prompts,
        top_k: int,
        min_score: float,
        max_tokens: int,
        temperature: float,
        checker: SupportChecker | None = None,
        refuse_unsupported: bool = True,
        check_relevance: bool = False,
        confident_score: float = 0.45,
    ) -> None:
        self.question = question
        self._retriever = retriever
        self._generator = generator
        self._prompts = prompts
        self._top_k = top_k
        self._min_score = min_score
        self._max_tokens = max_tokens
        self._temperature = temperature
        self._checker = checker
        self._refuse_unsupported = refuse_unsupported
        self._check_relevance = check_relevance
        self._confident_score = confident_score
        self.answer: Answer | None = None

    def __iter__(self) -> Iterator[str]:
        started = time.perf_counter()
        hits, retrieval_ms = self._retriever.retrieve(self.question, self._top_k)
        timings = Timings(retrieval_ms=round(retrieval_ms, 1))
        if not hits or max(h.score for h in hits) < self._min_score or self._generator is None:
            self.answer = self._refusal(hits, timings, reason="off-topic")
            yield self.answer.text
            timings.total_s = round(time.perf_counter() - started, 3)
            return
        shown, messages, prompt_tokens = fit_passages(
            self.question,
            hits,
            prompts=self._prompts,
            generator=self._generator,
            max_tokens=self._max_tokens,
        )
        timings.prompt_tokens = prompt_tokens
        unmentioned = self._unmentioned(shown)
        if unmentioned:
            self.answer = self._refusal(
                hits, timings, reason="unmentioned", names=unmentioned, prompt=messages
            )
            yield self.answer.text
            timings.total_s = round(time.perf_counter() - started, 3)
            return
        pieces: list[str] = []
        for piece in self._generator.stream(
            messages, max_tokens=self._max_tokens, temperature=self._temperature
        ):
            if timings.ttft_s is None:
                timings.ttft_s = round(time.perf_counter() - started, 3)
            pieces.append(piece)
            yield piece
        timings.completion_tokens = len(pieces)
        if timings.ttft_s is not None:
            timings.generation_s = round(time.perf_counter() - started - timings.ttft_s, 3)
        self.answer = self._finish("".join(pieces), shown, hits, timings, messages)
        timings.total_s = round(time.perf_counter() - started, 3)

    def _finish(self, raw, shown, hits, timings, messages) -> Answer:
        text, citations = parse_citations(raw, shown)
        if is_refusal(text):
            return self._refusal(hits, timings, reason="model", draft=raw, prompt=messages)
        unsupported: list[str] = []
        if self._checker is not None:
            pointed = quote_pointed_passage(text, shown, self.question, self._checker.embedder)
            text = pointed or text
            confident = max(hit.score for hit in hits) >= self._confident_score
            verification = verify(
                text,
                shown,
                self._checker,
                is_refusal=is_refusal,
                question=self.question if confident else None,
            )
            if self._refuse_unsupported and not verification.supported_markers:
                return self._refusal(
                    hits, timings, reason="unsupported", draft=raw, prompt=messages
                )
            supported = " ".join(verification.supported)
            if self._check_relevance and not gives_expected_answer(supported, self.question):
                return self._refusal(hits, timings, reason="no-answer", draft=raw, prompt=messages)
            text, citations = parse_citations(verification.text, shown)
            citations = mark_verified(citations, verification.supported_markers)
            unsupported = verification.unsupported
        return Answer(
            self.question,
            text,
            False,
            citations,
            shown,
            hits,
            timings,
            messages,
            unsupported=unsupported,
            draft=raw,
        )

    def _unmentioned(self, shown: list[Hit]) -> list[str]:
        if not self._check_relevance:
            return []
        return unmentioned_identifiers(self.question, [hit.chunk.text for hit in shown])

    def _refusal(self, hits, timings, *, reason, draft="", prompt=None, names=()) -> Answer:
        """'The documents don't say', pointing at the closest passages with citations."""
        closest = hits[:2]
        if names:
            lead = self._prompts["refusal_unmentioned"].format(names=", ".join(names))
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
