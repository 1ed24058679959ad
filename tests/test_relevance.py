"""Does an answer answer the question: the kind of value asked for, and named identifiers."""

import pytest

from assistant.grounding.relevance import (
    asked_names,
    expected_answer,
    gives_expected_answer,
    identifiers,
    mentions,
    names_in,
    unmentioned_identifiers,
)


@pytest.mark.parametrize(
    ("question", "kind"),
    [
        ("How many GPUs were used to train LLaMA 3?", "number"),
        ("What percentage of developers use open models?", "percentage"),
        ("What uptime percentage do proprietary APIs guarantee?", "percentage"),
        ("By what median margin were closed models ahead?", "number"),
        ("What smaller sizes did LLaMA 3 come in?", "number"),
        ("In dollar terms, how much did CFM save per year?", "money"),
        ("When exactly did Meta release LLaMa 3.1?", "time"),
        ("What's the typical response time in milliseconds for GPT-4?", "number"),
        ("By how much did CFM reduce its operational costs?", "number"),
        ("How much money does Capital Fund Management have under management?", "money"),
        ("how much did it cost to trian GPT4?", "money"),
        ("In what year did Google open-source TensorFlow?", "year"),
        ("When did the EU AI Act enter into force?", "time"),
        ("What does NER mean in the CFM case study?", "expansion"),
        ("What does AMX stand for in the Intel processors?", "expansion"),
        ("what is the full form of CMU?", "expansion"),
        ("What was the name of the harmful model that Hugging Face took down?", "name"),
        ("Which AI image generators are named as defendants in the lawsuits?", "name"),
        ("What is the library that came out of the Intel partnership called?", "name"),
        ("Who founded Mistral AI?", "name"),
        ("who originally created the ELIZA program?", "name"),
        ("According to the wiki page, who wrote the entry?", "name"),
        ("Who is the CEO of Hugging Face?", "name"),
        ("Which company develops the Qwen models?", "name"),
        ("In which country is democratization described as crucial?", "name"),
        ("who is richard stallman?", None),
        ("Who benefits from open models?", None),
        ("who pays the tax in the end?", None),
        ("Who are the stakeholders in AI governance?", None),
        ("Who is responsible for security with open models?", None),
        ("Why was the eastern roman empire called the byzantine empire?", None),
        ("What is OpenClaw?", None),
        ("What does the word llama mean?", None),
        ("When powerful models are given away freely, which groups benefit?", None),
        ("Open advocates kin cheezon ke liye argue karte hain?", None),
    ],
)
def test_the_question_form_sets_the_kind_of_answer(question, kind):
    assert expected_answer(question) == kind


def test_a_count_needs_a_number_the_question_does_not_already_hold():
    asked = "How many GPUs were used to train LLaMA 3?"
    assert not gives_expected_answer("[1] 3. Hardware Efficiency", asked)
    assert not gives_expected_answer("LLaMA 3 was trained on GPUs [2].", asked)
    assert gives_expected_answer("Meta used 16,000 GPUs [1].", asked)
    assert gives_expected_answer("It used several thousand GPUs.", asked)
    assert not gives_expected_answer("Gaudi2 beat the A100 [1].", "How much faster is Gaudi2?")
    typeset = "OpenAI GPT\u20114 is known for advanced reasoning [1]."  # a non-breaking hyphen
    assert not gives_expected_answer(typeset, "How long did it take to train GPT-4?")


def test_a_count_counts_what_was_asked_about():
    asked = "How many open models were included in the Stanford AI Index comparison?"
    assert not gives_expected_answer("There were 10 benchmarks included [1].", asked)
    assert gives_expected_answer("It included 10 open models [1].", asked)
    assert gives_expected_answer("There were 10 [1].", asked)
    params = "roughly how many params do closed models have?"
    assert gives_expected_answer("They have billions of parameters [1].", params)
    assert gives_expected_answer("About 30 times.", "How many times more does it cost?")
    languages = "How many languages does Meta's 405B LLaMA 3 support?"
    dated = "LLaMA 2 (2023): Meta released large language models (7B\u201370B parameters)."
    assert not gives_expected_answer(dated, languages)
    assert gives_expected_answer("It supports 8 languages (2024).", languages)


