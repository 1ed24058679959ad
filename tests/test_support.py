"""The support checker: content words, sentence splitting, decisions, and its hand labels."""

import json

import pytest

from assistant.config import PROJECT_ROOT
from assistant.embeddings import HashingEmbedder
from assistant.grounding import SupportChecker, SupportDecision, agreement
from assistant.grounding.attribution import borrows_number
from assistant.grounding.numbers import claimed_counts
from assistant.grounding.support import drawn_on
from assistant.grounding.wording import compares_unsaid, misquotes
from assistant.text import (
    claim_words as content_words,
)
from assistant.text import (
    markers_in,
    split_answer_sentences,
    split_sentences,
    strip_markers,
)

LABELS = PROJECT_ROOT / "evaluation" / "support_labels.jsonl"
PASSAGE = (
    "Capital Fund Management used Hugging Face Inference Endpoints for LLM-assisted labeling. "
    "It cut costs by 80%. The team labelled 30,000 news articles."
)


@pytest.fixture
def checker():
    return SupportChecker(HashingEmbedder())


def test_content_words_strip_suffixes_and_stop_words():
    assert content_words("labeling") == content_words("labelling") == content_words("labels")
    assert content_words("labeled") == {"label"}
    assert content_words("The documents say that it is the model") == {"model"}
    assert content_words("Models were used") == content_words("the model uses")


def test_numbers_match_exactly_and_lose_thousands_separators():
    assert content_words("in 2015") == {"2015"}
    assert content_words("30,000 articles") == {"30000", "articl"}
    assert "2016" not in content_words("in 2015")


def test_devanagari_words_are_kept_whole():
    words = content_words("Open advocates transparency के लिए argue करते हैं।")
    assert "transparency" in words and "argu" in words
    assert not any(len(w) == 1 for w in words)  # no vowel signs split off
    assert content_words("अधिकांश models") == {"अधिकांश", "model"}


def test_answer_sentences_keep_their_markers():
    text = (
        "Google released it in 2015 [1]. It was e.g. popular. [2] Also used widely [1, 3].\n"
        "- a list item [2]"
    )
    assert split_answer_sentences(text) == [
        "Google released it in 2015 [1].",
        "It was e.g. popular. [2]",
        "Also used widely [1, 3].",
        "- a list item [2]",
    ]
    assert markers_in("Also used widely [1, 3]. Again [1]") == [1, 3, 1]
    assert strip_markers("Also used widely [1, 3].") == "Also used widely."


def test_a_full_stop_or_line_break_before_a_lower_case_word_ends_no_sentence():
    text = "Built between 1250 A.D. and 1500 [2]. Escorted by Sgt. Ford to D.C. Then it fell."
    assert split_answer_sentences(text) == [
        "Built between 1250 A.D. and 1500 [2].",
        "Escorted by Sgt. Ford to D.C.",  # before a capital, "D.C." may end the sentence
        "Then it fell.",
    ]
    assert split_sentences("A heading\nA line.") == ["A heading", "A line."]
    initial = "Bought by Robert P. McCulloch in 1968 [1]. It moved."  # an initial ends no sentence
    assert split_answer_sentences(initial) == [
        "Bought by Robert P. McCulloch in 1968 [1].",
        "It moved.",
    ]
    # A line a PDF wrapped mid-sentence goes on with a lower-case word.
    wrapped = 'They are accused of "visual\nplagiarism" and more.\nExamples:\nlast'
    assert split_sentences(wrapped) == [
        'They are accused of "visual plagiarism" and more.',
        "Examples:",
        "last",
    ]


def test_a_number_after_a_name_ends_its_sentence_and_a_list_number_does_not():
    text = "It runs models such as LLaMA 2. This makes it fast. [1]"
    assert split_answer_sentences(text) == [
        "It runs models such as LLaMA 2.",
        "This makes it fast. [1]",
    ]
    assert split_sentences("Steps: 1. Download it. 2. Run it.") == [
        "Steps: 1. Download it.",
        "2. Run it.",
    ]


def test_trailing_markers_join_the_last_sentence():
    assert split_answer_sentences("It cut costs by 80%.\n[1]") == ["It cut costs by 80%. [1]"]


def test_passage_sentences_split_on_danda_and_lines():
    assert split_sentences("यह सच है। Second one.\nA heading") == [
        "यह सच है।",
        "Second one.",
        "A heading",
    ]


