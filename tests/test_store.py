import json

import pytest

from assistant import store
from assistant.embeddings import HashingEmbedder
from assistant.errors import AssistantError
from assistant.store import load_index
from assistant.sync import corpus_status, sync_index
from tests.conftest import make_pdf


class CountingEmbedder(HashingEmbedder):
    def __init__(self):
        super().__init__()
        self.embedded = 0

    def embed(self, texts):
        self.embedded += len(texts)
        return super().embed(texts)


def sync(corpus, index_dir, embedder, **options):
    return sync_index(
        corpus, index_dir, embedder=embedder, max_tokens=64, overlap_tokens=8, **options
    )


@pytest.fixture
def three_files(corpus):
    (corpus / "a.txt").write_text("Alpacas live in the Andes. " * 20, encoding="utf-8")
    (corpus / "b.md").write_text("# Bees\n\nBees make honey. " * 10, encoding="utf-8")
    make_pdf(corpus / "c.pdf", ["Cats sleep a lot.", "Cats purr."])
    return corpus


def test_sync_embeds_only_what_changed(three_files, tmp_path):
    index_dir = tmp_path / "index"
    embedder = CountingEmbedder()
    first = sync(three_files, index_dir, embedder)
    assert first.documents == 3 and first.embedded == first.chunks > 0

    again = sync(three_files, index_dir, embedder)
    assert (again.embedded, again.removed, again.written) == (0, 0, False)

    b_chunks = sum(
        c.document == "b.md"
        for c in load_index(
            index_dir, embedder=embedder, chunking=store.chunking_params(64, 8)
        ).chunks
    )
    (three_files / "a.txt").write_text("Alpacas hum. Llamas spit.", encoding="utf-8")
    edited = sync(three_files, index_dir, embedder)
    assert edited.changed_files == ["a.txt"]
    assert edited.embedded == 1  # only a.txt's single new chunk

    (three_files / "b.md").unlink()
    deleted = sync(three_files, index_dir, embedder)
    assert deleted.removed_files == ["b.md"] and deleted.removed == b_chunks
    assert deleted.embedded == 0
    index = load_index(index_dir, embedder=embedder, chunking=store.chunking_params(64, 8))
    assert {c.document for c in index.chunks} == {"a.txt", "c.pdf"}
    assert index.faiss_index.ntotal == len(index.chunks)
    # the current generation, and the one it replaced for readers still opening it; no older
    kept = sorted(p.name for p in index_dir.glob("chunks-*.jsonl"))
    assert len(kept) == 2 and f"chunks-{index.manifest.generation}.jsonl" in kept


def test_search_returns_the_matching_chunk(three_files, tmp_path, embedder):
    sync(three_files, tmp_path / "index", embedder)
    index = load_index(tmp_path / "index", embedder=embedder, chunking=store.chunking_params(64, 8))
    (chunk, score), *_ = index.search(embedder.embed(["Do cats purr?"])[0], 3)
    assert chunk.document == "c.pdf" and chunk.page == 2 and score > 0


def test_rebuild_re_embeds_everything(three_files, tmp_path):
    embedder = CountingEmbedder()
    first = sync(three_files, tmp_path / "index", embedder)
    rebuilt = sync(three_files, tmp_path / "index", embedder, rebuild=True)
    assert rebuilt.embedded == first.chunks and rebuilt.rebuilt


def test_bad_file_is_skipped_and_previous_version_kept(three_files, tmp_path, embedder):
    sync(three_files, tmp_path / "index", embedder)
    (three_files / "c.pdf").write_bytes(b"%PDF-1.4 garbage")
    (three_files / "d.txt").write_bytes(b"\x00\x01binary")
    (three_files / "e.pptx").write_bytes(b"x")
    report = sync(three_files, tmp_path / "index", embedder)
    reasons = {s["document"]: s["reason"] for s in report.skipped}
    assert set(reasons) == {"c.pdf", "d.txt", "e.pptx"}
    assert "c.pdf" in reasons["c.pdf"] and "unsupported" in reasons["e.pptx"]
    index = load_index(tmp_path / "index", embedder=embedder, chunking=store.chunking_params(64, 8))
    assert "c.pdf" in {c.document for c in index.chunks}


