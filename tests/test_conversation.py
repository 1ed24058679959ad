"""Follow-up rewriting (rules, the model through the scripted double, the fallback) and the
sentence matching that decides which part of a cited passage is highlighted."""

import pytest

from assistant.config import Settings
from assistant.conversation import (
    heuristic_rewrite,
    is_follow_up,
    rewrite_question,
    topic,
    usable_rewrite,
)
from assistant.highlights import sentences_citing, supporting_spans
from assistant.llm import ScriptedGenerator
from assistant.prompts import Prompts
from assistant.text import sentence_spans

OPEN = "What are the advantages of open models?"


@pytest.fixture
def prompts() -> Prompts:
    return Prompts(Settings().generation.prompts_dir)


@pytest.mark.parametrize(
    ("question", "expected"),
    [
        ("and what about closed models?", True),
        ("What about closed models?", True),
        ("How about Mistral?", True),
        ("What are their main risks?", True),
        ("Why?", True),
        ("Closed models?", True),
        ("What did Capital Fund Management use Hugging Face Inference Endpoints for?", False),
        ("Why does Meta release its Llama models with open weights?", False),
    ],
)
def test_follow_ups_are_detected_without_the_model(question, expected):
    assert is_follow_up(question, [OPEN]) is expected


def test_a_first_question_is_never_a_follow_up():
    assert not is_follow_up("and what about closed models?", [])
    rewrite = rewrite_question("and what about closed models?", [])
    assert (rewrite.standalone, rewrite.method) == ("and what about closed models?", "unchanged")


def test_standalone_question_is_passed_through_without_calling_the_model(prompts):
    generator = ScriptedGenerator("Should not be used?")
    question = "What did Capital Fund Management use Hugging Face Inference Endpoints for?"
    rewrite = rewrite_question(question, [OPEN], generator=generator, prompts=prompts)
    assert rewrite.standalone == question and not rewrite.rewritten
    assert generator.calls == []


@pytest.mark.parametrize(
    ("follow_up", "expected"),
    [
        ("and what about closed models?", "What are the advantages of closed models?"),
        ("And for closed source models?", "What are the advantages of closed source models?"),
        ("Closed models?", "What are the advantages of closed models?"),
    ],
)
def test_noun_phrase_follow_up_is_substituted_by_rule_without_the_model(
    follow_up, expected, prompts
):
    generator = ScriptedGenerator("What are the advantages of both?")
    rewrite = rewrite_question(follow_up, [OPEN], generator=generator, prompts=prompts)
    assert (rewrite.standalone, rewrite.method) == (expected, "rule")
    assert generator.calls == []


def test_model_rewrites_a_pronoun_follow_up_from_the_previous_question(prompts):
    generator = ScriptedGenerator(lambda messages: "What are the main risks of open models?")
    rewrite = rewrite_question(
        "What are their main risks?",
        ["Who makes Llama?", OPEN],
        generator=generator,
        prompts=prompts,
    )
    assert (rewrite.standalone, rewrite.method) == (
        "What are the main risks of open models?",
        "model",
    )
    (messages,) = generator.calls
    prompt = messages[-1]["content"]
    assert OPEN in prompt and "What are their main risks?" in prompt
    assert "Who makes Llama?" not in prompt  # only the last standalone question is context


@pytest.mark.parametrize(
    "reply",
    [
        "Scripted answer [1].",  # the test double's canned answer
        "Open models are cheaper to run [1].",  # an answer, not a question
        "What are the advantages of open models?",  # drops the follow-up's own topic
        "What are their main risks?",  # the follow-up repeated, no context added
        "",
    ],
)
def test_unusable_model_output_falls_back_to_the_heuristic(reply, prompts):
    generator = ScriptedGenerator(reply)
    rewrite = rewrite_question(
        "What are their main risks?", [OPEN], generator=generator, prompts=prompts
    )
    assert (rewrite.standalone, rewrite.method) == (
        "What are the main risks of open models?",
        "rule",
    )
    assert len(generator.calls) == 1


def test_model_output_is_cleaned_of_labels_and_quotes():
    reply = 'Standalone question: "What are the main risks of open models?"\nExplanation: ...'
    assert usable_rewrite(reply, "What are their main risks?") == (
        "What are the main risks of open models?"
    )
    assert usable_rewrite("What are the main risks of open models", "What are their risks?") == (
        "What are the main risks of open models?"
    )