def test_supported_when_the_passage_states_it(checker):
    decision = checker.check(
        "CFM used Inference Endpoints for LLM-assisted labelling [1].", PASSAGE
    )
    assert isinstance(decision, SupportDecision)
    assert decision.supported and decision.overlap >= 0.8
    assert decision.best_sentence.startswith("Capital Fund Management used")


def test_unrelated_sentence_is_not_supported(checker):
    decision = checker.check("Bees make honey from the nectar of flowers.", PASSAGE)
    assert not decision.supported and decision.overlap == 0


def test_a_wrong_number_is_never_supported(checker):
    assert checker.check("It cut costs by 80%.", PASSAGE).supported
    assert not checker.check("It cut costs by 90%.", PASSAGE).supported
    assert not checker.check("They labelled 40,000 news articles.", PASSAGE).supported


def test_a_count_written_as_a_word_is_a_number(checker):
    passage = "A new wave of copyright lawsuits targets the big AI image generators."
    invented = "Two copyright lawsuits target the big AI image generators."
    assert not checker.check(invented, passage).supported
    assert checker.check(
        "Copyright lawsuits target the big AI image generators.", passage
    ).supported
    assert checker.check(invented, passage.replace("A new wave of", "2")).supported
    assert checker.check(invented, passage.replace("A new wave of", "Two")).supported
    premise = "What do the two copyright lawsuits target?"  # the question's count is no claim
    assert checker.check(invented, passage, question=premise).backed
    # a count the claim lists the items of itself is the claim's own, not the passage's
    sizes = "OpenAI's new gpt-oss models (20B and 120B) are open-weight."
    assert checker.check(
        "The gpt-oss models are two open-weight models: 20B and 120B.", sizes
    ).supported
    assert not checker.check(
        "The gpt-oss models are three open-weight models: 20B and 120B.", sizes
    ).supported
    # a few words may stand between the count and its list, and an item's bracket is no item
    methods = "Methods like Constitutional AI (Anthropic) or RLHF (OpenAI) align models."
    listed = "{} methods align models: Constitutional AI (Anthropic) and RLHF (OpenAI)."
    assert checker.check(listed.format("Two"), methods).supported
    assert not checker.check(listed.format("Three"), methods).supported
    far = "It names two methods for making AI safer or easier to understand: XAI and RLHF."
    assert claimed_counts(far) == set() and claimed_counts(far.replace("two", "three")) == {"3"}


def test_a_rounded_number_counts_as_the_passages_number(checker):
    passage = "Closed models had a median 24.2% performance advantage across 10 benchmarks."
    said = "Closed models had a median {} performance advantage across 10 benchmarks."
    assert checker.check(said.format("24%"), passage).supported
    assert not checker.check(said.format("25%"), passage).supported
    assert not checker.check(said.format("24.25%"), passage).supported
    assert not checker.check(said.replace("10", "10.2").format("24.2%"), passage).supported


def test_a_number_the_passage_gives_something_else_is_not_supported(checker):
    passage = (
        "Hugging Face worked with Intel using 4th Gen Xeon processors with AMX. "
        "Habana Gaudi2 HPUs benchmarked at 2x faster than Nvidia A100 GPUs."
    )
    question = "What speed-up did the Xeon processors give Hugging Face?"
    borrowed = "The Xeon processors with AMX benchmarked at 2x faster than Nvidia A100 GPUs."
    assert checker.check(borrowed, passage).supported  # its words and numbers are all there
    assert not checker.check(borrowed, passage, question=question).backed
    own = "Habana Gaudi2 HPUs were 2x faster than Nvidia A100 GPUs."
    assert checker.check(own, passage, question="How fast were the Gaudi2 HPUs?").backed


def test_a_number_a_passage_gives_in_general_is_no_one_things_number(checker):
    passage = (
        "Examples: Hugging Face Transformers and Meta's LLaMA. "
        "Licensing: Often under permissive licenses (e.g., Apache 2.0), allowing commercial use."
    )
    question = "What license is the Transformers library released under?"
    said = "The Transformers library is released under the Apache 2.0 license."
    assert not checker.check(said, passage, question=question).backed
    specific = passage.replace("Often under", "Transformers is under").replace("e.g., ", "")
    assert checker.check(said, specific, question=question).backed


