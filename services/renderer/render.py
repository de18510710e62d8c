"""Render one scene's Manim code in an isolated, killable child process.

Scene code is untrusted and may hang, crash or attack, so it never runs in the service
process. A launcher starts the render — a cold ``manim render`` CLI child, or a child
forked from the warm pool's pre-loaded parent — inside the render jail
(:mod:`services.renderer.jail`), in its own process group with an allow-listed
environment and resource limits, bounded by a wall-clock timeout. Code from the LLM is
linted against the static policy first (``strict``), so the coder hears early what to
change; a client's own code is not: the jail, not the lint, is the boundary. Every
failure becomes a :class:`RenderFailure` whose one-line message, scene line and code
excerpt can be fed back to the code generator for a repair attempt.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import functools
import json
import os
import shutil
import signal
import sys
import time
import traceback as traceback_module
import uuid
import warnings
import weakref
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from services.renderer import fastforward
from services.renderer.cell import CELL_DIR
from services.renderer.errors import (
    SCENE_FILE_NAME,
    RenderFailure,
    clean,
    code_excerpt,
    failure_from_exit,
    parse_manim_error,
    scene_not_found,
)
from services.renderer.fastforward import SliceReport, SliceSpec
from services.renderer.jail import Jail, collect
from services.renderer.layout_hook import LAYOUT_FILE
from services.renderer.outputs import (
    OUTPUT_NAME,
    find_output,
    probe_duration,
    still_to_clip,
)
from services.renderer.sandbox import RenderLimits, confine, render_environment
from shared.code_policy import violations

__all__ = [
    "QUALITY_FLAGS",
    "QUALITY_SPECS",
    "RENDERERS",
    "CliLauncher",
    "Launcher",
    "RenderFailure",
    "RenderProcess",
    "RenderRequest",
    "RenderedClip",
    "check_code",
    "kill_process_group",
    "parse_manim_error",
    "probe_duration",
    "render_scene",
    "still_to_clip",
]

QUALITY_FLAGS: dict[str, str] = {"low": "-ql", "medium": "-qm", "high": "-qh", "ultra": "-qk"}

# (width, height, fps) Manim uses for each quality flag; the still-image fallback must match
# them exactly so its clip can be stream-copied together with the animated ones.
QUALITY_SPECS: dict[str, tuple[int, int, int]] = {
    "low": (854, 480, 15),
    "medium": (1280, 720, 30),
    "high": (1920, 1080, 60),
    "ultra": (3840, 2160, 60),
}
RENDERERS = ("cairo", "opengl")

_OUTPUT_KEEP = 64 * 1024  # tail of each output file read back; a chatty scene can't exhaust RAM

# Processes whose group was killed on purpose via kill_process_group(); render_scene reports
# those as kind="cancelled" instead of "crash". Weak so finished processes don't accumulate.
_cancelled: weakref.WeakSet[RenderProcess] = weakref.WeakSet()


class RenderProcess(Protocol):
    """A running render: an asyncio subprocess, or a child forked by the warm pool."""

    pid: int

    @property
    def returncode(self) -> int | None: ...

    async def wait(self) -> int: ...


@dataclass(frozen=True)
class RenderRequest:
    """Everything a launcher needs to start one render; outputs go to files in the workdir."""

    workdir: Path
    class_name: str
    quality: str
    renderer: str
    env: Mapping[str, str] | None  # None: the launcher's allow-listed environment
    limits: RenderLimits
    layout: bool = False  # record boxes for the layout check (services/renderer/layout_hook)

    @property
    def staged_files(self) -> list[Path]:
        """What a launcher copies into the render's folder: the scene, and its slice spec."""
        extras = [self.workdir / name for name in fastforward.RUNTIME_FILES]
        return [self.scene_path, *[path for path in extras if path.exists()]]

    @property
    def scene_path(self) -> Path:
        return self.workdir / SCENE_FILE_NAME

    @property
    def media_dir(self) -> Path:
        return self.workdir / "media"

    @property
    def layout_path(self) -> Path:
        return self.workdir / LAYOUT_FILE

    @property
    def stdout_path(self) -> Path:
        return self.workdir / "stdout.log"

    @property
    def stderr_path(self) -> Path:
        return self.workdir / "stderr.log"


class Launcher(Protocol):
    """Starts a render process for a request (the CLI, or the warm pool)."""

    async def launch(self, request: RenderRequest) -> RenderProcess: ...


