"""Embedding speed per backend: chunks per second for PyTorch, ONNX and ONNX int8, and how
close each backend's vectors are to PyTorch's (cosine of the same passage's two vectors).

Passages of about 650 characters (the size of an index chunk) are cut from the documents of a
folder, repeated until there are ``--passages`` of them; every backend embeds the same ones, a
batch of 32 at a time as a sync does, after one warm-up batch.

    .venv/bin/python scripts/benchmark_embedding.py [--corpus corpus] [--passages 2000]
"""

from __future__ import annotations

import argparse
import itertools
import os
import re
import tempfile
import time
from pathlib import Path

import numpy as np

from assistant import load_embedder

BATCH = 32
PASSAGE_CHARS = 650


def passages(folder: Path, count: int) -> list[str]:
    """Consecutive sentences packed to about PASSAGE_CHARS, from every text file in folder."""
    found: list[str] = []
    for path in sorted(folder.rglob("*")):
        if path.suffix not in {".txt", ".md"}:
            continue
        current = ""
        text = path.read_text(encoding="utf-8", errors="replace")
        for sentence in re.split(r"(?<=[.!?])\s+", text):
            if current and len(current) + len(sentence) > PASSAGE_CHARS:
                found.append(current)
                current = ""
            current = f"{current} {sentence}".strip()
        if current:
            found.append(current)
    if not found:
        raise SystemExit(f"no .txt or .md text in {folder}")
    return list(itertools.islice(itertools.cycle(found), count))


def embed_all(embedder, texts: list[str]) -> tuple[np.ndarray, float]:
    embedder.embed(texts[:BATCH])  # warm-up: first-call allocations, lazy initialisation
    started = time.perf_counter()
    parts = [embedder.embed(texts[i : i + BATCH]) for i in range(0, len(texts), BATCH)]
    return np.vstack(parts), time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path, default=Path("corpus"))
    parser.add_argument("--passages", type=int, default=2000)
    parser.add_argument("--backends", default="torch,onnx,onnx-int8")
    parser.add_argument("--cache-dir", type=Path, help="ONNX exports (default: a temporary one)")
    args = parser.parse_args()
    texts = passages(args.corpus, args.passages)
    print(f"{len(texts)} passages from {args.corpus}, batches of {BATCH}, {os.cpu_count()} CPUs")
    with tempfile.TemporaryDirectory() as temporary:
        cache = args.cache_dir or Path(temporary)
        reference = None
        for backend in args.backends.split(","):
            started = time.perf_counter()
            embedder = load_embedder("default", backend=backend, cache_dir=cache)
            load_s = time.perf_counter() - started
            vectors, seconds = embed_all(embedder, texts)
            line = f"  {backend:10s} {len(texts) / seconds:6.1f} chunks/s  (load {load_s:.1f} s)"
            if reference is None:
                reference = vectors
            else:
                cosine = np.sum(vectors * reference, axis=1)
                line += f"  cosine to {args.backends.split(',')[0]}: mean {cosine.mean():.5f}"
                line += f", min {cosine.min():.5f}"
            print(line, flush=True)


if __name__ == "__main__":
    main()