def test_a_number_of_another_item_in_the_same_sentence_is_borrowed(checker):
    passage = "Cost trade-off: GPT-4 training cost $78 million, Gemini Ultra $191 million."
    question = "How much did GPT-4 cost to train?"
    assert not checker.check("GPT-4 cost $191 million to train.", passage, question=question).backed
    assert checker.check("GPT-4 cost $78 million to train.", passage, question=question).backed
    # A question in lower case names its subject too: the claim's names it has.
    at = "LaGuardia High School, 100 Amsterdam Avenue, New York. The Manhattan Center is a school."
    said = "The Manhattan Center is located at 100 Amsterdam Avenue."
    assert not checker.check(said, at, question="where is the manhattan center?").backed
    # A month is no rival name: "starting on 13 August 1961" dates the Wall.
    built = ["Constructed by the GDR, starting on 13 August 1961, the Berlin Wall cut off Berlin."]
    said = "The Berlin Wall was built in 1961 by the GDR."
    assert not borrows_number(said, built, "when was the berlin wall built?")


def test_a_year_that_belongs_to_other_figures_is_not_borrowed(checker):
    passage = (
        "Stanford AI Index (2024): closed models led by a median 24.2% across 10 benchmarks. "
        "2026 benchmarks: open models match closed ones on knowledge tasks."
    )
    question = "In the 2026 benchmarks, by what median margin were closed models ahead?"
    said = "In the 2026 benchmarks, closed models led by a median 24% across 10 benchmarks."
    assert not checker.check(said, passage, question=question).backed
    asked_2024 = question.replace("2026", "2024")
    assert checker.check(said.replace("2026", "2024"), passage, question=asked_2024).backed


def test_a_number_must_measure_what_it_measures_in_the_passage(checker):
    passage = (
        "Gemini Ultra cost an estimated $191 million to train. "
        "Closed models led by a median 24.2% across 10 benchmarks."
    )
    assert not checker.check("Gemini Ultra has about 191 million parameters.", passage).supported
    assert checker.check("Gemini Ultra cost an estimated $191 million to train.", passage).supported
    assert checker.check("Gemini Ultra cost about 191 million to train.", passage).supported
    assert not checker.check("Closed models led across 24.2 benchmarks.", passage).supported
    assert not checker.check("Closed models led by 10% across benchmarks.", passage).supported
    assert checker.check(
        "Closed models led by a median 24% across 10 benchmarks.", passage
    ).supported


def test_a_multiple_is_no_count(checker):
    passage = (
        "2. Intel Partnership Case\n\n"
        "  \u2022 Habana Gaudi2 HPUs, which benchmarked at 2x faster than Nvidia A100 GPUs."
    )
    counted = "2 Habana Gaudi2 chips were used against A100 GPUs."
    assert not checker.check(counted, passage).supported
    faster = "Habana Gaudi2 HPUs benchmarked at 2x faster than A100 GPUs."
    assert checker.check(faster, passage).supported
    cut = "CFM achieved up to 80x cost reduction by fine-tuning smaller models."
    assert checker.check(cut.replace("80x", "80 times"), cut).supported


def test_a_claim_must_not_give_one_side_what_the_passage_says_of_the_other(checker):
    passage = (
        "Closed AI models currently lead in performance, reliability, and multimodal "
        "integration, but at enormous cost. Open models are rapidly catching up, especially in "
        "knowledge and reasoning tasks."
    )
    swapped = "Open models currently lead in performance, reliability, and multimodal integration."
    assert not checker.check(swapped, passage).supported
    assert checker.check(swapped.replace("Open", "Closed AI"), passage).supported
    assert checker.check(
        "Open models are rapidly catching up in knowledge tasks.", passage
    ).supported
    row = "Aspect | Closed Models (GPT-4, Claude, Gemini) | Open Models (LLaMA 3.1, Mistral, Qwen)"
    members = (
        "The open models set against GPT-4, Claude and Gemini are LLaMA 3.1, Mistral and Qwen."
    )
    assert checker.check(members, row).supported
    # what follows the side's name in a list is said of it too
    takeaway = "Closed AI models are high-performing, safe, and commercially viable."
    listed = "Open AI models are high-performing, safe, and commercially viable."
    assert not checker.check(listed, takeaway).supported
    assert checker.check(listed.replace("Open", "Closed"), takeaway).supported
    # the other side's whole clause, joined to this side's own
    both = (
        "Open models reduce licensing fees, while closed models monetize via subscription or "
        "API usage."
    )
    joined = "Open models reduce licensing fees and monetize via subscription or API usage."
    assert not checker.check(joined, both).supported
    assert checker.check("Open models reduce licensing fees.", both).supported


