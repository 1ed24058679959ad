"""`assistant eval`: score a question set, `eval compare A B`, `eval regrade`, `eval checker`.

Thin over the library (``assistant.evaluation``): this module only parses options, shows
progress on stderr and prints. The run loop itself is ``EvaluationRun``, the same one the app's
Evaluation page uses.
"""

from __future__ import annotations

import json
import shlex
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from assistant.cli.common import (
    ModelOption,
    console,
    fail,
    interrupt_on_terminate,
    print_skipped,
    settings_from,
    sync_with_progress,
)
from assistant.config import Settings
from assistant.errors import AssistantError
from assistant.evaluation import (
    LABELS,
    EvaluationRun,
    compare_reports,
    load_questions,
    load_report,
    report_dir,
    scratch_index_dir,
    write_report,
)
from assistant.evaluation.regrade import regraded_report
from assistant.grounding import SupportChecker, agreement
from assistant.pipeline import Assistant

eval_app = typer.Typer(
    help="Score the assistant on a question set (see QUESTION-SET.md); `compare` two reports.",
    invoke_without_command=True,
    no_args_is_help=False,
    pretty_exceptions_enable=False,
)

OutOption = Annotated[
    Path | None,
    typer.Option("--out", help="Report folder (default: evaluation/reports/<timestamp>/)."),
]
AggregateJsonOption = Annotated[
    bool, typer.Option("--json", help="Print only the aggregate JSON object on stdout.")
]
INTERRUPTED = 130  # the shell's exit status for Ctrl-C


@eval_app.callback()
def run_eval(
    ctx: typer.Context,
    questions: Annotated[
        Path | None, typer.Option("--questions", help="Question set, JSON Lines.")
    ] = None,
    corpus: Annotated[
        Path | None,
        typer.Option("--corpus", help="Documents the questions are about (default: corpus/)."),
    ] = None,
    index: Annotated[
        Path | None,
        typer.Option(
            "--index",
            help="Index folder. Default: the usual index for the default corpus, "
            "indexes/<corpus name>-<hash>/ for another corpus.",
        ),
    ] = None,
    top_k: Annotated[
        int | None, typer.Option("--top-k", min=1, help="Passages given to the model (k).")
    ] = None,
    model: ModelOption = None,
    retrieval_only: Annotated[
        bool,
        typer.Option("--retrieval-only", help="Only retrieval metrics; never loads the model."),
    ] = False,
    limit: Annotated[
        int | None, typer.Option("--limit", min=1, help="Score only the first N questions.")
    ] = None,
    out: OutOption = None,
    skip_invalid: Annotated[
        bool,
        typer.Option("--skip-invalid", help="Score the valid lines of a file with bad lines."),
    ] = False,
    as_json: AggregateJsonOption = False,
) -> None:
    """Run a question set through the pipeline and write report.json, summary.md, chart.png."""
    if ctx.invoked_subcommand is not None:
        return
    if questions is None:
        console.print(ctx.get_help(), highlight=False)
        console.print("[bold red]Error:[/] pass --questions FILE (JSON Lines).", highlight=False)
        raise typer.Exit(code=2)
    options = dict(corpus=corpus, index=index, top_k=top_k, model=model, limit=limit, out=out)
    try:
        status = _run(
            questions,
            options,
            retrieval_only=retrieval_only,
            skip_invalid=skip_invalid,
            as_json=as_json,
            command=_command_line(questions, options, retrieval_only, skip_invalid, as_json),
        )
    except AssistantError as error:
        fail(error)
    if status:
        raise typer.Exit(code=status)


def _run(questions_path: Path, options: dict, **flags) -> int:
    questions, errors = load_questions(questions_path)
    if errors and not (flags["skip_invalid"] and questions):
        shown = "\n".join(f"  {error}" for error in errors[:20])
        more = f"\n  ... and {len(errors) - 20} more" if len(errors) > 20 else ""
        raise AssistantError(
            f"The question file {questions_path} has {len(errors)} malformed line(s):\n"
            f"{shown}{more}\nFix them (format: QUESTION-SET.md), or pass --skip-invalid to "
            "score the valid lines."
        )
    for error in errors:
        console.print(f"[yellow]Skipped[/] {questions_path} {error}", highlight=False)
    questions = questions[: options["limit"]] if options["limit"] else questions

    corpus = options["corpus"] or Settings().index.corpus_dir
    index = _index_for(corpus, options["index"])
    assistant = Assistant(
        settings_from(
            corpus_dir=corpus, index_dir=index, model_path=options["model"], top_k=options["top_k"]
        )
    )
    print_skipped(sync_with_progress(assistant, quiet=flags["as_json"]))
    run = EvaluationRun(
        questions,
        assistant=assistant,
        retrieval_only=flags["retrieval_only"],
        questions_file=questions_path,
        command=flags["command"],
        skipped_lines=errors,
    )
    partial = _score(run, as_json=flags["as_json"])
    folder = options["out"] or report_dir()
    report, paths = run.write(folder, partial=partial)
    if flags["as_json"]:
        print(json.dumps(report["aggregate"], ensure_ascii=False))
    else:
        Console(soft_wrap=True).print(paths["summary"].read_text(encoding="utf-8"), markup=False)
        console.print(f"Report written to {folder}/ (report.json, summary.md, chart.png)")
    return INTERRUPTED if partial else 0


