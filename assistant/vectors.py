"""The dense side: FAISS indexes keyed by chunk id, exact for small corpora, IVF past a size.

Every index here maps chunk ids (not row positions) to vectors, so a document's vectors can be
removed and added without touching the rest: ``IndexIDMap2`` over ``IndexFlatIP`` (exact inner
product, which is cosine on unit vectors) below ``approximate_from`` vectors, and
``IndexIVFFlat`` past it, following the FAISS guidelines for up to a few million vectors
(https://github.com/facebookresearch/faiss/wiki/Guidelines-to-choose-an-index): about
``2 * sqrt(n)`` lists, trained on ``TRAINING_PER_LIST`` sampled vectors per list, of which
``n_probe`` lists are searched. IVF keeps full vectors, so the scores it returns are exact; only
the candidates can be missed, and ``scripts/benchmark_index.py`` measures its recall@10 against
exact search. HNSW would search faster but cannot remove vectors, which every re-sync needs.
"""

from __future__ import annotations

import math
import os
import uuid
from pathlib import Path

import numpy as np

TRAINING_PER_LIST = 40  # FAISS warns below 39 training points per list
PROBED_SHARE = 32  # search one list in this many (at least MIN_PROBES)
MIN_PROBES = 16


def exact(dimension: int):
    import faiss

    return faiss.IndexIDMap2(faiss.IndexFlatIP(dimension))


def approximate(ids: np.ndarray, vectors: np.ndarray):
    """An IVF index over the vectors, trained on a sample of them."""
    import faiss

    count, dimension = vectors.shape
    lists = max(1, 2 ** round(math.log2(2 * math.sqrt(count))))
    quantizer = faiss.IndexFlatIP(dimension)
    index = faiss.IndexIVFFlat(quantizer, dimension, lists, faiss.METRIC_INNER_PRODUCT)
    sample = np.random.default_rng(0).choice(count, min(count, TRAINING_PER_LIST * lists), False)
    faiss.omp_set_num_threads(os.cpu_count() or 1)  # training is worth every core
    index.train(vectors[np.sort(sample)])
    index.set_direct_map_type(faiss.DirectMap.Hashtable)  # removal and lookup by id
    index.nprobe = max(MIN_PROBES, lists // PROBED_SHARE)
    add(index, ids, vectors)
    return index


def is_approximate(index) -> bool:
    import faiss

    return isinstance(index, faiss.IndexIVF)


def fits(index, count: int, *, approximate_from: int) -> bool:
    """Whether the index type still suits ``count`` vectors (else rebuild it from the vectors)."""
    if not is_approximate(index):
        return count < approximate_from
    ideal_lists = 2 * math.sqrt(count)
    return count >= approximate_from // 2 and index.nlist / 4 <= ideal_lists <= index.nlist * 4


def built(ids: np.ndarray, vectors: np.ndarray, *, approximate_from: int):
    if len(ids) >= approximate_from:
        return approximate(ids, vectors)
    index = exact(vectors.shape[1])
    add(index, ids, vectors)
    return index


def add(index, ids: np.ndarray, vectors: np.ndarray) -> None:
    if len(ids):
        index.add_with_ids(
            np.ascontiguousarray(vectors, dtype=np.float32), np.asarray(ids, dtype=np.int64)
        )


def remove(index, ids: list[int]) -> None:
    import faiss

    if not ids:
        return
    ids = np.asarray(ids, dtype=np.int64)
    if is_approximate(index):  # its hashtable finds each id; it takes only an array
        index.remove_ids(faiss.IDSelectorArray(ids))
    else:  # the flat index checks every row against the set
        index.remove_ids(faiss.IDSelectorBatch(ids))


def search(index, vector: np.ndarray, k: int) -> list[tuple[int, float]]:
    """The k nearest ids with their inner products, best first."""
    import faiss

    if index.ntotal == 0 or k <= 0:
        return []
    query = np.asarray(vector, dtype=np.float32).reshape(1, -1)
    # One query is too small to share: OpenMP's second thread made it 20x slower on 2 cores.
    faiss.omp_set_num_threads(1)
    scores, ids = index.search(query, min(k, index.ntotal))
    return [(int(i), float(s)) for i, s in zip(ids[0], scores[0], strict=True) if i >= 0]


def read(path: Path):
    """The index in the file; FileNotFoundError when it is gone (faiss says RuntimeError)."""
    import faiss

    if not path.exists():
        raise FileNotFoundError(f"No such file: {path}")
    return faiss.read_index(str(path))


def write(index, path: Path) -> None:
    """Write the index under a temporary name, flush it to disk, then move it into place."""
    import faiss

    temporary = path.with_name(f".{path.name}.{uuid.uuid4().hex[:8]}.tmp")
    try:
        faiss.write_index(index, str(temporary))
        with temporary.open("rb+") as handle:
            os.fsync(handle.fileno())
        os.replace(temporary, path)
    finally:
        temporary.unlink(missing_ok=True)


def describe(index) -> str:
    if is_approximate(index):
        return f"IVF, {index.nlist} lists, {index.nprobe} searched"
    return "exact (flat inner product)"


def recall_at(index, queries: np.ndarray, k: int) -> float:
    """Share of the exact top k (over the same vectors) that the index finds, averaged."""
    import faiss

    if not is_approximate(index):
        return 1.0
    exact_index = exact(index.d)
    lists = index.invlists
    for number in range(index.nlist):
        size = lists.list_size(number)
        if size:
            ids = faiss.rev_swig_ptr(lists.get_ids(number), size).copy()
            codes = faiss.rev_swig_ptr(lists.get_codes(number), size * index.code_size)
            add(exact_index, ids, np.frombuffer(codes, dtype=np.float32).reshape(size, index.d))
    found = [set(dict(search(index, q, k))) for q in queries]
    truth = [set(dict(search(exact_index, q, k))) for q in queries]
    return float(np.mean([len(f & t) / max(1, len(t)) for f, t in zip(found, truth, strict=True)]))
