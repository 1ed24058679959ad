import numpy as np
import pytest

from assistant.answer import AnswerStream
from assistant.chunking import Chunk
from assistant.config import PROJECT_ROOT, GenerationSettings, GroundingSettings
from assistant.embeddings import HashingEmbedder
from assistant.grounding import (
    Grounding,
    RefusalModel,
    RefusalReason,
    SupportChecker,
    SupportDecision,
    closest_coverage,
)
from assistant.grounding.decision import says_what_claim_adds
from assistant.grounding.support import in_answer
from assistant.grounding.verification import (
    Closest,
    leans_back,
    makes_no_claim,
    quotable,
    quote_pointed_passage,
    verify,
)
from assistant.llm import ScriptedGenerator
from assistant.prompts import Prompts, build_messages
from assistant.retrieval import Hit
from assistant.text import claim_text

PROMPTS = Prompts(PROJECT_ROOT / "prompts")
# The hashing embedder's cosines say little about relevance, so these tests check support
# alone; relevance (the question's own threshold) has tests of its own below.
CHECKER = SupportChecker(HashingEmbedder(), min_relevance=-1.0)


def hit(n: int, text: str, score: float = 0.8, heading: str | None = None) -> Hit:
    return Hit(Chunk(f"id{n}", f"doc{n}.txt", None, 0, len(text), heading, text), score, n)


PASSAGES = [
    hit(
        1,
        "Meta released LLaMA 2 in sizes from 7 billion to 70 billion parameters.",
        heading="LLaMA",
    ),
    hit(2, "Google open-sourced TensorFlow in 2015 as its machine learning framework."),
]


def test_supported_citation_is_kept_and_verified():
    result = verify("Google open-sourced TensorFlow in 2015 [2].", PASSAGES, CHECKER)
    assert result.text == "Google open-sourced TensorFlow in 2015 [2]."
    assert result.supported_markers == {2} and result.unsupported == []


def test_marker_on_the_wrong_passage_is_moved():
    result = verify("Google open-sourced TensorFlow in 2015 [1].", PASSAGES, CHECKER)
    assert result.text == "Google open-sourced TensorFlow in 2015 [2]."


def test_uncited_supported_sentence_gets_a_marker():
    text = "Meta released LLaMA 2 in sizes from 7 billion to 70 billion parameters."
    result = verify(text, PASSAGES, CHECKER)
    assert result.text.endswith("parameters [1].")


def test_unsupported_sentence_is_flagged_and_taken_out_of_the_answer():
    text = (
        "Google open-sourced TensorFlow in 2015 [2]. Mistral AI was founded in Paris in 2023 [1]."
        " Google open-sourced TensorFlow in 2015 [2]."
    )
    result = verify(text, PASSAGES, CHECKER)
    assert result.unsupported == ["Mistral AI was founded in Paris in 2023."]
    assert result.text == "Google open-sourced TensorFlow in 2015 [2]."  # and said once
    kept = verify(text, PASSAGES, CHECKER, drop_unsupported=False)
    assert "Mistral AI was founded in Paris in 2023 [1]." in kept.text


def test_a_lead_in_whose_items_were_all_taken_out_goes_too():
    text = (
        "Google open-sourced TensorFlow in 2015 [2]. Its tools include:\n"
        "- Mistral AI was founded in Paris in 2023.\n- Paris hosts many AI startups.\n"
        "Meta released LLaMA 2 in sizes from 7 billion to 70 billion parameters [1]."
    )
    result = verify(text, PASSAGES, CHECKER)
    assert result.text == (
        "Google open-sourced TensorFlow in 2015 [2].\n"
        "Meta released LLaMA 2 in sizes from 7 billion to 70 billion parameters [1]."
    )
    kept = verify(
        text.replace("Paris hosts many AI startups", "Meta released LLaMA 2"), PASSAGES, CHECKER
    )
    assert "Its tools include:\n- Meta released LLaMA 2 [1]." in kept.text


def test_a_sentence_that_says_no_more_than_one_kept_before_it_is_dropped():
    text = (
        "Google open-sourced TensorFlow in 2015 as its framework [2]. "
        "Google open-sourced TensorFlow [2]. TensorFlow was not open-sourced in 2015 [2]."
    )
    result = verify(text, PASSAGES, CHECKER)
    assert "Google open-sourced TensorFlow [2]." not in result.text
    assert "not open-sourced" in result.text  # a negation says something else