def _index_for(corpus: Path, index: Path | None) -> Path | None:
    """The index folder given, else the default one for the default corpus (None) or the
    scratch folder of another corpus."""
    base = Settings().index
    if index is None and corpus.resolve() != base.corpus_dir.resolve():
        return scratch_index_dir(corpus, base.index_dir)
    return index


def _score(run: EvaluationRun, *, as_json: bool) -> bool:
    """Score the questions in order with a progress bar; True when stopped (Ctrl-C, kill)."""
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn())
    live = console.is_terminal and not as_json
    with Progress(
        *columns, TimeElapsedColumn(), console=console, transient=True, disable=not live
    ) as bar:
        task = bar.add_task("Question 1", total=len(run.questions))
        try:
            with interrupt_on_terminate():
                for result in run:
                    line = run.progress_line(result)
                    bar.update(task, advance=1, description=line)
                    if not live:  # a log (stderr; stdout stays JSON-only) gets one line a question
                        console.print(line, highlight=False, markup=False)
        except KeyboardInterrupt:
            console.print(
                f"[yellow]Interrupted[/]: writing a partial report of {len(run.records)} of "
                f"{len(run.questions)} questions.",
                highlight=False,
            )
            return True
    return False


def _command_line(questions: Path, options: dict, retrieval_only, skip_invalid, as_json) -> str:
    """The command as a user would retype it, for the report."""
    parts = ["assistant", "eval", "--questions", str(questions)]
    for name, value in options.items():
        if value is not None:
            parts += [f"--{name.replace('_', '-')}", str(value)]
    flags = {"--retrieval-only": retrieval_only, "--skip-invalid": skip_invalid, "--json": as_json}
    parts += [flag for flag, on in flags.items() if on]
    return shlex.join(parts)


@eval_app.command()
def compare(
    report_a: Annotated[Path, typer.Argument(help="The baseline report.json (or its folder).")],
    report_b: Annotated[Path, typer.Argument(help="The new report.json (or its folder).")],
    resamples: Annotated[int, typer.Option("--resamples", min=100)] = 1000,
    seed: Annotated[int, typer.Option("--seed")] = 0,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
) -> None:
    """B - A per metric with a paired bootstrap 95% interval, and the questions that flipped."""
    try:
        a, b = load_report(report_a), load_report(report_b)
    except AssistantError as error:
        fail(error)
    result = compare_reports(a, b, resamples=resamples, seed=seed)
    result = {"a": str(report_a), "b": str(report_b), **result}
    if as_json:
        print(json.dumps(result, ensure_ascii=False))
        return
    _print_comparison(result, a, b)


@eval_app.command()
def regrade(
    report_path: Annotated[Path, typer.Argument(help="A report.json (or its folder) to re-judge.")],
    corpus: Annotated[
        Path | None,
        typer.Option("--corpus", help="The run's documents (default: the one the report names)."),
    ] = None,
    index: Annotated[
        Path | None,
        typer.Option("--index", help="Index folder (default: the one `eval` uses for the corpus)."),
    ] = None,
    out: OutOption = None,
    as_json: AggregateJsonOption = False,
) -> None:
    """Re-judge a run's recorded answers with today's checker and refusal, without the model.

    Replays each recorded draft through the pipeline's verification and refusal decision and
    scores it again; compare the result with `eval compare`. Changes to the prompt, retrieval
    or the model need a real run. Record with ASSISTANT_REFUSAL=off so every question has a draft.
    """
    try:
        old = load_report(report_path)
        run = old["run"]
        corpus = corpus or Path(run["corpus"])
        index = _index_for(corpus, index)
        settings = settings_from(corpus_dir=corpus, index_dir=index, top_k=run["k"])
        assistant = Assistant(settings)
        print_skipped(sync_with_progress(assistant, quiet=as_json))
        command = shlex.join(["assistant", "eval", "regrade", str(report_path)])
        report = regraded_report(old, assistant, command=command)
    except AssistantError as error:
        fail(error)
    folder = out or report_dir()
    paths = write_report(report, folder)
    if as_json:
        print(json.dumps(report["aggregate"], ensure_ascii=False))
        return
    Console(soft_wrap=True).print(paths["summary"].read_text(encoding="utf-8"), markup=False)
    console.print(f"Regraded report written to {folder}/ (compare: assistant eval compare)")


