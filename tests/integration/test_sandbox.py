"""Hostile scene code through the real render path: refused by the policy, or stopped by
the sandbox's limits — with a clear kind — and the renderer keeps rendering afterwards.

The policy tests go through RenderEngine (what the handlers call); the limit tests switch
the policy off (`check_policy=False`) so that the process limits themselves are exercised.
"""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

import pytest

from services.renderer.engine import RenderEngine
from services.renderer.render import RenderFailure, render_scene
from services.renderer.sandbox import RenderLimits
from services.renderer.warm import WarmPool

CANARY = "canary-secret-5d1f0b"

ENV_DUMP = """\
from manim import *
import os


class Clip(Scene):
    def construct(self):
        print(dict(os.environ))
        self.add(Text(str(sorted(os.environ))[:60], font_size=12))
        self.wait(0.2)
"""

SOCKET = """\
from manim import *
import socket


class Clip(Scene):
    def construct(self):
        socket.create_connection(("1.1.1.1", 53), timeout=3)
"""

MEMORY = """\
from manim import *
import numpy as np


class Clip(Scene):
    def construct(self):
        hog = np.ones(50 * 2**30 // 8)
        self.add(Text(str(hog.sum())))
"""

LOOP = """\
from manim import *


class Clip(Scene):
    def construct(self):
        while True:
            pass
"""

FORKS = """\
from manim import *
import os
import time


class Clip(Scene):
    def construct(self):
        for _ in range(20):
            if os.fork() == 0:
                time.sleep(120)
                os._exit(0)
        while True:
            pass
"""

FINE = """\
from manim import *


class Clip(Scene):
    def construct(self):
        self.play(Create(Circle()), run_time=0.5)
"""


@pytest.fixture(autouse=True)
def secret_in_service_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", CANARY)
    monkeypatch.setenv("OPENAI_API_KEY", CANARY)


def _all_output(workdir: Path) -> str:
    return "\n".join(p.read_text(errors="replace") for p in workdir.rglob("*.log") if p.is_file())


@pytest.mark.parametrize(
    "code",
    [
        "from manim import *\nimport os\nclass Clip(Scene):\n"
        "    def construct(self):\n        print(os.environ)\n",
        "from manim import *\nclass Clip(Scene):\n    def construct(self):\n"
        "        Text(open('/etc/passwd').read())\n",
        "from manim import *\nclass Clip(Scene):\n    def construct(self):\n"
        "        Text(open('~/.aws/credentials').read())\n",
        SOCKET,
        FORKS,
        "from manim import *\nclass Clip(Scene):\n    def construct(self):\n"
        "        open('/tmp/outside.txt', 'w').write('x')\n",
    ],
    ids=["environ", "passwd", "aws", "socket", "fork", "write_outside"],
)
async def test_policy_refuses_before_any_process_starts(
    code: str, pool: WarmPool, tmp_path: Path
) -> None:
    engine = RenderEngine(timeout_seconds=30, pool=pool)
    forks = pool.forks
    with pytest.raises(RenderFailure) as info:
        await engine.render(code, class_name="Clip", quality="low", workdir=tmp_path)
    assert info.value.kind == "policy"
    assert info.value.error_type == "PolicyViolation"
    assert info.value.line is not None and f"(line {info.value.line})" in info.value.message
    assert ">" in info.value.code_excerpt
    assert info.value.recoverable
    assert pool.forks == forks  # nothing ran


async def test_environment_holds_no_secrets(pool: WarmPool, tmp_path: Path) -> None:
    for name, launcher in (("warm", pool), ("cli", None)):
        workdir = tmp_path / name
        clip = await render_scene(
            ENV_DUMP,
            class_name="Clip",
            quality="low",
            workdir=workdir,
            timeout_seconds=60,
            launcher=launcher,
            check_policy=False,
        )
        output = _all_output(workdir)
        assert "HOME" in output and "PATH" in output  # the dump happened
        assert CANARY not in output
        assert "AWS_SECRET_ACCESS_KEY" not in output and "OPENAI_API_KEY" not in output
        assert clip.duration_seconds > 0


async def test_network_is_unreachable(pool: WarmPool, tmp_path: Path) -> None:
    with pytest.raises(RenderFailure) as info:
        await render_scene(
            SOCKET,
            class_name="Clip",
            quality="low",
            workdir=tmp_path,
            timeout_seconds=30,
            launcher=pool,
            check_policy=False,
        )
    assert info.value.kind == "crash"
    assert info.value.error_type == "OSError"
    assert "unreachable" in info.value.message.lower()


async def test_huge_allocation_hits_the_memory_limit(pool: WarmPool, tmp_path: Path) -> None:
    with pytest.raises(RenderFailure) as info:
        await render_scene(
            MEMORY,
            class_name="Clip",
            quality="low",
            workdir=tmp_path,
            timeout_seconds=30,
            launcher=pool,
            check_policy=False,
            limits=RenderLimits(memory_mb=2048),
        )
    assert info.value.kind == "resource"
    assert info.value.error_type == "MemoryError"
    assert info.value.line == 7


async def test_endless_loop_times_out(pool: WarmPool, tmp_path: Path) -> None:
    with pytest.raises(RenderFailure) as info:
        await render_scene(
            LOOP,
            class_name="Clip",
            quality="low",
            workdir=tmp_path,
            timeout_seconds=3,
            launcher=pool,
        )
    assert info.value.kind == "timeout"
    assert "3 s" in info.value.message


async def test_cpu_limit_stops_a_busy_render(pool: WarmPool, tmp_path: Path) -> None:
    with pytest.raises(RenderFailure) as info:
        await render_scene(
            LOOP,
            class_name="Clip",
            quality="low",
            workdir=tmp_path,
            timeout_seconds=30,
            launcher=pool,
            limits=RenderLimits(cpu_seconds=2),
        )
    assert info.value.kind == "resource"
    assert "CPU" in info.value.message


async def test_forked_children_die_with_the_render(pool: WarmPool, tmp_path: Path) -> None:
    started: list[Any] = []
    with pytest.raises(RenderFailure) as info:
        await render_scene(
            FORKS,
            class_name="Clip",
            quality="low",
            workdir=tmp_path,
            timeout_seconds=4,
            launcher=pool,
            check_policy=False,
            on_start=started.append,
        )
    assert info.value.kind == "timeout"
    assert _group_gone(started[0].pid)  # the whole group, children included


def _group_gone(pgid: int, wait_seconds: float = 3.0) -> bool:
    deadline = time.monotonic() + wait_seconds
    while time.monotonic() < deadline:
        try:
            os.killpg(pgid, 0)
        except ProcessLookupError:
            return True
        time.sleep(0.05)
    return False


async def test_renderer_still_renders_after_hostile_code(pool: WarmPool, tmp_path: Path) -> None:
    engine = RenderEngine(timeout_seconds=60, pool=pool)
    forks = pool.forks
    clip = await engine.render(FINE, class_name="Clip", quality="low", workdir=tmp_path)
    assert clip.duration_seconds == pytest.approx(0.5, abs=0.1)
    assert pool.forks == forks + 1