def test_list_items_without_support_leave_no_empty_bullet():
    text = "The sizes:\n- Google open-sourced TensorFlow in 2015 [2]\n- Mistral AI came in 2023 [1]"
    result = verify(text, PASSAGES, CHECKER)
    assert result.text == "The sizes:\n- Google open-sourced TensorFlow in 2015 [2]"


def test_no_line_is_left_with_only_the_quote_marks_of_sentences_taken_out():
    passages = [hit(1, "Open-weight models release their weights and code, not the training data.")]
    kept = '"Open-weight" models release their weights and code, not the training data [1].'
    text = f'{kept}\n\nIt says that "open-source models are open-weight." This means little here.'
    assert verify(text, passages, CHECKER).text == kept


def test_a_line_of_bare_markers_cites_the_sentence_above_it():
    passages = [
        hit(1, "Open-weight models release their weights and code, not the training data."),
        hit(2, "Google open-sourced TensorFlow in 2015 as its machine learning framework."),
    ]
    text = "Models release their weights and code.\n\n[2] [1]"
    assert verify(text, passages, CHECKER).text == "Models release their weights and code [1]."


def test_wrong_number_is_not_supported():
    result = verify("Google open-sourced TensorFlow in 2017 [2].", PASSAGES, CHECKER)
    assert result.unsupported and not result.supported_markers


def test_lead_ins_are_not_claims():
    assert makes_no_claim("Here is the answer:")
    assert makes_no_claim("[2].")
    assert not makes_no_claim("In 2015 [1].")
    assert not makes_no_claim("Google open-sourced TensorFlow in 2015.")


def test_a_sentence_that_only_says_where_the_answer_is_written_is_not_a_claim():
    assert makes_no_claim("This is explained in passage [4].")
    assert makes_no_claim("The principles that guide it are outlined in the passage [2].")
    assert not makes_no_claim("Open models are described in the thesis as cheaper [1].")
    assert not makes_no_claim("The answer was found in 1985 [1].")
    assert makes_no_claim("This license is [4].")  # a pointer with its pointing tidied away
    assert makes_no_claim("This is explained in [2].")  # the marker stands for "passage 2"
    assert not makes_no_claim("It was built in [2].")
    text = "Google open-sourced TensorFlow in 2015 [2]. This is detailed in passage [2]."
    assert verify(text, PASSAGES, CHECKER).text == "Google open-sourced TensorFlow in 2015 [2]."


def test_a_question_the_model_asks_itself_is_not_a_claim_and_is_taken_out():
    assert makes_no_claim("Why did Google open-source TensorFlow [2]?")
    text = "Google open-sourced TensorFlow in 2015 [2].\nWhy did Google open-source it [2]?"
    assert verify(text, PASSAGES, CHECKER).text == "Google open-sourced TensorFlow in 2015 [2]."


class ScriptedChecker(SupportChecker):
    """Decisions by sentence: "on" (supported), "backed" (backed, off the question), else none."""

    def __init__(self, verdicts: dict[str, dict[int, str]]):
        super().__init__(HashingEmbedder())
        self.verdicts = verdicts

    def check_many(self, pairs, *, question=None, read_as_answers=True):
        texts = [hit.chunk.text for hit in PASSAGES]
        decisions = []
        for sentence, passage in pairs:
            verdict = self.verdicts.get(claim_text(sentence), {}).get(texts.index(passage) + 1)
            decisions.append(
                SupportDecision(verdict == "on", 1.0, 1.0, passage, backed=verdict is not None)
            )
        return decisions


def test_a_backed_sentence_continuing_an_on_question_one_from_its_passage_is_kept():
    text = "LLaMA 2 came in four sizes [1]. It was big [1]. TensorFlow came out in 2015 [2]."
    checker = ScriptedChecker(
        {
            "LLaMA 2 came in four sizes.": {1: "on"},
            "It was big.": {1: "backed"},  # off the question alone, same passage as the answer
            "TensorFlow came out in 2015.": {2: "backed"},  # another passage: off the question
        }
    )
    result = verify(text, PASSAGES, checker, question="What sizes did LLaMA 2 come in?")
    assert result.text == "LLaMA 2 came in four sizes [1]. It was big [1]."
    assert result.unsupported == ["TensorFlow came out in 2015."]


