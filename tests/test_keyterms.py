"""Key terms: rarity weights, coverage, and abbreviations matched to their expansions."""

import pytest

from assistant.keyterms import KeyTerms, acronyms, idf, spelled_out
from assistant.text import keyword_stem


def frequencies_from(rows: list[str]):
    from assistant.text import keyword_terms

    sets = [set(keyword_terms(row)) for row in rows]
    return lambda terms: {t: sum(t in s for s in sets) for t in terms}, len(sets)


ROWS = [
    "Open models such as Llama and Mistral publish their weights.",
    "The name Llama comes from the animal; models are open.",
    "Closed models are served through an API by OpenAI.",
    "Open models can be fine-tuned; open weights help research.",
    "Every product needs a name.",
    "Most weights come with a licence.",
]


def test_a_rare_name_weighs_more_than_a_common_word():
    frequencies, size = frequencies_from(ROWS)
    terms = KeyTerms.of("Where does the name Mistral come from?", frequencies, size)
    assert terms.focus == "mistral"
    assert terms.weights["mistral"] > terms.weights["name"]
    # the passage on another name's origin covers "name" and "come", not what was asked
    whole = terms.coverage("The name Mistral comes from a wind.")
    assert terms.coverage(ROWS[1]) < whole == pytest.approx(1)
    assert not terms.covers_focus(ROWS[1])
    assert terms.covers_focus(ROWS[0])


def test_words_the_corpus_never_uses_are_listed_not_weighed():
    frequencies, size = frequencies_from(ROWS)
    terms = KeyTerms.of("Who founded Anthropic?", frequencies, size)
    assert keyword_stem("anthropic") in terms.unknown
    assert terms.coverage("nothing relevant") == 0.0 or not terms.weights


def test_abbreviations_meet_their_spelled_out_form_both_ways():
    assert acronyms("LLMs and the EU AI Act, not GPT4") == ["LLM", "EU", "AI"]
    assert spelled_out("EU", "the European Union's law") == ["european", "union"]
    assert spelled_out("FBI", "the Federal Bureau of Investigation") == [
        "federal",
        "bureau",
        "investigation",
    ]
    assert spelled_out("EU", "every") is None
    assert spelled_out("AMX", "Advanced Matrix Extensions") == ["advanced", "matrix", "extensions"]
    rows = ["Large language models are trained on text.", "Closed models are sold."]
    frequencies, size = frequencies_from(rows)
    asked = KeyTerms.of("What are LLMs trained on?", frequencies, size)
    assert "llm" in asked.weights  # unknown as a word, kept because it is an abbreviation
    assert asked.covers_focus(rows[0])
    spelled = KeyTerms.of(
        "What does the European Union require?", *frequencies_from(["The EU requires audits."])
    )
    assert spelled.coverage("The EU requires audits.") == 1.0


def test_idf_is_positive_and_falls_with_frequency():
    assert idf(1, 100) > idf(50, 100) > idf(100, 100) > 0


def test_any_of_several_equally_rare_terms_is_the_focus():
    rows = ["Mistral is French.", "Llama is open.", "Models are open.", "Weights are open."]
    frequencies, size = frequencies_from(rows)
    terms = KeyTerms.of("Is Mistral French?", frequencies, size)
    assert terms.weights["mistral"] == terms.weights["french"]  # each in one passage only
    assert terms.covers_focus("A French startup.") and terms.covers_focus("Mistral.")
    assert not terms.covers_focus("Models are open.")


def test_a_name_is_rare_when_one_of_its_words_is_in_few_passages():
    frequencies, size = frequencies_from(ROWS)
    terms = KeyTerms.of("Did Mistral or OpenAI publish open weights?", frequencies, size)
    assert terms.is_rare("Mistral") and terms.is_rare("Mistral AI")
    assert not terms.is_rare("Open") and not terms.is_rare("weights")
    unweighed = KeyTerms.of("Did Mistral publish weights?", frequencies, 0)
    assert not unweighed.is_rare("Mistral")  # no passages counted: nothing is known to be rare


def test_how_a_question_asks_is_no_key_term():
    rows = [*ROWS, "Teams work together.", "Google's Gemini is closed.", "Gemini's scale."]
    frequencies, size = frequencies_from(rows)
    terms = KeyTerms.of("Pull together everything on Google's Gemini.", frequencies, size)
    # "together" is rarer than "Gemini" here, and "s" is what "Google's" leaves behind
    assert set(terms.weights) == {"googl", "gemini"}
    assert terms.focus == "googl" and terms.unknown == ()