def test_a_percentage_needs_a_number_with_a_percent_sign():
    asked = "What uptime percentage do proprietary APIs guarantee?"
    assert not gives_expected_answer("APIs serve millions of requests [1].", asked)
    assert gives_expected_answer("They guarantee 99.9% uptime [1].", asked)
    assert gives_expected_answer("About 99 percent [1].", asked)


def test_the_version_of_a_name_is_no_count():
    asked = "By what median margin were closed models still ahead of open ones?"
    versions = "The margin narrowed as LLaMA 3.1 and Qwen 3.5 caught up."
    assert not gives_expected_answer(versions, asked)
    assert gives_expected_answer("Closed models were ahead by a median 24.2% [1].", asked)
    # a number after a sentence's first word is no version
    assert gives_expected_answer("About 20 models were ahead [1].", asked)


def test_an_amount_of_money_needs_a_currency():
    asked = "How much money does Capital Fund Management have under management?"
    assert not gives_expected_answer("CFM has up to 80x cost reduction [2].", asked)
    assert gives_expected_answer("CFM manages $14 billion [1].", asked)


def test_a_year_or_a_time():
    year = "In what year did Google open-source TensorFlow?"
    assert gives_expected_answer("Google open-sourced TensorFlow in 2015 [1].", year)
    assert not gives_expected_answer("Google open-sourced TensorFlow [1].", year)
    when = "When does Izzie get cancer?"
    assert gives_expected_answer("Izzie is diagnosed in season 5.", when)
    assert gives_expected_answer("It happens after the accident, in March.", when)
    assert not gives_expected_answer("Izzie has melanoma which has spread.", when)
    founded = "When was Mistral AI founded?"  # a version number is not a year
    assert not gives_expected_answer("It showed it could rival GPT-3.5 [2].", founded)
    released = "In what year was Gemini Ultra released?"  # nor is a sum of money or a share
    assert not gives_expected_answer("Gemini Ultra cost $191 million to train [1].", released)
    assert not gives_expected_answer("It was 200% faster [1].", released)
    assert gives_expected_answer("It was released in 2023 at a cost of $191 million.", released)
    assert not gives_expected_answer("It is 3.5 times faster.", founded)


def test_a_name_needs_a_capitalised_word_the_question_does_not_hold():
    asked = "What was the name of the harmful model that Hugging Face took down?"
    assert not gives_expected_answer("The model Hugging Face took down was uploaded [1].", asked)
    assert not gives_expected_answer('Passage [1] says: "Removed by Hugging Face."', asked)
    assert not gives_expected_answer("- Harmful models are taken down.\n- Often.", asked)
    assert gives_expected_answer("It was GPT-4chan [1].", asked)
    library = "What is the Hugging Face library that came out of the Intel partnership called?"
    assert gives_expected_answer("The library is called Optimum Intel [1].", library)


def test_who_did_it_needs_a_name_not_a_nationality_or_the_question_again():
    asked = "Who founded Mistral AI?"
    assert not gives_expected_answer("Mistral AI was founded by French startup Mistral AI.", asked)
    assert gives_expected_answer("Arthur Mensch, Guillaume Lample and Timothée Lacroix.", asked)


def test_what_an_abbreviation_stands_for_needs_words_that_spell_it():
    asked = "What does CMU stand for in the CMU AI Repository?"
    assert not gives_expected_answer("It is the organization behind the CMU AI Repository.", asked)
    assert gives_expected_answer("CMU is Carnegie Mellon University [1].", asked)
    amx = "What does AMX stand for?"  # an X also stands for "ex"
    assert gives_expected_answer("AMX stands for Advanced Matrix Extensions [1].", amx)


def test_questions_without_a_value_form_are_not_checked():
    assert gives_expected_answer("Open-weight models.", "What is open-weight AI?")