def test_the_value_asked_for_must_come_from_a_sentence_on_the_question_by_itself():
    """ "How many ...?" is not answered by a number in a sentence kept only as a continuation."""
    text = "LLaMA 2 came from Meta [1]. It was trained at 70 billion parameters [1]."
    checker = ScriptedChecker(
        {
            "LLaMA 2 came from Meta.": {1: "on"},
            "It was trained at 70 billion parameters.": {1: "backed"},
        }
    )
    asked = "How many users does LLaMA 2 have?"
    result = verify(text, PASSAGES, checker, question=asked)
    assert result.supported == [
        "LLaMA 2 came from Meta [1].",
        "It was trained at 70 billion parameters [1].",
    ]
    assert result.answering == ["LLaMA 2 came from Meta [1]."]
    grounding = Grounding(
        GroundingSettings(min_score=0.2, refuse_unsupported=True, refusal="rules"), checker
    )
    answer = stream(text, asked, grounding=grounding).run()
    assert answer.refused and answer.refusal_reason == "no-answer"


def test_in_answer_needs_nearby_evidence_in_the_passage_of_an_on_question_sentence():
    def decision(supported, backed, position):
        return SupportDecision(supported, 1.0, 1.0, "", backed=backed, position=position)

    on, item, next_item, far, other = (
        decision(True, True, 3),
        decision(False, True, 5),  # two sentences on: continues the answer
        decision(False, True, 7),  # two on from that continuation: a list read item by item
        decision(False, True, 12),  # another part of the same passage
        decision(False, False, 4),  # not backed at all
    )
    pairs = [(1, on), (1, item), (1, next_item), (1, far), (1, other), (2, item)]
    assert in_answer(pairs) == [True, True, True, False, False, False]
    assert in_answer([(1, item), (2, item)]) == [False, False]  # no on-question sentence


def test_the_evidence_of_a_sentence_includes_the_passage_sentences_it_restates():
    """An answer merging bullets 1 and 3 anchors what follows bullet 3, not only bullet 1."""
    merged = SupportDecision(True, 1.0, 1.0, "", backed=True, position=1, drawn_from=(1, 3))
    alone = SupportDecision(True, 1.0, 1.0, "", backed=True, position=1)
    following = SupportDecision(False, 1.0, 1.0, "", backed=True, position=5)
    assert in_answer([(1, merged), (1, following)]) == [True, True]
    assert in_answer([(1, alone), (1, following)]) == [True, False]
    restating = SupportDecision(False, 1.0, 1.0, "", backed=True, position=6, drawn_from=(3,))
    assert in_answer([(1, alone), (1, restating)]) == [True, True]  # its own evidence too


def test_list_items_under_a_heading_about_the_question_count():
    """The items under "Examples of Closed AI Models" answer "Which closed models ...?"."""

    def item(position, headed):
        return SupportDecision(
            False, 1.0, 1.0, "", backed=True, position=position, heading_on_question=headed
        )

    items = [(3, item(1, True)), (3, item(2, True)), (3, item(3, True)), (3, item(4, True))]
    assert in_answer(items) == [True, True, True, True]  # the chain runs down the list
    assert in_answer([(3, item(1, False)), (3, item(2, False))]) == [False, False]
    assert in_answer([(3, item(5, True))]) == [False]  # far below the heading


def test_a_passage_heading_is_on_the_question_only_for_list_items():
    checker = SupportChecker(HashingEmbedder(), min_relevance=-1.0)
    passage = (
        "Examples of Closed AI Models\n\n- OpenAI GPT-4: API only.\n- Claude: by subscription."
    )
    asked = "Which closed models are given as examples?"
    listed, prose = checker.check_many(
        [("- OpenAI GPT-4: API only.", passage), ("OpenAI GPT-4: API only.", passage)],
        question=asked,
    )
    assert listed.heading_on_question and not prose.heading_on_question


def test_refusal_points_at_the_closest_passages():
    text = closest_coverage(PASSAGES)
    assert text.startswith(" The closest they come: LLaMA (doc1.txt) [1]; ")
    assert text.endswith("(doc2.txt) [2].")
    assert closest_coverage([]) == ""
    limits = "Closed models cost more to run."
    nested = Hit(Chunk("id9", "d.txt", None, 0, 30, "Limitations", limits, "Closed AI"), 0.5, 1)
    assert closest_coverage([nested]).startswith(" The closest they come: Closed AI › Limitations")


class FixedRetriever:
    def __init__(self, hits):
        self.hits = hits

    def retrieve(self, question, k):
        return self.hits[:k], 1.0


