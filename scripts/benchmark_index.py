"""Benchmark the index at scale: build, re-sync, load, query and memory on a synthetic corpus.

Documents of about 25 KB of English-like text (a Zipf-distributed vocabulary, so BM25 and the
vectors see realistic term statistics) are written to a temporary corpus until it holds about
the asked number of chunks. With the hashing embedder (the default here, with the real one's
384 dimensions) embedding costs nothing and only the store and the search are measured;
``--embedder default`` uses the real one. Loading and querying run in a fresh process, so
their peak memory is what serving costs.

    .venv/bin/python scripts/benchmark_index.py --chunks 10000 [--embedder hashing-384]
    .venv/bin/python scripts/benchmark_index.py --chunks 1000000 --workdir /tmp/bench-1m

With ``--workdir`` the corpus (and, with ``--reuse-index``, the index) is kept for the next
run, since writing a million chunks of text takes minutes. A large run can be split in two:
``--build-only`` writes the corpus and builds the index, a later ``--reuse-index`` run measures
the re-syncs and serving on it.
"""

from __future__ import annotations

import argparse
import itertools
import json
import random
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from assistant import Assistant, Settings

CHUNKS_PER_DOCUMENT = 39  # a 25 KB document in 128-word-piece chunks (measured)
VOCABULARY = 20_000


def words(seed: int) -> list[str]:
    chance = random.Random(seed)
    syllables = ["ka", "lo", "mi", "ra", "te", "su", "no", "vi", "de", "po", "an", "el", "or"]
    return ["".join(chance.choices(syllables, k=chance.randint(1, 4))) for _ in range(VOCABULARY)]


def write_corpus(folder: Path, documents: int, vocabulary: list[str]) -> None:
    chance = random.Random(1)
    weights = list(itertools.accumulate(1 / (rank + 1) for rank in range(len(vocabulary))))
    for number in range(documents):
        paragraphs = []
        while sum(len(p) for p in paragraphs) < 25_000:
            sentence_words = chance.choices(
                vocabulary, cum_weights=weights, k=chance.randint(8, 24)
            )
            paragraphs.append(" ".join(sentence_words).capitalize() + ".")
        text = "\n\n".join(" ".join(paragraphs[i : i + 5]) for i in range(0, len(paragraphs), 5))
        (folder / f"doc-{number:06d}.txt").write_text(text, encoding="utf-8")


def measure_serving(settings_json: str, queries: list[str]) -> dict:
    """In a fresh process: load time, query latency percentiles and peak memory; then the
    dense index's recall@10 against exact search (after the peak is taken)."""
    settings = Settings.model_validate_json(settings_json)
    assistant = Assistant(settings)
    _ = assistant.embedder
    started = time.perf_counter()
    retriever = assistant.retriever
    load_s = time.perf_counter() - started
    timings = []
    for query in queries:
        _, milliseconds = retriever.retrieve(query, settings.retrieval.top_k)
        timings.append(milliseconds)
    timings.sort()
    serving = {
        "load_s": load_s,
        "p50_ms": statistics.median(timings),
        "p95_ms": timings[int(0.95 * (len(timings) - 1))],
        "peak_mb": peak_mb(),
        "dense": assistant.index.dense_kind,
    }
    serving["recall"] = assistant.index.dense_recall(assistant.embedder.embed(queries[:100]))
    return serving


def note(stage: str) -> None:
    print(f"{time.strftime('%H:%M:%S')} {stage}", file=sys.stderr, flush=True)


def peak_mb() -> float:
    """This process's peak resident memory. ``ru_maxrss`` is not used: Linux carries it over
    from the parent into a child process, while VmHWM starts afresh with the new program."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def folder_mb(folder: Path) -> float:
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file()) / 1024 / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--chunks", type=int, default=10_000, help="about this many chunks")
    parser.add_argument(
        "--embedder",
        default="hashing-384",
        help="'hashing-384' (no embedding cost, the real embedder's dimension) or 'default'",
    )
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--workdir", help="keep the corpus and index here (reused next time)")
    parser.add_argument(
        "--reuse-index", action="store_true", help="with --workdir: sync, do not rebuild"
    )
    parser.add_argument(
        "--build-only", action="store_true", help="with --workdir: stop after the build"
    )
    parser.add_argument("--serve", help=argparse.SUPPRESS)  # internal: the serving process
    args = parser.parse_args()
    vocabulary = words(0)
    chance = random.Random(2)
    queries = [" ".join(chance.choices(vocabulary[:5000], k=6)) for _ in range(args.queries)]
    if args.serve:
        print(json.dumps(measure_serving(args.serve, queries)))
        return
    with tempfile.TemporaryDirectory() as temporary:
        root = Path(args.workdir or temporary)
        documents = max(1, args.chunks // CHUNKS_PER_DOCUMENT)
        if not (root / "corpus" / f"doc-{documents - 1:06d}.txt").exists():
            note(f"writing {documents} documents")
            (root / "corpus").mkdir(parents=True, exist_ok=True)
            write_corpus(root / "corpus", documents, vocabulary)
        settings = Settings().with_overrides(
            corpus_dir=root / "corpus", index_dir=root / "index", embedder=args.embedder
        )
        assistant = Assistant(settings)
        _ = assistant.embedder
        note("building")
        build = assistant.sync(rebuild=not args.reuse_index)
        if args.build_only:
            print(
                f"built {build.documents} documents / {build.chunks} chunks in "
                f"{build.seconds:.1f} s, peak memory {peak_mb():.0f} MB, "
                f"{folder_mb(root / 'index'):.0f} MB on disk"
            )
            return
        note("re-syncing")
        unchanged = assistant.sync()
        changed_file = root / "corpus" / "doc-000000.txt"
        changed_file.write_text(changed_file.read_text() + "\n\nOne more paragraph.")
        one_changed = assistant.sync()
        build_peak = peak_mb()
        note("serving")
        command = [sys.executable, __file__, "--queries", str(args.queries)]
        command += ["--serve", settings.model_dump_json()]
        serving = json.loads(subprocess.run(command, capture_output=True, check=True).stdout)
        p95 = serving["p95_ms"]
        build_time = "(reused)" if args.reuse_index else f"{build.seconds:.1f} s"
        rows = [
            ("documents / chunks", f"{build.documents} / {build.chunks}"),
            ("build", build_time),
            ("re-sync, one document changed", f"{one_changed.seconds:.2f} s"),
            ("re-sync, nothing changed", f"{unchanged.seconds:.2f} s"),
            ("index size on disk", f"{folder_mb(root / 'index'):.0f} MB"),
            ("load (fresh process)", f"{serving['load_s']:.2f} s"),
            ("query p50 / p95 (retrieval only)", f"{serving['p50_ms']:.0f} / {p95:.0f} ms"),
            ("peak memory: build / serving", f"{build_peak:.0f} / {serving['peak_mb']:.0f} MB"),
            ("dense index", serving["dense"]),
            ("dense recall@10 against exact search", f"{serving['recall']:.3f}"),
        ]
        print(f"index benchmark, embedder {args.embedder}")
        for label, value in rows:
            print(f"  {label:36s} {value}")


if __name__ == "__main__":
    main()
