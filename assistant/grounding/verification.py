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
  does ("NER stands for Named Entity Recognition, which is a task in ..." keeps its head);
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
    with ``trim``, a claim no passage supports is first cut back to its longest leading clause
    that one does (``_backed_heads``)."""
    text = _MARKER_LINE.sub(" ", text)  # "... undermines it.\n\n[1] [2]": they cite that sentence
    sentences = split_answer_sentences(text)
    claims = [s for s in sentences if not makes_no_claim(s) and not model_declined(s)]
    pairs = [(claim, hit.chunk.readable_text) for claim in claims for hit in passages]
    decided = checker.check_many(pairs, question=question, read_as_answers=read_as_answers)
    if trim:
        heads = _backed_heads(claims, decided, passages, checker, question, read_as_answers)
        if heads:
            for claim, head in heads.items():
                text = text.replace(claim, head, 1)
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


# Where a sentence's head clause may end: before "; ...", " (...", " - ..." and a comma that
# opens a clause or an apposition (", which ...", ", a technology that ...", ", leading to ..."),
# not the comma of a series ("to explore, mine, and sell").
_CLAUSE_BREAK = re.compile(
    r"\s*(?:;\s|\s\(|\s[-\u2013\u2014]\s|,\s(?=(?:which|who|whom|whose|where|while|whereas"
    r"|although|though|but|because|as|since|so|a|an|the|this|that|these|its|their|\w+ing)\b))",
    re.IGNORECASE,
)
HEAD_WORDS = 3  # content words a head clause needs to be a claim of its own
HEAD_NEW_WORDS = 2  # of them, words the question does not have


def _backed_heads(claims, decided, passages, checker, question, read_as_answers) -> dict:
    """For each claim no passage supports, its longest leading clause that one does.

    The small model often states the answer and then adds an explanation of its own: "NER
    stands for Named Entity Recognition, which is a task in natural language processing that
    ...". The explanation is not in the passage, so the sentence is not supported, and the
    answer it starts with was lost. The head "NER stands for Named Entity Recognition." is
    checked like any claim and, when a passage supports it, replaces the sentence.
    """
    width = len(passages)
    asked = claim_words(question) if question else set()
    options: list[tuple[str, str]] = []  # (claim, head), each claim's longest head first
    for i, claim in enumerate(claims):
        if any(d.backed or d.supported for d in decided[i * width : (i + 1) * width]):
            continue  # backed, if only as the continuation of an answer: it stays whole
        plain = remove_markers(claim).rstrip()
        cuts = reversed([m.start() for m in _CLAUSE_BREAK.finditer(plain)])
        heads = (plain[:cut].rstrip() for cut in cuts)
        options += [(claim, head) for head in heads if _could_be_head(head, asked)]
    if not options:
        return {}
    tried = [(head, hit.chunk.readable_text) for _, head in options for hit in passages]
    verdicts = checker.check_many(tried, question=question, read_as_answers=read_as_answers)
    chosen: dict[str, str] = {}
    for k, (claim, head) in enumerate(options):
        backing = [n for n, d in enumerate(verdicts[k * width : (k + 1) * width], 1) if d.supported]
        if backing and claim not in chosen:
            chosen[claim] = f"{head.rstrip('.')} [{backing[0]}]."
    return chosen


def _could_be_head(clause: str, asked: set[str]) -> bool:
    """A leading clause that can stand as a claim: enough content words, two of them not the
    question's ("DeepSeek R1 was built by OpenAI" adds one word to its question, and one word
    found somewhere in a passage is weak evidence), and no quotation left open."""
    words = claim_words(clause)
    open_quote = clause.count('"') % 2 or clause.count("\u201c") > clause.count("\u201d")
    return len(words) >= HEAD_WORDS and len(words - asked) >= HEAD_NEW_WORDS and not open_quote


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


# "This is because ...", "This means ...", "As a result, ...": a sentence that builds on the one
# before it. "This license ..." (a noun after the demonstrative) may name what the question asks.
_LEANS_BACK = re.compile(
    r"^(?:(?:this|that|these|those)(?:\s+(?P<noun>[a-z][\w-]*))?\b"
    r"|as a result\b|therefore\b|thus\b|hence\b|because of this\b|for this reason\b)",
    re.IGNORECASE,
)


def leans_back(sentence: str, question: str) -> bool:
    """The sentence builds on the one before it ("This is because closed models ..."), so it
    cannot stand when that one was taken out. A demonstrative before a word of the question
    ("These restrictions ..." asked about restrictions) points at the question instead."""
    found = _LEANS_BACK.match(remove_markers(sentence).lstrip(" \"'-*\u2022"))
    if not found:
        return False
    noun = found.group("noun")
    return not (noun and claim_words(noun) and claim_words(noun) <= claim_words(question))


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
