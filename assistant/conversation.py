"""Conversation: follow-up questions made standalone, and answers read back against passages.

Retrieval embeds one question at a time, so "and what about closed models?" asked after
"What are the advantages of open models?" would fetch passages about nothing in particular.
``rewrite_question`` turns such a follow-up into a standalone question before retrieval, in
steps that each cost more than the one before and run only when the earlier ones did not
settle it:

1. **Detect, without the model.** A question is a follow-up only when there is an earlier one
   and it opens with a connective ("and ...", "what about ...", "how about ..."), or leans on
   a pronoun (it, they, their, that, ...) while naming at most two content words of its own, or
   is at most two words long. Everything else passes through untouched and costs nothing.
2. **Substitute a noun phrase, without the model.** When the follow-up boils down to a noun
   phrase ("closed models") and the previous question has a phrase with the same head word,
   that phrase is swapped ("... of open models?" -> "... of closed models?"). This is the most
   common follow-up, and the rule is exact where the 1.5B model tends to paraphrase.
3. **Rewrite with the model.** A tiny prompt (``prompts/rewrite.txt``: the previous standalone
   question and the follow-up, ~80 tokens) and at most 40 generated tokens at temperature 0,
   about one to two seconds on a 2-core CPU, paid only for follow-ups the rule cannot handle.
4. **Check the rewrite.** It is used only when it is one question of sane length that keeps
   every content word of the follow-up (so the model cannot drop the new topic) and adds
   context the follow-up lacked. Anything else (a chatty reply, an answer, the previous
   question repeated, the scripted test double's canned text) is discarded.
5. **Fall back to heuristics.** A possessive or personal pronoun is replaced by the previous
   question's topic (its longest run of content words: "What are their risks?" -> "What are
   the risks of open models?"); an unmatched noun phrase becomes "What about X regarding
   TOPIC?"; otherwise the previous question is prepended, which is crude but keeps retrieval
   on topic.

Only the last standalone question is used as context: it already carries what came before.

A ``Conversation`` keeps the turns (what was asked, how it was read, the answer) for the app,
``assistant chat`` and the API alike: ``ask`` rewrites a follow-up, then returns the answer
stream, and the turn records its answer (with the passage spans to highlight) when the stream
ends.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Protocol

from assistant.answer import Answer, AnswerStream
from assistant.errors import AssistantError
from assistant.highlights import support_highlights
from assistant.llm import Generator
from assistant.prompts import Prompts
from assistant.text import (
    PRONOUNS,
    QUESTION_OPENERS,
    is_topic_word,
    phrase_key,
    phrase_words,
    topic_words,
)

REWRITE_MAX_TOKENS = 40
_POSSESSIVES = frozenset({"its", "their"})
_PERSONAL = frozenset({"it", "they", "them"})
_CONNECTIVE = re.compile(
    r"^\s*(?:(?:and|but|also|so|or|then)\b[\s,]*)?"
    r"(?:(?:what|how)\s+about|what\s+of|same\s+(?:question\s+)?(?:for|with))\b"
    r"|^\s*(?:and|but|also|or)\b",
    re.IGNORECASE,
)
_LEADING_PREPOSITION = re.compile(r"^(?:for|with|regarding|about|on|in)\s+", re.IGNORECASE)
_LABEL = re.compile(r"^(?:standalone|rewritten)?\s*question\s*:\s*", re.IGNORECASE)


@dataclass(frozen=True)
class Rewrite:
    question: str  # as the user typed it
    standalone: str  # what retrieval and the answer prompt see
    method: str  # "unchanged", "rule" or "model"

    @property
    def rewritten(self) -> bool:
        return self.method != "unchanged"


def is_follow_up(question: str, history: Sequence[str]) -> bool:
    """Whether the question leans on an earlier one (see the module docstring)."""
    if not history:
        return False
    words = [m.group().lower() for m in phrase_words(question)]
    if not words:
        return False
    if _CONNECTIVE.match(question) or len(words) <= 2:
        return True
    return bool(PRONOUNS & set(words)) and len(topic_words(question)) <= 2


def rewrite_question(
    question: str,
    history: Sequence[str],
    *,
    generator: Generator | None = None,
    prompts: Prompts | None = None,
) -> Rewrite:
    """The question as a standalone one, given the earlier standalone questions (oldest first).

    Without a generator (or prompts) only the rules run.
    """
    question = question.strip()
    if not is_follow_up(question, history):
        return Rewrite(question, question, "unchanged")
    previous = history[-1]
    phrase = _noun_phrase(question)
    substituted = _substitute(previous, phrase) if phrase else None
    if substituted:
        return Rewrite(question, substituted, "rule")
    if generator is not None and prompts is not None:
        try:
            candidate = _model_rewrite(question, previous, generator, prompts)
        except AssistantError:  # the follow-up does not fit the model: the rules still can
            candidate = ""
        if candidate:
            return Rewrite(question, candidate, "model")
    return Rewrite(question, heuristic_rewrite(question, previous), "rule")


def _model_rewrite(question: str, previous: str, generator: Generator, prompts: Prompts) -> str:
    prompt = prompts["rewrite"].format(previous=previous, question=question)
    reply = "".join(
        generator.stream(
            [{"role": "user", "content": prompt}],
            max_tokens=REWRITE_MAX_TOKENS,
            temperature=0.0,
        )
    )
    return usable_rewrite(reply, question) or ""


def usable_rewrite(reply: str, question: str) -> str | None:
    """The model's rewrite cleaned up, or None when it is not a usable standalone question."""
    lines = [line.strip() for line in reply.strip().splitlines() if line.strip()]
    if not lines:
        return None
    candidate = _LABEL.sub("", lines[0]).strip().strip("\"'`*“”").strip()
    words = [m.group().lower() for m in phrase_words(candidate)]
    if not words or "[" in candidate or not 8 <= len(candidate) <= 300:
        return None
    if not candidate.endswith("?"):
        if words[0] not in QUESTION_OPENERS:
            return None
        candidate = candidate.rstrip(".!") + "?"
    own, rewritten = topic_words(question), set(topic_words(candidate))
    keeps_topic = set(own) <= rewritten
    adds_context = len(rewritten) > len(set(own))
    return candidate if keeps_topic and adds_context else None


