"""Every word, stop-word, stem, sentence and citation-marker function, in one place.

Several parts of the pipeline read text, and today they read it in slightly different ways on
purpose: the keyword index wants inflections merged and numbers whole, the support checker
wants thousands separators removed and Hindi function words dropped, follow-up detection wants
pronouns kept apart. Each variant lives here under a name that says what it is for, so a reader
can compare them side by side and a change to one cannot silently miss another. Unifying their
*behaviour* (one stop-word list, one stemmer) moves retrieval and checker numbers, so it is
left to a change that measures it.

Sections: normalising, citation markers, sentences, then the word sets of each consumer
(keyword search, support checking, follow-up questions, relevance checks, answer metrics).
"""

from __future__ import annotations

import functools
import re
import unicodedata
from collections.abc import Iterator

import snowballstemmer


def word_set(text: str) -> frozenset[str]:
    """The whitespace-separated words of a literal list, as a set."""
    return frozenset(text.split())


# --- normalising ------------------------------------------------------------------------------

_WHITESPACE = re.compile(r"\s+")


def normalize(text: str) -> str:
    """Text as retrieval sees it: Unicode NFC with runs of whitespace collapsed."""
    return _WHITESPACE.sub(" ", unicodedata.normalize("NFC", text)).strip()


def collapse_whitespace(text: str) -> str:
    """Runs of whitespace as one space, ends trimmed (no Unicode normalisation)."""
    return " ".join(text.split())


def fold(text: str) -> str:
    """Lower-cased, NFC, whitespace collapsed: how answer keywords are matched."""
    return " ".join(unicodedata.normalize("NFC", text).lower().split())


def fold_with_offsets(text: str) -> tuple[str, list[int]]:
    """Lower-cased text with whitespace runs collapsed to one space, and each character's
    offset in the original (lower() may change a character's length, hence per character)."""
    chars: list[str] = []
    offsets: list[int] = []
    in_space = False
    for position, char in enumerate(text):
        if char.isspace():
            if not in_space:
                chars.append(" ")
                offsets.append(position)
            in_space = True
            continue
        in_space = False
        for lowered in char.lower():
            chars.append(lowered)
            offsets.append(position)
    return "".join(chars), offsets


# --- citation markers -------------------------------------------------------------------------

# [1], [2, 3], [1; 4]: the one marker syntax the prompt asks for and every reader accepts.
_MARKER_BODY = r"\[(\d{1,2}(?:\s*[,;]\s*\d{1,2})*)\]"
MARKER = re.compile(_MARKER_BODY)
SPACED_MARKER = re.compile(r"\s*" + _MARKER_BODY)  # a marker with the space before it
_ONLY_MARKERS = re.compile(rf"^(?:\s*{_MARKER_BODY})+[\s.,;:!?]*$")
_LEADING_MARKERS = re.compile(rf"^((?:\s*{_MARKER_BODY})+[.,;:!?]?)\s*")


def marker_numbers(match: re.Match) -> list[int]:
    """The numbers of one MARKER match: "[2, 7]" gives 2 and 7."""
    return [int(n) for n in re.split(r"[,;]", match.group(1))]


def markers_in(text: str) -> list[int]:
    """Every citation number in the text, in order, repeats kept ("[1, 2]" gives 1 and 2)."""
    return [n for match in MARKER.finditer(text) for n in marker_numbers(match)]


def strip_markers(text: str) -> str:
    """The text without citation markers and the space before them."""
    return re.sub(r"\s+([.,;:!?])", r"\1", MARKER.sub("", text)).strip()


def remove_markers(text: str) -> str:
    """The text without markers (and the space before each), punctuation left where it was."""
    return SPACED_MARKER.sub("", text).strip()


# --- sentences --------------------------------------------------------------------------------

# Chunking: a sentence ends after . ! ? or the danda, closing quotes and brackets included.
CHUNK_SENTENCE_END = re.compile(r"(?<=[.!?\u0964])[\"'\u201d\u2019)\]]*\s+")

# The support checker: also breaks at every line break and after the double danda.
_SENTENCE_BREAK = re.compile(r"(?<=[.!?\u0964\u0965])[\"'\u201d\u2019)\]]*\s+|\s*\n\s*")
_CHECKER_ABBREVIATIONS = word_set("e.g. i.e. vs. etc. approx. mr. ms. dr. u.s. no. mrs. st. mt.")
_CHECKER_ABBREVIATIONS |= word_set("sgt. lt. capt. gen. col. jr. sr. prof.")