@dataclass
class CliLauncher:
    """A cold ``python -m manim render`` per scene: pays Manim's import (~2 s) every time.

    With a jail (the default) the command runs in a one-off jail, in a render cell set up
    by the same code as the warm pool's (``python -m services.renderer.cell``); ``jail=None``
    runs it unjailed (``RENDER_SANDBOX=unsafe-dev``).
    """

    command: Sequence[str] = (sys.executable, "-m", "manim")
    jail: Jail | bool | None = True
    launches: int = field(default=0, init=False)

    def __post_init__(self) -> None:
        if self.jail is True:
            self.jail = Jail()

    async def launch(self, request: RenderRequest) -> RenderProcess:
        jail = self.jail if isinstance(self.jail, Jail) else None
        folder = str(request.workdir) if jail is None else CELL_DIR
        args = _cli_args(self.command, request, folder)
        env = dict(request.env or render_environment(folder))
        if jail is None:  # a sliced render imports services.renderer (the jail has /app)
            env.setdefault("PYTHONPATH", str(Path(__file__).resolve().parents[2]))
        with request.stdout_path.open("wb") as out, request.stderr_path.open("wb") as err:
            if jail is None:
                process = await asyncio.create_subprocess_exec(
                    *args,
                    cwd=folder,
                    stdin=asyncio.subprocess.DEVNULL,
                    stdout=out,
                    stderr=err,
                    env=env,
                    start_new_session=True,
                    preexec_fn=functools.partial(confine, request.limits),
                )
                self.launches += 1
                return process
            cell = jail.folder(f"cli-{uuid.uuid4().hex[:16]}")
            for staged in request.staged_files:
                shutil.copyfile(staged, cell / staged.name)
            limits = json.dumps(dataclasses.asdict(request.limits))
            argv = [jail.python, "-m", "services.renderer.cell", cell.name, limits, "--", *args]
            try:
                process = await asyncio.create_subprocess_exec(
                    *jail.command(argv),
                    stdin=asyncio.subprocess.DEVNULL,
                    stdout=out,
                    stderr=err,
                    env=jail.environment(env),
                    start_new_session=True,
                    preexec_fn=jail.preexec(),
                )
            except BaseException:
                shutil.rmtree(cell, ignore_errors=True)
                raise
        self.launches += 1
        return JailedProcess(process, cell, request.workdir)


def _cli_args(command: Sequence[str], request: RenderRequest, folder: str) -> list[str]:
    """``manim render`` with the scene's fixed seed; a sliced or dry render, or one given a
    TeX cache, runs the warm pool's render function in-process instead (Manim's CLI cannot
    fast-forward exactly)."""
    if any((request.workdir / name).exists() for name in fastforward.RUNTIME_FILES):
        spec = {
            "class_name": request.class_name,
            "quality": request.quality,
            "renderer": request.renderer,
            "layout": request.layout,
        }
        return [command[0], "-m", "services.renderer.forkserver", "--render", json.dumps(spec)]
    seed = fastforward.scene_seed(request.scene_path.read_text(encoding="utf-8"))
    if request.layout:  # the same Manim CLI, hooked first (one hook for both paths)
        scene, records = f"{folder}/{SCENE_FILE_NAME}", f"{folder}/{LAYOUT_FILE}"
        command = [command[0], "-m", "services.renderer.layout_hook", records, scene, "--"]
    return [
        *command,
        "render",
        QUALITY_FLAGS[request.quality],
        f"--renderer={request.renderer}",
        "--disable_caching",
        "--progress_bar",
        "none",
        f"--seed={seed}",
        "--media_dir",
        f"{folder}/media",
        "-o",
        OUTPUT_NAME,
        f"{folder}/{SCENE_FILE_NAME}",
        request.class_name,
    ]


class JailedProcess:
    """A CLI render in its own jail: its outputs are collected when it ends.

    bwrap reports a render killed by a signal as exit code 128 + signal; this reports it
    as asyncio does (negative), so failures are classified the same on every path.
    """

    def __init__(self, process: asyncio.subprocess.Process, folder: Path, workdir: Path) -> None:
        self.pid = process.pid
        self._process, self._folder, self._workdir = process, folder, workdir
        self._collected = False

    @property
    def returncode(self) -> int | None:
        code = self._process.returncode
        return None if code is None or not self._collected else _signal_code(code)

    async def wait(self) -> int:
        try:
            code = await self._process.wait()
        finally:
            if not self._collected:
                self._collected = True
                collect(self._folder, self._workdir)
        return _signal_code(code)


def _signal_code(code: int) -> int:
    return -(code - 128) if 128 < code < 128 + 65 else code


@dataclass(frozen=True)
class RenderedClip:
    """A finished scene clip and what it cost to make."""

    path: Path
    duration_seconds: float
    seconds_rendering: float
    cached: bool = False  # served from the render cache: no Manim process ran
    renderer: str = "cairo"  # which Manim renderer drew it
    renderer_reason: str = ""  # why that one (services/renderer/choice.py)
    layout: Path | None = None  # the render's layout records (when the hook ran)
    report: SliceReport | None = None  # a sliced or dry render's durations and states


