"""Benchmark the paths past one machine: the model behind an HTTP server, and `assistant serve`.

1. The same questions answered in process (llama.cpp) and through llama-cpp-python's
   OpenAI-compatible server on a loopback port: time to first token, tokens/s, and what the
   HTTP path adds.
2. `assistant serve` under 1, 4 and 16 concurrent `openai` clients: throughput, latency
   percentiles, failures and incomplete answers.

Run on an idle machine (two processes loading the model on 2 cores make timings meaningless):

    .venv/bin/python scripts/benchmark_server.py [--rounds 2] [--clients 1 4 16]
"""

from __future__ import annotations

import argparse
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import openai
import uvicorn

from assistant import MODEL_ID, PROJECT_ROOT, Assistant, Settings, create_app, default_model_path

QUESTIONS = [
    "What did Capital Fund Management use Hugging Face Inference Endpoints for?",
    "In what year did Google open-source TensorFlow?",
    "How much faster than Nvidia A100 GPUs did the Habana Gaudi2 HPUs benchmark?",
    "When was Mistral AI founded?",
]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def start_llama_server(model: Path, log: Path) -> tuple[subprocess.Popen, str]:
    port = free_port()
    command = [sys.executable, "-m", "llama_cpp.server", "--model", str(model)]
    command += ["--host", "127.0.0.1", "--port", str(port), "--n_ctx", "2048"]
    command += ["--n_threads", "2", "--verbose", "False"]
    with log.open("wb") as output:
        process = subprocess.Popen(command, stdout=output, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}/v1"
    for _ in range(240):
        try:
            if httpx.get(f"{url}/models", timeout=2).status_code == 200:
                return process, url
        except httpx.HTTPError:
            time.sleep(0.5)
    process.kill()
    raise SystemExit(f"llama_cpp.server did not start; see {log}")


def timed_answers(local: Assistant, remote: Assistant, rounds: int) -> tuple[list, list]:
    """The same questions through both paths, interleaved so machine noise hits both alike."""
    for assistant in (local, remote):  # the first answer warms caches; not counted
        assistant.ask(QUESTIONS[0]).run()
    in_process, served = [], []
    for _ in range(rounds):
        for question in QUESTIONS:
            served.append(remote.ask(question).run())
            in_process.append(local.ask(question).run())
    return in_process, served


def summary(answers: list) -> tuple[float, float]:
    ttft = statistics.median(a.timings.ttft_s for a in answers if a.timings.ttft_s is not None)
    rates = [a.timings.tokens_per_s for a in answers if a.timings.tokens_per_s]
    return ttft, statistics.median(rates)


def compare_backends(rounds: int, folder: Path) -> None:
    settings = Settings().with_overrides(index_dir=folder / "index")
    local = Assistant(settings)
    local.sync()
    process, url = start_llama_server(default_model_path(settings.generation.model_cache_dir),
                                      folder / "llama-server.log")  # fmt: skip
    try:
        remote_settings = settings.with_overrides(generator="server", server_url=url)
        remote = Assistant(remote_settings, embedder=local.embedder)
        in_process, served = timed_answers(local, remote, rounds)
    finally:
        process.terminate()
        process.wait(timeout=30)
    same = sum(a.draft == b.draft for a, b in zip(in_process, served, strict=True))
    (ttft_a, rate_a), (ttft_b, rate_b) = summary(in_process), summary(served)
    print(f"backend comparison, {len(served)} answers each (median)")
    print(f"  in process        ttft {ttft_a:5.2f} s   {rate_a:5.1f} tokens/s")
    print(f"  llama_cpp.server  ttft {ttft_b:5.2f} s   {rate_b:5.1f} tokens/s")
    print(
        f"  HTTP path adds    {100 * (ttft_b - ttft_a) / ttft_a:+5.1f}% to ttft, "
        f"{100 * (rate_b - rate_a) / rate_a:+5.1f}% tokens/s; identical drafts {same}/{len(served)}"
    )


def serve_load(clients: list[int], folder: Path) -> None:
    settings = Settings().with_overrides(index_dir=folder / "index")
    assistant = Assistant(settings)
    assistant.sync()
    assistant.generator.count_tokens("warm up")
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(create_app(assistant, api_key=None, max_waiting=32), host="127.0.0.1",
                       port=port, log_level="warning")
    )  # fmt: skip
    threading.Thread(target=server.run, daemon=True).start()
    while not server.started:
        time.sleep(0.05)
    client = openai.OpenAI(base_url=f"http://127.0.0.1:{port}/v1", api_key="-", timeout=900)
    print("assistant serve under concurrent streaming clients")
    for count in clients:
        questions = [QUESTIONS[n % len(QUESTIONS)] for n in range(count)]
        started = time.perf_counter()
        with ThreadPoolExecutor(max_workers=count) as pool:
            results = list(pool.map(lambda q: one_client(client, q), questions))
        wall = time.perf_counter() - started
        done = [r for r in results if r["complete"]]
        firsts = sorted(r["first_s"] for r in done)
        totals = sorted(r["total_s"] for r in done)
        print(
            f"  {count:2d} clients: {len(done)}/{count} complete, {count - len(done)} failed; "
            f"{len(done) / wall * 60:5.1f} answers/min; first content p50 "
            f"{statistics.median(firsts):5.1f} s, max {firsts[-1]:5.1f} s; total p50 "
            f"{statistics.median(totals):5.1f} s, max {totals[-1]:5.1f} s"
        )
    server.should_exit = True


def one_client(client: openai.OpenAI, question: str) -> dict:
    started, first = time.perf_counter(), None
    finished, record = None, None
    try:
        messages = [{"role": "user", "content": question}]
        for chunk in client.chat.completions.create(model=MODEL_ID, messages=messages, stream=True):
            if chunk.choices and chunk.choices[0].delta.content and first is None:
                first = time.perf_counter() - started
            if chunk.choices and chunk.choices[0].finish_reason:
                finished = chunk.choices[0].finish_reason
                record = (chunk.model_extra or {}).get("assistant")
    except openai.APIError as error:
        return {"complete": False, "error": str(error)}
    complete = finished == "stop" and record is not None
    return {"complete": complete, "first_s": first or 0.0, "total_s": time.perf_counter() - started}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=2, help="times each question is asked")
    parser.add_argument("--clients", type=int, nargs="+", default=[1, 4, 16])
    args = parser.parse_args()
    os.chdir(PROJECT_ROOT)
    with tempfile.TemporaryDirectory() as folder:
        compare_backends(args.rounds, Path(folder))
        serve_load(args.clients, Path(folder))


if __name__ == "__main__":
    main()