def stream(
    reply: str,
    question: str = "What about TensorFlow?",
    passages=PASSAGES,
    grounding: Grounding | None = None,
    **options,
) -> AnswerStream:
    """A stream over fixed passages; ``options`` are GroundingSettings (relevance off), unless
    a whole ``grounding`` is given."""
    settings = GroundingSettings(
        **{"min_score": 0.2, "refuse_unsupported": True, "check_relevance": False, **options}
    )
    return AnswerStream(
        question,
        retriever=FixedRetriever(passages),
        generator=ScriptedGenerator(reply),
        prompts=PROMPTS,
        grounding=grounding or Grounding(settings, CHECKER),
        generation=GenerationSettings(max_tokens=64, temperature=0.0),
        top_k=2,
    )


def test_answer_with_no_supported_sentence_becomes_a_refusal_with_citations():
    answer = stream("Mistral AI was founded in Paris in 2023 [1].").run()
    assert answer.refused and answer.refusal_reason is RefusalReason.UNSUPPORTED
    assert answer.to_dict()["refusal_reason"] == "unsupported"
    assert answer.text.startswith("The documents don't say.")
    assert [c.marker for c in answer.citations] == [1, 2]
    assert answer.draft.startswith("Mistral AI")


def test_unsupported_answers_can_be_kept_when_configured():
    answer = stream("Mistral AI was founded in Paris in 2023 [1].", refuse_unsupported=False).run()
    assert not answer.refused and answer.unsupported == ["Mistral AI was founded in Paris in 2023."]


def test_verified_answer_marks_citations():
    answer = stream("Google open-sourced TensorFlow in 2015 [1].").run()
    assert answer.text == "Google open-sourced TensorFlow in 2015 [2]."
    assert [(c.marker, c.verified) for c in answer.citations] == [(2, True)]
    assert answer.to_dict()["draft"] == "Google open-sourced TensorFlow in 2015 [1]."


def test_model_refusal_is_a_refusal_that_still_points_somewhere():
    answer = stream("The documents don't say.").run()
    assert answer.refused and answer.refusal_reason == "model"
    assert "closest they come" in answer.text and answer.citations


@pytest.mark.parametrize("mode", ["rules", "fitted"])
def test_a_question_naming_what_no_passage_mentions_is_refused_before_the_model(mode):
    settings = GroundingSettings(min_score=0.2, check_relevance=True, refusal=mode)
    grounding = Grounding(settings, CHECKER, model=RefusalModel.load())
    reply = "Google open-sourced TensorFlow in 2015 [2]."
    answer = stream(reply, "What score did TensorFlow get on MMLU?", grounding=grounding).run()
    assert answer.refused and answer.refusal_reason == "unmentioned"
    assert answer.text.startswith("The documents don't mention MMLU.")
    assert answer.draft == "" and answer.citations
    off = Grounding(GroundingSettings(min_score=0.2, check_relevance=True, refusal="off"), CHECKER)
    answer = stream(reply, "What score did TensorFlow get on MMLU?", grounding=off).run()
    assert answer.refusal_reason != "unmentioned"  # evaluation runs still record the draft


def test_a_name_in_a_passage_s_section_is_mentioned_by_it():
    settings = GroundingSettings(min_score=0.2, check_relevance=True, refusal="rules")
    limits = "\u2022 Limited transparency: users cannot audit biases."
    chunk = Chunk("id9", "d.txt", None, 0, len(limits), "Limitations", limits, "Closed AI models")
    grounding = Grounding(settings, CHECKER)
    assert grounding.unmentioned("What limits closed AI models?", [Hit(chunk, 0.8, 1)]) == []
    assert grounding.unmentioned("What limits GPT-4?", [Hit(chunk, 0.8, 1)]) == ["GPT-4"]


def test_a_name_other_passages_hold_is_not_called_unmentioned_by_the_documents():
    settings = GroundingSettings(min_score=0.2, check_relevance=True, refusal="fitted")
    indexed = {"mmlu": 3}  # the index holds MMLU in passages the search did not show
    grounding = Grounding(
        settings,
        CHECKER,
        model=RefusalModel.load(),
        frequencies=lambda terms: {term: indexed.get(term, 0) for term in terms},
    )
    reply = "Google open-sourced TensorFlow in 2015 [2]."
    answer = stream(reply, "What score did TensorFlow get on MMLU?", grounding=grounding).run()
    assert answer.refused and answer.refusal_reason == "unmentioned"
    assert answer.text.startswith("None of the passages found mentions MMLU.")
    indexed.clear()
    answer = stream(reply, "What score did TensorFlow get on MMLU?", grounding=grounding).run()
    assert answer.text.startswith("The documents don't mention MMLU.")


