"""Verification: check every answer sentence against the passages, moving markers to evidence.

After the answer has streamed, each sentence is checked with the SupportChecker
(``grounding/support.py``) against the passages it cites:

- a cited passage that supports the sentence is kept and marked verified;
- when none of the cited passages supports it but another shown passage does, the marker is
  moved to that passage (the small model often cites a neighbour of the right passage);
- a sentence without markers that a shown passage supports gets that passage's marker;
- a sentence a passage backs but which is not about the question by itself ("Violations can
  result in account suspension." after "Providers enforce their rules through terms of
  service.") is kept when the same passage supports an on-question sentence of the answer: it
  continues that answer from the same evidence (a list item, a consequence, a detail);
- a sentence no shown passage supports is first cut back to its longest leading clause that one
  does ("NER stands for Named Entity Recognition, which is a task in ..." keeps its head), and
  to each later side of a contrast that one does ("..., while governance transparency ...",
  ``trimming.py``);
- a sentence no shown passage supports (or one backed but not about the question) is listed as
  unsupported: flagged in the CLI, the JSON and the UI, and taken out of the answer's text when
  other sentences are supported, so what reads as the answer is only what the passages back;
- a sentence repeated word for word is kept once.

Lead-ins ("Here is what the documents say:"), bare markers, sentences which only point at a
passage ("This is explained in passage [4]."), questions the model asks itself and its own
refusals are not claims and are left alone (a pointer or a question is taken out of an answer
that has supported sentences). A reply which only points at passages ("[2]") is replaced by
the shown sentence closest to the question (a whole sentence, not a heading), quoted, and
checked like any answer (``quote_pointed_passage``); so is an unsupported yes/no answer that only
restates its question (``restated``, from ``decision.py``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from assistant.embeddings import Embedder
from assistant.grounding.refusal import model_declined
from assistant.grounding.relevance import asked_names, asks_yes_or_no, mentions, offers_choice
from assistant.grounding.subjects import naming_passages, rare_subjects
from assistant.grounding.support import SupportChecker, in_answer
from assistant.grounding.trimming import backed_parts, leans_back
from assistant.retrieval import Hit
from assistant.tables import LIST_ITEM
from assistant.text import (
    MARKER,
    SPACED_MARKER,
    claim_words,
    markers_in,
    remove_markers,
    split_answer_sentences,
    split_sentences,
)


@dataclass(frozen=True)
class Verification:
    text: str  # the answer with markers moved or added
    supported_markers: frozenset[int]  # passages that support at least one sentence
    unsupported: list[str]  # sentences no shown passage supports
    claims: int  # sentences checked
    supported: list[str] = field(default_factory=list)  # sentences a shown passage supports
    backed: int = 0  # claims some passage backs, on the question or not
    relevance: float | None = None  # the best claim's relevance to the question (None: unknown)
    closest: Closest | None = None  # the passage sentence most like any claim
    answering: list[str] = field(default_factory=list)  # supported and on the question alone


@dataclass(frozen=True)
class Closest:
    """The shown passage sentence most similar to one of the answer's claims."""

    similarity: float
    number: int  # the passage's marker
    sentence: str
    claim: str = ""  # the answer's claim it is most like


# "This is explained in passage [4].", "The principles that guide it are outlined in the passage.",
# "This is explained in [2]." (the marker taken out)
_POINTS_AT_PASSAGE = re.compile(
    r"\b(?:is|are|was|were|be|been)\s+(?:\w+\s+)?(?:explained|outlined|described|mentioned|found"
    r"|given|stated|detailed|discussed|listed|provided|shown|covered|summari[sz]ed)\s+(?:in|by)"
    r"(?:\s+(?:the\s+|this\s+|that\s+)?(?:passages?|documents?|context|text|sources?))?\W*$",
    re.IGNORECASE,
)
# "This is [2].", "This license is [4].": what was left of "This is found in passage [2]."
_STOPS_AT_VERB = re.compile(r"\b(?:is|are|was|were|be|been)\W*$", re.IGNORECASE)


def points_at_passage(sentence: str) -> bool:
    """It only says where something is written ("This is explained in passage [4].") or is
    what is left of that once the pointer is tidied away ("This is [4].")."""
    plain = remove_markers(sentence)
    return bool(_POINTS_AT_PASSAGE.search(plain) or _STOPS_AT_VERB.search(plain))


def asks(sentence: str) -> bool:
    """A question the model wrote into its answer ("Why is Malaysia in Southeast Asia?")."""
    return remove_markers(sentence).rstrip(" \"'”’)").endswith("?")


def makes_no_claim(sentence: str) -> bool:
    """A lead-in, a bare marker, a pointer or a question: it ends with ':', has no content word
    ("[2]."), only says where something is written (``points_at_passage``) or asks."""
    plain = remove_markers(sentence)
    return (
        plain.endswith(":")
        or not claim_words(plain)
        or points_at_passage(sentence)
        or asks(sentence)
    )