def test_a_quotation_must_be_the_passages_words_in_order(checker):
    passage = "Hugging Face case study. Hugging Face exemplifies the democratization of AI."
    invented = 'The case is titled "Hugging Face: A Case Study in Open-Source AI Accessibility".'
    assert not checker.check(invented, passage).supported
    kept = 'It is the "Hugging Face case study".'
    assert checker.check(kept, passage).supported
    # single quotes that open and close at word boundaries are quotation marks; apostrophes not
    assert misquotes("Its title is 'AI for All Teachers'.", passage)
    assert not misquotes("Hugging Face's platform and the models' cards.", passage)
    # the asker's own words may be quoted back, and a one-word quote is a term
    question = "What does 'openwashing in practice' mean?"
    assert not misquotes("'Openwashing in practice' means ...", passage, question)
    assert not misquotes('Models called "open" keep restrictions.', passage)


def test_a_comparison_needs_a_passage_sentence_that_compares(checker):
    listing = (
        "Stable Diffusion (2022): the first widely available text-to-image model trained on "
        "open data. LLaMA 2 (2023): Meta released language models trained on public data."
    )
    picked = "Stable Diffusion was trained on more data than LLaMA 2."
    assert checker.check(picked, listing).supported is False
    assert compares_unsaid(picked, split_sentences(listing))
    compared = listing + " Stable Diffusion used more training data than LLaMA 2 did."
    assert not compares_unsaid(picked, split_sentences(compared))
    faster = ["Habana Gaudi2 HPUs benchmarked at 2x faster than Nvidia A100 GPUs."]
    assert not compares_unsaid("Gaudi2 HPUs are faster than A100 GPUs.", faster)
    assert compares_unsaid("Gaudi2 HPUs are not as costly as Xeon processors.", listing)
    # no comparison claimed, nothing to find
    assert not compares_unsaid("Stable Diffusion was trained on open data.", [listing])


def test_an_abbreviation_the_passage_spells_out_is_found_in_it(checker):
    passage = "Hugging Face Hub: a collaborative platform hosting thousands of models and datasets."
    assert checker.check("The HF Hub hosts models and datasets.", passage).supported
    assert not checker.check("The HF Hub hosts models and datasets.", "Hub: models.").supported


def test_a_number_in_a_sentence_about_its_subject_named_earlier_is_its_own(checker):
    passage = "Mistral AI was founded in Paris in 2023. It raised 385 million euros."
    question = "How much did Mistral AI raise?"
    assert checker.check("Mistral AI raised 385 million euros.", passage, question=question).backed


def test_a_number_answer_is_backed_by_the_sentence_that_holds_it_with_its_subject(checker):
    passage = (
        "LLaMA 2 (2023): Meta released models of 7B to 70B parameters. "
        "LLaMA 3 (2024): Meta's 405B parameter model closed the gap."
    )
    question = "what year did meta put out the 405B llama 3?"
    said = "Meta put out the 405B LLaMA 3 in 2024."  # "put out" is only the question's
    assert checker.check(said, passage, question=question).supported
    assert not checker.check(said, passage).supported  # no question: "put" is unbacked
    # the year stands in another sentence than the model asked about
    asked_2 = "what year did meta put out llama 2?"
    wrong = checker.check("Meta put out LLaMA 2 in 2024.", passage, question=asked_2)
    assert not wrong.supported
    assert checker.check("Meta put out LLaMA 2 in 2023.", passage, question=asked_2).supported
    # the year is written next to another name than the one asked about
    mixtral = "Mixtral 8x7B (2023): French startup Mistral AI showed efficient architectures."
    founded = checker.check(
        "Mistral AI was founded in 2023.", mixtral, question="When was Mistral AI founded?"
    )
    assert not founded.supported
    # a new word the passage lacks is a claim of its own
    assert not checker.check(
        said.replace("in 2024", "in Paris in 2024"), passage, question=question
    ).supported


def test_check_many_matches_check_and_embeds_each_text_once(checker):
    pairs = [("It cut costs by 80%.", PASSAGE), ("Bees make honey.", PASSAGE)] * 3
    calls = []
    embed = checker.embedder.embed

    def counting(texts):
        calls.append(list(texts))
        return embed(texts)

    checker.embedder.embed = counting
    decisions = checker.check_many(pairs)
    assert decisions == [checker.check(s, p) for s, p in pairs]
    assert len(calls) == 1 and len(calls[0]) == len(set(calls[0]))


