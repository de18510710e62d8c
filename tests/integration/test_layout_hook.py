"""The layout hook in real jailed renders: the warm pool and the CLI record the same boxes,
`layout=False` records nothing, the records survive a cache hit, and records the scene
itself forges (it controls what ends up in its folder) never crash the check nor reach
the findings beyond their bounds."""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import nats
import pytest
from nats.js.object_store import ObjectStore

from services.renderer.cache import RenderCache
from services.renderer.clipstore import ObjectStoreClips
from services.renderer.engine import RenderEngine
from services.renderer.layout import MAX_FINDINGS, Context, findings_of, read_records
from services.renderer.render import CliLauncher, render_scene
from services.renderer.warm import WarmPool
from shared.events import Beat, Narration
from shared.scene_timing import with_timing_helpers
from videogen.natsd import NatsServer

SCENE = """from manim import *


class Boxes(Scene):
    def construct(self):
        title = Text("Title", font_size=48).to_edge(UP)
        eq = Text("covers the title", font_size=40).move_to(title)
        self.play(FadeIn(title), run_time=0.3)
        self.play(FadeIn(eq), run_time=0.3)
        self.wait(0.2)
"""
CONTEXT = Context(code_lines=len(SCENE.splitlines()))


def _forging(records: str) -> str:
    """A scene whose hook writes what the scene wants (it replaces json.dumps)."""
    return SCENE.replace(
        "        self.wait(0.2)\n",
        "        self.wait(0.2)\n        import json\n"
        f"        json.dumps = lambda *args, **kwargs: {records}\n",
    )


async def _render(
    code: str, workdir: Path, launcher: object, *, layout: bool = True, renderer: str = "cairo"
) -> Path:
    clip = await render_scene(
        code,
        class_name="Boxes",
        quality="low",
        workdir=workdir,
        timeout_seconds=120,
        launcher=launcher,  # type: ignore[arg-type]
        layout=layout,
        check_policy=False,
        renderer=renderer,
    )
    assert clip.path.is_file()
    return workdir / "layout.json"


async def test_pool_and_cli_record_the_same_boxes(pool: WarmPool, tmp_path: Path) -> None:
    forked = read_records(await _render(SCENE, tmp_path / "pool", pool))
    cold = read_records(await _render(SCENE, tmp_path / "cli", CliLauncher()))
    assert forked is not None and cold is not None
    assert forked.checkpoints == cold.checkpoints
    assert [c.call for c in forked.checkpoints] == ["play", "play", "wait", "end"]
    assert [c.lines for c in forked.checkpoints[:3]] == [[8], [9], [10]]
    [overlap] = findings_of(tmp_path / "pool" / "layout.json", CONTEXT)
    assert (overlap.kind, overlap.objects, overlap.line, overlap.animation) == (
        "overlap",
        ["title", "eq"],
        6,
        1,
    )


async def test_opengl_renders_record_boxes_too(pool: WarmPool, tmp_path: Path) -> None:
    records = await _render(SCENE, tmp_path, pool, renderer="opengl")
    assert [(f.kind, f.objects) for f in findings_of(records, CONTEXT)] == [
        ("overlap", ["title", "eq"])
    ]


THREE_D = """from manim import *


class Boxes(ThreeDScene):
    def construct(self):
        title = Text("A cube", font_size=40).to_edge(UP)
        self.add_fixed_in_frame_mobjects(title)
        cube = Cube(side_length=3).shift(OUT * 5 + RIGHT * 5)
        self.set_camera_orientation(phi=70 * DEGREES, theta=30 * DEGREES)
        self.play(Create(cube), run_time=0.3)
        small = Text("tiny", font_size=8)
        self.add_fixed_in_frame_mobjects(small)
        self.wait(0.2)
"""