def test_an_answer_without_the_kind_of_value_asked_for_is_a_refusal():
    reply = "Google open-sourced TensorFlow as its machine learning framework [2]."
    asked = "In what year did Google open-source TensorFlow?"
    answer = stream(reply, question=asked, check_relevance=True).run()
    assert answer.refused and answer.refusal_reason == "no-answer"
    assert answer.draft == reply
    dated = stream("Google open-sourced TensorFlow in 2015 [2].", question=asked).run()
    assert not dated.refused


def test_echoed_question_words_count_only_when_retrieval_is_confident():
    passages = [hit(1, "Intel and Hugging Face released Optimum Intel for CPUs.", score=0.6)]
    asked = "What is the library from the Intel partnership called?"
    reply = "The library from the Intel partnership is called Optimum Intel [1]."

    def run(passages):
        return stream(reply, asked, passages, confident_score=0.45).run()

    assert not run(passages).refused
    weak = [hit(1, passages[0].chunk.text, score=0.3)]
    assert run(weak).refused and run(weak).refusal_reason == "unsupported"


def test_a_reply_that_only_points_becomes_the_closest_shown_sentence_quoted():
    asked = "In what year did Google open-source TensorFlow?"
    answer = stream("[1]", question=asked, check_relevance=True).run()
    assert not answer.refused and answer.draft == "[1]"
    assert answer.text.startswith('Passage [2] says: "Google open-sourced TensorFlow in 2015')
    assert [(c.marker, c.verified) for c in answer.citations] == [(2, True)]


def test_a_claim_with_an_unbacked_explanation_is_cut_back_to_its_backed_head():
    passages = [hit(1, "CFM fine-tuned small models for Named Entity Recognition (NER) on news.")]
    asked = "What does NER mean?"
    reply = (
        "NER stands for Named Entity Recognition, which is a task in natural language "
        "processing that finds people and places in text [1]."
    )
    result = verify(reply, passages, CHECKER, question=asked)
    assert result.text == "NER stands for Named Entity Recognition [1]."
    assert result.supported_markers == {1} and result.unsupported == []
    whole = verify(reply, passages, CHECKER, question=asked, trim=False)
    assert not whole.supported_markers


def test_each_side_of_a_contrast_a_passage_supports_is_kept_as_a_claim_of_its_own():
    """Two findings from two passages in one sentence: neither passage has both sides."""
    passages = [
        hit(1, "Academic collaboration brings shared datasets and peer-reviewed publications."),
        hit(2, "Industry collaboration gives access to massive compute resources."),
    ]
    asked = "What do universities get from collaborating, compared with tech companies?"
    reply = (
        "Universities get shared datasets and peer-reviewed publications, while industry "
        "collaboration gives access to massive compute resources [1]."
    )
    result = verify(reply, passages, CHECKER, question=asked)
    assert result.text == (
        "Universities get shared datasets and peer-reviewed publications [1]. "
        "Industry collaboration gives access to massive compute resources [2]."
    )
    assert not verify(reply, passages, CHECKER, question=asked, trim=False).supported_markers
    # a side that is not backed goes; a side whose subject is the other side's ("but it ...")
    # does not stand alone
    unbacked = "Universities get shared datasets, while companies get quantum computers [1]."
    assert verify(unbacked, passages, CHECKER, question=asked).text == (
        "Universities get shared datasets [1]."
    )
    leaning = (
        "Universities get peer-reviewed publications, but they give access to massive compute."
    )
    assert "[2]" not in verify(leaning, passages, CHECKER, question=asked).text
    # nor is a side of a sentence that gives a reason for the one before
    reason = (
        "This is because of shared datasets, while industry gets massive compute resources [1]."
    )
    assert "[2]" not in verify(reason, passages, CHECKER, question=asked).text


def test_a_head_that_adds_one_word_to_the_question_is_not_cut_out():
    """One answer word found somewhere in a passage is weak evidence: "built by OpenAI"."""
    passages = [hit(1, "DeepSeek R1 is a reasoning model approaching OpenAI o1 performance.")]
    asked = "Which company built DeepSeek R1?"
    reply = "DeepSeek R1 was built by OpenAI, a company based in Mountain View [1]."
    assert not verify(reply, passages, CHECKER, question=asked).supported_markers