@eval_app.command()
def checker(
    labels: Annotated[
        Path, typer.Option("--labels", help="Hand-labelled (sentence, passage) pairs, JSONL.")
    ] = Path("evaluation/support_labels.jsonl"),
    questions: Annotated[
        Path,
        typer.Option("--questions", help="The question set the labels' question_id refer to."),
    ] = Path("evaluation/questions.jsonl"),
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
) -> None:
    """Agreement (accuracy, Cohen's kappa) of the support checker with hand labels.

    Each pair is judged with its question (the rule the answers are checked with) and without
    it (the question-free part of the rule); both agreements are reported.
    """
    try:
        rows = _jsonl(labels)
        asked = {row["id"]: row["question"] for row in _jsonl(questions)} if questions else {}
        assistant = Assistant(Settings())
        assistant.sync()  # key terms are weighted by the default corpus
        support = SupportChecker(assistant.embedder, key_terms=assistant.key_terms)
    except (OSError, ValueError, KeyError) as error:
        fail(AssistantError(f"Cannot read the labels {labels} or questions {questions} ({error})."))
    except AssistantError as error:
        fail(error)
    with_questions = [
        {**row, "question": row.get("question") or asked.get(row.get("question_id"))}
        for row in rows
    ]
    without = [
        {k: v for k, v in row.items() if k not in ("question", "on_question")} for row in rows
    ]
    off_question = [row for row in with_questions if "on_question" in row]
    result = {
        "checker": support.name,
        **support.thresholds(),
        **agreement(support, with_questions),
        "without_questions": agreement(support, without),
        "relevance_labelled": agreement(support, off_question),
    }
    if as_json:
        print(json.dumps(result))
        return
    console.print(support.describe(), highlight=False)
    for label, scores in (
        ("with their questions", result),
        ("without (support only)", result["without_questions"]),
        ("labelled for relevance too, with their questions", result["relevance_labelled"]),
    ):
        print(
            f"{scores['pairs']} labelled pairs ({scores['supported']} supported), {label}: "
            f"accuracy {scores['accuracy']:.3f}, Cohen's kappa {scores['kappa']:.3f}; checker "
            f"said supported for {scores['false_supported']} unsupported pairs and unsupported "
            f"for {scores['false_unsupported']} supported pairs."
        )


def _jsonl(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]


def _print_comparison(result: dict, a: dict, b: dict) -> None:
    out = Console(soft_wrap=True)
    for name, report in (("A", a), ("B", b)):
        run = report["run"]
        mode = "retrieval only" if run["retrieval_only"] else run["model"]
        out.print(
            f"{name}: {run['questions_file']}, k={run['k']}, {mode}, "
            f"{report['aggregate']['questions']} questions"
            + (" (PARTIAL)" if run["partial"] else ""),
            highlight=False,
            markup=False,
        )
    out.print(
        f"{result['shared']} shared questions ({result['only_a']} only in A, "
        f"{result['only_b']} only in B); paired bootstrap, {result['resamples']} resamples, "
        f"seed {result['seed']}.",
        highlight=False,
    )
    table = Table("metric", "A", "B", "B - A", "95% interval", "n")
    for key, row in result["metrics"].items():
        if row["diff"] is None:
            table.add_row(LABELS.get(key, key), "n/a", "n/a", "", "", "0")
            continue
        low, high = row["ci95"]
        mark = " *" if low > 0 or high < 0 else ""
        table.add_row(
            LABELS.get(key, key),
            f"{row['a']:.3f}",
            f"{row['b']:.3f}",
            f"{row['diff']:+.3f}{mark}",
            f"[{low:+.3f}, {high:+.3f}]",
            str(row["n"]),
        )
    out.print(table)
    out.print("* the interval excludes 0", highlight=False)
    if not result["flipped"]:
        out.print("No question changed its failure labels.")
        return
    out.print(f"\n[bold]{len(result['flipped'])} questions flipped[/]")
    for flip in result["flipped"]:
        change = "; ".join(
            part
            for part in (
                f"fixed {', '.join(flip['fixed'])}" if flip["fixed"] else "",
                f"now {', '.join(flip['broke'])}" if flip["broke"] else "",
            )
            if part
        )
        question = " ".join(flip["question"].split())
        out.print(f"  {flip['id']}: {change} — {question}", highlight=False, markup=False)
