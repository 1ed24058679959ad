import sqlite3

import pytest

from assistant import keywords
from assistant.chunking import Chunk
from assistant.retrieval import Hit, Retriever, bearing_on_question, document_name_words
from assistant.store import chunking_params, load_index
from assistant.sync import sync_index
from assistant.text import keyword_stem as stem
from assistant.text import keyword_terms as content_words


def test_content_words_merge_inflections_and_keep_numbers_and_scripts():
    assert stem("labelling") == stem("labeling") == stem("labels") == "label"
    assert stem("promote") == stem("promotes") and stem("abuse") == stem("abusing")
    assert content_words("GPT4 cost $78 million in 2023") == [
        "gpt",
        "4",
        "cost",
        "78",
        "million",
        "2023",
    ]
    assert content_words("GPT‑4 accuracy of 6.4%") == ["gpt", "4", stem("accuracy"), "6.4"]
    assert "फायदा" in content_words("privacy का क्या फायदा है")
    assert content_words("What is the of and") == []


def test_keyword_terms_score_rare_words_and_are_deleted_exactly():
    db = sqlite3.connect(":memory:")
    keywords.create_table(db)
    texts = ["llamas spit at people", "bees make honey", "llamas hum", "GPT-4 scored 6.4%"]
    keywords.add(db, enumerate(texts))
    assert max(keywords.top_rows(db, "Which animal makes honey?", 3, rows=9).items())[0] == 1
    assert list(keywords.top_rows(db, "What did gpt-4 score? 6.4", 3, rows=9)) == [3]
    assert keywords.top_rows(db, "unknownword", 3, rows=9) == {}
    assert keywords.top_rows(db, "the of and", 3, rows=9) == {}
    keywords.delete(db, [(1, texts[1])])
    assert keywords.top_rows(db, "honey", 3, rows=9) == {}
    both = keywords.top_rows(db, "llamas", 3, rows=9)
    assert set(both) == {0, 2} and both[2] > both[0] > 0  # the shorter passage ranks first
    assert keywords.scores_of(db, "llamas", [2, 3]) == {2: both[2]}


def test_a_misspelt_query_word_is_searched_as_the_corpus_word_one_edit_away():
    db = sqlite3.connect(":memory:")
    keywords.create_table(db)
    texts = ["training GPT-4 cost 78 million", "the trains ran late", "a triangle", "money talks"]
    texts += ["the community builds tools"]
    keywords.add(db, enumerate(texts))
    assert keywords.query_terms(db, "how much did it cost to trian GPT4?") == [
        "much",
        "cost",
        "train",
        "gpt",
        "4",
    ]
    assert list(keywords.top_rows(db, "cost to trian", 1, rows=9)) == [0]
    # two edits from the stem "communiti", one from the English word "community"
    assert keywords.query_terms(db, "comunity") == [stem("community")]
    # a real English word the corpus lacks is left alone, not taken for "money"'s neighbour
    assert keywords.query_terms(db, "monkeys") == [stem("monkeys")]
    assert keywords.query_terms(db, "zzyzx") == ["zzyzx"]  # nothing one edit away


def test_only_passages_near_the_best_bear_on_the_question():
    def scored(*fused):
        chunk = Chunk("id", "d.txt", None, 0, 1, None, "x")
        return [Hit(chunk, 0.5, n, fused=f) for n, f in enumerate(fused, start=1)]

    assert [h.fused for h in bearing_on_question(scored(1.2, 0.9, 0.7), 0.6)] == [1.2, 0.9]
    assert len(bearing_on_question(scored(1.2, 0.9, 0.7), 0.0)) == 3
    assert len(bearing_on_question(scored(0.0, -0.1), 0.6)) == 2  # nothing to compare with
    assert bearing_on_question([], 0.6) == []


def test_document_name_words_ignore_shared_parts():
    names = document_name_words(
        ["open-vs-closed-wiki.txt", "open-vs-closed-battle.pdf", "x/open.md"]
    )
    assert names == {
        "open-vs-closed-wiki.txt": {"wiki"},
        "open-vs-closed-battle.pdf": {stem("battle")},
        "x/open.md": set(),
    }


@pytest.fixture
def index(corpus, tmp_path, embedder):
    (corpus / "field-notes-wiki.txt").write_text(
        "Llamas\n\nLlamas carry loads in the Andes.\n\nAlpacas\n\nAlpacas grow fine wool.",
        encoding="utf-8",
    )
    (corpus / "battle-report.txt").write_text(
        "Llamas in battle\n\nIn 1532 llamas carried supplies for armies.", encoding="utf-8"
    )
    sync_index(corpus, tmp_path / "index", embedder=embedder, max_tokens=64, overlap_tokens=0)
    return load_index(tmp_path / "index", embedder=embedder, chunking=chunking_params(64, 0))


@pytest.mark.parametrize("mode", ["dense", "keyword", "hybrid"])
def test_every_mode_finds_the_year(index, embedder, mode):
    hits, ms = Retriever(index, embedder, mode=mode).retrieve("What happened in 1532?", 2)
    assert hits[0].chunk.document == "battle-report.txt" and ms >= 0
    assert [h.rank for h in hits] == [1, 2]


def test_hits_carry_all_signals(index, embedder):
    hits, _ = Retriever(index, embedder).retrieve("Who grows fine wool?", 3)
    best = hits[0]
    assert "wool" in best.chunk.text
    assert best.keyword_score > 0 and -1 <= best.score <= 1
    assert 0 < best.coverage <= 1


def test_named_source_is_preferred_only_with_a_cue(index, embedder):
    retriever = Retriever(index, embedder)
    assert retriever.named_documents("According to the wiki, what do llamas carry?") == [
        "field-notes-wiki.txt"
    ]
    assert retriever.named_documents("What do llamas carry in battle?") == []
    hits, _ = retriever.retrieve("According to the wiki, what do llamas carry?", 1)
    assert hits[0].chunk.document == "field-notes-wiki.txt"


def test_rrf_fusion_is_available(index, embedder):
    hits, _ = Retriever(index, embedder, fusion="rrf").retrieve("alpacas wool", 1)
    assert "wool" in hits[0].chunk.text


def test_unknown_mode_is_rejected(index, embedder):
    with pytest.raises(ValueError):
        Retriever(index, embedder, mode="magic")


def test_two_named_sources_are_both_represented(corpus, tmp_path, embedder):
    (corpus / "long-thesis.txt").write_text(
        "\n\n".join(f"Section {i}\n\nTraining cost of model {i} was large." for i in range(8)),
        encoding="utf-8",
    )
    (corpus / "short-battle.txt").write_text("Rivals\n\nArmies march.", encoding="utf-8")
    sync_index(corpus, tmp_path / "index", embedder=embedder, max_tokens=32, overlap_tokens=0)
    index = load_index(tmp_path / "index", embedder=embedder, chunking=chunking_params(32, 0))
    question = "What training cost does the thesis give, and what does the battle article say?"
    hits, _ = Retriever(index, embedder).retrieve(question, 3)
    assert {hit.chunk.document for hit in hits} == {"long-thesis.txt", "short-battle.txt"}
