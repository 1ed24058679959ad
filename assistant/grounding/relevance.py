"""Does an answer answer the question? Two cheap checks the support checker cannot make.

The support checker asks whether a passage backs a sentence. A small model that finds no
answer often copies a true but beside-the-point sentence ("CFM cut costs 80x" for "How much
money does CFM manage?"), which every passage check passes. Two checks catch the commonest
forms, without a second model call:

- **Identifiers the passages never mention.** A question that names an acronym or a code
  ("MMLU", "GPT-5", "A100") asks about that thing; when no shown passage contains it, the
  documents do not cover it, and the assistant says so before running the model. Only
  identifiers are checked (all capitals, or letters mixed with digits): ordinary words have
  synonyms, misspellings and inflections ("European" for "EU"), identifiers do not.
- **The kind of answer asked for.** "When" and "what year" want a time, "how many" and "what
  percentage" a number, "how much money" an amount, "what does NER stand for" the words whose
  initials spell it, "what was the name of", "which ... are named", "who founded / led /
  wrote ...", "who is the CEO of" and "which company / country ..." a name (a capitalised word
  the question does not hold, not a nationality). An answer whose supported sentences hold no
  such value beyond what the question already says ("How many GPUs were used to train LLaMA 3?"
  "3. Hardware Efficiency") does not answer it, nor does a count of something else ("10
  benchmarks" for "How many open models were compared?"). A yes/no question's answer must say
  which way or speak of something the question asks besides its names ("This is because GPT-4
  Turbo uses more parameters" does neither for "Does GPT-4 Turbo have a longer context window
  than Claude?"; an answer that only contradicts in other words, "Python is slow" for "Is
  Python fast?", would be refused too). Questions of other forms are not checked.

Both work on English questions; other questions pass unchecked. The names a question asks
about (``names_in``, ``asked_names``: capitalised words inside a sentence, codes such as
"Gaudi2", years) are what a quoted sentence must mention and what a borrowed number gives away
(``attribution.py``).
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from assistant.grounding.numbers import MONEY, measures
from assistant.keyterms import spelled_out
from assistant.retrieval import SOURCE_CUE
from assistant.text import (
    KEYWORD_STOP_WORDS,
    alnum_pieces,
    claim_words,
    keyword_stem,
    keyword_terms,
    standalone_numbers,
    strip_markers,
    surface_tokens,
    without_list_numbers,
)

_ASKS_MONEY = re.compile(
    r"\bhow much (?:money|cash|funding)\b"
    r"|\bhow much (?:did|does|do|will|would|is|was)\b[^?]*\b(?:cost|pay|paid|spend|spent"
    r"|raise|raised|worth|charge)\b"
    r"|\bwhat (?:was|is|were) the (?:cost|price)\b"
    r"|\bin dollar terms\b|\bhow many dollars\b",
    re.IGNORECASE,
)
_ASKS_YEAR = re.compile(
    r"\b(?:what|which|in what|in which) (?:year|date|decade|century|month)\b", re.IGNORECASE
)
_ASKS_TIME = re.compile(
    r"^\W*(?:since )?when (?:\w+ly )?"  # "When exactly did ...?"
    r"(?:is|was|are|were|did|does|do|will|has|have|had|can|could)\b",
    re.IGNORECASE,
)
_ASKS_NUMBER = re.compile(
    r"\bhow (?:many|much|long|old|big|large|far|fast|often)\b"
    r"|\bwhat (?:\w+ )?(?:number|score|share|fraction|sizes?|margin|ratio)\b"
    r"|\bby (?:what|how) (?:\w+ )?(?:margin|factor|much|ratio)\b"
    r"|\bin (?:milli)?seconds\b|\bin (?:minutes|hours|days|weeks|gigabytes|megabytes|tokens)\b",
    re.IGNORECASE,
)
# "What uptime percentage ...?", "By what percentage ...?": a percentage, not "millions".
_ASKS_PERCENTAGE = re.compile(r"\b(?:what|by what) (?:\w+ )?(?:percentage|percent)\b", re.I)
_PERCENTAGE = re.compile(r"\d\s*%|\bper ?cent\b", re.IGNORECASE)
# "What was the name of the model ...?", "Which image generators are named as defendants?",
# "What is the library called?": a name, not a description ("a model uploaded by a contributor").
# "Who founded Mistral AI?", "who is the author of ...", "Which company develops Qwen?": an agent
# with a name: someone who made, led, owns or performed something, or holds a role ("who is the
# CEO"). Not "who is Richard Stallman?" (a description) nor "who are the stakeholders?", "who
# benefits from ...?", "who pays ...?" or "which groups ...?" (a kind of people).
_ASKS_NAME = re.compile(
    r"\bwhat (?:is|was|are|were) the names? of\b"
    r"|\bwhich\b[^?]*\b(?:named|called)\b"
    r"|^\W*what\b[^?]*\bcalled\W*$"
    r"|(?:^\W*|,\s*)who (?:(?:is|was) the |(?:first |\w+ly )?"
    r"(?:found|creat|invent|wr[io]te|written|led|lead|develop|buil[td]|design|direct|produc"
    r"|compos|discover|start|launch|own|bought|sang|sing|play|star|voic|coin|present|host|won"
    r"|win|release|publish|said|say|paint|began|name|shar)\w*)"
    r"|\bwhich (?:company|companies|firm|firms|lab|labs|organi[sz]ations?|agency|agencies|body"
    r"|bodies|country|countries|university|universities|institution|startup|person|team)\b",
    re.IGNORECASE,
)
# Capitalised adjectives are not names: "French startup Mistral AI" does not say who; nor is "I".
_NOT_NAMES = frozenset(
    {
        *("french", "american", "chinese", "european", "british", "english", "german"),
        *("japanese", "indian", "korean", "canadian", "italian", "spanish", "russian"),
        *("african", "asian", "western", "eastern", "northern", "southern", "global"),
        *("international", "national"),
        *("i", "i'm", "i've", "i'd", "i'll"),  # the capitalised pronoun
    }
)
# A word that opens a sentence, a quotation or a list item is capitalised whatever it is.
_OPENS = re.compile(r"""(?m)(?:^|[.!?:;]\s+|["“‘(]|^\s*[-*\u2022]\s+)\Z""")
_NAME_OR_YEAR = re.compile(r"[^\W\d_][\w'’\-\u2010\u2011]*|\b\d{4}\b")
POSSESSIVE = re.compile(r"['’]s\Z")
_YEAR = re.compile(r"(?:19|20)\d\d")
_STANCE = re.compile(
    r"\b(?:yes|no|not|never|neither|nor|none|cannot|both|only)\b|n['’]t\b", re.IGNORECASE
)
_VERSION = re.compile(r"(?P<name>[^\W\d_][\w'’\-]*) \d{1,2}(?:\.\d+)?(?![\d.,%]|\s*percent\b)")
_ORDINAL = re.compile(r"\d+(?:st|nd|rd|th)", re.IGNORECASE)

# "What does NER mean?", "What does AMX stand for in ...?", "What is the full form of CMU?"
_ASKS_EXPANSION = re.compile(
    r"\b(?i:what (?:does|do|did|is|was) (?:the )?(?:(?:acronym|abbreviation) )?)"
    r"(?P<acronym>[A-Z][A-Za-z]*[A-Z]s?) (?i:stand for|mean|short for)\b"
    r"|\b(?i:what is the full (?:form|name) of )(?P<named>[A-Z][A-Za-z]*[A-Z]s?)\b",
)

_MONTHS_TEXT = """january february march april may june july august september october november
    december jan feb mar apr jun jul aug sep sept oct nov dec"""
_MONTHS = frozenset(_MONTHS_TEXT.split())
_NUMBER_WORDS_TEXT = """one two three four five six seven eight nine ten eleven twelve dozen
    dozens hundred hundreds thousand thousands million millions billion billions trillion half
    twice double triple single several"""
_NUMBER_WORDS = frozenset(_NUMBER_WORDS_TEXT.split())
# A "when" answer may be an event or a condition rather than a date: "after the merger",
# "in season 5", "when the crust is filled".
_TIME_WORDS = re.compile(
    r"\b(?:when|whenever|once|if|season|episode|series|after|before|during|until|since|later"
    r"|earlier|ago|today|century|decade|age|years?|months?|weeks?|days?|morning|evening|night"
    r"|spring|summer|autumn|fall|winter)\b",
    re.IGNORECASE,
)


# "Is GPT-2 open?", "According to the wiki, does Meta ...?", "Kya LLaMA open hai?"
_ASKS_YES_NO = re.compile(
    r"(?:^|[,;:]\s*)\W*(?:is|are|was|were|am|do|does|did|can|could|will|would|should|shall"
    r"|has|have|had|may|might|must|kya)(?:n't|nt)?\b",
    re.IGNORECASE,
)


def asks_yes_or_no(question: str) -> bool:
    """It opens (or a clause of it opens) with an auxiliary verb: "Is GPT-2 open?"."""
    return bool(_ASKS_YES_NO.search(question))


def offers_choice(question: str) -> bool:
    """An either-or question: "Which is faster, open or closed?"."""
    return bool(re.search(r"\bor\b", question, re.IGNORECASE))


def answerable_in_its_words(question: str) -> bool:
    """A yes/no or either-or question: its answer may use only the question's own words ("Yes,
    GPT-2 was open.", "Closed models are faster."). Any other question asks for something the
    answer has to add."""
    return asks_yes_or_no(question) or offers_choice(question)


def expected_answer(question: str) -> str | None:
    """'expansion', 'money', 'year', 'time', 'percentage', 'number', 'name', or None when the
    question's form asks for no such value."""
    if _ASKS_EXPANSION.search(question):
        return "expansion"
    for kind, pattern in (
        ("name", _ASKS_NAME),
        ("money", _ASKS_MONEY),
        ("year", _ASKS_YEAR),
        ("time", _ASKS_TIME),
        ("percentage", _ASKS_PERCENTAGE),
        ("number", _ASKS_NUMBER),
    ):
        if pattern.search(question):
            return kind
    return None


def gives_expected_answer(answer: str, question: str) -> bool:
    """Does the answer hold the kind of value the question asks for (beyond the question's own)?"""
    kind = expected_answer(question)
    if kind is None:
        return not asks_yes_or_no(question) or offers_choice(question) or takes_up(answer, question)
    if kind == "expansion":  # the words whose initials spell it: "Named Entity Recognition"
        found = _ASKS_EXPANSION.search(question)
        acronym = (found["acronym"] or found["named"]).removesuffix("s")
        return spelled_out(acronym, strip_markers(answer)) is not None
    text = without_list_numbers(strip_markers(answer))  # "3. Hardware Efficiency" holds no 3
    if kind == "name":
        return bool(new_names(text, question))
    asked = {word.lower() for word in surface_tokens(question)}
    new_words = [w.lower() for w in surface_tokens(text) if w.lower() not in asked]
    asked_numbers = set(standalone_numbers(question))
    new_numbers = [n for n in standalone_numbers(without_versions(text)) if n not in asked_numbers]
    counted = bool(new_numbers) or any(word in _NUMBER_WORDS for word in new_words)
    if kind == "money":
        return counted and bool(MONEY.search(text))
    if kind == "number":
        return counted and counts_what_is_asked(without_versions(text), question)
    if kind == "percentage":
        return bool(new_numbers) and bool(_PERCENTAGE.search(text))
    # A year has three or four digits ("3.5" is none) and is no sum or share ("$191 million").
    dated = any(
        len(n) in (3, 4) and n.isdigit() and not any(measures(n, text)) for n in new_numbers
    )
    dated = dated or any(word in _MONTHS for word in new_words)
    dated = dated or bool(re.search(r"\b\d{2,4}s\b|\bcentury\b", text, re.IGNORECASE))
    if kind == "time":
        return dated or bool(_TIME_WORDS.search(text))
    return dated


_COUNT = re.compile(r"(?<![\w.])(?:\d[\d,.]*[kmbt]?|[a-z]+)(?![\w.])", re.IGNORECASE)
_CLAUSE_END = re.compile(r"[.,;:!?()\[\]\n\u2014]|\s-\s")  # not "7B–70B parameters"
_COUNTED_SKIP = frozenset({"of", "about", "around", "roughly", "some", "over", "nearly"})
_COUNTED_ENDS = KEYWORD_STOP_WORDS | {"must", "times"}  # where "how many ..." stops naming


def counted_thing(question: str) -> set[str]:
    """The stems of what a "how many" question counts, its words up to a function word: "How
    many open models were included?" counts "open models" (a verb may come along: "people
    live"). Empty for "how many times more", "how many of the 10"."""
    found = re.search(r"\bhow many\b(?P<rest>[^?]*)", question, re.IGNORECASE)
    words = []
    for word in surface_tokens(found["rest"]) if found else []:
        if word.lower() in _COUNTED_ENDS:
            break
        words.append(word.lower())
    return {keyword_stem(word) for word in words}


def counts_what_is_asked(answer: str, question: str) -> bool:
    """A count in the answer counts what the question asks about: "10 benchmarks" does not answer
    "How many open models were compared?". A number followed by no word ("There were 10.") or by
    the counted word, its stem or its abbreviation ("params" for "parameters"), does; a year in
    brackets ("LLaMA 2 (2023)") and a name's version do not."""
    things = counted_thing(question)
    if not things:
        return True
    asked = set(standalone_numbers(question))
    for found in _COUNT.finditer(answer):
        number = found[0].lower()
        if not (number[0].isdigit() and number not in asked) and number not in _NUMBER_WORDS:
            continue
        dated = answer[: found.start()].endswith("(") and _YEAR.fullmatch(number)
        if dated or answer[found.end() :].lstrip().startswith("("):
            continue  # "LLaMA 2 (2023)": a name's number before its bracket, a date in it
        after = _CLAUSE_END.split(answer[found.end() :], maxsplit=1)[0]
        words = []
        for word in surface_tokens(after):
            word = word.lower()
            if (word in KEYWORD_STOP_WORDS and word not in _COUNTED_SKIP) or len(words) == 3:
                break
            if word not in _COUNTED_SKIP and word not in _NUMBER_WORDS:
                words.append(keyword_stem(word))
        if not words or any(_same_word(word, thing) for word in words for thing in things):
            return True
    return False


def _same_word(stem: str, other: str) -> bool:
    """Stems of one word, or one the other's abbreviation: "param" and "paramet"."""
    return (
        stem == other
        or min(len(stem), len(other)) >= 4
        and (stem.startswith(other) or other.startswith(stem))
    )


def takes_up(answer: str, question: str) -> bool:
    """A yes/no question's answer says which way ("no", "not", "both", "only") or speaks of
    something the question asks besides its names and sources. "It is fully open-source and
    integrates across messaging platforms." does neither for "Can OpenClaw, the open-source
    assistant in the thesis, run completely offline on my laptop?": it is about OpenClaw, not
    about running offline."""
    if _STANCE.search(strip_markers(answer)):
        return True
    named = " ".join([*names_in(question, codes=True), *SOURCE_CUE.findall(question)])
    asked = set(keyword_terms(question)) - set(keyword_terms(named))
    return not asked or bool(asked & set(keyword_terms(answer)))


def without_versions(text: str) -> str:
    """The text without the version numbers of names: "LLaMA 3.1 and Qwen 3.5 caught up" gives
    no count or margin. A number of one or two digits right after a capitalised word inside a
    sentence is a version; "About 20 models" (a sentence's first word), "in May 2023" (a year)
    and "Index: 10 benchmarks" are not."""

    def drop(found: re.Match) -> str:
        name = found["name"]
        opens = _OPENS.search(text[: found.start()])
        if opens or not any(ch.isupper() for ch in name) or name.lower() in _NOT_NAMES:
            return found[0]
        return name

    return _VERSION.sub(drop, text)


def new_names(text: str, question: str) -> list[str]:
    """Names in the text that the question does not hold ("Optimum" for "What is the library
    called?")."""
    asked = alnum_pieces(question.lower())
    return [name for name in names_in(text) if not alnum_pieces(name.lower()) <= asked]


def names_in(text: str, *, codes: bool = False) -> list[str]:
    """Capitalised words that do not open a sentence, a quotation or a list item, possessive
    dropped ("Face's" -> "Face"), nationalities not. With ``codes``, also words with digits
    ("Gaudi2", "GPT-4", not "4th") and years ("2024"), wherever they stand."""
    names = []
    for found in _NAME_OR_YEAR.finditer(text):
        word = POSSESSIVE.sub("", found[0])
        if word.isdigit():
            if codes and _YEAR.fullmatch(word):
                names.append(word)
            continue
        capitalised = any(ch.isupper() for ch in word) and not _OPENS.search(text[: found.start()])
        code = codes and any(ch.isdigit() for ch in word) and not _ORDINAL.fullmatch(word)
        if (capitalised or code) and word.lower().replace("’", "'") not in _NOT_NAMES:
            names.append(word)
    return names


def asked_names(question: str, documents: Iterable[str] = ()) -> list[str]:
    """What the question names (``names_in``, codes and years too), less the names of its
    sources: "the Zubnet wiki" names the document open-vs-closed-zubnet-wiki.txt, not a subject
    its passages must mention."""
    documents = list(documents)  # read for each name, so not a generator
    return [n for n in names_in(question, codes=True) if not any(mentions(d, n) for d in documents)]


def mentions(text: str, name: str) -> bool:
    """The text holds the name, however it is hyphenated, cased or made plural ("GPT-4" in
    "GPT‑4", "LLM" in "large proprietary LLMs")."""
    pieces = _singular(alnum_pieces(text.lower()))
    return _singular(alnum_pieces(name.lower())) <= pieces


def _singular(pieces: set[str]) -> set[str]:
    """Word pieces with a plural "s" dropped ("llms" -> "llm"); both sides of a match alike."""
    return {piece[:-1] if len(piece) > 2 and piece.endswith("s") else piece for piece in pieces}


def identifiers(question: str) -> list[str]:
    """Acronyms and codes the question names: "MMLU", "GPT4", "ww2" (not its first word).

    A code's ordinary words joined to it by hyphens are not part of it: "o1-level" names "o1"
    (a passage may say "o1-class"), "GPT-4-style" names "GPT-4".
    """
    found = []
    for position, token in enumerate(surface_tokens(question)):
        token = _without_word_ends(token)
        letters = [ch for ch in token if ch.isalpha()]
        acronym = len(letters) >= 2 and all(ch.isupper() for ch in letters) and position > 0
        code = bool(letters) and any(ch.isdigit() for ch in token)
        if (acronym or code) and claim_words(token):
            found.append(token)
    return found


_LOWER_WORD = re.compile(r"[a-z]{3,}")  # "level" of "o1-level"


def _without_word_ends(token: str) -> str:
    """The token less the lower-case words hyphened to either end of a code ("o1-level")."""
    parts = token.split("-")
    while len(parts) > 1 and _LOWER_WORD.fullmatch(parts[-1]):
        parts.pop()
    while len(parts) > 1 and _LOWER_WORD.fullmatch(parts[0]):
        parts.pop(0)
    trimmed = "-".join(parts)
    return trimmed if any(ch.isdigit() for ch in trimmed) else token


_ASKERS_OWN = re.compile(r"\b(?:our|my|(?:I'?m|I am|we'?re|we are) an?)\s+([\w-]+)", re.IGNORECASE)


def unmentioned_identifiers(question: str, passages: list[str]) -> list[str]:
    """The question's identifiers that no passage contains ("GPT4" matches "GPT-4").

    An abbreviation a passage spells out ("LLMs" and "large language models") is mentioned, and
    so is one a passage has in the plural ("APIs" for "API"). What the asker says they are ("Our
    NGO has to ...", "I'm a CTO") is context, not something asked about.
    """
    own = set(_ASKERS_OWN.findall(question))
    text = " ".join(passages)
    pieces = alnum_pieces(text.lower())
    pieces |= {piece[:-1] for piece in pieces if piece.endswith("s")}
    return [
        name
        for name in dict.fromkeys(identifiers(question))  # "40GB or 80GB" names GB once
        if name not in own
        and not alnum_pieces(name.lower()) <= pieces
        and not (name.rstrip("s").isalpha() and spelled_out(name.rstrip("s"), text))
    ]
