"""Command line: thin commands over the library, rich output for people, --json for scripts."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from assistant.config import Settings
from assistant.errors import AssistantError
from assistant.eval_cli import eval_app

app = typer.Typer(
    help="Private, local question answering over your documents, with cited passages.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
console = Console(stderr=True, soft_wrap=True)
app.add_typer(eval_app, name="eval")

CorpusOption = Annotated[Path | None, typer.Option("--corpus", help="Folder of documents.")]
IndexOption = Annotated[Path | None, typer.Option("--index", help="Index folder.")]
JsonOption = Annotated[bool, typer.Option("--json", help="Print one JSON object on stdout.")]


def settings_from(**overrides) -> Settings:
    return Settings().with_overrides(**overrides)


def fail(error: AssistantError) -> None:
    console.print(f"[bold red]Error:[/] {error}", highlight=False)
    raise typer.Exit(code=1)


def sync_with_progress(assistant, *, rebuild: bool = False, quiet: bool = False):
    """Run a sync, showing a progress bar on stderr unless quiet."""
    if quiet:
        return assistant.sync(rebuild=rebuild)
    columns = (
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
    )
    with Progress(*columns, console=console, transient=True) as bar:
        tasks: dict[str, int] = {}

        def progress(stage: str, done: int, total: int, detail: str) -> None:
            if stage not in tasks:
                tasks[stage] = bar.add_task(stage.capitalize(), total=total)
            bar.update(
                tasks[stage],
                completed=done,
                total=total,
                description=f"{stage.capitalize()} {detail}".strip(),
            )

        return assistant.sync(rebuild=rebuild, progress=progress)


def print_skipped(report) -> None:
    for skipped in report.skipped:
        console.print(f"[yellow]Skipped[/] {skipped['reason']}", highlight=False)


@app.command()
def index(
    corpus: CorpusOption = None,
    index: IndexOption = None,
    rebuild: Annotated[bool, typer.Option("--rebuild", help="Re-embed every file.")] = False,
    as_json: JsonOption = False,
) -> None:
    """Sync the index with the corpus: embed new or changed files, drop deleted ones."""
    from assistant.pipeline import Assistant

    try:
        assistant = Assistant(settings_from(corpus_dir=corpus, index_dir=index))
        report = sync_with_progress(assistant, rebuild=rebuild, quiet=as_json)
    except AssistantError as error:
        fail(error)
    if as_json:
        print(json.dumps(report.to_dict(), ensure_ascii=False))
        return
    print_skipped(report)
    state = "written" if report.written else "already up to date"
    console.print(
        f"Index {state}: {report.documents} documents, {report.chunks} chunks, "
        f"{report.embedded} embedded, {report.removed} removed in {report.seconds:.1f} s.",
        highlight=False,
    )


@app.command()
def ask(
    question: Annotated[str, typer.Argument(help="Your question about the documents.")],
    corpus: CorpusOption = None,
    index: IndexOption = None,
    model: Annotated[Path | None, typer.Option("--model", help="A GGUF model file.")] = None,
    top_k: Annotated[int | None, typer.Option("--top-k", min=1, help="Passages shown.")] = None,
    as_json: JsonOption = False,
) -> None:
    """Answer a question from the documents, streaming the answer, then list its sources."""
    from assistant.pipeline import Assistant

    try:
        assistant = Assistant(
            settings_from(corpus_dir=corpus, index_dir=index, model_path=model, top_k=top_k)
        )
        report = sync_with_progress(assistant, quiet=as_json)
        if not as_json:
            print_skipped(report)
        stream = assistant.ask(question)
        for piece in stream:
            if not as_json:
                sys.stdout.write(piece)
                sys.stdout.flush()
    except AssistantError as error:
        fail(error)
    answer = stream.answer
    if as_json:
        print(json.dumps(answer.to_dict(), ensure_ascii=False))
        return
    sys.stdout.write("\n")
    if answer.draft and answer.text.strip() != answer.draft.strip():
        label = {
            "unsupported": "No sentence of this draft is backed by a passage, so:",
            "no-answer": "This draft does not give the kind of answer the question asks for, so:",
            "model": "",
            None: "After checking each sentence against its passages:",
        }[answer.refusal_reason]
        Console().print(f"\n[bold]{label}[/]" if label else "", highlight=False)
        print(answer.text)
    print_sources(answer)


def print_sources(answer) -> None:
    out = Console()
    title = "Closest passages (the answer is not in them)" if answer.refused else "Sources"
    out.print(f"\n[bold]{title}[/]", highlight=False)
    for citation in answer.citations:
        excerpt = " ".join(citation.text.split())
        excerpt = excerpt if len(excerpt) <= 240 else excerpt[:237] + "..."
        check = {True: "verified", False: "not verified", None: ""}[citation.verified]
        where = (
            f"  [{citation.marker}] {_where(citation)}  (similarity {citation.score:.2f}) {check}"
        )
        out.print(where.rstrip(), highlight=False, markup=False)
        out.print(f'      "{excerpt}"', highlight=False, markup=False)
    if not answer.citations:
        out.print("  (the answer cites no passage)", highlight=False)
    for sentence in answer.unsupported:
        out.print(f"[yellow]Unsupported:[/] {escape(sentence)}", highlight=False)
    t = answer.timings
    ttft = f"{t.ttft_s:.1f} s" if t.ttft_s is not None else "-"
    out.print(
        f"\n[dim]retrieval {t.retrieval_ms:.0f} ms, first token {ttft}, total {t.total_s:.1f} s, "
        f"prompt {t.prompt_tokens} tokens, answer {t.completion_tokens} tokens[/]",
        highlight=False,
    )


def _where(item) -> str:
    place = item.document
    if item.page is not None:
        place += f", page {item.page}"
    if item.heading:
        place += f" — {item.heading}"
    return place


def main() -> None:  # pragma: no cover - console script entry
    app()