def heuristic_rewrite(question: str, previous: str) -> str:
    """A standalone question built from the follow-up and the previous question, no model."""
    phrase = _noun_phrase(question)
    if phrase:
        return _substitute(previous, phrase) or f"What about {phrase} regarding {topic(previous)}?"
    rest = _CONNECTIVE.sub("", question, count=1).strip(" ,?.!")
    resolved = _resolve_pronouns(rest, topic(previous))
    if resolved != rest:
        return resolved[0].upper() + resolved[1:] + "?"
    return f"{previous.rstrip(' ?.!')}: {question}"


def _noun_phrase(question: str) -> str | None:
    """'and what about closed models?' -> 'closed models'; None when it is not a bare phrase."""
    rest = _CONNECTIVE.sub("", question, count=1).strip(" ,?.!")
    words = phrase_words(rest)
    if not words or words[0].group().lower() in QUESTION_OPENERS or _has_pronoun(rest):
        return None
    return _LEADING_PREPOSITION.sub("", rest) or None


def _has_pronoun(text: str) -> bool:
    return any(m.group().lower() in PRONOUNS for m in phrase_words(text))


def _substitute(previous: str, phrase: str) -> str | None:
    """Replace the phrase in ``previous`` whose last word is the phrase's head word."""
    head = phrase_key(phrase_words(phrase)[-1].group())
    words = phrase_words(previous)
    matches = [i for i, m in enumerate(words) if phrase_key(m.group()) == head]
    if not matches:
        return None
    end = matches[-1]
    start = end
    span = len(phrase_words(phrase))
    while start > 0 and end - start + 1 < span and is_topic_word(words[start - 1].group()):
        start -= 1
    replaced = words[start].group()
    if phrase[:1].isupper() and phrase[1:2].islower() and replaced[:1].islower():
        phrase = phrase[0].lower() + phrase[1:]  # "Closed models?" was capitalised as a question
    return previous[: words[start].start()] + phrase + previous[words[end].end() :]