def test_a_sentence_building_on_one_taken_out_goes_with_it():
    """'This is because ...' gives a reason for the claim before it: alone it reads as an
    answer to a question the passages did not settle."""
    passages = [
        hit(1, "Closed models are trained on massive datasets using billions of parameters.")
    ]
    reason = "This is because closed models are trained on massive datasets [1]."
    asked = "Does GPT-4 Turbo have a longer context window than Claude?"
    result = verify(
        f"Yes, GPT-4 Turbo has the longer context window. {reason}",
        passages,
        CHECKER,
        question=asked,
    )
    assert not result.supported_markers and len(result.unsupported) == 2
    # Standing alone, or after a sentence that only restates a why question, it answers.
    assert verify(reason, passages, CHECKER, question=asked).supported_markers == {1}
    why = "Why are closed models strong?"
    after_restated = verify(f"Closed models are strong. {reason}", passages, CHECKER, question=why)
    assert after_restated.supported_markers == {1}
    assert (
        after_restated.text == "This is because closed models are trained on massive datasets [1]."
    )
    # A demonstrative before a word of the question points at the question.
    plain = "These datasets are massive [1]."
    assert leans_back("This means more [1].", why) and not leans_back(plain, "Which datasets?")


def test_an_unbacked_paraphrase_of_a_passage_sentence_becomes_that_sentence_quoted():
    passages = [
        hit(1, "Mixtral 8x7B: Mistral AI showed that efficient architectures could rival GPT-3.5.")
    ]
    asked = "What did Mistral AI show with Mixtral 8x7B?"
    reply = (
        "Mistral AI showed that efficient architectures could rival GPT-3.5 while running on "
        "one small laptop [1]."
    )
    answer = stream(reply, asked, passages).run()
    assert not answer.refused
    assert answer.text == f'Passage [1] says: "{passages[0].chunk.text}"'
    assert [(c.marker, c.verified) for c in answer.citations] == [(1, True)]
    far = "Mistral AI trained it on European languages in a datacentre near Paris [1]."
    assert stream(far, asked, passages).run().refused  # nothing close enough to quote
    other = asked.replace("Mixtral 8x7B", "Codestral")  # the sentence does not name Codestral
    assert stream(reply, other, passages).run().refused


def test_a_passage_sentence_is_quoted_only_when_it_holds_what_the_claim_adds():
    """Close in the question's words is not a paraphrase: the sentence lacks the claim's answer."""
    asked = "Which EU body is in charge of enforcing the EU AI Act?"
    sentence = "Regulation: compliance with laws (like the EU AI Act) adds overhead."
    claim = "The EU AI Act is enforced by the European Commission [1]."
    assert not says_what_claim_adds(Closest(0.7, 1, sentence, claim), asked)
    echo = "Google led the Google team that open-sourced TensorFlow [1]."
    sentence = "TensorFlow (2015): Google open-sourced its ML framework."
    asked = "Who led the Google team that open-sourced TensorFlow?"
    assert not says_what_claim_adds(Closest(0.7, 1, sentence, echo), asked)
    asked = "What did Mistral AI show with Mixtral 8x7B?"
    sentence = "Mixtral 8x7B: Mistral AI showed that efficient architectures could rival GPT-3.5."
    claim = "Mistral AI showed efficient designs could rival GPT-3.5 on one laptop [1]."
    assert says_what_claim_adds(Closest(0.7, 1, sentence, claim), asked)


def test_only_a_whole_sentence_is_quoted():
    assert quotable("Mistral AI showed that efficient architectures could rival GPT-3.5.")
    assert not quotable("Hugging Face case study")  # a heading
    assert not quotable("California has passed a bill focused on AI safety, mandating")  # cut off
    assert not quotable("It was open.")  # too short to stand alone


def test_a_pointing_reply_quotes_a_whole_sentence_not_a_heading():
    passages = [hit(1, "LLaMA releases\nMeta released LLaMA 2 in sizes from 7B to 70B parameters.")]
    quote = quote_pointed_passage("[1]", passages, "What about LLaMA releases?", HashingEmbedder())
    assert quote == 'Passage [1] says: "Meta released LLaMA 2 in sizes from 7B to 70B parameters."'


def test_a_list_of_the_cited_passages_headings_is_a_pointing_reply():
    passages = [
        hit(
            1,
            "Personalized Learning\nModels adapt lessons to each student's needs.",
            heading="1. Personalized Learning",
        ),
        hit(2, "Takeaway\nOpen AI in education lowers barriers for schools.", heading="Takeaway"),
    ]
    asked = "What does the thesis list as uses of open AI in education?"
    dump = "- Personalized Learning [1]\n- Takeaway [2]"
    quote = quote_pointed_passage(dump, passages, asked, HashingEmbedder())
    assert quote is not None and quote.startswith("Passage [")
    # a heading cited from another passage, or a line that says more, is a claim
    assert quote_pointed_passage("- Takeaway [1]", passages, asked, HashingEmbedder()) is None
    lesson = "- Personalized Learning adapts lessons to each student [1]"
    assert quote_pointed_passage(lesson, passages, asked, HashingEmbedder()) is None


