import sqlite3

import pytest
from typer.testing import CliRunner

from assistant import database, store, vectors
from assistant.cli import app
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
    assert index.faiss_index.ntotal == len(index.chunks) == index.size


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


def test_index_from_another_embedder_is_refused_until_a_sync_embeds_it_again(
    three_files, tmp_path, embedder
):
    first = sync(three_files, tmp_path / "index", embedder)
    other = HashingEmbedder(dimension=64)
    chunking = store.chunking_params(64, 8)
    with pytest.raises(AssistantError, match="hashing-256 .* current embedder is hashing-64"):
        load_index(tmp_path / "index", embedder=other, chunking=chunking)
    assert corpus_status(three_files, tmp_path / "index", embedder=other.name).vectors_stale
    again = sync(three_files, tmp_path / "index", other)
    assert again.rebuilt and again.embedded == first.embedded == again.chunks
    index = load_index(tmp_path / "index", embedder=other, chunking=chunking)
    assert index.manifest.dimension == 64
    assert corpus_status(three_files, tmp_path / "index", embedder=other.name).up_to_date


def set_manifest_value(index_dir, key, value):
    db = sqlite3.connect(index_dir / "index.sqlite")
    with db:
        db.execute("UPDATE meta SET value = ? WHERE key = ?", (str(value), key))
    db.close()


def test_other_format_version_is_refused(three_files, tmp_path, embedder):
    sync(three_files, tmp_path / "index", embedder)
    set_manifest_value(tmp_path / "index", "format_version", 99)
    with pytest.raises(AssistantError, match="format 99"):
        load_index(tmp_path / "index", embedder=embedder, chunking=store.chunking_params(64, 8))


def test_an_index_of_the_old_format_asks_for_a_rebuild(three_files, tmp_path, embedder):
    index_dir = tmp_path / "index"
    index_dir.mkdir()
    (index_dir / "manifest.json").write_text('{"format_version": 2}', encoding="utf-8")
    (index_dir / "chunks-1-ab.jsonl").write_text("", encoding="utf-8")
    result = CliRunner().invoke(
        app, ["index", "--corpus", str(three_files), "--index", str(index_dir)]
    )
    assert result.exit_code == 1 and "Traceback" not in result.output
    assert "older version" in result.output and "--rebuild" in result.output
    assert sync(three_files, index_dir, embedder, rebuild=True).written
    assert not list(index_dir.glob("manifest.json")) and not list(index_dir.glob("chunks-*"))
    assert load_index(index_dir, embedder=embedder, chunking=store.chunking_params(64, 8)).size


def test_a_damaged_database_is_a_message_not_a_traceback(three_files, tmp_path, embedder):
    index_dir = tmp_path / "index"
    index_dir.mkdir()
    (index_dir / "index.sqlite").write_bytes(b"not a database at all" * 100)
    with pytest.raises(AssistantError, match="damaged.*--rebuild"):
        load_index(index_dir, embedder=embedder, chunking=store.chunking_params(64, 8))


def test_interrupted_write_leaves_previous_index_loadable(
    three_files, tmp_path, embedder, monkeypatch
):
    index_dir = tmp_path / "index"
    sync(three_files, index_dir, embedder)
    before = load_index(index_dir, embedder=embedder, chunking=store.chunking_params(64, 8))
    real_write = database.write_manifest

    def crash_on_manifest(*args):  # after the rows of the changed file are written
        real_write(*args)
        raise KeyboardInterrupt

    monkeypatch.setattr(database, "write_manifest", crash_on_manifest)
    (three_files / "a.txt").write_text("Changed content entirely.", encoding="utf-8")
    with pytest.raises(KeyboardInterrupt):
        sync(three_files, index_dir, embedder)
    after = load_index(index_dir, embedder=embedder, chunking=store.chunking_params(64, 8))
    assert [c.id for c in after.chunks] == [c.id for c in before.chunks]
    assert after.manifest == before.manifest


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
    assert store.read_manifest(index_dir).keyword_tokenizer == store.TOKENIZER
    set_manifest_value(index_dir, "keyword_tokenizer", "keyword-terms-v0")

    with pytest.raises(AssistantError, match="keyword tokenizer keyword-terms-v0.*assistant index"):
        load_index(index_dir, embedder=embedder, chunking=store.chunking_params(64, 8))
    assert not corpus_status(three_files, index_dir).up_to_date

    embedded_before = embedder.embedded
    resync = sync(three_files, index_dir, embedder)
    assert resync.written and resync.embedded == 0 and embedder.embedded == embedded_before
    assert resync.chunks == first.chunks
    assert store.read_manifest(index_dir).keyword_tokenizer == store.TOKENIZER
    assert corpus_status(three_files, index_dir).up_to_date
    index = load_index(index_dir, embedder=embedder, chunking=store.chunking_params(64, 8))
    with index.reading():
        assert max(index.keyword_top("honey", 3).values()) > 0