def topic(question: str) -> str:
    """The longest run of consecutive content words (the last one on ties)."""
    best: list[re.Match] = []
    run: list[re.Match] = []
    for match in [*phrase_words(question), None]:
        if match is not None and is_topic_word(match.group()):
            run.append(match)
            continue
        if run and len(run) >= len(best):
            best = run
        run = []
    if not best:
        return question.rstrip(" ?.!")
    return question[best[0].start() : best[-1].end()]


def _resolve_pronouns(text: str, subject: str) -> str:
    """'What are their risks' -> 'What are the risks of SUBJECT'; 'is it X' -> 'is SUBJECT X'."""
    for match in phrase_words(text):
        word = match.group().lower()
        if word in _POSSESSIVES:
            phrase_end = _noun_phrase_end(text, match.end())
            noun = text[match.end() : phrase_end].strip()
            return f"{text[: match.start()]}the {noun} of {subject}{text[phrase_end:]}"
        if word in _PERSONAL:
            return text[: match.start()] + subject + text[match.end() :]
    return text


def _noun_phrase_end(text: str, offset: int) -> int:
    end = offset
    for match in phrase_words(text[offset:]):
        if not is_topic_word(match.group()):
            break
        end = offset + match.end()
    return end


# --- the conversation -----------------------------------------------------------------------


class Answerer(Protocol):
    """What a conversation needs of the assistant (``pipeline.Assistant`` is one)."""

    prompts: Prompts

    @property
    def generator(self) -> Generator: ...

    def ask(self, question: str) -> AnswerStream: ...


@dataclass
class Turn:
    """One exchange: what was asked, how it was read, and the answer (or the error)."""

    question: str
    rewrite: Rewrite | None = None
    answer: Answer | None = None
    error: str | None = None
    highlights: dict[int, list[tuple[int, int]]] = field(default_factory=dict)  # marker -> spans
    replayed: bool = False  # an earlier turn given by a client (the API), answered elsewhere

    def record(self, answer: Answer) -> None:
        self.answer = answer
        self.highlights = support_highlights(answer)


@dataclass
class Conversation:
    """The turns so far; each follow-up is read against the standalone questions before it."""

    turns: list[Turn] = field(default_factory=list)

    def history(self) -> list[str]:
        """The standalone questions of the answered turns, oldest first."""
        return [
            t.rewrite.standalone
            for t in self.turns
            if t.rewrite is not None and (t.answer or t.replayed)
        ]

    @classmethod
    def replay(cls, questions: Sequence[str]) -> Conversation:
        """A conversation whose earlier questions are these, read as the app would have read
        them (with the rules; the model is kept for the question being asked now)."""
        conversation = cls()
        for question in questions:
            rewrite = rewrite_question(question, conversation.history())
            conversation.turns.append(Turn(question, rewrite, replayed=True))
        return conversation

    def is_follow_up(self, question: str) -> bool:
        return is_follow_up(question, self.history())

    def ask(self, question: str, *, assistant: Answerer) -> AnswerStream:
        """A new turn: the question read as a standalone one, and its answer stream.

        The turn is added at once; it records its answer when the stream ends. An error
        (AssistantError) is left for the caller to report, and to store as ``turn.error``.
        """
        history = self.history()
        turn = Turn(question)
        self.turns.append(turn)
        rewrite = rewrite_question(
            question,
            history,
            generator=assistant.generator if is_follow_up(question, history) else None,
            prompts=assistant.prompts,
        )
        turn.rewrite = rewrite
        return assistant.ask(rewrite.standalone).on_answer(turn.record)

    def clear(self) -> None:
        self.turns.clear()
