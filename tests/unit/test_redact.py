"""The one scrubber of secrets and host paths (shared/redact.py)."""

from __future__ import annotations

import json
import logging
import site
import sys
from pathlib import Path

import pytest

from shared import redact
from shared.events import JobContext, JobError, JobFailed, RenderError, SceneRenderFailed
from shared.logs import JsonFormatter
from shared.settings import Secret, load_settings


@pytest.fixture(autouse=True)
def fresh_scrubber(monkeypatch: pytest.MonkeyPatch) -> None:
    """The scrubber learns from every Settings a process builds; earlier tests taught it
    their own secrets (e.g. a moto key "test"), so each test here starts from none."""
    monkeypatch.setattr(redact, "_secrets", set())
    monkeypatch.setattr(redact, "_paths", redact._environment_paths())
    monkeypatch.setattr(redact, "_pattern", None)


def test_every_configured_secret_and_host_path_is_scrubbed(tmp_path: Path) -> None:
    settings = load_settings(
        {},
        openai_api_key=Secret("sk-open-1111"),
        vllm_api_key=Secret("vllm-2222"),
        openrouter_api_key=Secret("or-3333"),
        aws_secret_access_key=Secret("aws-4444"),
        aws_access_key_id="AKIA5555",
        api_keys={"key-6666": "alice"},
        nats_password=Secret("pa$s-7777"),  # NATS_URL refuses credentials
        data_dir=tmp_path / "data",
    )
    packages = Path(site.getsitepackages()[0])
    text = (
        "sk-open-1111 vllm-2222 or-3333 aws-4444 AKIA5555 key-6666 pa$s-7777 "
        f"{packages}/manim/scene.py {settings.data_dir.resolve()}/videos/u/j/video.mp4 "
        f"{sys.prefix}/bin/python"
    )
    clean = redact.redact(text)
    for secret in ("1111", "2222", "3333", "4444", "5555", "6666", "7777"):
        assert secret not in clean
    assert str(packages) not in clean and str(tmp_path) not in clean
    assert sys.prefix not in clean
    assert "<site-packages>/manim/scene.py" in clean
    assert "<data>/videos/u/j/video.mp4" in clean
    assert clean.count(redact.SECRET_MARK) == 7


def test_ordinary_text_is_left_alone(tmp_path: Path) -> None:
    load_settings({}, data_dir=tmp_path / "data")
    assert redact.redact("Scene 2 failed: NameError: name 'Circl' is not defined") == (
        "Scene 2 failed: NameError: name 'Circl' is not defined"
    )
    assert redact.redact("") == ""
    assert redact.redact(f"{tmp_path}/database.db") == f"{tmp_path}/database.db"
    assert redact.redact(f"{tmp_path}/data/x") == "<data>/x"


def test_failure_fields_of_events_are_scrubbed_and_structure_kept(tmp_path: Path) -> None:
    load_settings({}, openai_api_key=Secret("sk-event-8888"), data_dir=tmp_path)
    failed = JobFailed(
        job_id="j",
        user_id="u",
        error=JobError(
            code="LLM_UNAVAILABLE",
            stage="planning",
            message="401 for key sk-event-8888",
            suggestion="rotate sk-event-8888",
            details={"body": ["sk-event-8888"]},
        ),
    )
    clean = redact.redact_event(failed)
    assert "8888" not in str((clean.error.message, clean.error.suggestion, clean.error.details))
    assert (clean.error.code, clean.job_id, clean.dedup_key()) == (
        "LLM_UNAVAILABLE",
        "j",
        failed.dedup_key(),
    )
    render = SceneRenderFailed(
        job_id="j",
        user_id="u",
        context=JobContext(quality="low", scene_model="builtin"),
        scene_number=1,
        scene_count=1,
        attempt=1,
        class_name="S",
        code_ref="c",
        plan_ref="p",
        error=RenderError(kind="crash", message="x", traceback=f"{tmp_path}/a.py sk-event-8888"),
    )
    assert "8888" not in redact.redact_event(render).error.traceback
    assert str(tmp_path) not in redact.redact_event(render).error.traceback


def test_log_lines_are_scrubbed_in_message_extras_and_stack(tmp_path: Path) -> None:
    load_settings({}, openai_api_key=Secret("sk-log-9999"), data_dir=tmp_path)
    try:
        raise RuntimeError("calling with sk-log-9999")
    except RuntimeError:
        record = logging.getLogger("t").makeRecord(
            "t",
            logging.ERROR,
            __file__,
            1,
            "failed: %s",
            ("sk-log-9999",),
            sys.exc_info(),
            extra={"url": "http://x/?key=sk-log-9999"},
        )
    line = JsonFormatter("test").format(record)
    assert "9999" not in line
    assert json.loads(line)["url"] == f"http://x/?key={redact.SECRET_MARK}"
