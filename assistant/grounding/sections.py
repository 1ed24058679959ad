"""A question that points at a section of a document by its heading.

"In its comparative analysis, what does the thesis say each side is good at and what does each
side risk?" is about whatever the section headed "11. Comparative Analysis" says, but its words
are far from the section's ("each side is good at" against "Open models foster innovation but
risk misuse"): the cosine part of relevance stays under the bar, and a right, backed answer is
refused as off the question. So is "What risks and challenges does the thesis flag in its part
on democratizing AI?" answered from the list under "Risks & Challenges".

A passage whose heading is made of two or more of the question's own words (section numbers
aside) is on the question when the question points at a part of a document ("section", "part",
"list", "under", "in its ..."). Without that pointer a heading is not enough: a document's title
is its first heading ("Manhattan Center for Science and Mathematics"), and a question that names
a subject is not asking for everything its page says.
"""

from __future__ import annotations

import re

from assistant.chunking import looks_like_heading
from assistant.text import claim_words

_POINTS_AT_PART = re.compile(
    r"\b(?:sections?|parts?|chapters?|bits?|headings?|lists?|under|in its)\b", re.IGNORECASE
)


def names_its_section(question: str, passage: str) -> bool:
    """The question points at a part of a document, and the passage's heading (its first line,
    when that reads as one) is made of two or more of the question's words."""
    if not _POINTS_AT_PART.search(question):
        return False
    first = passage.strip().split("\n", 1)[0]
    if not looks_like_heading(first):
        return False
    words = {word for word in claim_words(first) if not word.isdigit()}
    return len(words) >= 2 and words <= claim_words(question)
