from assistant.chunking import Chunk, chunk_document
from assistant.documents import Document, Page
from assistant.embeddings import HashingEmbedder
from assistant.tables import cells, readable, row_cells

COMPARISON = """📊 Performance Comparison

AspectOpen ModelsClosed Models
SpeedDepends on hardwareOptimized cloud infrastructure
Training Cost$78M–$191M frontier scale$5M–$10M for top open models
OutcomeEthical debateFaster, scalable AICheaper models
"""


def test_a_glued_table_is_written_row_by_row_with_its_column_names():
    lines = readable(COMPARISON).splitlines()
    assert lines[:2] == ["📊 Performance Comparison", ""]
    assert lines[2] == "Aspect | Open Models | Closed Models"
    assert lines[3] == (
        "Speed - Open Models: Depends on hardware; Closed Models: Optimized cloud infrastructure."
    )
    assert lines[4] == (
        "Training Cost - Open Models: $78M–$191M frontier scale; "
        "Closed Models: $5M–$10M for top open models."
    )


def test_a_written_row_reads_back_as_its_cells():
    row = readable(COMPARISON).splitlines()[3]
    assert row_cells(row) == [
        ("Open Models", "Depends on hardware"),
        ("Closed Models", "Optimized cloud infrastructure"),
    ]
    assert row_cells("Aspect | Open Models | Closed Models") == []


def test_a_row_with_a_cell_too_few_is_split_where_an_acronym_meets_a_word():
    # "AICheaper" has no lower-case letter before the border; the header says four cells.
    assert cells("OutcomeEthical debateFaster, scalable AICheaper models", columns=4) == [
        "Outcome",
        "Ethical debate",
        "Faster, scalable AI",
        "Cheaper models",
    ]
    # Without a column count to fit, "APIs" or "MLOps" is never cut.
    assert cells("OutcomeEthical debateFaster, scalable AICheaper models") == [
        "Outcome",
        "Ethical debate",
        "Faster, scalable AICheaper models",
    ]


def test_names_with_inner_capitals_stay_whole_when_the_table_has_fewer_columns():
    table = "\n".join(
        [
            "YearMilestoneImpact",
            "2016PyTorch releasedCommunity-driven ML",
            "2023LLaMA 2, MixtralFrontier open LLMs",
            "2025DeepSeek R1Open reasoning breakthrough",
            "2025OpenClawPersonal AI assistant open-sourced",
        ]
    )
    assert readable(table).splitlines() == [
        "Year | Milestone | Impact",
        "2016 - Milestone: PyTorch released; Impact: Community-driven ML.",
        "2023 - Milestone: LLaMA 2, Mixtral; Impact: Frontier open LLMs.",
        "2025 - Milestone: DeepSeek R1; Impact: Open reasoning breakthrough.",
        "2025 - Milestone: OpenClaw; Impact: Personal AI assistant open-sourced.",
    ]


def test_a_two_column_table_reads_as_name_and_value():
    table = "BenefitImpact\nTrustBuilds confidence in AI outputs\nBias detectionHelps find bias"
    assert readable(table).splitlines() == [
        "Benefit | Impact",
        "Trust: Builds confidence in AI outputs.",
        "Bias detection: Helps find bias.",
    ]


def test_prose_names_and_lists_are_left_alone():
    text = "\n".join(
        [
            "OpenAI released GPT-4 through an API.",
            "  • DeepSeek R1 (2025): A reasoning model.",
            "  • OpenClaw (2025): A personal assistant.",
            "  • Meta's LLaMA: Released with restrictions.",
            "OpenAI",
            "DeepSeek",
            "LLaMA",  # three one-word lines with inner capitals: names, not a table
        ]
    )
    assert readable(text) == text


def test_two_glued_lines_are_not_a_table():
    text = "AspectOpen ModelsClosed Models\nSpeedDepends on hardwareOptimized cloud"
    assert readable(text) == text


def test_search_text_reads_the_table_but_the_chunk_text_stays_the_source_span():
    document = Document(path="d.txt", text=COMPARISON, pages=(Page(None, 0, len(COMPARISON)),))
    (chunk,) = chunk_document(document, count_tokens=HashingEmbedder().count_tokens)
    assert chunk.text == COMPARISON.strip()
    assert "SpeedDepends" in chunk.text
    assert "Speed - Open Models: Depends on hardware" in chunk.readable_text
    assert "SpeedDepends" not in chunk.search_text


def test_a_chunk_without_a_table_reads_as_it_is():
    chunk = Chunk("id", "d.txt", None, 0, 10, None, "Plain prose. OpenAI and DeepSeek.")
    assert chunk.readable_text == chunk.text


def test_column_names_leave_out_what_the_header_says_in_parentheses():
    table = "\n".join(
        [
            "AspectClosed Models (GPT-4, Claude)Open Models (LLaMA 3.1, Qwen)",
            "AccuracyLeading edgeCompetitive, narrowing gap",
            "DeploymentEasy API integrationRequires infrastructure expertise",
        ]
    )
    lines = readable(table).splitlines()
    assert lines[0] == "Aspect | Closed Models (GPT-4, Claude) | Open Models (LLaMA 3.1, Qwen)"
    assert lines[1] == (
        "Accuracy - Closed Models: Leading edge; Open Models: Competitive, narrowing gap."
    )


def test_a_table_cut_after_its_header_is_left_as_it_is():
    # The second passage of a long table starts with a row: a year is no column name.
    rows = "2016PyTorch releasedCommunity-driven ML\n2022Stable DiffusionOpen generative AI\n"
    rows += "2023LLaMA 2, MixtralFrontier open LLMs"
    assert readable(rows) == rows
