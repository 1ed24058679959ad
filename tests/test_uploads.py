"""Uploads never write outside the corpus, never replace a different document unasked, and
leave the corpus untouched when a file is rejected; deletion and the documents listing."""

import pytest

from assistant.embeddings import HashingEmbedder
from assistant.errors import AssistantError
from assistant.sync import sync_index
from assistant.uploads import (
    UploadConflict,
    delete_document,
    list_documents,
    safe_filename,
    save_upload,
)
from tests.conftest import make_pdf

TEXT = b"Llamas\n\nLlamas are domesticated South American camelids.\n"


def corpus_files(corpus):
    """Everything under the corpus folder, hidden staging folders included."""
    return sorted(p.relative_to(corpus).as_posix() for p in corpus.rglob("*"))


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("notes.txt", "notes.txt"),
        ("../../etc/passwd.txt", "passwd.txt"),
        ("..\\..\\evil.md", "evil.md"),
        ("/abs/path/Report FINAL.PDF", "Report FINAL.pdf"),
        (".hidden.txt", "hidden.txt"),
        ("a..b.txt", "a.b.txt"),
        ("x\x00y\n.txt", "xy.txt"),
        ("<script>alert(1)</script>.md", "script.md"),  # "/" is a separator
        ("a:b*c?.md", "a_b_c.md"),
        ("naïve résumé.md", "naïve résumé.md"),
        ("-rf .txt", "rf.txt"),
    ],
)
def test_safe_filename(name, expected):
    assert safe_filename(name) == expected


@pytest.mark.parametrize("name", ["..", "...", "/", "", " . "])
def test_names_with_nothing_usable_are_rejected(name):
    with pytest.raises(AssistantError, match="no usable file name"):
        safe_filename(name)


def test_upload_is_saved_into_the_corpus(corpus):
    saved = save_upload("llamas.txt", TEXT, corpus_dir=corpus, max_mb=1)
    assert (saved.name, saved.status) == ("llamas.txt", "added")
    assert (corpus / "llamas.txt").read_bytes() == TEXT
    assert corpus_files(corpus) == ["llamas.txt"]  # no staging folder left behind


def test_path_traversal_lands_inside_the_corpus(corpus, tmp_path):
    saved = save_upload("../../outside.txt", TEXT, corpus_dir=corpus, max_mb=1)
    assert saved.path == (corpus / "outside.txt").resolve()
    assert not (tmp_path / "outside.txt").exists()
    assert not (corpus.parent.parent / "outside.txt").exists()


@pytest.mark.parametrize(
    ("name", "data", "message"),
    [
        ("tool.exe", b"MZ\x90\x00", "unsupported file type '.exe'"),
        ("notes", b"plain", r"unsupported file type '\(none\)'"),
        ("empty.txt", b"", "the file is empty"),
        ("big.txt", b"x" * 2048, "over the upload limit of 0.001 MB"),
        ("broken.pdf", b"%PDF-1.4\nthis is not really a pdf", "PDF"),
        ("binary.txt", b"\x00\x01\x02 binary", "binary file"),
        ("random.txt", bytes(range(128, 256)) * 4, "not text in any encoding"),
        ("page.html", b"<html><body><nav>Menu</nav></body></html>", "has no text"),
    ],
)
def test_bad_uploads_are_rejected_and_the_corpus_is_untouched(corpus, name, data, message):
    (corpus / "keep.txt").write_bytes(TEXT)
    before = corpus_files(corpus)
    with pytest.raises(AssistantError, match=message):
        save_upload(name, data, corpus_dir=corpus, max_mb=0.001 if name == "big.txt" else 1)
    assert corpus_files(corpus) == before


def test_encrypted_pdf_is_rejected_with_the_loader_message(corpus, tmp_path):
    pdf = make_pdf(tmp_path / "secret.pdf", ["Secret text"], password="pw")
    with pytest.raises(
        AssistantError, match="secret.pdf: the PDF is (password-protected|encrypted)"
    ):
        save_upload("secret.pdf", pdf.read_bytes(), corpus_dir=corpus, max_mb=1)
    assert corpus_files(corpus) == []