def kill_process_group(proc: RenderProcess, *, cancelled: bool = True) -> bool:
    """SIGKILL the render's whole process group (Manim plus any LaTeX/ffmpeg children).

    Meant for callers that got ``proc`` from ``on_start`` and must stop a render from another
    task (e.g. the job was cancelled). With ``cancelled=True`` the pending ``render_scene`` call
    raises ``RenderFailure(kind="cancelled")`` rather than reporting a crash. Returns False if
    the group was already gone. Cancelling the task awaiting ``render_scene`` also kills the
    group, but re-raises ``asyncio.CancelledError`` as asyncio expects.
    """
    if cancelled:
        _cancelled.add(proc)
    if proc.returncode is not None or proc.pid <= 1:
        return False
    try:
        os.killpg(proc.pid, signal.SIGKILL)  # every launcher makes the pid its group's id
    except (ProcessLookupError, PermissionError):
        return False
    return True


async def render_scene(
    code: str,
    *,
    class_name: str,
    quality: str,
    workdir: Path,
    timeout_seconds: float,
    renderer: str = "cairo",
    launcher: Launcher | None = None,
    env: Mapping[str, str] | None = None,
    limits: RenderLimits | None = None,
    check_policy: bool = True,
    on_start: Callable[[RenderProcess], None] | None = None,
    layout: bool = False,
    slice_spec: SliceSpec | None = None,
    tex_cache: bytes | None = None,
) -> RenderedClip:
    """Render ``class_name`` from ``code`` into an MP4 under ``workdir``; raise RenderFailure.

    ``workdir`` is owned by this render: ``scene.py``, the logs and ``media/`` inside it are
    replaced. ``env`` is the child's whole environment (default: the allow-listed
    :func:`render_environment`). ``renderer`` is "cairo" or "opengl" (headless EGL).
    ``on_start`` receives the child process as soon as it exists (see
    :func:`kill_process_group`). A scene that never calls play/wait makes Manim write a PNG;
    that is turned into a ~2 s still clip so it combines like any other clip.
    ``check_policy=False`` skips the static policy lint (a client's own code, and tests of
    what the jail itself stops). ``layout=True`` runs the layout hook in the render and
    returns its records file as ``RenderedClip.layout``.
    ``slice_spec`` renders only a range of the scene's
    animations, or (``mode="dry"``) none: see :mod:`services.renderer.fastforward`; the
    clip then carries the render's ``report`` (a dry run's clip has no path).
    ``tex_cache``: compiled LaTeX of an earlier render of the same code
    (:func:`fastforward.pack_tex`), so this one need not compile it again.
    """
    if quality not in QUALITY_FLAGS:
        raise ValueError(f"unknown quality {quality!r}; expected one of {sorted(QUALITY_FLAGS)}")
    if renderer not in RENDERERS:
        raise ValueError(f"unknown renderer {renderer!r}; expected one of {RENDERERS}")
    if not class_name.isidentifier():
        raise ValueError(f"class_name must be a Python identifier, got {class_name!r}")
    if timeout_seconds <= 0:
        raise ValueError("timeout_seconds must be positive")

    workdir = Path(workdir).resolve()
    workdir.mkdir(parents=True, exist_ok=True)
    request = RenderRequest(
        workdir=workdir,
        class_name=class_name,
        quality=quality,
        renderer=renderer,
        env=env,
        limits=limits or RenderLimits(),
        layout=layout,
    )
    # A retry in the same workdir must never pick up the previous attempt's clip or boxes.
    shutil.rmtree(request.media_dir, ignore_errors=True)
    request.layout_path.unlink(missing_ok=True)
    for stale in (fastforward.SPEC_FILE, fastforward.REPORT_FILE, fastforward.TEX_CACHE_FILE):
        (workdir / stale).unlink(missing_ok=True)
    request.scene_path.write_text(code, encoding="utf-8")
    if slice_spec is not None:
        fastforward.write_spec(workdir, slice_spec)
    if tex_cache is not None:
        (workdir / fastforward.TEX_CACHE_FILE).write_bytes(tex_cache)

    started = time.monotonic()
    check_code(code, policy=check_policy)
    await _run(request, code, launcher, timeout_seconds, on_start)
    report = fastforward.read_report(workdir) if slice_spec is not None else None
    if slice_spec is not None and report is None:
        raise RenderFailure("no_output", "the sliced render wrote no report")
    if slice_spec is not None and slice_spec.mode == "dry":
        assert report is not None
        return RenderedClip(
            path=request.media_dir,  # no clip; its compiled LaTeX is there
            duration_seconds=sum(report.durations),
            seconds_rendering=time.monotonic() - started,
            report=report,
        )
    stdout, stderr = _read_tail(request.stdout_path), _read_tail(request.stderr_path)
    clip = find_output(request.media_dir, "videos", ".mp4")
    if clip is None:
        png = find_output(request.media_dir, "images", ".png")
        if png is None:
            raise RenderFailure(
                "no_output",
                "manim exited successfully but wrote no video or image",
                traceback=clean(stderr or stdout),
            )
        width, height, fps = QUALITY_SPECS[quality]
        clip = await asyncio.to_thread(
            still_to_clip, png, png.with_suffix(".mp4"), width=width, height=height, fps=fps
        )
    duration = await asyncio.to_thread(probe_duration, clip)
    return RenderedClip(
        path=clip,
        duration_seconds=duration,
        seconds_rendering=time.monotonic() - started,
        renderer=renderer,
        layout=request.layout_path if layout and request.layout_path.is_file() else None,
        report=report,
    )