def test_identifiers_are_acronyms_and_codes_not_ordinary_words():
    question = "What score did GPT-4 get on the MMLU benchmark, per the European report?"
    assert identifiers(question) == ["GPT-4", "MMLU"]
    assert identifiers("CFM ne kitna improvement achieve kiya?") == []  # first word skipped
    assert identifiers("who directed operations during ww2?") == ["ww2"]
    # words hyphened to a code describe it: "o1-level" names o1, which "o1-class" mentions
    assert identifiers("Was R1 close to o1-level reasoning?") == ["R1", "o1"]
    assert identifiers("Is it a GPT-4-style model or gpt-oss?") == ["GPT-4"]
    assert unmentioned_identifiers("Near o1-level?", ["approaching o1-class performance"]) == []


def test_unmentioned_identifiers_match_across_spellings():
    passages = ["GPT-4 cost an estimated $78M to train.", "Open models on benchmarks."]
    assert unmentioned_identifiers("What did GPT4 score on MMLU?", passages) == ["MMLU"]
    assert unmentioned_identifiers("How much did GPT4 cost?", passages) == []
    assert unmentioned_identifiers("Which API?", ["Restricted APIs, paywalls"]) == []
    # what the asker says they are is context, not asked about
    bias = "Our NGO must audit for bias. Why avoid a closed model, per the thesis?"
    assert unmentioned_identifiers(bias, passages) == []
    chief = "I'm a CTO. Who is the CEO of Hugging Face?"
    assert unmentioned_identifiers(chief, passages) == ["CEO"]


def test_names_are_capitalised_words_inside_a_sentence_and_with_codes_years_and_models():
    question = "Did the 4th Gen Xeon chips speed up Hugging Face's French GPT-4 work in 2024?"
    assert names_in(question) == ["Gen", "Xeon", "Hugging", "Face", "GPT-4"]
    assert names_in(question, codes=True) == ["Gen", "Xeon", "Hugging", "Face", "GPT-4", "2024"]
    assert names_in("• Habana Gaudi2 HPUs ran 2x faster", codes=True) == ["Gaudi2", "HPUs"]
    assert names_in("can I get Claude, or am I’m told I'd pay?") == ["Claude"]
    assert mentions("OpenAI GPT\u20114: API only", "GPT-4") and not mentions("GPT-3.5", "GPT-4")


def test_a_question_naming_its_source_document_does_not_ask_about_it():
    question = "What does the Zubnet wiki say Llama 3 withholds?"
    assert asked_names(question) == ["Zubnet", "Llama"]
    assert asked_names(question, ["open-vs-closed-zubnet-wiki.txt"]) == ["Llama"]
    # Each name is checked against every document, even when they come one at a time.
    question = "Why does the thesis treat DeepSeek R1 as a big deal in the history of AI?"
    documents = (name for name in ["open-vs-closed-ai-thesis.txt"])
    assert asked_names(question, documents) == ["DeepSeek", "R1"]


def test_a_name_is_mentioned_in_the_plural_too():
    assert mentions("instead of relying on large proprietary LLMs", "LLM")
    assert mentions("one LLM", "LLMs")
    assert not mentions("GPT-4 and Claude", "LLM")


def test_a_yes_no_answer_says_which_way_or_speaks_of_what_was_asked():
    asked = "Does GPT-4 Turbo have a longer context window than Claude?"
    assert not gives_expected_answer("This is because GPT-4 Turbo uses more parameters [3].", asked)
    assert gives_expected_answer("No, Claude's window is longer [1].", asked)
    assert gives_expected_answer("GPT-4 Turbo has the longer context window [2].", asked)
    sourced = "Has the thesis said whether Google put out a smaller Gemini?"
    assert not gives_expected_answer("Google Gemini runs on Google Cloud TPUs [1].", sourced)
    either_or = "Is Gemini open or closed?"  # "It is closed." answers that one
    assert gives_expected_answer("Gemini runs on TPUs [1].", either_or)