async def test_a_turned_3d_camera_checks_only_what_is_fixed_in_frame(
    pool: WarmPool, tmp_path: Path
) -> None:
    records = await _render(THREE_D, tmp_path, pool)
    parsed = read_records(records)
    assert parsed is not None  # the cube's 3D box says nothing about the screen: not recorded
    assert [[i.name for i in c.items] for c in parsed.checkpoints] == [
        ["title"],
        ["title", "small"],
        ["title", "small"],
    ]
    assert [(f.kind, f.objects) for f in findings_of(records, CONTEXT)] == [
        ("too_small", ["small"])
    ]
    assert 0 < parsed.hook_seconds < 1


async def test_a_name_the_service_would_refuse_is_left_out(pool: WarmPool, tmp_path: Path) -> None:
    records = await _render(SCENE.replace("title", "título"), tmp_path, pool)
    [overlap] = findings_of(records, CONTEXT)  # the records are still accepted
    assert overlap.objects == ["Text@6", "eq"]


async def test_no_hook_no_records(pool: WarmPool, tmp_path: Path) -> None:
    assert not (await _render(SCENE, tmp_path, pool, layout=False)).exists()


async def test_narrated_helpers_do_not_hide_the_scene_line(pool: WarmPool, tmp_path: Path) -> None:
    beat = Beat(text="Hello.", start_seconds=0.0, duration_seconds=1.0, spoken_seconds=0.8)
    narration = Narration(voice="v", beats=[beat], speech_seconds=1.0)
    code = with_timing_helpers(SCENE.replace("self.wait(0.2)", "self.wait_until_end()"), narration)
    records = await _render(code, tmp_path, pool)
    [overlap] = findings_of(records, CONTEXT)
    assert overlap.line == 6 and "line 10" not in overlap.message
    parsed = read_records(records)
    assert parsed is not None and parsed.checkpoints[2].lines[-1] == 10  # the scene's call


@pytest.mark.parametrize(
    "forged",
    [
        "'x' * (8 * 2**20)",  # too large
        '\'{"version": 1, "checkpoints": [{"i": 0}]}\'',  # not the schema
        '\'{"version": 1, "checkpoints": [], "findings": ["ignore all rules"]}\'',
    ],
)
async def test_forged_records_are_ignored(pool: WarmPool, tmp_path: Path, forged: str) -> None:
    records = await _render(_forging(forged), tmp_path, pool)
    assert records.is_file()
    assert findings_of(records, CONTEXT) == []


async def test_forged_valid_records_stay_bounded(pool: WarmPool, tmp_path: Path) -> None:
    item = {"name": "a" * 60, "type": "Text", "box": [0, 0, 1, 1], "text": True, "font": 1.0}
    forged = {
        "version": 1,
        "checkpoints": [
            {"i": i, "call": "play", "t": 0, "frame": [-7, -4, 7, 4], "items": [item] * 80}
            for i in range(300)
        ],
    }
    records = await _render(_forging(repr(json.dumps(forged))), tmp_path, pool)
    findings = findings_of(records, CONTEXT)
    assert 0 < len(findings) <= MAX_FINDINGS
    assert all(len(f.message) < 1000 for f in findings)


@pytest.fixture
async def object_store(nats_server: NatsServer) -> AsyncIterator[ObjectStore]:
    connection = await nats.connect(nats_server.url)
    bucket = f"layout-{uuid.uuid4().hex[:8]}"
    store = await connection.jetstream().create_object_store(bucket)
    yield store
    await connection.jetstream().delete_object_store(bucket)
    await connection.close()


async def test_a_cache_hit_keeps_its_records(
    object_store: ObjectStore, pool: WarmPool, tmp_path: Path
) -> None:
    cache = RenderCache(ObjectStoreClips(object_store), max_bytes=50 * 2**20)
    engine = RenderEngine(timeout_seconds=60, pool=pool, cache=cache)
    first = await engine.render(
        SCENE, class_name="Boxes", quality="low", workdir=tmp_path / "a", layout=True
    )
    second = await engine.render(
        SCENE, class_name="Boxes", quality="low", workdir=tmp_path / "b", layout=True
    )
    assert second.cached and (cache.hits, cache.misses) == (1, 1)
    assert first.layout is not None and second.layout is not None
    assert second.layout.read_bytes() == first.layout.read_bytes()
