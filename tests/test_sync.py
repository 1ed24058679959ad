"""Syncing a corpus that holds what users really drop in: bad files, links, copies, huge files.

Each case here was a traceback, a lost build or a file read from outside the corpus before.
The concurrency and kill -9 cases run real processes against one index folder.
"""

from __future__ import annotations

import os
import random
import signal
import sqlite3
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from assistant import sync as sync_module
from assistant.cli import app
from assistant.config import PROJECT_ROOT
from assistant.embeddings import HashingEmbedder
from assistant.errors import AssistantError
from assistant.store import chunking_params, load_index, read_manifest
from assistant.sync import corpus_status, sync_index

CHUNKING = chunking_params(64, 8)
# How long the concurrent reader runs; the closing note's minute-long run sets it to 60.
CONCURRENCY_SECONDS = float(os.environ.get("ASSISTANT_TEST_CONCURRENCY_SECONDS", "6"))


def sync(corpus: Path, index_dir: Path, **options):
    return sync_index(
        corpus, index_dir, embedder=HashingEmbedder(), max_tokens=64, overlap_tokens=8, **options
    )


def indexed_documents(index_dir: Path) -> set[str]:
    index = load_index(index_dir, embedder=HashingEmbedder(), chunking=CHUNKING)
    return {chunk.document for chunk in index.chunks}


@pytest.fixture
def two_files(corpus):
    (corpus / "alpacas.txt").write_text("Alpacas live in the Andes.\n", encoding="utf-8")
    (corpus / "bees.md").write_text("# Bees\n\nBees make honey.\n", encoding="utf-8")
    return corpus


def test_a_passage_keeps_its_section_in_the_index(two_files, tmp_path):
    (two_files / "bees.md").write_text("# Bees\n\n## Honey\n\nBees make honey.\n")
    sync(two_files, tmp_path / "index")
    index = load_index(tmp_path / "index", embedder=HashingEmbedder(), chunking=CHUNKING)
    honey = next(chunk for chunk in index.chunks if "honey." in chunk.text)
    assert (honey.section, honey.heading) == ("Bees", "Honey")


def test_an_index_cut_into_passages_another_way_is_built_again(two_files, tmp_path):
    sync(two_files, tmp_path / "index")
    report = sync_index(
        two_files, tmp_path / "index", embedder=HashingEmbedder(), max_tokens=32, overlap_tokens=4
    )
    assert report.rebuilt and report.embedded == report.chunks > 0
    chunking = chunking_params(32, 4)
    assert load_index(tmp_path / "index", embedder=HashingEmbedder(), chunking=chunking).size


def test_an_index_of_the_format_before_is_built_again(two_files, tmp_path):
    sync(two_files, tmp_path / "index")
    with sqlite3.connect(tmp_path / "index" / "index.sqlite") as db:  # as format 3 wrote it
        db.execute("ALTER TABLE chunks DROP COLUMN section")
        db.execute("UPDATE meta SET value = '3' WHERE key = 'format_version'")
    db.close()
    assert corpus_status(two_files, tmp_path / "index").passages_stale
    assert sync(two_files, tmp_path / "index").rebuilt
    assert corpus_status(two_files, tmp_path / "index").up_to_date
    assert indexed_documents(tmp_path / "index") == {"alpacas.txt", "bees.md"}


def test_an_unreadable_file_is_skipped_and_the_rest_indexed(two_files, tmp_path, monkeypatch):
    (two_files / "locked.txt").write_text("Locked away.", encoding="utf-8")
    real_hash = sync_module.file_hash

    def denied(path):  # the tests run as root, which no file mode keeps out
        if path.name == "locked.txt":
            raise PermissionError(13, "Permission denied")
        return real_hash(path)

    monkeypatch.setattr(sync_module, "file_hash", denied)
    report = sync(two_files, tmp_path / "index")
    assert indexed_documents(tmp_path / "index") == {"alpacas.txt", "bees.md"}
    assert report.skipped == [
        {
            "document": "locked.txt",
            "reason": "locked.txt: cannot be read (Permission denied). Check its permissions.",
        }
    ]
    assert corpus_status(two_files, tmp_path / "index").skipped == ["locked.txt"]


def test_a_file_name_that_is_not_utf8_does_not_stop_the_build(two_files, tmp_path):
    with open(os.path.join(os.fsencode(two_files), b"r\xe9sum\xe9.txt"), "wb") as handle:
        handle.write(b"A file with a Latin-1 name.")
    report = sync(two_files, tmp_path / "index")
    assert report.written and indexed_documents(tmp_path / "index") == {"alpacas.txt", "bees.md"}
    assert "not valid UTF-8" in report.skipped[0]["reason"]
    cli_index = str(tmp_path / "cli-index")
    result = CliRunner().invoke(app, ["index", "--corpus", str(two_files), "--index", cli_index])
    assert result.exit_code == 0 and "Skipped r\ufffdsum\ufffd.txt: the file name" in result.output


def test_nothing_outside_the_corpus_is_indexed(two_files, tmp_path):
    (two_files / "passwd.txt").symlink_to("/etc/passwd")
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    (outside / "notes.txt").write_text("Private notes outside.", encoding="utf-8")
    (two_files / "elsewhere").symlink_to(outside, target_is_directory=True)
    report = sync(two_files, tmp_path / "index")
    assert indexed_documents(tmp_path / "index") == {"alpacas.txt", "bees.md"}
    assert {item["document"] for item in report.skipped} == {"passwd.txt", "elsewhere"}
    index = load_index(tmp_path / "index", embedder=HashingEmbedder(), chunking=CHUNKING)
    assert not any("root:" in chunk.text for chunk in index.chunks)