async def _run(
    request: RenderRequest,
    code: str,
    launcher: Launcher | None,
    timeout_seconds: float,
    on_start: Callable[[RenderProcess], None] | None,
) -> None:
    """Launch the render, wait for it within the timeout; raise RenderFailure if it failed."""
    class_name = request.class_name

    proc = await (launcher or CliLauncher()).launch(request)
    timed_out = False
    try:
        if on_start is not None:
            on_start(proc)
        try:
            await asyncio.wait_for(proc.wait(), timeout=timeout_seconds)
        except TimeoutError:
            timed_out = True
            kill_process_group(proc, cancelled=False)
            await proc.wait()
    except BaseException:
        # Task cancelled (or on_start raised): never leave an orphaned render running.
        kill_process_group(proc, cancelled=False)
        with contextlib.suppress(BaseException):
            await asyncio.shield(proc.wait())
        raise
    # Whatever is left of the group (e.g. a LaTeX grandchild) goes too.
    if proc.pid > 1:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(proc.pid, signal.SIGKILL)

    stdout = _read_tail(request.stdout_path)
    stderr = _read_tail(request.stderr_path)
    if proc in _cancelled:
        raise RenderFailure("cancelled", "render was cancelled", traceback=stderr or stdout)
    if timed_out:
        raise RenderFailure(
            "timeout",
            f"render exceeded the {timeout_seconds:g} s time limit and was killed"
            " (endless loop or too much animation?)",
            traceback=clean(stderr or stdout),
        )
    if scene_not_found(class_name, clean(stdout + "\n" + stderr)):
        raise RenderFailure(
            "crash",
            f"SceneNotFound: class {class_name} is not defined in the scene file",
            traceback=clean(stderr or stdout),
            error_type="SceneNotFound",
        )
    if proc.returncode != 0:
        raise failure_from_exit(proc.returncode, stdout=stdout, stderr=stderr, code=code)


# --- internals -------------------------------------------------------------------------------


def check_code(code: str, *, policy: bool = True) -> None:
    """Raise RenderFailure for code that cannot compile or that the static policy refuses.

    Both are decided before any process starts: a syntax error gets its exact line without
    paying a Manim start-up, and refused code never runs at all.
    """
    _raise_on_syntax_error(code)
    if policy:
        _raise_on_policy_violation(code)


def _raise_on_syntax_error(code: str) -> None:
    """Fail fast on code that cannot compile; saves a Manim start-up and gives an exact line."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # e.g. invalid escapes in LaTeX strings
            compile(code, SCENE_FILE_NAME, "exec", dont_inherit=True)
    except SyntaxError as exc:
        detail = exc.msg or "invalid syntax"
        kind = type(exc).__name__  # SyntaxError, IndentationError, TabError
        line = exc.lineno
        message = f"{kind}: {detail}" + (f" (line {line})" if line else "")
        raise RenderFailure(
            "crash",
            message,
            traceback="".join(traceback_module.format_exception_only(exc)),
            line=line,
            error_type=kind,
        ) from None


def _raise_on_policy_violation(code: str) -> None:
    """Refuse code the static policy rejects, before any process starts."""
    found = violations(code)
    if not found:
        return
    first, line = found[0], found[0].line
    more = f" (and {len(found) - 1} more)" if len(found) > 1 else ""
    raise RenderFailure(
        "policy",
        f"PolicyViolation: {first.message}{more} (line {line})",
        traceback="\n".join(map(str, found)),
        line=line,
        error_type="PolicyViolation",
        code_excerpt=code_excerpt(code, line),
    )


def _read_tail(path: Path) -> str:
    """The last part of a render's output file ("" when the render never opened it)."""
    try:
        with path.open("rb") as source:
            source.seek(0, os.SEEK_END)
            source.seek(max(0, source.tell() - _OUTPUT_KEEP))
            return source.read().decode("utf-8", errors="replace")
    except OSError:
        return ""