def test_describe_names_the_checker_and_thresholds():
    checker = SupportChecker(HashingEmbedder(), min_overlap=0.4, min_similarity=0.9)
    text = checker.describe()
    assert checker.name in text and "0.4" in text and "0.9" in text
    assert checker.thresholds() == {
        "min_overlap": 0.4,
        "min_similarity": 0.9,
        "min_answer_overlap": 0.75,
        "min_relevance": 0.5,
        "relevance_coverage_weight": 0.2,
        "focus_missing_share": 0.5,
        "continues_within": 2,
        "drawn_share": 0.6,
    }


def test_a_sentence_that_only_restates_the_question_is_not_an_answer():
    checker = SupportChecker(HashingEmbedder(), min_relevance=-1.0)
    passage = "The Stanford AI Index 2024 used 10 benchmarks to compare open and closed models."
    echo = "The Stanford AI Index 2024 used 10 benchmarks to compare open and closed models. [1]"
    asked = (
        "Which 10 benchmarks did the Stanford AI Index 2024 use to compare open and closed models?"
    )
    assert checker.check(echo, passage).supported  # alone, the passage says just that
    assert not checker.check(echo, passage, question=asked).supported
    assert not checker.check(echo, passage, question=asked).backed
    # a yes/no or either-or question may be answered in its own words
    for question in (
        "Did the Stanford AI Index 2024 use 10 benchmarks to compare open and closed models?",
        "According to the index, were open and closed models compared on 10 benchmarks?",
        "Did the Stanford AI Index 2024 compare open or closed models on 10 benchmarks?",
    ):
        assert checker.check(echo, passage, question=question).supported, question


def test_a_claim_draws_on_every_passage_sentence_it_restates():
    sentences = [
        "3. Capital Fund Management (CFM) Case",
        "CFM, a Paris-based hedge fund, used Hugging Face's ecosystem to improve NER.",
        "Approach:",
        "Leveraged LLM-assisted labeling with Hugging Face Inference Endpoints.",
        "Fine-tuned smaller models, achieving up to 6.4% accuracy improvement.",
    ]
    claim = (
        "The Paris hedge fund CFM improved NER by using LLM-assisted labeling with Hugging Face "
        "Inference Endpoints."
    )
    assert drawn_on(content_words(claim), sentences) == (1, 3)  # not "Approach:", too short


def test_words_echoed_from_the_question_claim_nothing(checker):
    passage = "Intel and Hugging Face released Optimum Intel to accelerate transformers on CPUs."
    question = "What is the Hugging Face library that came out of the Intel partnership called?"
    sentence = "The library that came out of the Intel partnership is called Optimum Intel. [1]"
    alone = checker.check(sentence, passage)
    asked = checker.check(sentence, passage, question=question)
    assert not alone.supported and alone.answer_overlap is None
    assert asked.supported and asked.answer_overlap == 1.0


def test_an_answer_that_only_adds_a_number_needs_the_question_free_rule(checker):
    passage = "In 2023 open models caught up with closed ones on many benchmarks."
    decision = checker.check(
        "Mistral AI was founded in 2023.", passage, question="When was Mistral AI founded?"
    )
    assert not decision.supported and decision.answer_overlap is None


def test_answer_words_missing_from_the_passage_are_not_supported(checker):
    decision = checker.check(
        "The library is called Optimum Habana Turbo.",
        "Intel and Hugging Face released Optimum Intel.",
        question="What is the library from the Intel partnership called?",
    )
    assert not decision.supported and decision.answer_overlap < 0.75


def test_hand_labels_are_well_formed():
    rows = [json.loads(line) for line in LABELS.read_text(encoding="utf-8").splitlines() if line]
    assert len(rows) >= 40
    assert {row["label"] for row in rows} == {True, False}
    for row in rows:
        assert row["sentence"].strip() and row["passage"].strip() and row["question_id"]


@pytest.mark.real
def test_checker_agrees_with_the_hand_labels(real_embedder):
    """Floors at the agreement measured when the relevance clause was added (issue 10).

    Support alone is held to the same bar as before, on all 116 pairs. With the question, the
    relevance clause rejects one more supported pair of the original 61 (kappa 0.823 -> 0.774),
    and on the 55 pairs labelled for relevance it is weak (accuracy 0.709): evaluation/README.md.
    The pairs ``added`` later are hard cases the checker alone passes (the rules around it catch
    some); they are reported in evaluation/README.md, not held to this floor.
    """
    rows = [json.loads(line) for line in LABELS.read_text(encoding="utf-8").splitlines() if line]
    plain = [{k: v for k, v in row.items() if k not in ("question", "on_question")} for row in rows]
    result = agreement(SupportChecker(real_embedder), plain)
    assert result["accuracy"] >= 0.9 and result["kappa"] >= 0.8
    questions = {
        json.loads(line)["id"]: json.loads(line)["question"]
        for line in (LABELS.parent / "questions.jsonl").read_text(encoding="utf-8").splitlines()
    }
    asked = [
        {**row, "question": row.get("question") or questions[row["question_id"]]} for row in rows
    ]
    original = [row for row in asked if "on_question" not in row]
    with_questions = agreement(SupportChecker(real_embedder), original)
    assert with_questions["accuracy"] >= 0.9 and with_questions["kappa"] >= 0.75
    labelled = [r for r in asked if "on_question" in r and "added" not in r]
    relevance = agreement(SupportChecker(real_embedder), labelled)
    assert relevance["accuracy"] >= 0.65


