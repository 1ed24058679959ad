"""What a passage says in general, given to a rare name it does not name.

Asked "What license was DeepSeek R1 released under?", a small model answers "DeepSeek R1 was
released under a free access license" from "Many open models are released without licensing
fees." under the heading "1. Free Access". Every word the claim adds is in the passage, so it
backs the claim; but the passage says nothing about DeepSeek R1, and the answer reads as if it
did. The same happens with "The Partnership on AI ... helped develop Stable Diffusion" from a
passage about the Partnership on AI alone.

So a claim that names one of the question's rare names (``rare_subjects``) is backed only by a
passage that names it too. Common names are left out: "GPT-4", "Claude" or "AI" are in many
passages, and a passage about closed models in general does speak of them. A name no shown
passage holds is left out as well, since it may be an alias the passages spell another way
("HF" for Hugging Face): whether the documents mention it at all is for the refusal decision.
"""

from __future__ import annotations

from assistant.grounding.relevance import asked_names, mentions
from assistant.keyterms import KeyTerms
from assistant.retrieval import Hit
from assistant.text import remove_markers


def rare_subjects(question: str | None, passages: list[Hit], terms: KeyTerms | None) -> list[str]:
    """The question's rare names (``KeyTerms.is_rare``) that some shown passage names, less
    those that name a source document ("the Zubnet wiki")."""
    if not question or terms is None:
        return []
    documents = [hit.chunk.document for hit in passages]
    return [
        name
        for name in asked_names(question, documents)
        if terms.is_rare(name) and any(mentions(hit.chunk.readable_text, name) for hit in passages)
    ]


def naming_passages(
    claim: str, backing: list[int], passages: list[Hit], subjects: list[str]
) -> list[int]:
    """The backing passages (numbered from 1) that name every rare subject the claim names."""
    named = [name for name in subjects if mentions(remove_markers(claim), name)]
    return [
        number
        for number in backing
        if all(mentions(passages[number - 1].chunk.readable_text, name) for name in named)
    ]