def test_index_from_another_embedder_is_refused(three_files, tmp_path, embedder):
    sync(three_files, tmp_path / "index", embedder)
    other = HashingEmbedder(dimension=64)
    with pytest.raises(AssistantError, match="--rebuild"):
        load_index(tmp_path / "index", embedder=other, chunking=store.chunking_params(64, 8))
    with pytest.raises(AssistantError, match="--rebuild"):
        sync(three_files, tmp_path / "index", other)
    assert sync(three_files, tmp_path / "index", other, rebuild=True).written


def test_other_format_version_is_refused(three_files, tmp_path, embedder):
    sync(three_files, tmp_path / "index", embedder)
    manifest = tmp_path / "index" / "manifest.json"
    data = json.loads(manifest.read_text())
    data["format_version"] = 99
    manifest.write_text(json.dumps(data))
    with pytest.raises(AssistantError, match="format 99"):
        load_index(tmp_path / "index", embedder=embedder, chunking=store.chunking_params(64, 8))


def test_interrupted_write_leaves_previous_index_loadable(
    three_files, tmp_path, embedder, monkeypatch
):
    index_dir = tmp_path / "index"
    sync(three_files, index_dir, embedder)
    before = load_index(index_dir, embedder=embedder, chunking=store.chunking_params(64, 8))
    real_write = store._atomic_write

    def crash_on_manifest(path, data):
        if path.name == store.MANIFEST:
            raise KeyboardInterrupt
        real_write(path, data)

    monkeypatch.setattr(store, "_atomic_write", crash_on_manifest)
    (three_files / "a.txt").write_text("Changed content entirely.", encoding="utf-8")
    with pytest.raises(KeyboardInterrupt):
        sync(three_files, index_dir, embedder)
    after = load_index(index_dir, embedder=embedder, chunking=store.chunking_params(64, 8))
    assert [c.id for c in after.chunks] == [c.id for c in before.chunks]


def test_corpus_status_reports_differences(three_files, tmp_path, embedder):
    index_dir = tmp_path / "index"
    assert not corpus_status(three_files, index_dir).index_exists
    sync(three_files, index_dir, embedder)
    assert corpus_status(three_files, index_dir).up_to_date
    (three_files / "a.txt").write_text("new", encoding="utf-8")
    (three_files / "f.txt").write_text("fresh", encoding="utf-8")
    (three_files / "b.md").unlink()
    status = corpus_status(three_files, index_dir)
    assert (status.new, status.changed, status.removed) == (["f.txt"], ["a.txt"], ["b.md"])
    assert not status.up_to_date


def test_empty_corpus_builds_an_empty_index(corpus, tmp_path, embedder):
    report = sync(corpus, tmp_path / "index", embedder)
    assert report.chunks == 0 and report.written
    index = load_index(tmp_path / "index", embedder=embedder, chunking=store.chunking_params(64, 8))
    assert index.search(embedder.embed(["x"])[0], 3) == []


def test_a_keyword_index_built_with_another_tokenizer_is_resynced_without_embedding(
    three_files, tmp_path
):
    index_dir = tmp_path / "index"
    embedder = CountingEmbedder()
    first = sync(three_files, index_dir, embedder)
    manifest_path = index_dir / "manifest.json"
    manifest = json.loads(manifest_path.read_text())
    assert manifest["keyword_tokenizer"] == store.TOKENIZER
    manifest["keyword_tokenizer"] = "keyword-terms-v0"
    manifest_path.write_text(json.dumps(manifest))

    with pytest.raises(AssistantError, match="keyword tokenizer keyword-terms-v0.*assistant index"):
        load_index(index_dir, embedder=embedder, chunking=store.chunking_params(64, 8))
    assert not corpus_status(three_files, index_dir).up_to_date

    embedded_before = embedder.embedded
    resync = sync(three_files, index_dir, embedder)
    assert resync.written and resync.embedded == 0 and embedder.embedded == embedded_before
    assert resync.chunks == first.chunks
    assert json.loads(manifest_path.read_text())["keyword_tokenizer"] == store.TOKENIZER
    assert corpus_status(three_files, index_dir).up_to_date
    index = load_index(index_dir, embedder=embedder, chunking=store.chunking_params(64, 8))
    assert index.keywords.scores("honey").max() > 0