def test_a_file_over_the_size_limit_is_skipped_with_the_setting_to_raise(two_files, tmp_path):
    (two_files / "huge.txt").write_text("Many words. " * 2000, encoding="utf-8")
    report = sync(two_files, tmp_path / "index", max_file_mb=0.01)
    assert indexed_documents(tmp_path / "index") == {"alpacas.txt", "bees.md"}
    (reason,) = [item["reason"] for item in report.skipped]
    assert reason.startswith("huge.txt: 0.0 MB is over the limit of 0.01 MB per file")
    assert "ASSISTANT_MAX_FILE_MB" in reason
    status = corpus_status(two_files, tmp_path / "index")
    assert status.skipped == ["huge.txt"] and status.up_to_date  # tried, not "new" forever
    assert sync(two_files, tmp_path / "index", max_file_mb=1).embedded > 0


def test_a_copy_is_indexed_once_and_named_as_a_duplicate(two_files, tmp_path):
    index_dir = tmp_path / "index"
    (two_files / "copy-of-bees.md").write_bytes((two_files / "bees.md").read_bytes())
    first = sync(two_files, index_dir)
    assert first.duplicates == [{"document": "copy-of-bees.md", "same_as": "bees.md"}]
    assert indexed_documents(index_dir) == {"alpacas.txt", "bees.md"}
    again = sync(two_files, index_dir)
    assert not again.written and again.embedded == 0
    (two_files / "bees.md").unlink()  # the copy now holds the only text
    after = sync(two_files, index_dir)
    assert after.embedded > 0 and after.duplicates == []
    assert indexed_documents(index_dir) == {"alpacas.txt", "copy-of-bees.md"}


def test_a_new_copy_is_recorded_without_rewriting_the_index(two_files, tmp_path):
    index_dir = tmp_path / "index"
    sync(two_files, index_dir)
    generation = read_manifest(index_dir).generation
    # "a-copy.txt" sorts first, yet the file already indexed keeps the chunks
    (two_files / "a-copy.txt").write_bytes((two_files / "alpacas.txt").read_bytes())
    report = sync(two_files, index_dir)
    manifest = read_manifest(index_dir)
    assert report.embedded == 0 and manifest.generation == generation
    assert report.duplicates == [{"document": "a-copy.txt", "same_as": "alpacas.txt"}]
    assert manifest.files["a-copy.txt"].duplicate_of == "alpacas.txt"
    assert corpus_status(two_files, index_dir).up_to_date


def test_an_unreadable_manifest_is_a_message_not_a_traceback(two_files, tmp_path):
    index_dir = tmp_path / "index"
    index_dir.mkdir()
    (index_dir / "index.sqlite").mkdir()  # cannot be opened as a file, whoever runs the test
    with pytest.raises(AssistantError, match="cannot be read .*permissions of the index folder"):
        sync(two_files, index_dir)


def test_an_index_path_naming_a_file_is_explained(two_files, tmp_path):
    (tmp_path / "not-a-folder").write_text("x", encoding="utf-8")
    result = CliRunner().invoke(app, ["index", "--index", str(tmp_path / "not-a-folder")])
    assert result.exit_code == 1 and "Traceback" not in result.output
    assert "is a file, not a folder" in result.output


WORKER = textwrap.dedent(
    """
    import sys, time
    from pathlib import Path
    from assistant.embeddings import HashingEmbedder
    from assistant.sync import sync_index

    corpus, index_dir, seconds = Path(sys.argv[1]), Path(sys.argv[2]), float(sys.argv[3])
    deadline, rounds = time.monotonic() + seconds, 0
    while time.monotonic() < deadline:
        rounds += 1
        (corpus / "changing.txt").write_text(f"Round {rounds} of the writer. " * 50)
        sync_index(corpus, index_dir, embedder=HashingEmbedder(), max_tokens=64, overlap_tokens=8)
    print(rounds)
    """
)


def start_worker(corpus: Path, index_dir: Path, seconds: float) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-c", WORKER, str(corpus), str(index_dir), str(seconds)],
        cwd=PROJECT_ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def test_a_reader_always_gets_a_complete_generation_while_another_process_syncs(
    two_files, tmp_path
):
    index_dir = tmp_path / "index"
    for number in range(20):
        (two_files / f"note-{number}.txt").write_text(f"Note {number}. " * 80, encoding="utf-8")
    sync(two_files, index_dir)
    writer = start_worker(two_files, index_dir, CONCURRENCY_SECONDS)
    reads, errors = 0, []
    while writer.poll() is None:
        try:
            index = load_index(index_dir, embedder=HashingEmbedder(), chunking=CHUNKING)
            assert index.size == index.faiss_index.ntotal
            # passages are read when asked for, from whatever state is committed by then
            assert index.search(HashingEmbedder().embed(["Note 3"])[0], 1)
            reads += 1
        except AssistantError as error:
            errors.append(str(error))
    rounds, stderr = writer.communicate()
    assert writer.returncode == 0, stderr
    print(f"{reads} complete reads while another process synced {rounds.strip()} times")
    assert errors == [] and reads > 10


def test_kill_9_during_syncs_always_leaves_a_loadable_index(two_files, tmp_path):
    index_dir = tmp_path / "index"
    for number in range(40):
        (two_files / f"note-{number}.txt").write_text(f"Note {number}. " * 200, encoding="utf-8")
    sync(two_files, index_dir)
    chance = random.Random(7)
    for _ in range(8):
        writer = start_worker(two_files, index_dir, 30)
        time.sleep(chance.uniform(0.3, 1.5))
        writer.send_signal(signal.SIGKILL)
        writer.communicate()
        index = load_index(index_dir, embedder=HashingEmbedder(), chunking=CHUNKING)
        assert len(index.chunks) == index.faiss_index.ntotal == index.size > 0
    assert sync(two_files, index_dir).documents == 43