def index_ids(index_dir, document):
    db = sqlite3.connect(index_dir / "index.sqlite")
    ids = [row for (row,) in db.execute("SELECT id FROM chunks WHERE document = ?", (document,))]
    db.close()
    return ids


def test_a_changed_file_rewrites_only_its_own_rows(three_files, tmp_path, embedder, monkeypatch):
    index_dir = tmp_path / "index"
    sync(three_files, index_dir, embedder)
    snapshots = sorted(p.name for p in index_dir.glob("dense-*.faiss"))
    kept_ids, old_ids = index_ids(index_dir, "b.md"), index_ids(index_dir, "a.txt")
    (three_files / "a.txt").write_text("Alpacas hum. Llamas spit.", encoding="utf-8")
    sync(three_files, index_dir, embedder)
    assert index_ids(index_dir, "b.md") == kept_ids  # untouched rows keep their ids
    assert not set(index_ids(index_dir, "a.txt")) & set(old_ids)  # ids are never reused
    assert sorted(p.name for p in index_dir.glob("dense-*.faiss")) == snapshots  # no rewrite
    index = load_index(index_dir, embedder=embedder, chunking=store.chunking_params(64, 8))
    (chunk, _), *_ = index.search(embedder.embed(["Alpacas hum. Llamas spit."])[0], 1)
    assert chunk.text == "Alpacas hum. Llamas spit."


@pytest.mark.parametrize("backlog", [0, 10**9])
def test_a_snapshot_and_the_changes_since_load_as_the_same_index(
    three_files, tmp_path, embedder, monkeypatch, backlog
):
    monkeypatch.setattr(store, "SNAPSHOT_BACKLOG", backlog)
    index_dir = tmp_path / "index"
    sync(three_files, index_dir, embedder)
    for text in ["Alpacas hum.", "Llamas spit. " * 30, "Vicunas run."]:
        (three_files / "a.txt").write_text(text, encoding="utf-8")
        sync(three_files, index_dir, embedder)
        index = load_index(index_dir, embedder=embedder, chunking=store.chunking_params(64, 8))
        assert index.faiss_index.ntotal == index.size == len(index.chunks)
        ((nearest, score),) = index.dense_top(embedder.embed([text])[0], 1).items()
        assert nearest in index_ids(index_dir, "a.txt") and score == pytest.approx(1.0)
    # the current snapshot and the one before it, for readers still opening it; no older
    assert len(list(index_dir.glob("dense-*.faiss"))) == (2 if backlog == 0 else 1)


def test_past_the_threshold_the_dense_side_is_approximate(corpus, tmp_path, embedder):
    for number in range(30):
        words = " ".join(f"word{number}x{i}" for i in range(12))
        (corpus / f"note-{number}.txt").write_text(f"Note {number}: {words}.", encoding="utf-8")
    index_dir = tmp_path / "index"
    sync(corpus, index_dir, embedder, approximate_from=20)
    index = load_index(index_dir, embedder=embedder, chunking=store.chunking_params(64, 8))
    assert vectors.is_approximate(index.faiss_index) and index.size == 30
    (corpus / "note-3.txt").write_text("Note three: replaced.", encoding="utf-8")
    (corpus / "note-4.txt").unlink()
    sync(corpus, index_dir, embedder, approximate_from=20)
    index = load_index(index_dir, embedder=embedder, chunking=store.chunking_params(64, 8))
    assert index.faiss_index.ntotal == index.size == 29
    (chunk, score), *_ = index.search(embedder.embed(["Note three: replaced."])[0], 1)
    assert chunk.document == "note-3.txt" and score == pytest.approx(1.0)
