import pytest

from assistant.documents import load_document, scan_corpus
from assistant.errors import AssistantError
from assistant.text import normalize
from tests.conftest import make_pdf


def test_text_file_keeps_original_text(corpus):
    (corpus / "notes.txt").write_text("Title\r\n\r\nCafe\u0301  latte.\n", encoding="utf-8")
    document = load_document(corpus / "notes.txt", root=corpus)
    assert document.path == "notes.txt"
    assert document.text == "Title\n\nCafe\u0301  latte.\n"
    assert document.pages[0].number is None
    assert normalize(document.text) == "Title Caf\u00e9 latte."


def test_markdown_in_subfolder_gets_relative_path(corpus):
    (corpus / "sub").mkdir()
    (corpus / "sub" / "a.md").write_text("# Heading\n\nBody.", encoding="utf-8")
    assert load_document(corpus / "sub" / "a.md", root=corpus).path == "sub/a.md"


def test_pdf_has_one_page_record_per_page(corpus):
    make_pdf(corpus / "doc.pdf", ["First page about llamas.", "Second page about alpacas."])
    document = load_document(corpus / "doc.pdf", root=corpus)
    assert [page.number for page in document.pages] == [1, 2]
    first, second = document.pages
    assert "llamas" in document.text[first.start : first.end]
    assert "alpacas" in document.text[second.start : second.end]
    assert document.page_at(document.text.index("alpacas")) == 2


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("empty.txt", b"   \n", "has no text"),
        ("binary.txt", b"\x89PNG\x00\x00\x01", "binary"),
        ("latin.txt", "caf\u00e9".encode("latin-1"), "not UTF-8"),
        ("broken.pdf", b"%PDF-1.4 this is not really a pdf", "broken.pdf"),
    ],
)
def test_bad_files_raise_clear_errors(corpus, name, content, message):
    (corpus / name).write_bytes(content)
    with pytest.raises(AssistantError, match=message):
        load_document(corpus / name, root=corpus)


def test_encrypted_pdf_is_reported(corpus):
    make_pdf(corpus / "secret.pdf", ["Hidden text."], password="pw")
    with pytest.raises(AssistantError, match="(password|encrypted)"):
        load_document(corpus / "secret.pdf", root=corpus)


def test_scan_separates_unsupported_and_ignores_hidden(corpus):
    (corpus / "a.txt").write_text("a", encoding="utf-8")
    (corpus / "b.docx").write_bytes(b"x")
    (corpus / ".hidden.txt").write_text("h", encoding="utf-8")
    supported, unsupported = scan_corpus(corpus)
    assert [p.name for p in supported] == ["a.txt"]
    assert [p.name for p in unsupported] == ["b.docx"]


def test_missing_corpus_folder_says_what_to_do(tmp_path):
    with pytest.raises(AssistantError, match="does not exist"):
        scan_corpus(tmp_path / "nowhere")