@pytest.mark.parametrize(
    ("follow_up", "expected"),
    [
        ("Are they cheaper to run?", "Are open models cheaper to run?"),
        ("and is it safe?", "Is open models safe?"),
        ("and the costs?", "What about the costs regarding open models?"),
        ("Why?", "What are the advantages of open models: Why?"),
    ],
)
def test_heuristic_rewrites(follow_up, expected):
    assert heuristic_rewrite(follow_up, OPEN) == expected


def test_topic_is_the_longest_run_of_content_words():
    assert topic(OPEN) == "open models"
    assert topic("Who develops Llama 3 at Meta?") == "develops Llama 3"


def test_rewrite_prompt_is_small_and_has_its_fields(prompts):
    template = prompts["rewrite"]
    assert "{previous}" in template and "{question}" in template
    assert len(template.split()) < 60


# --- highlighting --------------------------------------------------------------------------

PASSAGE = """3. Capital Fund Management (CFM) Case

 • Approach:
   • Leveraged LLM-assisted labeling with Hugging Face Inference Endpoints.
   • Fine-tuned smaller models, achieving up to 6.4% accuracy improvement.
   • Reduced operational costs by up to 80x compared to large LLMs, e.g. GPT-4."""


def test_passage_sentences_split_at_sentence_ends_blank_lines_and_list_items():
    sentences = [PASSAGE[start:end] for start, end in sentence_spans(PASSAGE)]
    assert "• Leveraged LLM-assisted labeling with Hugging Face Inference Endpoints." in sentences
    assert "• Fine-tuned smaller models, achieving up to 6.4% accuracy improvement." in sentences
    assert sentences[-1].endswith("e.g. GPT-4.")  # no break after an abbreviation or in 6.4


def test_sentences_citing_keeps_markers_after_the_full_stop_with_their_sentence():
    answer = (
        "CFM used Inference Endpoints for labeling. It saved costs. [1] "
        "Open models are cheaper [2].\n\nThey are auditable [1, 2]."
    )
    assert sentences_citing(answer, 1) == [
        "CFM used Inference Endpoints for labeling.",
        "It saved costs.",
        "They are auditable.",
    ]
    assert sentences_citing(answer, 2) == ["Open models are cheaper.", "They are auditable."]
    assert sentences_citing(answer, 3) == []


def test_supporting_spans_highlight_the_best_matching_sentence_per_claim():
    claims = ["CFM used Hugging Face Inference Endpoints for LLM-assisted labeling."]
    spans = supporting_spans(PASSAGE, claims)
    assert [PASSAGE[start:end] for start, end in spans] == [
        "• Leveraged LLM-assisted labeling with Hugging Face Inference Endpoints."
    ]
    two = supporting_spans(PASSAGE, [*claims, "It cut operational costs by 80x."])
    assert len(two) == 2 and two == sorted(two)


def test_no_highlight_when_nothing_matches():
    assert supporting_spans(PASSAGE, ["Scripted answer."]) == []
    assert supporting_spans(PASSAGE, []) == []


def test_a_conversation_reads_follow_ups_and_records_each_turn(corpus):
    from assistant import Assistant, Conversation

    (corpus / "models.md").write_text(
        "# Open models\n\nOpen models can be inspected and run locally.\n\n"
        "# Closed models\n\nClosed models are served through an API.\n",
        encoding="utf-8",
    )
    settings = Settings().with_overrides(min_score=0.0)
    assistant = Assistant(settings, generator=ScriptedGenerator("They can be inspected [1]."))
    assistant.sync()
    conversation = Conversation()

    first = conversation.ask(OPEN, assistant=assistant)
    assert conversation.turns[0].answer is None  # recorded when the stream ends
    "".join(first)
    turn = conversation.turns[0]
    assert turn.answer is first.answer and turn.rewrite.method == "unchanged"
    assert set(turn.highlights) == {c.marker for c in turn.answer.citations}
    assert conversation.history() == [OPEN]

    assert conversation.is_follow_up("and what about closed models?")
    second = conversation.ask("and what about closed models?", assistant=assistant)
    second.run()
    follow_up = conversation.turns[1]
    assert follow_up.rewrite.standalone == "What are the advantages of closed models?"
    assert follow_up.answer.question == follow_up.rewrite.standalone
    conversation.clear()
    assert conversation.turns == [] and conversation.history() == []