def split_sentences(text: str) -> list[str]:
    """Sentences of a passage: breaks after . ! ? and the danda, and at every line break."""
    pieces: list[str] = []
    for piece in _SENTENCE_BREAK.split(text):
        piece = piece.strip()
        if not piece:
            continue
        if pieces and _ends_without_sentence(pieces[-1], piece):
            pieces[-1] = f"{pieces[-1]} {piece}"
        else:
            pieces.append(piece)
    return pieces


def _ends_without_sentence(piece: str, following: str) -> bool:
    """No sentence ends at an abbreviation ("e.g."), an initial ("Robert P. McCulloch"), a list
    number ("4.", "Steps: 1.", not "LLaMA 2. This") or before a lower-case word ("A.D. and")."""
    if following[0].islower() and piece[-1] not in "!?:;\u0964":
        return True
    *before, last = piece.rsplit(None, 1)
    listed = re.fullmatch(r"\(?\d{1,2}\.", last) and not (before and before[0][-1].isalnum())
    initial = re.fullmatch(r"[A-Z]\.", last)
    return bool(listed or initial) or last.lower() in _CHECKER_ABBREVIATIONS


def split_answer_sentences(text: str) -> list[str]:
    """Sentences of an answer with their citation markers kept.

    A marker written after the full stop ("... in 2015. [1] Next") belongs to the sentence
    before it, and a piece made only of markers is appended to the previous sentence.
    """
    sentences: list[str] = []
    for piece in split_sentences(text):
        leading = _LEADING_MARKERS.match(piece)
        if leading and sentences:
            sentences[-1] = f"{sentences[-1]} {leading.group(1).strip()}"
            piece = piece[leading.end() :].strip()
        if not piece:
            continue
        if _ONLY_MARKERS.match(piece) and sentences:
            sentences[-1] = f"{sentences[-1]} {piece}"
        else:
            sentences.append(piece)
    return sentences


# Highlighting: an answer sentence keeps the markers written after its full stop.
_CITING_SENTENCE = re.compile(rf"\S.*?(?:[.!?]+(?:\s*{_MARKER_BODY})*(?=\s|$)|$)", re.DOTALL)
_LIST_ITEM_START = r"\n(?=[ \t]*(?:[-*•–▪◦]|\d{1,3}[.)])\s)"
_BLOCK = re.compile(rf"(?:(?!\n\s*\n|{_LIST_ITEM_START}).)+", re.DOTALL)
_SPAN_SENTENCE = re.compile(r"\S.*?(?:[.!?]+[\"'”’)\]]*(?=\s|$)|$)", re.DOTALL)
_SPAN_ABBREVIATIONS = frozenset({"e.g.", "i.e.", "etc.", "vs.", "cf.", "approx.", "fig.", "no."})


def citing_sentences(paragraph: str) -> Iterator[str]:
    """The sentences of one answer paragraph, each with the markers that follow it."""
    for match in _CITING_SENTENCE.finditer(paragraph):
        yield match.group()


def sentence_spans(passage: str) -> list[tuple[int, int]]:
    """Character spans of a passage's sentences; blank lines and list items end one too."""
    spans: list[tuple[int, int]] = []
    for block in _BLOCK.finditer(passage):
        ends_open = False  # the previous piece ended in an abbreviation: keep extending it
        for match in _SPAN_SENTENCE.finditer(block.group()):
            start, end = block.start() + match.start(), block.start() + match.end()
            if ends_open:
                start = spans.pop()[0]
            spans.append((start, end))
            last_word = passage[start:end].rsplit(maxsplit=1)[-1].lower()
            ends_open = last_word in _SPAN_ABBREVIATIONS
    return spans


# Prompt-injection screening: rough sentences that keep their trailing blank line.
_ROUGH_SENTENCE = re.compile(r"[^.!?]*?(?:[.!?]+|\n\s*\n|$)")


def rough_sentences(text: str) -> list[str]:
    """Pieces ending at . ! ? or a blank line; joined back they give the text exactly."""
    return _ROUGH_SENTENCE.findall(text)


# --- keyword search (BM25) --------------------------------------------------------------------

# The keyword index records this name: a change to the tokens below must change it, so an index
# built with the old tokens is re-indexed instead of being queried with new terms.
KEYWORD_TOKENIZER = "keyword-terms-v2"

