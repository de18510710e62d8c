"""One real stack for the hostile-code suite, with canaries planted, shared by its modules."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.llm_server import ScriptedLLM
from tests.security.arena import Arena, Planted
from videogen.stack import isolated_stack

LLM_MODEL = "openai/scripted"


@pytest.fixture(scope="package")
def llm() -> Iterator[ScriptedLLM]:
    """The OpenAI-compatible endpoint of the stack: tests script it to write hostile code."""
    server = ScriptedLLM().start()
    yield server
    server.stop()


@pytest.fixture(scope="package")
def arena(request: pytest.FixtureRequest, llm: ScriptedLLM) -> Iterator[Arena]:
    # Not under pytest's own temp folder: that one is private to root, and the canaries
    # must be reachable by permissions (see Planted.create).
    root = Path(tempfile.mkdtemp(prefix="videogen-hostile-"))
    request.addfinalizer(lambda: shutil.rmtree(root, ignore_errors=True))
    data_dir = root / "data"
    planted = Planted.create(root, data_dir)
    with isolated_stack(
        data_dir,
        **planted.environment(),
        DEFAULT_QUALITY="low",
        ENABLE_THUMBNAILS="false",
        ACK_WAIT_SECONDS="10",
        MAX_DELIVER="2",
        MAX_CONCURRENT_RENDERS="2",
        # Legitimate renders here take about 3 s (the victim's paused one about 6 s), and the
        # CPU limit (8 s) must bite before the wall clock: payloads that only wait are killed
        # at this limit, so every second of it is paid by each of them.
        RENDER_TIMEOUT_SECONDS="12",
        RENDER_CPU_SECONDS="8",
        RENDER_MEMORY_MB="1536",
        RENDER_MAX_FILE_MB="64",
        PLANNER_MODEL=LLM_MODEL,
        SCENE_MODEL=LLM_MODEL,
        OPENAI_BASE_URL=llm.base_url,
        MAX_FIX_ATTEMPTS="1",
        SCENE_FALLBACK="builtin",
        LLM_RETRY_BASE_SECONDS="0.05",
        FIX_BACKOFF_SECONDS="0.01",
    ) as stack:
        workdir = root / "downloads"
        workdir.mkdir()
        arena = Arena(stack=stack, planted=planted, workdir=workdir)
        try:
            arena.prepare()
            yield arena
        finally:
            arena.close()
