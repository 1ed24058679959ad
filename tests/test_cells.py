from assistant.embeddings import HashingEmbedder
from assistant.grounding import SupportChecker
from assistant.grounding.cells import swaps_cells, swaps_columns, swaps_items, swaps_labels
from assistant.tables import row_cells

ACCURACY = (
    "Accuracy - Closed Models: Leading edge, ~24% higher median scores; "
    "Open Models: Competitive, narrowing gap."
)
ACCESS = (
    "Access - Open Democratization: Free/open-source tools; "
    "Closed/Corporate Control: Restricted APIs, paywalls."
)


def test_a_readable_row_is_read_back_cell_by_cell():
    assert row_cells(ACCURACY) == [
        ("Closed Models", "Leading edge, ~24% higher median scores"),
        ("Open Models", "Competitive, narrowing gap"),
    ]
    assert row_cells("Open models are cheaper: no licence fees.") == []


def test_a_claim_that_gives_one_column_the_other_columns_cell_is_caught():
    swapped = "The thesis rates open models as leading edge, ~24% higher median scores."
    assert swaps_columns(swapped, ACCURACY)
    assert swaps_columns(f"{swapped[:-1]}; closed models: competitive, narrowing gap.", ACCURACY)
    right = "Closed models are leading edge, while open models are competitive, a narrowing gap."
    assert not swaps_columns(right, ACCURACY)
    # a cell's words after a comma still speak of the column named before them
    assert swaps_columns("Closed models: competitive, narrowing gap.", ACCURACY)
    assert not swaps_columns("Open models: competitive, narrowing gap.", ACCURACY)
    # the value before the column's name, both sides named
    both = "Access is free/open-source tools in open democratization, while restricted APIs "
    assert not swaps_columns(both + "and paywalls are in closed/corporate control.", ACCESS)


def test_a_column_word_used_as_a_plain_word_is_no_swap():
    row = "2024 - Milestone: LLaMA 3; Impact: Near frontier-scale open models."
    claim = "LLaMA 3 is a milestone because it represents near frontier-scale open models."
    assert not swaps_columns(claim, row)  # it shares "LLaMA 3" with the Milestone cell


def test_the_checker_does_not_back_a_swapped_row():
    checker = SupportChecker(HashingEmbedder())
    swapped = "Open models are leading edge, with ~24% higher median scores."
    assert not checker.check(swapped, ACCURACY).supported
    assert checker.check(
        "Closed models are leading edge, with ~24% higher median scores.", ACCURACY
    ).supported


SPECTRUM = (
    "The spectrum of openness: fully proprietary (API-only, no weights, no details — GPT-4, "
    "Claude), open-weight (weights released, architecture described, but training data and code "
    "withheld — Llama, Mistral), and open-source (weights, code, data, and training recipe all "
    "public — rare, mostly academic)."
)


def test_members_of_one_bracketed_label_given_another_label_are_caught():
    assert swaps_labels("The thesis describes GPT-4 and Claude as fully open-source.", SPECTRUM)
    assert swaps_labels("Llama and Mistral are open-source.", SPECTRUM)
    # their own label, their own members' words, or both labels named: no swap
    assert not swaps_labels("GPT-4 and Claude are fully proprietary.", SPECTRUM)
    assert not swaps_labels("GPT-4 and Claude release no weights.", SPECTRUM)
    assert not swaps_labels(
        "Unlike open-weight Llama, GPT-4 and Claude are fully proprietary.", SPECTRUM
    )
    assert not swaps_labels("Open-source models are rare.", SPECTRUM)  # no member named
    # "weights" of the other label's description does not name the member's own "open-weight"
    described = "Mistral is open-source (weights, code, data, and training recipe all public)."
    assert swaps_labels(described, SPECTRUM)
    assert not swaps_labels(
        "Llama and Mistral are open weight models (weights released).", SPECTRUM
    )
    checker = SupportChecker(HashingEmbedder())
    assert not checker.check("GPT-4 and Claude are fully open-source.", SPECTRUM).supported


SAFETY = [
    "Real-World Examples",
    "• OpenAI GPT‑4: Strong moderation policies, refusal to generate harmful content.",
    "• Anthropic Claude: Uses a “constitution” of ethical principles to guide outputs.",
    "• Google Gemini: Integrated safety layers across Google Workspace to prevent misuse.",
]


def test_a_claim_that_gives_one_named_item_another_items_words_is_caught():
    claim = "Gemini's safety layer uses a constitution of ethical principles to guide outputs."
    assert swaps_items(claim, SAFETY, {2})
    assert swaps_cells(claim, SAFETY, {2})
    assert not swaps_items("Claude uses a constitution of ethical principles.", SAFETY, {2})
    assert not swaps_items("Google Gemini has safety layers across Workspace.", SAFETY, {3})
    # both items named: the claim may be comparing them
    assert not swaps_items("Claude uses a constitution, unlike Gemini.", SAFETY, {2})
    # a lead that is no name ("Cost: ...") labels nothing
    plain = ["• Cost: Free to download.", "• Speed: Depends on your hardware."]
    assert not swaps_items("Speed is free to download.", plain, {0})
    # a heading or a table row is no list item: "Comparison" labels nothing
    table = [
        "📊 Comparison: Open vs Closed Models",
        "Transparency - Open Models: Public weights & code; Closed Models: Proprietary, hidden.",
    ]
    row_claim = "The transparency row for open models shows public weights."
    assert not swaps_items(row_claim, table, {0, 1})


def test_an_item_named_by_the_shape_of_its_first_word_is_an_item_too():
    # "OpenAI's gpt-oss models" is a label: "OpenAI" opens it but is a name by its shape, and
    # "models", a word the claim shares with it, does not name the item.
    items = [
        "Current Examples",
        "• OpenAI’s gpt-oss models: Open-weight reasoning models designed for agentic tasks.",
        "• Meta’s LLaMA: Released with restrictions but widely adopted by researchers.",
    ]
    swapped = "Meta's LLaMA is described as open-weight reasoning models for agentic tasks."
    assert swaps_items(swapped, items, {1})
    assert not swaps_items("The gpt-oss models are open-weight reasoning models.", items, {1})
    assert not swaps_items("Unlike Meta's LLaMA, gpt-oss models are open-weight.", items, {1})
    assert not swaps_items("LLaMA was released with restrictions.", items, {2})
