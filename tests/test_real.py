"""End to end with the real embedder, real FAISS and the real default GGUF (loaded once)."""

import pytest

from assistant.config import Settings
from assistant.pipeline import Assistant

pytestmark = pytest.mark.real


@pytest.fixture
def real_assistant(default_corpus, real_embedder, real_generator):
    settings = Settings(embedder="default", generator="llama", max_tokens=80)
    return Assistant(settings, embedder=real_embedder, generator=real_generator)


def test_default_corpus_chunks_fit_the_embedder(real_assistant, real_embedder):
    report = real_assistant.sync()
    assert report.documents == 3 and report.skipped == []
    longest = max(real_embedder.count_tokens(c.search_text) for c in real_assistant.index.chunks)
    assert longest + 2 <= real_embedder.max_tokens


def test_answer_contains_the_fact_and_cites_the_thesis(real_assistant):
    real_assistant.sync()
    stream = real_assistant.ask(
        "What did Capital Fund Management use Hugging Face Inference Endpoints for?"
    )
    pieces = list(stream)
    answer = stream.answer
    assert len(pieces) > 1  # streamed, not returned in one piece
    assert not answer.refused
    assert "label" in answer.text.lower()
    assert any(c.document == "open-vs-closed-ai-thesis.txt" for c in answer.citations)
    cited = [c for c in answer.citations if c.document == "open-vs-closed-ai-thesis.txt"]
    assert any("LLM-assisted labeling" in c.text for c in cited)
