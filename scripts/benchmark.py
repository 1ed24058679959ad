"""Speed and memory of the default pipeline on this machine, printed as numbers.

    .venv/bin/python scripts/benchmark.py [--questions 3]

Builds the index of corpus/ from scratch in a temporary folder, syncs it again (nothing should
be embedded), then asks a few questions with the default model and prints time to first token,
total time, tokens/s and prompt size for each, and the process's peak memory. Timings on a
shared machine are noisy: run it when the machine is idle and read the medians.
"""

from __future__ import annotations

import argparse
import resource
import statistics
import tempfile
import time
from pathlib import Path

from assistant import Assistant, Settings

QUESTIONS = [
    "What did Capital Fund Management use Hugging Face Inference Endpoints for?",
    "In what year did Google open-source TensorFlow?",
    "According to the battle article, which companies keep their most advanced models proprietary?",
    "How much faster than Nvidia A100 GPUs did the Habana Gaudi2 HPUs benchmark?",
    "When was Mistral AI founded?",
]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--questions", type=int, default=3, help="how many questions to ask")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        assistant = Assistant(Settings().with_overrides(index_dir=Path(folder) / "index"))
        started = time.perf_counter()
        assistant.embedder  # noqa: B018 - load it outside the build timing
        print(f"embedder load      {time.perf_counter() - started:6.2f} s")
        build = assistant.sync(rebuild=True)
        print(
            f"index build        {build.seconds:6.2f} s  ({build.documents} documents, "
            f"{build.chunks} chunks embedded)"
        )
        again = assistant.sync()
        print(f"index resync       {again.seconds:6.2f} s  ({again.embedded} embedded)")
        started = time.perf_counter()
        assistant.generator.count_tokens("warm up")
        print(f"model load         {time.perf_counter() - started:6.2f} s")
        ttfts, totals = [], []
        for question in QUESTIONS[: args.questions]:
            answer = assistant.ask(question).run()
            t = answer.timings
            rate = f"{t.tokens_per_s:5.1f}" if t.tokens_per_s else "  -  "
            ttft = f"{t.ttft_s:5.2f}" if t.ttft_s is not None else "  -  "
            print(
                f"ask  ttft {ttft} s  total {t.total_s:5.2f} s  {rate} tok/s  "
                f"prompt {t.prompt_tokens:4d}  retrieval {t.retrieval_ms:5.1f} ms  "
                f"{'refused' if answer.refused else 'answered'}: {question[:50]}"
            )
            if t.ttft_s is not None:
                ttfts.append(t.ttft_s)
            totals.append(t.total_s)
        if ttfts:
            print(f"median ttft        {statistics.median(ttfts):6.2f} s")
        print(f"median total       {statistics.median(totals):6.2f} s")
    peak_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak memory (RSS)  {peak_mib:6.0f} MiB")


if __name__ == "__main__":
    main()