def test_a_yes_no_answer_that_only_restates_the_question_becomes_the_closest_sentence_quoted():
    asked = "Did Google make TensorFlow public?"
    reply = "Yes, Google did make TensorFlow public [2]."
    grounding = Grounding(
        GroundingSettings(min_score=0.2, refuse_unsupported=True, check_relevance=False), CHECKER
    )
    answer = stream(reply, asked, grounding=grounding).run()
    assert not answer.refused and answer.draft == reply
    assert answer.text == (
        'Passage [2] says: "Google open-sourced TensorFlow in 2015 as its machine learning '
        'framework."'
    )
    embedder = HashingEmbedder()
    assert quote_pointed_passage(reply, PASSAGES, asked, embedder) is None  # only when asked to
    either_or = "Is TensorFlow public or private?"  # "It is public." answers that one
    restated = "TensorFlow is public [2]."
    assert quote_pointed_passage(restated, PASSAGES, either_or, embedder, restated=True) is None
    assert quote_pointed_passage(
        restated, PASSAGES, "Is TensorFlow public?", embedder, restated=True
    )


def test_a_quote_names_everything_the_question_names():
    passages = [
        hit(1, "Mixtral 8x7B can be fine-tuned on modest hardware, unlike GPT-4 with its compute."),
        hit(2, "Mixtral 8x7B showed that efficient architectures could rival GPT-3.5 in 2023."),
    ]
    asked = "Was Mixtral 8x7B cheaper to train than GPT-3.5?"
    reply = "Yes, Mixtral 8x7B was cheaper to train than GPT-3.5 [1]."
    quote = quote_pointed_passage(reply, passages, asked, HashingEmbedder(), restated=True)
    assert quote == f'Passage [2] says: "{passages[1].chunk.text}"'
    asked, reply = asked.replace("3.5", "2"), reply.replace("3.5", "2")  # no passage names GPT-2
    assert quote_pointed_passage(reply, passages, asked, HashingEmbedder(), restated=True) is None


def test_a_reply_with_a_claim_or_no_marker_is_not_replaced():
    embedder = HashingEmbedder()
    asked = "What about TensorFlow?"
    assert quote_pointed_passage("TensorFlow came in 2015 [2].", PASSAGES, asked, embedder) is None
    assert quote_pointed_passage("Here it is:", PASSAGES, asked, embedder) is None
    assert quote_pointed_passage("[7]", PASSAGES, asked, embedder) is None


def key_terms_over(rows: list[str]):
    """The pipeline's ``key_terms``, with the rows as the indexed passages."""
    from assistant.keyterms import KeyTerms
    from tests.test_keyterms import frequencies_from

    return lambda question: KeyTerms.of(question, *frequencies_from(rows))


def test_a_supported_sentence_about_something_else_is_not_verified():
    """The name of another model, copied from a passage: backed, but not what was asked."""
    rows = [
        "The name Llama comes from the animal, a nod to the LLM acronym.",
        "Mistral is a French company that publishes open-weight models.",
        "Open models publish their weights; closed models do not.",
        "Every product needs a name.",
        "Most open models come with a licence.",
        "Weights come from training.",
    ]
    key_terms = key_terms_over(rows)

    class SameVector(HashingEmbedder):
        """Every text alike: the cosine part of relevance is level, the key terms decide."""

        def embed(self, texts):
            return np.ones((len(texts), self.dimension), dtype=np.float32) / self.dimension**0.5

    asked = "Where does the name Mistral come from?"
    off = "The name Llama comes from the animal [1]."
    on = "Mistral is a French company [2]."
    passages = [hit(1, rows[0]), hit(2, rows[1])]
    probe = SupportChecker(SameVector(), key_terms=key_terms, min_relevance=-1.0)
    off_score, on_score = (
        probe.check(claim, passage.chunk.text, question=asked).relevance
        for claim, passage in ((off, passages[0]), (on, passages[1]))
    )
    assert on_score > off_score  # the rare name carries the key-term part of relevance
    checker = SupportChecker(
        SameVector(), key_terms=key_terms, min_relevance=(on_score + off_score) / 2
    )
    decision = checker.check(off, rows[0], question=asked)
    assert decision.backed and not decision.supported  # backed, but off the question
    settings = GroundingSettings(
        min_score=0.2, check_relevance=False, refusal="rules", refuse_unsupported=True
    )
    grounding = Grounding(settings, checker, key_terms=key_terms)
    answer = stream(off, asked, passages[:1], grounding=grounding).run()
    assert answer.refused and answer.refusal_reason == "unsupported"
    assert answer.evidence["backed_share"] == 1.0 and answer.evidence["supported_share"] == 0.0


