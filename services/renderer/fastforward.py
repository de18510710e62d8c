"""Inside a render: count a scene's animations, or render only a range of them, exactly.

Runs in the render's own process (the warm pool's forked child or the CLI cell), wrapped
around ``scene.render()``. A ``slice.json`` next to the scene selects the mode:

- ``dry``: every animation is skipped the way Manim's ``-n`` skips (one step each, nothing
  drawn or encoded), and formulas are placeholders while their LaTeX compiles on other
  cores (:mod:`.dry_tex`); the report lists each animation's video duration. Used only to
  decide whether and how to slice, so it may be inexact (a ``wait_until`` counts its
  ``max_time``): a wrong count shows up in the slices' boundary check, never in a clip.
- ``slice`` (``start``, ``end``): animations before ``start`` are fast-forwarded, those in
  ``[start, end)`` rendered, and the scene stops at ``end``.

Why not Manim's own ``-n`` skip: a skipped animation is stepped once with ``dt = run_time``
and its final ``update_mobjects(0)`` is left out, so traced paths turn straight, counters
and dt-driven state drift, and a slice's first frame differs from the whole render's. The
fast-forward here takes Manim's *normal* path frame by frame (same time progression,
same updaters with the real ``dt``, same clock) and only mutes the camera and the
encoder. ``skip_updaters`` switches to Manim's skip, kept only so a test can show that
it breaks exactness.

A state hash (every mobject's points, colours and widths, the clock and both random
generators) is reported where a slice starts and ends: the service compares a slice's
start with the previous slice's end, which detects any scene whose fast-forward does not
reproduce the rendered state, instead of guessing.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import random
import time
import zipfile
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from services.renderer import dry_tex

SPEC_FILE = "slice.json"
REPORT_FILE = "slice-report.json"
# The dry pass's compiled LaTeX (SVGs), given to the renders that follow it: LaTeX costs
# about 0.7 s per distinct string, and every slice would otherwise compile the prefix's.
TEX_CACHE_FILE = "tex-cache.zip"
_TEX_DIR = Path("media") / "Tex"
RUNTIME_FILES = (SPEC_FILE, TEX_CACHE_FILE)  # what only this runtime reads (not Manim's CLI)
_HASHED_ATTRIBUTES = (
    "points",
    "fill_rgbas",
    "stroke_rgbas",
    "background_stroke_rgbas",
    "stroke_width",
    "background_stroke_width",
    "z_index",
)


@dataclass(frozen=True)
class SliceSpec:
    """What one render process does: count (``dry``) or render ``[start, end)``."""

    mode: str  # "dry" | "slice"
    start: int = 0
    end: int | None = None  # exclusive; None: to the scene's end
    skip_updaters: bool = False  # fast-forward a slice with Manim's inexact skip (tests only)

    def fast_forwarded(self, index: int) -> bool:
        return self.mode == "dry" or index < self.start


@dataclass
class SliceReport:
    """What the render saw: durations of played animations and the boundary states."""

    durations: list[float] = field(default_factory=list)
    hashes: dict[int, str] = field(default_factory=dict)  # animation index → state
    plays: int = 0  # animations the scene asked for before it ended or was stopped
    fast_forward_seconds: float = 0.0  # from the scene's start to its first rendered frame
    seconds: float = 0.0  # the whole render, as its launcher measured it


def read_spec(folder: Path) -> SliceSpec | None:
    path = folder / SPEC_FILE
    if not path.exists():
        return None
    return SliceSpec(**json.loads(path.read_text(encoding="utf-8")))


def write_spec(folder: Path, spec: SliceSpec) -> None:
    (folder / SPEC_FILE).write_text(json.dumps(asdict(spec)), encoding="utf-8")


def read_report(folder: Path) -> SliceReport | None:
    path = folder / REPORT_FILE
    if not path.exists():
        return None
    return report_from(json.loads(path.read_text(encoding="utf-8")))


def report_from(raw: dict[str, Any]) -> SliceReport:
    return SliceReport(
        durations=[float(d) for d in raw["durations"]],
        hashes={int(k): str(v) for k, v in raw["hashes"].items()},
        plays=int(raw["plays"]),
        fast_forward_seconds=float(raw.get("fast_forward_seconds", 0.0)),
        seconds=float(raw.get("seconds", 0.0)),
    )


def scene_seed(code: str) -> int:
    """The random seed of a scene: fixed by its code, equal in every process."""
    return int.from_bytes(hashlib.sha256(code.encode()).digest()[:4], "big")


def seed_everything(seed: int) -> None:
    """Seed both generators before the scene module runs (module-level randomness)."""
    random.seed(seed)
    np.random.seed(seed)


def install(scene: Any, spec: SliceSpec, report: SliceReport) -> None:
    """Wrap ``scene.renderer``'s play so the spec decides what is rasterized and encoded."""
    from manim.utils.exceptions import EndSceneEarlyException

    renderer = scene.renderer
    play, finished = renderer.play, renderer.scene_finished
    installed = time.perf_counter()

    def sliced_play(scene_: Any, *args: Any, **kwargs: Any) -> None:
        index = renderer.num_plays
        report.plays = index + 1
        if spec.mode == "slice" and index in (spec.start, spec.end):
            report.hashes.setdefault(index, state_hash(scene_))
        if spec.end is not None and index >= spec.end:
            report.plays = index
            raise EndSceneEarlyException()
        before = renderer.time
        if index == spec.start and spec.mode == "slice":
            report.fast_forward_seconds = time.perf_counter() - installed
        if not spec.fast_forwarded(index):
            play(scene_, *args, **kwargs)
        elif spec.mode == "dry":  # one step per animation, and no pixels even for that
            with _manim_skip(renderer), muted(renderer):
                play(scene_, *args, **kwargs)
        elif spec.skip_updaters:
            with _manim_skip(renderer):
                play(scene_, *args, **kwargs)
        else:
            with muted(renderer):
                play(scene_, *args, **kwargs)
        report.durations.append(renderer.time - before)

    def sliced_finish(scene_: Any) -> None:
        if spec.mode == "slice":
            report.hashes.setdefault(renderer.num_plays, state_hash(scene_))
        finished(scene_)

    renderer.play = sliced_play
    renderer.scene_finished = sliced_finish


