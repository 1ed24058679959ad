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

The second half of the module reads an answer back against its passages: ``supporting_spans``
finds, for a cited passage, the sentence(s) with the highest content-word overlap with the
answer sentences that cite it, so the UI can highlight the part that supports the answer.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from assistant.answer import Prompts
from assistant.llm import Generator

REWRITE_MAX_TOKENS = 40


def _wordset(text: str) -> frozenset[str]:
    return frozenset(text.split())


STOPWORDS = _wordset(
    """a an the and or but of to in on for with about as at by from into than then so also
    is are was were be been being do does did done have has had can could should would will
    may might must shall what which who whom whose why how when where i me my we us our you
    your not no any some more most other such own same very just only if whether there here
    all each both few many much please tell explain now again too vs versus"""
)
PRONOUNS = _wordset("it its they them their theirs this that these those he she him his her")
_POSSESSIVES = frozenset({"its", "their"})
_PERSONAL = frozenset({"it", "they", "them"})
_QUESTION_WORDS = _wordset(
    """what which who whom whose why how when where is are was were do does did can could
    should would will has have had"""
)
_ABBREVIATIONS = frozenset({"e.g.", "i.e.", "etc.", "vs.", "cf.", "approx.", "fig.", "no."})

_WORD = re.compile(r"[^\W_](?:[\w'’-]*\w)?")
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


def _words(text: str) -> list[re.Match]:
    return list(_WORD.finditer(text))


def _norm(word: str) -> str:
    word = word.lower().replace("’", "'").removesuffix("'s")
    return word[:-1] if len(word) > 3 and word.endswith("s") and not word.endswith("ss") else word


def content_words(text: str) -> list[str]:
    """Normalised words that carry meaning: no stopwords, pronouns or one-letter words."""
    return [
        _norm(m.group())
        for m in _words(text)
        if m.group().lower() not in STOPWORDS | PRONOUNS and len(m.group()) > 1
    ]


def is_follow_up(question: str, history: Sequence[str]) -> bool:
    """Whether the question leans on an earlier one (see the module docstring)."""
    if not history:
        return False
    words = [m.group().lower() for m in _words(question)]
    if not words:
        return False
    if _CONNECTIVE.match(question) or len(words) <= 2:
        return True
    return bool(PRONOUNS & set(words)) and len(content_words(question)) <= 2


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
        candidate = _model_rewrite(question, previous, generator, prompts)
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
    words = [m.group().lower() for m in _words(candidate)]
    if not words or "[" in candidate or not 8 <= len(candidate) <= 300:
        return None
    if not candidate.endswith("?"):
        if words[0] not in _QUESTION_WORDS:
            return None
        candidate = candidate.rstrip(".!") + "?"
    own, rewritten = content_words(question), set(content_words(candidate))
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
    words = _words(rest)
    if not words or words[0].group().lower() in _QUESTION_WORDS or _has_pronoun(rest):
        return None
    return _LEADING_PREPOSITION.sub("", rest) or None


def _has_pronoun(text: str) -> bool:
    return any(m.group().lower() in PRONOUNS for m in _words(text))


def _substitute(previous: str, phrase: str) -> str | None:
    """Replace the phrase in ``previous`` whose last word is the phrase's head word."""
    head = _norm(_words(phrase)[-1].group())
    words = _words(previous)
    matches = [i for i, m in enumerate(words) if _norm(m.group()) == head]
    if not matches:
        return None
    end = matches[-1]
    start = end
    span = len(_words(phrase))
    while start > 0 and end - start + 1 < span and _is_content(words[start - 1].group()):
        start -= 1
    replaced = words[start].group()
    if phrase[:1].isupper() and phrase[1:2].islower() and replaced[:1].islower():
        phrase = phrase[0].lower() + phrase[1:]  # "Closed models?" was capitalised as a question
    return previous[: words[start].start()] + phrase + previous[words[end].end() :]


def _is_content(word: str) -> bool:
    return word.lower() not in STOPWORDS | PRONOUNS


def topic(question: str) -> str:
    """The longest run of consecutive content words (the last one on ties)."""
    best: list[re.Match] = []
    run: list[re.Match] = []
    for match in [*_words(question), None]:
        if match is not None and _is_content(match.group()):
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
    for match in _words(text):
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
    for match in _words(text[offset:]):
        if not _is_content(match.group()):
            break
        end = offset + match.end()
    return end


# --- reading an answer back against its passages -------------------------------------------

_SENTENCE_IN_ANSWER = re.compile(r"\S.*?(?:[.!?]+(?:\s*\[[\d,;\s]+\])*(?=\s|$)|$)", re.DOTALL)
_MARKERS = re.compile(r"\[([\d,;\s]+)\]")
_LIST_ITEM_START = r"\n(?=[ \t]*(?:[-*•–▪◦]|\d{1,3}[.)])\s)"
_BLOCK = re.compile(rf"(?:(?!\n\s*\n|{_LIST_ITEM_START}).)+", re.DOTALL)
_SENTENCE = re.compile(r"\S.*?(?:[.!?]+[\"'”’)\]]*(?=\s|$)|$)", re.DOTALL)


def sentences_citing(answer: str, marker: int) -> list[str]:
    """The answer's sentences that cite passage ``marker``, without their markers.

    Models often cite once at the end of a paragraph, so sentences without a marker count as
    citing what the next cited sentence of the same paragraph cites.
    """
    found = []
    for paragraph in re.split(r"\n\s*\n", answer):
        pending: list[str] = []
        for match in _SENTENCE_IN_ANSWER.finditer(paragraph):
            sentence = match.group()
            text = re.sub(r"\s+([.,;:!?])", r"\1", _MARKERS.sub("", sentence)).strip()
            cited = {
                int(n) for group in _MARKERS.findall(sentence) for n in re.findall(r"\d+", group)
            }
            pending.append(text)
            if cited:
                found += pending if marker in cited else []
                pending = []
    return [sentence for sentence in found if sentence]


def passage_sentences(passage: str) -> list[tuple[int, int]]:
    """Character spans of the passage's sentences; blank lines and list items end one too."""
    spans: list[tuple[int, int]] = []
    for block in _BLOCK.finditer(passage):
        ends_open = False  # the previous piece ended in an abbreviation: keep extending it
        for match in _SENTENCE.finditer(block.group()):
            start, end = block.start() + match.start(), block.start() + match.end()
            if ends_open:
                start = spans.pop()[0]
            spans.append((start, end))
            last_word = passage[start:end].rsplit(maxsplit=1)[-1].lower()
            ends_open = last_word in _ABBREVIATIONS
    return spans


def supporting_spans(passage: str, claims: Sequence[str]) -> list[tuple[int, int]]:
    """Spans of the passage sentences that best support each claim (by content-word overlap).

    For each claim the passage sentence sharing the most content words with it is chosen, if
    it shares at least two (or one, when the claim has fewer than three); spans are returned
    sorted and without repeats. A claim that matches nothing adds nothing.
    """
    sentences = [
        (start, end, set(content_words(passage[start:end])))
        for start, end in passage_sentences(passage)
    ]
    chosen: set[tuple[int, int]] = set()
    for claim in claims:
        words = set(content_words(claim))
        needed = 2 if len(words) >= 3 else 1
        best = max(sentences, key=lambda s: len(words & s[2]), default=None)
        if best is not None and len(words & best[2]) >= needed:
            chosen.add((best[0], best[1]))
    return sorted(chosen)
