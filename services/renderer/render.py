"""Render one scene's Manim code in an isolated, killable subprocess.

Generated code is untrusted and may hang or crash, so it never runs in the service process:
each render is a ``manim render`` child in its own process group, bounded by a wall-clock
timeout, and every failure is turned into a :class:`RenderFailure` whose one-line message and
scene line number can be fed back to the code generator for a repair attempt.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import shutil
import signal
import sys
import time
import traceback as traceback_module
import warnings
import weakref
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import av

__all__ = [
    "QUALITY_FLAGS",
    "QUALITY_SPECS",
    "RenderFailure",
    "RenderedClip",
    "kill_process_group",
    "parse_manim_error",
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

SCENE_FILE_NAME = "scene.py"
OUTPUT_NAME = "clip"
STILL_SECONDS = 2.0
TRACEBACK_LIMIT = 8000
_MESSAGE_LIMIT = 300
_OUTPUT_KEEP = 64 * 1024  # tail of each pipe kept in memory; a chatty scene can't exhaust RAM
_READER_GRACE_SECONDS = 5.0

# Processes whose group was killed on purpose via kill_process_group(); render_scene reports
# those as kind="cancelled" instead of "crash". Weak so finished processes don't accumulate.
_cancelled: weakref.WeakSet[asyncio.subprocess.Process] = weakref.WeakSet()


class RenderFailure(Exception):
    """A render that produced no usable clip, with enough detail to repair the scene code.

    ``kind`` is "timeout", "crash", "no_output" or "cancelled"; ``message`` is one readable line,
    ``traceback`` the tail of Manim's stderr, ``line`` the failing line in the scene file.
    """

    def __init__(
        self,
        kind: str,
        message: str,
        *,
        traceback: str = "",
        line: int | None = None,
        error_type: str | None = None,
    ) -> None:
        super().__init__(message)
        self.kind = kind
        self.message = message
        self.traceback = traceback[-TRACEBACK_LIMIT:]
        self.line = line
        self.error_type = error_type

    def __repr__(self) -> str:
        return (
            f"RenderFailure(kind={self.kind!r}, message={self.message!r}, "
            f"line={self.line!r}, error_type={self.error_type!r})"
        )


@dataclass(frozen=True)
class RenderedClip:
    """A finished scene clip and what it cost to make."""

    path: Path
    duration_seconds: float
    seconds_rendering: float


def kill_process_group(proc: asyncio.subprocess.Process, *, cancelled: bool = True) -> bool:
    """SIGKILL the render's whole process group (Manim plus any LaTeX/ffmpeg children).

    Meant for callers that got ``proc`` from ``on_start`` and must stop a render from another
    task (e.g. the job was cancelled). With ``cancelled=True`` the pending ``render_scene`` call
    raises ``RenderFailure(kind="cancelled")`` rather than reporting a crash. Returns False if
    the group was already gone. Cancelling the task awaiting ``render_scene`` also kills the
    group, but re-raises ``asyncio.CancelledError`` as asyncio expects.
    """
    if cancelled:
        _cancelled.add(proc)
    if proc.returncode is not None:
        return False
    try:
        os.killpg(proc.pid, signal.SIGKILL)  # start_new_session=True makes pid the pgid
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
    manim_command: Sequence[str] = (sys.executable, "-m", "manim"),
    env: Mapping[str, str] | None = None,
    on_start: Callable[[asyncio.subprocess.Process], None] | None = None,
) -> RenderedClip:
    """Render ``class_name`` from ``code`` into an MP4 under ``workdir``; raise RenderFailure.

    ``workdir`` is owned by this render: ``scene.py`` and ``media/`` inside it are replaced.
    ``env`` is the child's whole environment (None: inherit this process's); generated
    code is untrusted, so callers pass an allow-listed one. ``on_start`` receives the child
    process as soon as it exists (see :func:`kill_process_group`). A scene that never calls
    play/wait makes Manim write a PNG; that is turned into a ~2 s still clip so it combines
    like any other clip.
    """
    if quality not in QUALITY_FLAGS:
        raise ValueError(f"unknown quality {quality!r}; expected one of {sorted(QUALITY_FLAGS)}")
    if not class_name.isidentifier():
        raise ValueError(f"class_name must be a Python identifier, got {class_name!r}")
    if timeout_seconds <= 0:
        raise ValueError("timeout_seconds must be positive")

    workdir = Path(workdir).resolve()
    workdir.mkdir(parents=True, exist_ok=True)
    scene_path = workdir / SCENE_FILE_NAME
    media_dir = workdir / "media"
    # A retry in the same workdir must never pick up the previous attempt's clip.
    shutil.rmtree(media_dir, ignore_errors=True)
    scene_path.write_text(code, encoding="utf-8")

    started = time.monotonic()
    _raise_on_syntax_error(code, scene_path)

    command = [
        *manim_command,
        "render",
        QUALITY_FLAGS[quality],
        "--disable_caching",
        "--progress_bar",
        "none",
        "--media_dir",
        str(media_dir),
        "-o",
        OUTPUT_NAME,
        str(scene_path),
        class_name,
    ]
    child_env = dict(os.environ if env is None else env)
    # Plain, wide, uncoloured output keeps Rich's tracebacks parseable.
    child_env.update({"TERM": "dumb", "COLUMNS": "200", "NO_COLOR": "1", "PYTHONUNBUFFERED": "1"})
    child_env.pop("FORCE_COLOR", None)

    proc = await asyncio.create_subprocess_exec(
        *command,
        cwd=str(workdir),
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env=child_env,
        start_new_session=True,
    )
    stdout_buf = bytearray()
    stderr_buf = bytearray()
    readers = [
        asyncio.ensure_future(_drain(proc.stdout, stdout_buf)),
        asyncio.ensure_future(_drain(proc.stderr, stderr_buf)),
    ]
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
        for reader in readers:
            reader.cancel()
        raise
    # Whatever is left of the group (e.g. a grandchild holding the pipes) goes too.
    _kill_leftovers(proc)
    await _finish_readers(readers)

    stdout = _clean(stdout_buf.decode("utf-8", errors="replace"))
    stderr = _clean(stderr_buf.decode("utf-8", errors="replace"))
    returncode = proc.returncode

    if proc in _cancelled:
        raise RenderFailure("cancelled", "render was cancelled", traceback=_tail(stdout, stderr))
    if timed_out:
        raise RenderFailure(
            "timeout",
            f"render exceeded the {timeout_seconds:g} s time limit and was killed"
            " (endless loop or too much animation?)",
            traceback=_tail(stdout, stderr),
        )
    if _scene_not_found(class_name, stdout + "\n" + stderr):
        raise RenderFailure(
            "crash",
            f"SceneNotFound: class {class_name} is not defined in the scene file",
            traceback=_tail(stdout, stderr),
            error_type="SceneNotFound",
        )
    if returncode != 0:
        message, error_type, line = parse_manim_error(stderr or stdout)
        if not message:
            message = _exit_description(returncode, stderr)
        raise RenderFailure(
            "crash", message, traceback=_tail(stdout, stderr), line=line, error_type=error_type
        )
    clip = _find_output(media_dir, "videos", ".mp4")
    if clip is None:
        png = _find_output(media_dir, "images", ".png")
        if png is None:
            raise RenderFailure(
                "no_output",
                "manim exited successfully but wrote no video or image",
                traceback=_tail(stdout, stderr),
            )
        width, height, fps = QUALITY_SPECS[quality]
        clip = await asyncio.to_thread(
            still_to_clip, png, png.with_suffix(".mp4"), width=width, height=height, fps=fps
        )
    duration = await asyncio.to_thread(_probe_duration, clip)
    return RenderedClip(
        path=clip, duration_seconds=duration, seconds_rendering=time.monotonic() - started
    )


def parse_manim_error(output: str) -> tuple[str, str | None, int | None]:
    """Reduce Manim's (Rich-boxed or plain) traceback to (one-line message, type, scene line).

    The line comes from the deepest frame in ``scene.py``, since that is the line a repair
    prompt must point at; the message gets " (line N)" appended when a line is known.
    Returns ("", None, None) when no exception can be recognised.
    """
    text = _clean(output)
    lines = text.split("\n")
    line_no = _scene_line(_unwrap_boxes(lines))
    error_type, detail = _exception_line(lines)
    if error_type is None:
        return "", None, line_no
    message = f"{error_type}: {detail}" if detail else error_type
    message = _one_line(message)
    if line_no is not None:
        message = f"{message} (line {line_no})"
    return message, error_type.rsplit(".", 1)[-1], line_no


def still_to_clip(
    image: Path,
    output: Path,
    *,
    width: int,
    height: int,
    fps: int,
    seconds: float = STILL_SECONDS,
) -> Path:
    """Encode a still image as an H.264 clip with Manim's own encoder settings.

    Matching codec, pixel format, size, rate and CRF lets the still be stream-copied together
    with Manim's animated clips instead of forcing a re-encode of the whole video.
    """
    from PIL import Image  # local: only the rare static-scene path needs Pillow

    with Image.open(image) as img:
        rgb = img.convert("RGB")
    if rgb.size != (width, height):
        rgb = rgb.resize((width, height), Image.Resampling.LANCZOS)
    frame_count = max(1, round(seconds * fps))
    tmp = output.with_name(f".{output.stem}.tmp{output.suffix}")
    with av.open(str(tmp), mode="w", format="mp4") as container:
        stream = container.add_stream("libx264", rate=fps, options={"crf": "23"})
        stream.pix_fmt = "yuv420p"
        stream.width = width
        stream.height = height
        time_base = Fraction(1, fps)
        for index in range(frame_count):
            frame = av.VideoFrame.from_image(rgb)
            frame.pts = index
            frame.time_base = time_base
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    os.replace(tmp, output)
    return output


# --- internals -------------------------------------------------------------------------------


def _raise_on_syntax_error(code: str, scene_path: Path) -> None:
    """Fail fast on code that cannot compile; saves a Manim start-up and gives an exact line."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # e.g. invalid escapes in LaTeX strings
            compile(code, str(scene_path), "exec", dont_inherit=True)
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


