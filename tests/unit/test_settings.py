"""Settings: validated once, bad values named, every variable documented."""

from __future__ import annotations

from pathlib import Path

import pytest

from shared.settings import SettingsError, environment_table, load_settings

README = Path(__file__).parents[2] / "README.md"


def test_defaults_run_the_local_stack_with_nothing_set():
    settings = load_settings({})
    assert settings.scene_model == "builtin"
    assert settings.default_quality == "medium"
    assert settings.single_user_mode
    assert settings.nats_url.startswith("nats://127.0.0.1")


def test_values_are_parsed():
    settings = load_settings(
        {
            "USE_RAG": "yes",
            "MAX_CONCURRENT_RENDERS": "4",
            "DEFAULT_QUALITY": "HIGH",
            "API_KEYS": "k1:alice, k2:bob",
        }
    )
    assert settings.use_rag is True
    assert settings.max_concurrent_renders == 4
    assert settings.default_quality == "high"
    assert settings.api_keys == {"k1": "alice", "k2": "bob"}


def test_every_bad_value_is_named_with_what_is_allowed():
    with pytest.raises(SettingsError) as caught:
        load_settings(
            {
                "DEFAULT_QUALITY": "4k",
                "MAX_CONCURRENT_RENDERS": "0",
                "USE_GPU_ACCELERATION": "maybe",
                "API_KEYS": "nokey",
            }
        )
    message = str(caught.value)
    assert "DEFAULT_QUALITY='4k': expected one of low, medium, high, ultra" in message
    assert "MAX_CONCURRENT_RENDERS='0'" in message
    assert "USE_GPU_ACCELERATION='maybe'" in message
    assert "API_KEYS='nokey'" in message


def test_readme_documents_every_setting():
    text = README.read_text()
    missing = [name for name, _ in environment_table() if f"`{name}`" not in text]
    assert missing == []