# Numbers stay whole ("6.4", "1,000"); letters and digits split apart ("GPT4" -> gpt, 4);
# combining marks (Devanagari vowel signs) stay inside their word.
_KEYWORD_TOKEN = re.compile(r"\d+(?:[.,]\d+)*|(?:[^\W\d_]|[\u0300-\u036f\u0900-\u097f])+")
KEYWORD_STOP_WORDS = word_set(
    """
    a about above after again against all am an and any are as at be because been before being
    below between both but by can could did do does doing down during each few for from further
    had has have having he her here hers herself him himself his how i if in into is it its
    itself just me more most my myself no nor not now of off on once only or other our ours
    ourselves out over own same she should so some such than that the their theirs them
    themselves then there these they this those through to too under until up very was we were
    what when where which while who whom why will with would you your yours yourself yourselves
    also according says say said tell told document documents article thesis page wiki
    में का की के है हैं क्या और को से यह ये कि ka ki ke hai kya aur ko se ne mein
    """
)
_ENGLISH = snowballstemmer.stemmer("english")
_VOWEL = re.compile("[aeiouy]")


@functools.lru_cache(maxsize=200_000)
def keyword_stem(word: str) -> str:
    """Snowball's English stemmer (Porter 2) for Latin words; numbers and other scripts stay."""
    if not word.isascii() or word.isdigit() or len(word) <= 3:
        return word
    stem = _ENGLISH.stemWord(word)
    if stem.endswith("s") and not _VOWEL.search(stem[:-1]):
        return stem[:-1]  # an abbreviation's plural: "llms" -> "llm", as "gpus" -> "gpu"
    return stem


def keyword_tokens(text: str) -> list[str]:
    """Lower-cased word tokens; letters and digits split apart so "GPT4" meets "GPT-4"."""
    return _KEYWORD_TOKEN.findall(unicodedata.normalize("NFKC", text).lower())


def keyword_terms(text: str) -> list[str]:
    """What BM25 indexes and queries: stemmed tokens without stop words, in order."""
    return [
        keyword_stem(token) for token in keyword_tokens(text) if token not in KEYWORD_STOP_WORDS
    ]


# --- support checking -------------------------------------------------------------------------

# Word characters, plus combining marks that Python's \w leaves out (Devanagari vowel signs,
# Latin diacritics), so "करते" stays one token. The danda (U+0964/5) is punctuation.
_CLAIM_WORD = re.compile(r"\d+(?:[.,]\d+)*|(?:[^\W_]|[\u0300-\u036f\u0900-\u0963\u0966-\u097f])+")
NUMBER = re.compile(r"\d+(?:[.,]\d+)*")
# English, Hindi and romanised Hindi function words, and words that only point at the context.
CLAIM_STOP_WORDS = word_set(
    """
    a about above after again against all also am an and any are aren as at be because been
    before being below between both but by can cannot could did do does doing don down during
    each either few for from further had has have having he her here hers him his how however i
    if in into is isn it its itself just like may me might more most much must my neither no nor
    not of off on once one only or other our ours out over own same shall she should so some
    such than that the their theirs them then there these they this those through thus to too
    under until up upon us very via was wasn we were what when where whether which while who
    whom whose why will with within without would yes yet you your yours according context
    document documents passage passages text texts mention mentions mentioned state states outlined
    stated say says said describe describes described provide provides है हैं था थे थी का की के
    को में से और या कि यह ये वह वे जो भी पर तो एक नहीं लिए साथ तक जैसे करते करता करती करना होता
    होती होते हो रहा रहे रही गया गई कर इस उस इन उन hai hain ka ki ke ko mein se aur ya kya yeh
    ye woh jo bhi par toh nahi nahin liye saath karte karta karti hota hoti hote
    """
)
_CLAIM_SUFFIXES = ("ations", "ation", "ings", "ing", "edly", "ed", "ies", "es", "s", "ly")
_BULLET = re.compile(r"^\s*(?:[-*\u2022]|\d{1,2}[.)])\s+")


def is_list_item(sentence: str) -> bool:
    """The sentence is an item of a list ("- ...", "* ...", "2. ...")."""
    return bool(_BULLET.match(sentence))


def claim_stem(word: str) -> str:
    """Light suffix stripping for Latin-script words; other scripts and numbers are kept."""
    if not word.isascii() or not word.isalpha() or len(word) <= 2:
        return word
    for suffix in _CLAIM_SUFFIXES:
        if not word.endswith(suffix) or len(word) - len(suffix) < 2:
            continue
        if (suffix == "s" and word.endswith(("ss", "us", "is"))) or word.endswith("eed"):
            continue  # class, status, analysis; need, agreed keep their letters
        word = word[: -len(suffix)] + ("y" if suffix == "ies" else "")
        break
    if len(word) > 3 and word[-1] == word[-2] and word[-1] not in "aeiou":
        word = word[:-1]  # labell -> label, stopp -> stop
    if len(word) > 2 and word.endswith("e"):
        word = word[:-1]  # use/uses/using/used -> us
    return word


