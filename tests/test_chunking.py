from assistant.chunking import chunk_document
from assistant.documents import Document, Page
from assistant.embeddings import HashingEmbedder

count = HashingEmbedder().count_tokens


def doc(text: str) -> Document:
    return Document(path="d.txt", text=text, pages=(Page(None, 0, len(text)),))


TEXT = """Introduction

Open models are published with their weights. Anyone can run them locally.

1. Costs

  • Open models: no per-token fees.
  • Closed models: pay per call through an API.

2. Safety

Closed providers can monitor misuse. Open weights can be fine-tuned by anyone.
"""


def test_chunk_text_is_exactly_the_source_span():
    document = doc(TEXT)
    for chunk in chunk_document(document, count_tokens=count, max_tokens=40, overlap_tokens=8):
        assert chunk.text == document.text[chunk.start : chunk.end]
        assert chunk.text == chunk.text.strip()


def test_headings_start_chunks_and_are_remembered():
    chunks = chunk_document(doc(TEXT), count_tokens=count, max_tokens=64, overlap_tokens=0)
    by_heading = {chunk.heading: chunk.text for chunk in chunks}
    assert by_heading["Introduction › 1. Costs"].startswith("1. Costs")
    assert "per-token fees" in by_heading["Introduction › 1. Costs"]
    assert "monitor misuse" in by_heading["Introduction › 2. Safety"]
    assert "monitor misuse" not in by_heading["Introduction › 1. Costs"]


def headings(text: str) -> list[str | None]:
    chunks = chunk_document(doc(text), count_tokens=count, max_tokens=64, overlap_tokens=0)
    return [chunk.heading for chunk in chunks]


def test_a_chunk_heading_is_its_section_path_ranked_by_heading_style():
    text = (
        "Open AI in education\n\nOpen AI lowers barriers.\n\n"
        "⚠️ Challenges\n\n  • Quality control: models vary.\n\n"
        "Safety in closed AI models\n\nProviders filter outputs.\n\n"
        "⚠️ Challenges\n\n  • Over-restriction: filters block research.\n\n"
        "1. Guardrails\n\nFilters block harmful outputs.\n"
    )
    assert headings(text) == [
        "Open AI in education",
        "Open AI in education › ⚠️ Challenges",
        "Safety in closed AI models",  # a plain heading again: a sibling of the first
        "Safety in closed AI models › ⚠️ Challenges",
        "Safety in closed AI models › ⚠️ Challenges › 1. Guardrails",
    ]


def test_markdown_levels_nest_and_a_higher_level_closes_deeper_sections():
    text = "# Guide\n\n## Costs\n\nFees.\n\n### Hosting\n\nServers.\n\n## Safety\n\nFilters.\n"
    assert headings(text) == ["Guide › Costs", "Guide › Costs › Hosting", "Guide › Safety"]


def test_the_section_carries_over_to_the_next_page():
    text = "Costs\n\nFees are charged per call.\fServers cost money too."
    middle = text.index("\f")
    pages = (Page(1, 0, middle), Page(2, middle + 1, len(text)))
    chunks = chunk_document(
        Document(path="d.pdf", text=text, pages=pages), count_tokens=count, max_tokens=64
    )
    assert [(chunk.page, chunk.heading) for chunk in chunks] == [(1, "Costs"), (2, "Costs")]


def test_chunks_respect_the_token_budget_and_overlap_whole_sentences():
    sentences = [f"Sentence number {i} talks about topic {i}." for i in range(40)]
    document = doc(" ".join(sentences))
    chunks = chunk_document(document, count_tokens=count, max_tokens=40, overlap_tokens=12)
    assert len(chunks) > 3
    for chunk in chunks:
        assert count(chunk.text) + 2 <= 40
        assert chunk.text.endswith(".")
    for before, after in zip(chunks, chunks[1:], strict=False):
        assert after.start < before.end  # the overlap repeats the last sentence
        assert document.text[after.start : before.end].strip().endswith(".")


def test_sentence_longer_than_budget_is_split_at_words():
    document = doc("word " * 300)
    chunks = chunk_document(document, count_tokens=count, max_tokens=50, overlap_tokens=0)
    assert len(chunks) >= 6
    assert all(count(chunk.text) <= 48 for chunk in chunks)
    assert " ".join(c.text for c in chunks).split() == document.text.split()


def test_list_items_are_not_merged_into_one_sentence():
    chunks = chunk_document(doc(TEXT), count_tokens=count, max_tokens=16, overlap_tokens=0)
    assert any(chunk.text.startswith("• Closed models") for chunk in chunks)


def test_pdf_chunks_keep_their_page():
    text = "Page one text.\n\nPage two text."
    document = Document("d.pdf", text, (Page(1, 0, 14), Page(2, 16, len(text))))
    chunks = chunk_document(document, count_tokens=count, max_tokens=64, overlap_tokens=0)
    assert [(c.page, c.text) for c in chunks] == [(1, "Page one text."), (2, "Page two text.")]


def test_chunk_ids_are_stable():
    first = chunk_document(doc(TEXT), count_tokens=count, max_tokens=40, overlap_tokens=8)
    second = chunk_document(doc(TEXT), count_tokens=count, max_tokens=40, overlap_tokens=8)
    assert [c.id for c in first] == [c.id for c in second]
    assert len({c.id for c in first}) == len(first)
