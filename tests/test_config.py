"""Settings: grouped by stage, each knob overridden by its own flat environment name."""

import pytest
from pydantic import ValidationError

from assistant.config import Settings, group_of


def test_knobs_live_in_their_groups_and_read_flat_environment_names(monkeypatch):
    monkeypatch.setenv("ASSISTANT_TOP_K", "6")
    monkeypatch.setenv("ASSISTANT_MIN_SCORE", "0.3")
    monkeypatch.setenv("ASSISTANT_MAX_TOKENS", "99")
    settings = Settings()
    assert settings.retrieval.top_k == 6
    assert settings.grounding.min_score == 0.3
    assert settings.generation.max_tokens == 99
    assert settings.index.corpus_dir.name == "corpus"  # conftest points it at tmp_path


def test_overrides_find_the_group_and_ignore_none():
    settings = Settings().with_overrides(top_k=2, temperature=0.5, corpus_dir=None)
    assert (settings.retrieval.top_k, settings.generation.temperature) == (2, 0.5)
    assert settings.index.corpus_dir == Settings().index.corpus_dir
    with pytest.raises(ValueError, match="unknown setting 'top_kk'.*top_k"):
        Settings().with_overrides(top_kk=3)
    assert group_of("check_relevance") == "grounding"


def test_modes_are_checked_when_read(monkeypatch):
    monkeypatch.setenv("ASSISTANT_RETRIEVAL_MODE", "semantic")
    with pytest.raises(ValidationError, match="hybrid"):
        Settings()


def test_settings_round_trip_through_json():
    settings = Settings().with_overrides(top_k=3, check_relevance=False)
    again = Settings.model_validate_json(settings.model_dump_json())
    assert again == settings