def verify(
    text: str,
    passages: list[Hit],
    checker: SupportChecker,
    *,
    question: str | None = None,
    read_as_answers: bool = True,
    drop_unsupported: bool = True,
    trim: bool = True,
) -> Verification:
    """Check each claim of ``text`` against ``question`` (see ``SupportChecker.check_many``);
    with ``trim``, a claim no passage supports is first cut back to the parts of it that one
    does (``trimming.backed_parts``)."""
    text = _MARKER_LINE.sub(" ", text)  # "... undermines it.\n\n[1] [2]": they cite that sentence
    sentences = split_answer_sentences(text)
    claims = [s for s in sentences if not makes_no_claim(s) and not model_declined(s)]
    pairs = [(claim, hit.chunk.readable_text) for claim in claims for hit in passages]
    decided = checker.check_many(pairs, question=question, read_as_answers=read_as_answers)
    if trim:
        parts = backed_parts(claims, decided, passages, checker, question, read_as_answers)
        if parts:
            for claim, kept in parts.items():
                text = text.replace(claim, kept, 1)
            return verify(
                text,
                passages,
                checker,
                question=question,
                read_as_answers=read_as_answers,
                drop_unsupported=drop_unsupported,
                trim=False,
            )
    width = len(passages)
    per_claim = [decided[i * width : (i + 1) * width] for i in range(len(claims))]
    read = in_answer([(i % width, decision) for i, decision in enumerate(decided)])
    supports = {claim: read[i * width : (i + 1) * width] for i, claim in enumerate(claims)}
    backed = sum(
        any(d.supported if d.backed is None else d.backed for d in decisions)
        for decisions in per_claim
    )
    relevances = [d.relevance for d in decided if d.relevance is not None]
    closest = max(
        (
            Closest(d.similarity, i % width + 1, d.best_sentence, claims[i // width])
            for i, d in enumerate(decided)
            if quotable(d.best_sentence)
        ),
        key=lambda c: c.similarity,
        default=None,
    )

    on_question = {claim: any(d.supported for d in per_claim[i]) for i, claim in enumerate(claims)}
    rewritten, supported_markers, unsupported, supported = text, set(), [], []
    seen: list[set[str]] = []  # each kept claim's content and negation words
    lead_lost = False  # the claim before was not backed, and claimed more than was asked
    subjects = rare_subjects(question, passages, checker.key_terms(question) if question else None)
    for claim in claims:
        backing = [n for n, ok in enumerate(supports[claim], start=1) if ok]
        backing = naming_passages(claim, backing, passages, subjects)
        cited = [n for n in dict.fromkeys(markers_in(claim)) if 1 <= n <= len(passages)]
        keep = [n for n in cited if n in backing]
        said = " ".join(remove_markers(claim).lower().split())
        words = claim_words(said) | (set(_NEGATION.findall(said)) or {"+"})
        if backing and lead_lost and leans_back(claim, question or ""):
            backing = []  # "This is because ..." gives a reason for what was not backed
        if not backing or any(words <= kept for kept in seen):
            if backing:  # the same sentence again, or one that says no more: once is enough
                rewritten = rewritten.replace(claim, "", 1)
            else:
                unsupported.append(remove_markers(claim))
                lead_lost = not _only_asked(claim, question)
            continue
        lead_lost = False
        seen.append(words)
        supported.append(claim)
        chosen = keep or backing[:1]
        supported_markers.update(chosen)
        if chosen != cited:
            rewritten = rewritten.replace(claim, _with_markers(claim, chosen), 1)
    if supported and drop_unsupported:
        for claim in claims:
            if remove_markers(claim) in unsupported:
                rewritten = rewritten.replace(claim, "", 1)
        for sentence in sentences:
            if points_at_passage(sentence) or asks(sentence):  # they add nothing to an answer
                rewritten = rewritten.replace(sentence, "", 1)
        rewritten = _tidy_gaps(rewritten)
    return Verification(
        rewritten,
        frozenset(supported_markers),
        unsupported,
        len(claims),
        supported,
        backed=backed,
        relevance=max(relevances) if relevances else None,
        closest=closest,
        answering=[claim for claim in supported if on_question[claim]],
    )


# Words that turn a claim round: "GPT-4 is not open" says more than "GPT-4 is open" said before.
_NEGATION = re.compile(r"\b(?:not|no|never|n't|neither|nor|without)\b|n't\b")
# Words that only say which way a yes/no answer goes ("doesn't", "never", "true").
_POLARITY = claim_words(
    "yes no not never doesn't didn't hasn't haven't hadn't won't wouldn't shouldn't couldn't "
    "weren't indeed true false correct right wrong"
)
# The line break before a line of bare markers ("[1] [2]"), which cite the sentence above them.
_MARKER_LINE = re.compile(rf"[ \t]*\n\s*(?=(?:{MARKER.pattern}[ \t,;.]*)+(?:\n|$))")
_LEAD_IN = re.compile(r"(?:^|(?<=[.!?\]]) )[^.!?]*:$")  # a line's last sentence, a lead-in
_WHOLE_SENTENCE_END = re.compile(r"[.!?\u0964][\"'\u201d\u2019)\]]*$")
QUOTED_WORDS = 6  # the fewest words of a passage sentence quoted as the answer


def quotable(sentence: str) -> bool:
    """A passage sentence that can be quoted as an answer: it ends with its full stop (not a
    heading, a table row or a sentence the chunk cut off) and has six words or more."""
    sentence = sentence.strip()
    return bool(_WHOLE_SENTENCE_END.search(sentence)) and len(sentence.split()) >= QUOTED_WORDS


def quote_pointed_passage(
    text: str, passages: list[Hit], question: str, embedder: Embedder, *, restated: bool = False
) -> str | None:
    """When the model only points at passages ("[2]"), the shown sentence closest to the question.

    The small model sometimes answers with a bare marker: it found the answer in the passages
    but did not write it. Its markers are unreliable (it cites a neighbour of the right passage
    about half the time), so the answer becomes the sentence of any shown passage most similar
    to the question, quoted and cited: 'Passage [1] says: "..."', and it is then checked like
    any answer. Only a whole sentence of six words or more is quoted (``quotable``), not a
    heading, and only one that names everything the question names ("Mixtral 8x7B" and
    "GPT-3.5": a sentence on Mixtral and GPT-4 answers another question). With ``restated``, a
    yes/no answer that only restates its question counts as pointing too ("Yes, Anthropic makes
    the principles behind Claude public. [2]"): it says which way, but not what in the passages
    says so. A line that is only the heading of the passage it cites (``titles_its_passage``)
    points at it too. None when the text makes a claim of its own or points at no shown passage.
    """
    sentences = split_answer_sentences(text)
    if not sentences or not all(
        makes_no_claim(sentence)
        or (restated and _restates(sentence, question))
        or titles_its_passage(sentence, passages)
        for sentence in sentences
    ):
        return None
    if not any(1 <= n <= len(passages) for n in markers_in(text)):
        return None
    candidates = [
        (number, sentence)
        for number, hit in enumerate(passages, start=1)
        for sentence in split_sentences(hit.chunk.readable_text)
        if quotable(sentence) and names_what_was_asked(sentence, question, passages)
    ]
    if not candidates:
        return None
    vectors = embedder.embed([question, *(sentence for _, sentence in candidates)])
    number, sentence = candidates[int((vectors[1:] @ vectors[0]).argmax())]
    return f'Passage [{number}] says: "{sentence}"'


def titles_its_passage(sentence: str, passages: list[Hit]) -> bool:
    """The sentence is only the heading of the passage it cites ("- Takeaway [2]"): a list of
    such lines names the passages, not what they say."""
    cited = [passages[n - 1] for n in markers_in(sentence) if 1 <= n <= len(passages)]
    said = _HEADING_WORDS.findall(remove_markers(sentence).lower())
    return bool(said) and any(
        said == _HEADING_WORDS.findall((hit.chunk.heading or "").lower()) for hit in cited
    )


_HEADING_WORDS = re.compile(r"[^\W\d_]+")  # "1. Personalized Learning" -> personalized, learning


def names_what_was_asked(sentence: str, question: str, passages: list[Hit]) -> bool:
    """The sentence names every name, code and year of the question, but for those that name a
    source document ("the Zubnet wiki"): one about Mixtral and GPT-4 does not answer a question
    about Mixtral and GPT-3.5, however close it is."""
    names = asked_names(question, (hit.chunk.document for hit in passages))
    return all(mentions(sentence, name) for name in names)


def _restates(sentence: str, question: str) -> bool:
    """A yes/no question's answer that only restates it ("Yes, Anthropic makes the principles
    behind Claude public."): it says which way, but not what in the passages says so."""
    if not asks_yes_or_no(question) or offers_choice(question):
        return False  # "Is the gap growing or shrinking?" "It is shrinking." answers it
    return claim_words(remove_markers(sentence)) <= claim_words(question) | _POLARITY


def _only_asked(sentence: str, question: str | None) -> bool:
    """A sentence that only restates a question which is not a yes/no one ("The thesis says
    closed models are safer." for "Why does the thesis say closed models are safer?"): what
    follows it answers the question, not it. The yes or no of a yes/no question is a claim."""
    if not question or asks_yes_or_no(question):
        return False
    return claim_words(remove_markers(sentence)) <= claim_words(question)


def _tidy_gaps(text: str) -> str:
    """The text after sentences were taken out: no empty list items, lines or double spaces,
    and no line left with only the quote marks or stops of what was taken out."""
    lines = [" ".join(line.split()) for line in text.splitlines()]
    kept = [line for line in lines if any(ch.isalnum() for ch in line)]  # markers cite
    pairs = zip(kept, [*kept[1:], ""], strict=True)  # "These include:" without its items goes
    kept = [line if LIST_ITEM.match(after) else _LEAD_IN.sub("", line) for line, after in pairs]
    return "\n".join(line for line in kept if line).strip()


def _with_markers(sentence: str, markers: list[int]) -> str:
    """The sentence with its markers replaced by the given ones, before the final stop."""
    plain = SPACED_MARKER.sub("", sentence).rstrip()
    tail = ""
    if plain and plain[-1] in ".!?":
        plain, tail = plain[:-1].rstrip(), plain[-1]
    return f"{plain} {''.join(f'[{n}]' for n in markers)}{tail}"