async def _drain(stream: asyncio.StreamReader | None, buf: bytearray) -> None:
    """Read a pipe to EOF keeping only its tail, so the child never blocks on a full pipe."""
    if stream is None:
        return
    while chunk := await stream.read(65536):
        buf.extend(chunk)
        if len(buf) > _OUTPUT_KEEP:
            del buf[: len(buf) - _OUTPUT_KEEP]


async def _finish_readers(readers: list[asyncio.Future[None]]) -> None:
    """Wait for the pipe readers, giving up if something outside the group holds a pipe."""
    _done, pending = await asyncio.wait(readers, timeout=_READER_GRACE_SECONDS)
    for reader in pending:
        reader.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await asyncio.gather(*readers, return_exceptions=True)


def _kill_leftovers(proc: asyncio.subprocess.Process) -> None:
    """Kill any process still in the render's group after Manim itself exited."""
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, signal.SIGKILL)


def _find_output(media_dir: Path, kind: str, suffix: str) -> Path | None:
    """Locate Manim's output file, ignoring its partial-movie intermediates."""
    root = media_dir / kind
    if not root.is_dir():
        return None
    found = [
        p
        for p in root.rglob(f"*{suffix}")
        if p.is_file() and "partial_movie_files" not in p.parts and not p.name.startswith(".")
    ]
    if not found:
        return None
    named = [p for p in found if p.stem == OUTPUT_NAME]
    return max(named or found, key=lambda p: p.stat().st_mtime)


