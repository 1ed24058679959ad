import os

import pytest

from assistant.chunking import chunk_document
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
        ("random.txt", bytes(range(128, 256)) * 4, "not text in any encoding"),
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
    (corpus / "b.xlsx").write_bytes(b"x")
    (corpus / ".hidden.txt").write_text("h", encoding="utf-8")
    scan = scan_corpus(corpus)
    assert [p.name for p in scan.files] == ["a.txt"]
    assert [p.name for p in scan.unsupported] == ["b.xlsx"]


def test_missing_corpus_folder_says_what_to_do(tmp_path):
    with pytest.raises(AssistantError, match="does not exist"):
        scan_corpus(tmp_path / "nowhere")


@pytest.mark.parametrize(
    ("name", "content", "expected"),
    [
        ("latin1.txt", "Caf\u00e9 au lait, cr\u00e8me br\u00fbl\u00e9e.".encode("latin-1"), "Café"),
        (
            "cp1252.txt",
            "Prices rose 5 \u20ac \u2013 \u201cquickly\u201d.".encode("cp1252"),
            "Prices rose 5 € –",
        ),
        ("utf16.txt", "na\u00efve r\u00e9sum\u00e9\r\nsecond line".encode("utf-16"), "naïve"),
        ("utf8bom.md", "\ufeff# Title\n\nBody".encode("utf-8"), "# Title"),
        ("cyrillic.txt", "Открытые модели можно запускать локально.".encode("cp1251"), "Открытые"),
    ],
)
def test_text_in_other_encodings_is_read(corpus, name, content, expected):
    (corpus / name).write_bytes(content)
    text = load_document(corpus / name, root=corpus).text
    assert text.startswith(expected) and "\r" not in text and "\ufeff" not in text


def test_links_out_of_the_corpus_are_never_followed(corpus, tmp_path):
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.txt").write_text("Secret outside text.", encoding="utf-8")
    (corpus / "inside.txt").write_text("Inside text.", encoding="utf-8")
    (corpus / "to-secret.txt").symlink_to(outside / "secret.txt")
    (corpus / "to-passwd.txt").symlink_to("/etc/passwd")
    (corpus / "outside-folder").symlink_to(outside, target_is_directory=True)
    (corpus / "alias.txt").symlink_to(corpus / "inside.txt")
    (corpus / "dangling.txt").symlink_to(tmp_path / "gone.txt")
    scan = scan_corpus(corpus)
    assert [p.name for p in scan.files] == ["alias.txt", "inside.txt"]
    reasons = {item["document"]: item["reason"] for item in scan.skipped}
    assert set(reasons) == {"to-secret.txt", "to-passwd.txt", "outside-folder", "dangling.txt"}
    assert "outside the corpus folder" in reasons["to-passwd.txt"]
    assert "folder outside the corpus" in reasons["outside-folder"]
    assert "does not exist" in reasons["dangling.txt"]


def test_a_file_name_that_is_not_utf8_is_skipped_with_a_readable_message(corpus):
    (corpus / "good.txt").write_text("Good.", encoding="utf-8")
    with open(os.path.join(os.fsencode(corpus), b"caf\xe9.txt"), "wb") as handle:
        handle.write(b"Latin-1 name.")
    scan = scan_corpus(corpus)
    assert [p.name for p in scan.files] == ["good.txt"]
    assert (
        scan.skipped[0]["reason"]
        == "caf\ufffd.txt: the file name is not valid UTF-8; rename the file."
    )


PAGE = b"""<!doctype html><html><head><meta charset="windows-1252"><title>Open models</title>
<script>var tracking = "do not index";</script><style>p {color: red}</style></head>
<body><nav><a href="/">Home</a> | <a href="/about">About</a></nav>
<header>Site banner</header>
<main><h1>Open models</h1><p>Open weights can be <b>inspected</b> and run
locally \x96 even offline.</p><h2>Costs</h2><ul><li>No API fees</li><li>Own hardware</li></ul>
<table><tr><th>Model</th><th>Licence</th></tr><tr><td>Mistral 7B</td><td>Apache 2.0</td></tr>
</table></main><footer>Copyright footer</footer></body></html>"""


def test_a_saved_web_page_is_read_as_its_main_text_with_headings(corpus):
    (corpus / "page.html").write_bytes(PAGE)
    document = load_document(corpus / "page.html", root=corpus)
    assert document.text == (
        "# Open models\n\nOpen weights can be inspected and run locally \u2013 even offline."
        "\n\n## Costs\n\n- No API fees\n\n- Own hardware\n\nModel | Licence\n"
        "Mistral 7B | Apache 2.0"
    )
    chunks = chunk_document(document, count_tokens=lambda t: len(t.split()), max_tokens=16)
    assert {chunk.heading for chunk in chunks} == {"Open models", "Costs"}


def make_docx(path, *, heading="Licences", table=(("Model", "Licence"), ("Llama 2", "custom"))):
    from docx import Document as WordDocument

    word = WordDocument()
    word.add_heading("Open and closed", level=1)
    word.add_paragraph("Open models publish their weights.")
    word.add_heading(heading, level=2)
    word.add_paragraph("Permissive licences allow reuse.", style="List Bullet")
    grid = word.add_table(rows=len(table), cols=len(table[0]))
    for row, cells in zip(grid.rows, table, strict=True):
        for cell, text in zip(row.cells, cells, strict=True):
            cell.text = text
    word.save(str(path))
    return path


def test_a_word_file_keeps_headings_paragraphs_lists_and_tables(corpus):
    make_docx(corpus / "report.docx")
    document = load_document(corpus / "report.docx", root=corpus)
    assert document.text == (
        "# Open and closed\n\nOpen models publish their weights.\n\n## Licences\n\n"
        "- Permissive licences allow reuse.\n\nModel | Licence\nLlama 2 | custom"
    )
    assert document.pages[0].number is None


@pytest.mark.parametrize("content", [b"PK\x03\x04 not a zip", b"plain text, not a docx"])
def test_a_damaged_word_file_is_named_with_the_fix(corpus, content):
    (corpus / "broken.docx").write_bytes(content)
    with pytest.raises(AssistantError, match="broken.docx: the Word file is damaged"):
        load_document(corpus / "broken.docx", root=corpus)