def write_report(folder: Path, report: SliceReport) -> None:
    (folder / REPORT_FILE).write_text(json.dumps(report_json(report)), encoding="utf-8")


def report_json(report: SliceReport) -> dict[str, Any]:
    return asdict(report)


@contextlib.contextmanager
def muted(renderer: Any) -> Iterator[None]:
    """Manim's normal play path with no pixels drawn and no frames encoded.

    Everything that moves state (animation interpolation, updaters with the frame's dt,
    the clock advanced per frame in ``add_frame``) runs unchanged; only the camera's
    drawing, the frame copy and the encoder are replaced. The animation gets a ``None``
    partial file, as a skipped one does, so the output holds only the slice's range.
    """
    writer = renderer.file_writer
    add_partial = writer.add_partial_movie_file
    overrides: dict[Any, dict[str, Any]] = {
        renderer: {
            "update_frame": lambda *args, **kwargs: None,
            "get_frame": lambda: renderer.camera.pixel_array,
        },
        writer: {
            "write_frame": lambda *args, **kwargs: None,
            "add_partial_movie_file": lambda _hash: add_partial(None),
            "begin_animation": lambda *args, **kwargs: None,
            "end_animation": lambda *args, **kwargs: None,
        },
    }
    for target, methods in overrides.items():
        for name, method in methods.items():
            setattr(target, name, method)
    try:
        yield
    finally:
        for target, methods in overrides.items():
            for name in methods:
                delattr(target, name)  # the class's method shows through again


@contextlib.contextmanager
def _manim_skip(renderer: Any) -> Iterator[None]:
    """Manim's own ``-n`` skip for one animation (one step of dt = run_time)."""
    original = renderer._original_skipping_status
    renderer._original_skipping_status = True
    try:
        yield
    finally:
        renderer._original_skipping_status = original
        renderer.skip_animations = original


def state_hash(scene: Any) -> str:
    """A digest of everything a later frame depends on that the scene's objects hold."""
    digest = hashlib.sha256()
    digest.update(repr(float(scene.renderer.time)).encode())
    seen: set[int] = set()
    roots = [*scene.mobjects, *scene.foreground_mobjects, *_camera_mobjects(scene.renderer.camera)]
    for root in roots:
        for mobject in root.get_family():
            if id(mobject) in seen:
                continue
            seen.add(id(mobject))
            _digest_mobject(digest, mobject)
    digest.update(repr(random.getstate()).encode())
    _kind, keys, position, *_rest = np.random.get_state()
    digest.update(np.asarray(keys).tobytes() + repr(position).encode())
    return digest.hexdigest()[:32]


def _camera_mobjects(camera: Any) -> list[Any]:
    """Mobjects the camera reads that a scene need not have added (3D trackers, frame)."""
    found = []
    getter = getattr(camera, "get_value_trackers", None)
    if callable(getter):
        found.extend(getter())
    frame = getattr(camera, "frame", None)
    if frame is not None and hasattr(frame, "get_family"):
        found.append(frame)
    return found


def _digest_mobject(digest: Any, mobject: Any) -> None:
    digest.update(type(mobject).__name__.encode())
    for name in _HASHED_ATTRIBUTES:
        value = mobject.__dict__.get(name)
        if isinstance(value, np.ndarray):
            digest.update(np.ascontiguousarray(value).tobytes())
        elif value is not None:
            digest.update(repr(value).encode())


def prepare(folder: Path, code: str) -> SliceSpec | None:
    """Seed the scene (every render, so a slice and a whole render agree) and read the spec."""
    from manim import config

    seed = scene_seed(code)
    config.seed = seed
    seed_everything(seed)
    unpack_tex(folder)
    return read_spec(folder)


def pack_tex(media: Path) -> bytes | None:
    """The SVGs a render compiled (``media/Tex``), zipped; None when there are none."""
    svgs = sorted((media / _TEX_DIR.name).glob("*.svg"))
    if not svgs:
        return None
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for svg in svgs:
            archive.write(svg, svg.name)
    return buffer.getvalue()


def unpack_tex(folder: Path) -> None:
    """Put a packed TeX cache where Manim looks first (an SVG there is not compiled again).

    Only flat ``*.svg`` names are taken; the cache came from a render of the same code.
    """
    packed = folder / TEX_CACHE_FILE
    if not packed.exists():
        return
    target = folder / _TEX_DIR
    target.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(packed) as archive:
        for name in archive.namelist():
            if name.endswith(".svg") and name == Path(name).name and not name.startswith("."):
                (target / name).write_bytes(archive.read(name))


def render(scene: Any, spec: SliceSpec | None, folder: Path) -> None:
    """``scene.render()``, sliced or counted when there is a spec (report in ``folder``)."""
    if spec is None:
        scene.render()
        return
    report = SliceReport()
    install(scene, spec, report)
    with dry_tex.prefetching() if spec.mode == "dry" else contextlib.nullcontext():
        scene.render()
    write_report(folder, report)