def claim_words(text: str) -> set[str]:
    """Stemmed content words of a claim (numbers exact, stop words removed)."""
    text = unicodedata.normalize("NFC", text).lower()
    words = set()
    for token in _CLAIM_WORD.findall(text):
        if NUMBER.fullmatch(token):
            words.add(token.replace(",", ""))
        elif token not in CLAIM_STOP_WORDS and (len(token) > 1 or not token.isascii()):
            words.add(claim_stem(token))
    return words


def numbers_in(text: str) -> set[str]:
    """The numbers of a text, thousands separators removed."""
    return {n.replace(",", "") for n in NUMBER.findall(unicodedata.normalize("NFC", text))}


def claim_text(sentence: str) -> str:
    """The claim a sentence makes: markers and list bullets removed, whitespace collapsed."""
    text = _BULLET.sub("", strip_markers(sentence))
    return " ".join(unicodedata.normalize("NFC", text).split())


# --- follow-up questions ----------------------------------------------------------------------

FOLLOW_UP_STOP_WORDS = word_set(
    """a an the and or but of to in on for with about as at by from into than then so also
    is are was were be been being do does did done have has had can could should would will
    may might must shall what which who whom whose why how when where i me my we us our you
    your not no any some more most other such own same very just only if whether there here
    all each both few many much please tell explain now again too vs versus"""
)
PRONOUNS = word_set("it its they them their theirs this that these those he she him his her")
QUESTION_OPENERS = word_set(
    """what which who whom whose why how when where is are was were do does did can could
    should would will has have had"""
)
_PHRASE_WORD = re.compile(r"[^\W_](?:[\w'’-]*\w)?")


def phrase_words(text: str) -> list[re.Match]:
    """Word matches (with their positions) of a question, hyphens and apostrophes inside."""
    return list(_PHRASE_WORD.finditer(text))


def phrase_key(word: str) -> str:
    """A word as follow-up matching compares it: lower case, no possessive, no plural s."""
    word = word.lower().replace("’", "'").removesuffix("'s")
    return word[:-1] if len(word) > 3 and word.endswith("s") and not word.endswith("ss") else word


def is_topic_word(word: str) -> bool:
    return word.lower() not in FOLLOW_UP_STOP_WORDS | PRONOUNS


def topic_words(text: str) -> list[str]:
    """Normalised words that carry meaning: no stop words, pronouns or one-letter words."""
    return [
        phrase_key(m.group())
        for m in phrase_words(text)
        if is_topic_word(m.group()) and len(m.group()) > 1
    ]


# --- relevance checks -------------------------------------------------------------------------

_SURFACE_TOKEN = re.compile(r"[^\W\d_][\w'’-]*|\d+(?:[.,]\d+)*")
_ALNUM_PIECE = re.compile(r"[^\W\d_]+|\d+")
# Not the digits of a name: "A100", "GPT-3.5".
# "GPT-4" and "GPT\u20114" (a non-breaking hyphen, common in PDFs and typeset text) hold no number.
_STANDALONE_NUMBER = re.compile(
    r"(?<![^\W_])(?<![^\W\d_][-\u2010\u2011])(?<!\d[.,])\d+(?:[.,]\d+)*"
)
_LIST_NUMBER = re.compile(r"(?m)^\s*(?:[-*\u2022]|\d{1,2}[.)])\s+")


def surface_tokens(text: str) -> list[str]:
    """Words as written (case kept, "GPT-4" whole) and numbers."""
    return _SURFACE_TOKEN.findall(text)


def alnum_pieces(text: str) -> set[str]:
    """Runs of letters and runs of digits: "GPT-4" and "GPT4" both give {"GPT", "4"}."""
    return set(_ALNUM_PIECE.findall(text))


def standalone_numbers(text: str) -> list[str]:
    """Numbers that are not the digits of a name ("A100" and "GPT-3.5" have none)."""
    return _STANDALONE_NUMBER.findall(text)


def without_list_numbers(text: str) -> str:
    """The text without list bullets and item numbers ("3. Hardware" holds no 3)."""
    return _LIST_NUMBER.sub("", text)


# --- answer metrics ---------------------------------------------------------------------------

ARTICLES = frozenset({"a", "an", "the"})


def answer_tokens(text: str) -> list[str]:
    """Lower-cased tokens with punctuation and the articles a/an/the removed (markers too)."""
    text = unicodedata.normalize("NFC", strip_markers(text)).lower()
    text = "".join(" " if unicodedata.category(ch).startswith("P") else ch for ch in text)
    return [token for token in text.split() if token not in ARTICLES]
