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
    assert by_heading["1. Costs"].startswith("1. Costs")
    assert "per-token fees" in by_heading["1. Costs"]
    assert "monitor misuse" in by_heading["2. Safety"]
    assert "monitor misuse" not in by_heading["1. Costs"]


def test_a_chunk_knows_the_headings_it_sits_under():
    # Heading levels come from their style, in the order the document first uses each one.
    text = (
        "Transparency in AI\n\nWhat transparency means.\n\n"
        "\u26a0\ufe0f Challenges\n\n  \u2022 Complexity: models are hard to read.\n\n"
        "1. Secrecy\n\nCompanies keep secrets.\n\n"
        "History of open source AI\n\nIt began in the 1970s.\n\n"
        "\u26a0\ufe0f Challenges\n\n  \u2022 Openwashing: partial weight releases.\n"
    )
    chunks = chunk_document(doc(text), count_tokens=count, max_tokens=64, overlap_tokens=0)
    sections = [(chunk.section, chunk.heading) for chunk in chunks]
    assert sections == [
        (None, "Transparency in AI"),
        ("Transparency in AI", "\u26a0\ufe0f Challenges"),
        ("Transparency in AI \u203a \u26a0\ufe0f Challenges", "1. Secrecy"),
        (None, "History of open source AI"),
        ("History of open source AI", "\u26a0\ufe0f Challenges"),
    ]
    last = chunks[-1]
    assert last.search_text.startswith("History of open source AI. \u26a0\ufe0f Challenges")
    assert last.label() == "d.txt, History of open source AI \u203a \u26a0\ufe0f Challenges"


def test_markdown_heading_levels_nest_by_their_marks():
    text = "# Guide\n\nIntro text.\n\n## Setup\n\nInstall it.\n\n## Usage\n\nRun it.\n"
    chunks = chunk_document(doc(text), count_tokens=count, max_tokens=64, overlap_tokens=0)
    assert [(c.section, c.heading) for c in chunks] == [
        (None, "Guide"),
        ("Guide", "Setup"),
        ("Guide", "Usage"),
    ]


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