def test_what_a_passage_says_in_general_does_not_back_a_claim_about_a_rare_name_it_lacks():
    """A claim that DeepSeek R1 was released free of licensing fees, from a passage on open
    models in general: every word is backed, but the passage does not say it of DeepSeek R1."""
    rows = [
        "1. Free Access\nMany open models are released without licensing fees.",
        "DeepSeek R1 (2025): a reasoning model trained with modest compute.",
        "Closed models are served through an API.",
        "Open models publish their weights.",
        "Most open models come with a licence.",
        "Weights come from training.",
    ]
    key_terms = key_terms_over(rows)

    asked = "What license was DeepSeek R1 released under?"
    answer = "DeepSeek R1 was released free of licensing fees [1]. It is a reasoning model [2]."
    passages = [hit(1, rows[0]), hit(2, rows[1])]
    blind = verify(
        answer, passages, SupportChecker(HashingEmbedder(), min_relevance=-1.0), question=asked
    )
    assert blind.unsupported == []  # without the corpus's key terms, both are backed
    checker = SupportChecker(HashingEmbedder(), key_terms=key_terms, min_relevance=-1.0)
    result = verify(answer, passages, checker, question=asked)
    assert result.unsupported == ["DeepSeek R1 was released free of licensing fees."]
    assert result.text == "It is a reasoning model [2]."
    # a claim about the name from the passage that names it stays
    named = verify("DeepSeek R1 is a reasoning model [2].", passages, checker, question=asked)
    assert named.unsupported == [] and named.supported_markers == {2}
    # "open models" is no rare name: a claim about them is backed by the general passage
    general = verify(
        "Open models are released without licensing fees [1].",
        passages,
        checker,
        question="Are open models released without licensing fees?",
    )
    assert general.unsupported == []


def test_the_fitted_refusal_model_refuses_from_its_threshold_up():
    from assistant.grounding import FEATURES, RefusalModel

    def model(threshold):
        # refuses when the best passage is dissimilar: the one feature with weight
        weights = {name: (-4.0 if name == "top_score" else 0.0) for name in FEATURES}
        return RefusalModel(
            coefficients=weights,
            intercept=0.0,
            means=dict.fromkeys(FEATURES, 0.5),
            scales=dict.fromkeys(FEATURES, 0.1),
            threshold=threshold,
            about={},
        )

    settings = GroundingSettings(min_score=0.2, refusal="fitted", refuse_unsupported=True)
    reply = "Google open-sourced TensorFlow in 2015 [2]."
    weak = [hit(1, PASSAGES[0].chunk.text, score=0.3), hit(2, PASSAGES[1].chunk.text, score=0.3)]

    def answer(grounding, passages):
        asked = "When did Google open-source TensorFlow?"
        return stream(reply, asked, passages, grounding=grounding).run()

    refused = answer(Grounding(settings, CHECKER, model=model(0.5)), weak)
    assert refused.refused and refused.refusal_reason == "weak-evidence"
    assert refused.evidence["top_score"] == 0.3 and refused.draft == reply
    assert not answer(Grounding(settings, CHECKER, model=model(0.5)), PASSAGES).refused
    assert not answer(Grounding(settings, CHECKER, model=model(0.9999)), weak).refused
    undated = stream(
        "Google open-sourced TensorFlow as its machine learning framework [2].",
        "In what year did Google open-source TensorFlow?",
        PASSAGES,
        grounding=Grounding(settings, CHECKER, model=model(0.9999)),
    ).run()
    assert undated.refused and undated.refusal_reason == "no-answer"  # whatever the model says
    no_model = Grounding(settings, CHECKER, model=None)
    assert no_model.mode == "rules"  # without a fitted model on disk, the hand rules


def test_a_claim_read_from_a_glued_table_row_is_backed():
    table = (
        "AspectOpen ModelsClosed Models\n"
        "SpeedDepends on hardwareOptimized cloud infrastructure\n"
        "ScalingLimited by user hardwareElastic cloud scaling"
    )
    passages = [hit(1, table)]
    reply = "Open models are limited by user hardware [1]."
    assert verify(reply, passages, CHECKER).supported_markers == {1}
    shown = build_messages("How fast are they?", passages, PROMPTS)[-1]["content"]
    assert "Speed - Open Models: Depends on hardware; Closed Models: Optimized" in shown