def test_a_magnitude_written_as_a_letter_is_its_word(checker):
    passage = (
        "Training Cost - Closed Models: $78M–$191M frontier scale; "
        "Open Models: $5M–$10M for top open models."
    )
    said = (
        "The cost to train a frontier closed model is estimated to be $191 million, while the "
        "cost to train a top open model is $5 million to $10 million."
    )
    assert checker.check(said, passage).supported
    assert not checker.check(said.replace("million", "thousand"), passage).supported


def test_the_digits_of_a_name_are_no_number_given_to_it(checker):
    passage = (
        "LLaMA 2 (2023): Meta released large language models (7B–70B parameters). "
        "Mixtral 8x7B (2023): French startup Mistral AI showed efficient architectures."
    )
    question = "How many parameters does Mixtral 8x7B have in total?"
    borrowed = checker.check(
        "Mixtral 8x7B has 7 billion parameters in total.", passage, question=question
    )
    assert not borrowed.supported


def test_a_comparison_sign_before_a_number_is_its_word(checker):
    passage = "Cost trade-off: compared to <$6 million for some open reasoning models."
    question = "Roughly how much did some open reasoning models cost to train?"
    said = "Some open reasoning models cost less than $6 million to train."
    assert checker.check(said, passage, question=question).supported
    plain = passage.replace("<", "")  # "less" is then a word the passage lacks
    assert not checker.check(said, plain, question=question).supported


def test_a_number_answer_may_lean_on_its_passages_heading_and_a_sentence_opener_is_no_name(
    checker,
):
    passage = (
        "Hugging Face Case Study Overview\n\n"
        "• Published in 2021, revised in 2023, the case explores Hugging Face's priorities:\n"
        "• Platform development for enterprise clients."
    )
    question = "When did the case study on Hugging Face first appear?"
    said = "The case study on Hugging Face first appeared in 2021."  # "first appear" is asked
    assert checker.check(said, passage, question=question).supported
    # the year is still another thing's when a name stands next to it
    other = passage.replace("• Published in 2021", "• The Mistral paper was published in 2021")
    assert not checker.check(said, other, question=question).supported
    # an acronym in brackets is a name all the same
    example = "• Example: Capital Fund Management (CFM) achieved up to 80x cost reduction."
    asked = "By how much did CFM reduce its operational costs?"
    assert checker.check(
        "CFM reduced operational costs by up to 80x.", example, question=asked
    ).supported


def test_a_question_pointing_at_a_section_by_its_heading_is_about_what_the_section_says():
    from assistant.grounding.sections import names_its_section

    passage = "11. Comparative Analysis\n\nOpen models foster innovation but risk misuse."
    asked = "In its comparative analysis, what does the thesis say each side is good at?"
    assert names_its_section(asked, passage)
    # the heading's words alone, with nothing pointing at a part of a document, are not enough:
    # a document's title is its first heading
    titled = "Manhattan Center for Science and Mathematics\n\nIt was founded in 1982."
    assert not names_its_section(
        "new york times manhattan center for science and mathematics?", titled
    )
    # a heading with words the question lacks, or a first line that is a sentence, is no match
    assert not names_its_section(
        "In its comparative analysis, who wins?", "Security and Misuse\n\nText."
    )
    assert not names_its_section(asked, "Open models foster innovation but risk misuse.")
    # in the checker: a backed sentence under the section asked about is on the question, even
    # where relevance alone would not have it (the bar here is out of reach)
    strict = SupportChecker(HashingEmbedder(), min_relevance=5.0)
    claim = "Open models foster innovation but risk misuse."
    assert strict.check(claim, passage, question=asked).supported
    other = strict.check(claim, passage, question="What does the thesis say each side is good at?")
    assert other.backed and not other.supported