def _probe_duration(path: Path) -> float:
    """Clip length in seconds, from the video stream (container duration as fallback)."""
    try:
        with av.open(str(path)) as container:
            if not container.streams.video:
                raise RenderFailure("no_output", f"{path.name} has no video stream")
            stream = container.streams.video[0]
            if stream.duration is not None and stream.time_base is not None:
                return float(stream.duration * stream.time_base)
            if container.duration is not None:
                return container.duration / av.time_base
            rate = stream.average_rate or stream.guessed_rate
            frames = sum(1 for p in container.demux(stream) if p.size)
            return float(frames / rate) if rate else 0.0
    except av.error.FFmpegError as exc:
        raise RenderFailure("no_output", f"output clip is unreadable: {exc}") from exc


_ANSI = re.compile(r"\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07]*\x07")
_BOX_SIDE = "│┃"
_BOX_BOTTOM = re.compile(r"^\s*[╰└┗]")
_EXC_LINE = re.compile(r"^(?P<type>[A-Za-z_][\w.]*)(?::\s?(?P<msg>.*))?$")
_GENERIC_EXC = re.compile(
    r"^(?P<type>[A-Za-z_][\w.]*(?:Error|Exception|Exit|Interrupt|Iteration|Warning))"
    r"(?::\s?(?P<msg>.*))?$"
)
_PLAIN_FRAME = re.compile(r'File "(?P<path>[^"]+)", line (?P<line>\d+)')


