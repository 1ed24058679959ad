"""The top-level commands: `index`, `ask` and `chat` (and the `eval` group from evaluate.py)."""

from __future__ import annotations

import ipaddress
import json
import os
import sys
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape

from assistant.answer import Answer
from assistant.api import create_app
from assistant.cli.common import (
    CorpusOption,
    IndexOption,
    JsonOption,
    ModelOption,
    console,
    fail,
    print_skipped,
    settings_from,
    sync_with_progress,
)
from assistant.cli.evaluate import eval_app
from assistant.conversation import Conversation
from assistant.errors import AssistantError
from assistant.pipeline import Assistant

app = typer.Typer(
    help="Private, local question answering over your documents, with cited passages.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
app.add_typer(eval_app, name="eval")

TopKOption = Annotated[int | None, typer.Option("--top-k", min=1, help="Passages shown.")]
EXIT_WORDS = {"exit", "quit", ":q"}
API_KEY_VARIABLE = "ASSISTANT_API_KEY"


@app.command()
def index(
    corpus: CorpusOption = None,
    index: IndexOption = None,
    rebuild: Annotated[bool, typer.Option("--rebuild", help="Re-embed every file.")] = False,
    as_json: JsonOption = False,
) -> None:
    """Sync the index with the corpus: embed new or changed files, drop deleted ones."""
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
    model: ModelOption = None,
    top_k: TopKOption = None,
    as_json: JsonOption = False,
) -> None:
    """Answer a question from the documents, streaming the answer, then list its sources."""
    try:
        assistant = ready_assistant(corpus, index, model, top_k, quiet=as_json)
        stream = assistant.ask(question)
        for piece in stream:
            if not as_json:
                sys.stdout.write(piece)
                sys.stdout.flush()
    except AssistantError as error:
        fail(error)
    if as_json:
        print(json.dumps(stream.answer.to_dict(), ensure_ascii=False))
        return
    print_answer(stream.answer)


@app.command()
def chat(
    corpus: CorpusOption = None,
    index: IndexOption = None,
    model: ModelOption = None,
    top_k: TopKOption = None,
) -> None:
    """Hold a conversation: follow-up questions are read against the ones before them.

    Type a question after the prompt; an empty line is ignored, and `exit` or Ctrl-D ends.
    """
    try:
        assistant = ready_assistant(corpus, index, model, top_k, quiet=False)
    except AssistantError as error:
        fail(error)
    conversation = Conversation()
    console.print("Ask about your documents; follow-ups work too. `exit` or Ctrl-D ends.")
    while True:
        try:
            question = input("\n> ")
        except (EOFError, KeyboardInterrupt):
            break
        if question.strip().lower() in EXIT_WORDS:
            break
        if question.strip():
            chat_turn(conversation, question, assistant)


@app.command()
def serve(
    host: Annotated[str, typer.Option("--host", help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", min=1, max=65535)] = 8000,
    queue: Annotated[
        int, typer.Option("--queue", min=0, help="Requests that may wait for the model.")
    ] = 8,
    corpus: CorpusOption = None,
    index: IndexOption = None,
    model: ModelOption = None,
) -> None:
    """Serve the assistant as an OpenAI-compatible HTTP API (key: ASSISTANT_API_KEY).

    POST /v1/chat/completions (streaming or not), GET /v1/models, POST /v1/search,
    GET /v1/index, POST /v1/index/sync and GET /health.
    """
    import uvicorn

    api_key = os.environ.get(API_KEY_VARIABLE) or None
    try:
        if api_key is None and not _is_loopback(host):
            raise AssistantError(
                f"Refusing to serve on {host} without an API key: anyone who can reach it could "
                f"read your documents. Set {API_KEY_VARIABLE}, or serve on 127.0.0.1."
            )
        assistant = ready_assistant(corpus, index, model, None, quiet=False)
        generator = assistant.generator  # loaded before the first request, not inside it
    except AssistantError as error:
        fail(error)
    console.print(
        f"Serving {generator.name} ({generator.backend}) on http://{host}:{port}/v1 "
        f"({'API key required' if api_key else 'no API key: this machine only'}).",
        highlight=False,
    )
    uvicorn.run(create_app(assistant, api_key=api_key, max_waiting=queue), host=host, port=port)


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def chat_turn(conversation: Conversation, question: str, assistant: Assistant) -> None:
    """One exchange of `chat`: the reading of a follow-up, the streamed answer, its sources."""
    try:
        stream = conversation.ask(question, assistant=assistant)
        rewrite = conversation.turns[-1].rewrite
        if rewrite is not None and rewrite.rewritten:
            by = "the model" if rewrite.method == "model" else "a rule"
            console.print(f"(read as: {escape(rewrite.standalone)}, by {by})", highlight=False)
        for piece in stream:
            sys.stdout.write(piece)
            sys.stdout.flush()
    except AssistantError as error:
        conversation.turns[-1].error = str(error)
        console.print(f"[bold red]Error:[/] {escape(str(error))}", highlight=False)
        return
    print_answer(stream.answer)


def ready_assistant(corpus, index, model, top_k, *, quiet: bool) -> Assistant:
    """An assistant over an index synced with the corpus (skipped files reported)."""
    assistant = Assistant(
        settings_from(corpus_dir=corpus, index_dir=index, model_path=model, top_k=top_k)
    )
    report = sync_with_progress(assistant, quiet=quiet)
    if not quiet:
        print_skipped(report)
    return assistant


def print_answer(answer: Answer) -> None:
    """After the streamed draft: the verified answer where it differs, then the sources."""
    out = Console(soft_wrap=True)
    sys.stdout.write("\n")
    if answer.draft and answer.text.strip() != answer.draft.strip():
        reason = answer.refusal_reason
        if reason is None:
            label = "After checking each sentence against its passages:"
        elif reason.rejects_draft:
            label = f"Refused, because {reason.explanation}:"
        else:
            label = ""
        out.print(f"\n[bold]{label}[/]" if label else "", highlight=False)
        print(answer.text)
    print_sources(answer, out)


def print_sources(answer: Answer, out: Console) -> None:
    title = "Closest passages (the answer is not in them)" if answer.refused else "Sources"
    out.print(f"\n[bold]{title}[/]", highlight=False)
    for citation in answer.citations:
        hit = citation.hit
        excerpt = " ".join(hit.chunk.text.split())
        excerpt = excerpt if len(excerpt) <= 240 else excerpt[:237] + "..."
        check = {True: "verified", False: "not verified", None: ""}[citation.verified]
        where = f"  [{citation.marker}] {hit.chunk.label()}  (similarity {hit.score:.2f}) {check}"
        out.print(where.rstrip(), highlight=False, markup=False)
        out.print(f'      "{excerpt}"', highlight=False, markup=False)
    if not answer.citations:
        out.print("  (the answer cites no passage)", highlight=False)
    for sentence in answer.unsupported:
        out.print(
            f"[yellow]Left out (not backed, or off the question):[/] {escape(sentence)}",
            highlight=False,
        )
    out.print(f"\n[dim]{answer.timings.describe()}[/]", highlight=False)
