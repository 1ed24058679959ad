"""Embedder backends: the names the index manifest records, the fallback when ONNX Runtime is
missing, and (real) the ONNX encoder against PyTorch on the same passages."""

import sys

import numpy as np
import pytest

from assistant.embeddings import OnnxEmbedder, embedder_name, load_embedder
from assistant.errors import AssistantError
from assistant.pipeline import Assistant

BACKENDS = ["torch", "onnx", "onnx-int8"]
PASSAGES = [
    "Mistral AI was founded in April 2023 by former researchers of Meta and Google DeepMind.",
    "Open models can be run on premises, so the data never leaves the company.",
    "Short.",
    "Closed models are reached through an API; the provider decides which version answers "
    "and may change it without notice, which makes results hard to reproduce over time. " * 3,
]


def test_each_backend_names_its_own_vectors():
    names = {backend: embedder_name("default", backend=backend) for backend in BACKENDS}
    assert names["torch"] == "all-MiniLM-L6-v2"  # indexes built before the ONNX backend
    assert names["onnx"] == "all-MiniLM-L6-v2 (onnx)"
    assert names["onnx-int8"] == "all-MiniLM-L6-v2 (onnx-int8)"
    assert embedder_name("/models/e5-small", backend="onnx") == "e5-small (onnx)"
    assert embedder_name("hashing", backend="onnx-int8") == "hashing-256"
    assert load_embedder("hashing-384").embed(["a b"]).shape == (1, 384)


def test_without_onnxruntime_the_onnx_backends_fall_back_to_torch(monkeypatch, tmp_path):
    monkeypatch.setitem(sys.modules, "onnxruntime", None)  # what find_spec reads as missing
    assert embedder_name("default", backend="onnx-int8") == "all-MiniLM-L6-v2"
    missing = tmp_path / "no-model"  # the PyTorch loader's own error shows it was reached
    with (
        pytest.warns(UserWarning, match="needs onnxruntime"),
        pytest.raises(AssistantError, match="Cannot load the embedder from .*no-model"),
    ):
        load_embedder(str(missing), backend="onnx-int8")


def test_switching_the_backend_makes_the_index_stale(settings, default_corpus):
    Assistant(settings).sync()
    switched = settings.with_overrides(embedder_backend="torch")
    assert Assistant(settings).status().up_to_date  # the hashing test double has no backend
    assert Assistant(switched).status().up_to_date
    real = settings.with_overrides(embedder="default")
    assert Assistant(real).status().vectors_stale


@pytest.mark.real
@pytest.mark.parametrize("quantized, closest", [(False, 0.9999), (True, 0.97)])
def test_onnx_vectors_match_pytorch(real_embedder, tmp_path, quantized, closest):
    onnx = OnnxEmbedder(cache_dir=tmp_path, quantized=quantized)
    assert (onnx.dimension, onnx.max_tokens) == (real_embedder.dimension, real_embedder.max_tokens)
    cosine = np.sum(onnx.embed(PASSAGES) * real_embedder.embed(PASSAGES), axis=1)
    assert cosine.min() > closest
    assert np.allclose(np.linalg.norm(onnx.embed(PASSAGES), axis=1), 1.0, atol=1e-5)
    # The same word pieces, so a backend never changes the chunks.
    for text in [*PASSAGES, "naïve café — ½ x" * 40]:
        assert onnx.count_tokens(text) == real_embedder.count_tokens(text)
    exported = sorted(p for p in tmp_path.rglob("*.onnx"))
    stamps = [p.stat().st_mtime_ns for p in exported]
    OnnxEmbedder(cache_dir=tmp_path, quantized=quantized)  # the cached export is reused
    assert [p.stat().st_mtime_ns for p in exported] == stamps