def test_valid_pdf_is_accepted(corpus, tmp_path):
    pdf = make_pdf(tmp_path / "made.pdf", ["Page one about llamas.", "Page two about alpacas."])
    saved = save_upload("made.pdf", pdf.read_bytes(), corpus_dir=corpus, max_mb=1)
    assert saved.status == "added" and (corpus / "made.pdf").exists()


def test_different_document_with_the_same_name_is_not_replaced_unasked(corpus):
    save_upload("llamas.txt", TEXT, corpus_dir=corpus, max_mb=1)
    other = b"A different document about alpacas.\n"
    with pytest.raises(UploadConflict) as conflict:
        save_upload("llamas.txt", other, corpus_dir=corpus, max_mb=1)
    assert conflict.value.name == "llamas.txt"
    assert (corpus / "llamas.txt").read_bytes() == TEXT
    replaced = save_upload("llamas.txt", other, corpus_dir=corpus, max_mb=1, replace=True)
    assert replaced.status == "replaced" and (corpus / "llamas.txt").read_bytes() == other


def test_same_content_again_is_a_no_op(corpus):
    save_upload("llamas.txt", TEXT, corpus_dir=corpus, max_mb=1)
    assert save_upload("llamas.txt", TEXT, corpus_dir=corpus, max_mb=1).status == "unchanged"


def test_rejected_replacement_keeps_the_old_document(corpus):
    (corpus / "notes.txt").write_bytes(TEXT)
    with pytest.raises(AssistantError, match="binary"):
        save_upload("notes.txt", b"\x00bad", corpus_dir=corpus, max_mb=1, replace=True)
    assert (corpus / "notes.txt").read_bytes() == TEXT


def test_delete_document(corpus):
    (corpus / "sub").mkdir()
    (corpus / "sub" / "a.txt").write_bytes(TEXT)
    delete_document("sub/a.txt", corpus_dir=corpus)
    assert not (corpus / "sub" / "a.txt").exists()


@pytest.mark.parametrize("name", ["../outside.txt", "/etc/hostname", "missing.txt", "sub"])
def test_delete_refuses_anything_but_a_corpus_document(corpus, tmp_path, name):
    (tmp_path / "outside.txt").write_bytes(TEXT)
    (corpus / "sub").mkdir()
    with pytest.raises(AssistantError, match="is not a document in the corpus"):
        delete_document(name, corpus_dir=corpus)
    assert (tmp_path / "outside.txt").exists()


def index_corpus(settings) -> None:
    index = settings.index
    sync_index(
        index.corpus_dir,
        index.index_dir,
        embedder=HashingEmbedder(),
        max_tokens=128,
        overlap_tokens=24,
    )


def test_list_documents_reports_each_state(settings, corpus):
    for name in ("kept.txt", "changed.txt", "removed.txt"):
        (corpus / name).write_text(f"{name} is about llamas.\n", encoding="utf-8")
    index_corpus(settings)
    (corpus / "changed.txt").write_text("Now about alpacas.\n", encoding="utf-8")
    (corpus / "removed.txt").unlink()
    (corpus / "new.md").write_text("# New\n\nFresh.\n", encoding="utf-8")
    (corpus / "slides.pptx").write_bytes(b"PK")
    rows = {row.name: row for row in list_documents(corpus, settings.index.index_dir)}
    assert {name: row.state for name, row in rows.items()} == {
        "changed.txt": "changed",
        "kept.txt": "indexed",
        "new.md": "new",
        "removed.txt": "removed",
        "slides.pptx": "unsupported",
    }
    assert rows["kept.txt"].chunks == 1 and rows["kept.txt"].indexed_at
    assert rows["new.md"].chunks is None and rows["new.md"].kind == "md"


def test_list_documents_names_duplicates_and_skipped_files(settings, corpus):
    (corpus / "a.txt").write_text("Llamas hum.\n", encoding="utf-8")
    (corpus / "b.txt").write_text("Llamas hum.\n", encoding="utf-8")
    (corpus / "broken.pdf").write_bytes(b"%PDF-1.4 not really")
    index_corpus(settings)
    rows = {row.name: row for row in list_documents(corpus, settings.index.index_dir)}
    assert (rows["b.txt"].state, rows["b.txt"].note) == ("duplicate", "a.txt")
    assert rows["broken.pdf"].state == "skipped"
    assert rows["broken.pdf"].note.startswith("the PDF is damaged")