def _clean(text: str) -> str:
    """Strip colour codes and carriage-return progress redraws."""
    text = _ANSI.sub("", text)
    return "\n".join(line.rsplit("\r", 1)[-1] for line in text.split("\n"))


def _unwrap_boxes(lines: list[str]) -> str:
    """Undo Rich's box drawing and hard wrapping so long file paths become one line again.

    A boxed line whose content reaches the right border was wrapped by Rich; it is glued to the
    next one without a separator.
    """
    out: list[str] = []
    carry = ""
    for raw in lines:
        line = raw.rstrip()
        if len(line) >= 2 and line[0] in _BOX_SIDE and line[-1] in _BOX_SIDE:
            inner = line[1:-1].removeprefix(" ").removesuffix(" ")  # Rich pads one space
            full = bool(inner) and not inner.endswith(" ")
            inner = inner.rstrip()
            if full:
                carry += inner
                continue
            out.append(carry + inner)
            carry = ""
        else:
            if carry:
                out.append(carry)
                carry = ""
            out.append(line)
    if carry:
        out.append(carry)
    return "\n".join(out)


def _scene_line(text: str) -> int | None:
    """Line number of the deepest traceback frame located in the scene file."""
    name = re.escape(SCENE_FILE_NAME)
    rich = re.compile(rf"(?:^|[\s/\\]){name}:(?P<line>\d+)(?=\s|$)", re.MULTILINE)
    best: tuple[int, int] | None = None  # (position in text, line)
    for match in rich.finditer(text):
        best = (match.start(), int(match.group("line")))
    for match in _PLAIN_FRAME.finditer(text):
        if Path(match.group("path")).name == SCENE_FILE_NAME and (
            best is None or match.start() > best[0]
        ):
            best = (match.start(), int(match.group("line")))
    return best[1] if best else None


def _exception_line(lines: list[str]) -> tuple[str | None, str]:
    """Find the "Type: message" line that ends a traceback, including Rich-wrapped messages."""
    last_box_end = max((i for i, ln in enumerate(lines) if _BOX_BOTTOM.match(ln)), default=-1)
    if last_box_end >= 0:
        tail = lines[last_box_end + 1 :]
        for i, raw in enumerate(tail):
            if not raw.strip():
                continue
            match = _EXC_LINE.match(raw.strip())
            if match:
                # Rich wraps long messages; continuation lines run up to the next blank line.
                parts = [match.group("msg") or ""]
                for cont in tail[i + 1 :]:
                    if not cont.strip():
                        break
                    parts.append(cont.strip())
                return match.group("type"), " ".join(p for p in parts if p)
            break
    for raw in reversed(lines):
        match = _GENERIC_EXC.match(raw.strip())
        if match:
            return match.group("type"), (match.group("msg") or "").strip()
    return None, ""


def _one_line(text: str) -> str:
    text = " ".join(text.split())
    if len(text) > _MESSAGE_LIMIT:
        text = text[: _MESSAGE_LIMIT - 1] + "…"
    return text


def _tail(stdout: str, stderr: str) -> str:
    """Diagnostics for the failure record: stderr tail, or stdout when stderr is empty."""
    text = stderr.strip() or stdout.strip()
    return text[-TRACEBACK_LIMIT:]


def _exit_description(returncode: int | None, stderr: str) -> str:
    """Fallback message when stderr holds no recognisable exception."""
    if returncode is not None and returncode < 0:
        try:
            name = signal.Signals(-returncode).name
        except ValueError:
            name = f"signal {-returncode}"
        hint = " (out of memory?)" if name == "SIGKILL" else ""
        return f"manim was killed by {name}{hint}"
    last = next((ln.strip() for ln in reversed(stderr.split("\n")) if ln.strip()), "")
    suffix = f": {_one_line(last)}" if last else ""
    return f"manim exited with code {returncode}{suffix}"


def _scene_not_found(class_name: str, output: str) -> bool:
    """Manim only logs a missing scene class, then renders the sole other class (exit 0) or
    prompts for a choice (exit 1 on our empty stdin)."""
    flat = " ".join(output.split())
    return f"{class_name} is not in the script" in flat
