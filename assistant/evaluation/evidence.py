"""Evidence spans: where each evidence quote of a question stands in its document.

A quote is matched after collapsing runs of whitespace and ignoring case, on a lower-cased,
whitespace-collapsed copy of ``Document.text`` with a map back to original offsets, so the span
is in the same coordinates as chunk spans. A quote that cannot be found is a *data error* of
that question: the evidence item is left out of the retrieval metrics and listed in the report,
never scored as a retrieval miss.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from assistant.documents import load_document
from assistant.errors import AssistantError
from assistant.evaluation.questions import Evidence, Question
from assistant.text import fold_with_offsets


class FoldedText:
    """A document's text folded once, for locating many quotes in it."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.folded, self.offsets = fold_with_offsets(text)

    def find(self, quote: str) -> tuple[int, int] | None:
        folded_quote, _ = fold_with_offsets(quote.strip())
        found = self.folded.find(folded_quote) if folded_quote else -1
        if found < 0:
            return None
        return self.offsets[found], self.offsets[found + len(folded_quote) - 1] + 1


def locate_quote(text: str, quote: str) -> tuple[int, int] | None:
    """The [start, end) span of the quote in text, whitespace-collapsed and case-insensitive."""
    return FoldedText(text).find(quote)


@dataclass(frozen=True)
class EvidenceSpan:
    document: str
    quote: str
    start: int | None  # None: the quote was not found (a data error)
    end: int | None
    error: str | None = None

    def overlaps(self, chunk) -> bool:
        """Is a chunk relevant to this evidence: same document, overlapping [start, end)?"""
        return (
            self.start is not None
            and chunk.document == self.document
            and chunk.start < self.end
            and self.start < chunk.end
        )


class EvidenceLocator:
    """Finds evidence spans in the corpus documents, reading each document once."""

    def __init__(self, corpus_dir: Path) -> None:
        self.corpus_dir = corpus_dir
        self._texts: dict[str, FoldedText | AssistantError] = {}

    def spans(self, question: Question) -> list[EvidenceSpan]:
        return [self.span(item) for item in question.evidence]

    def span(self, evidence: Evidence) -> EvidenceSpan:
        text = self._text(evidence.document)
        if isinstance(text, AssistantError):
            return EvidenceSpan(evidence.document, evidence.quote, None, None, str(text))
        found = text.find(evidence.quote)
        if found is None:
            message = f"quote not found in {evidence.document}: {evidence.quote[:80]!r}"
            return EvidenceSpan(evidence.document, evidence.quote, None, None, message)
        return EvidenceSpan(evidence.document, evidence.quote, *found)

    def _text(self, document: str) -> FoldedText | AssistantError:
        if document not in self._texts:
            path = self.corpus_dir / document
            root = self.corpus_dir.resolve()
            if not path.is_file() or root not in path.resolve().parents:
                self._texts[document] = AssistantError(
                    f"document {document} is not in the corpus folder {self.corpus_dir}"
                )
            else:
                try:
                    document_text = load_document(path, root=self.corpus_dir).text
                    self._texts[document] = FoldedText(document_text)
                except AssistantError as error:
                    self._texts[document] = error
        return self._texts[document]
