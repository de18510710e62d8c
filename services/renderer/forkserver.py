"""The warm pool's parent process: Manim imported once, one forked child per render.

Run as ``python -m services.renderer.forkserver`` by :class:`services.renderer.warm.WarmPool`
with the allow-listed render environment (it never holds a secret, so neither does a
child). Normally it runs inside the render jail (:mod:`services.renderer.jail`).
It speaks JSON lines: it prints ``{"ready": true}`` once Manim is imported, then
for each request line ``{"id", "folder", "cell", "class_name", "quality", "renderer",
"env", "limits", "layout"}`` it forks a child and prints ``{"id", "pid"}``, and when that child ends
``{"id", "exit"}`` (a subprocess-style return code: negative for a signal).

A child is as isolated as a CLI render: its own process group (set by parent and child,
so a kill can never miss it), the request's environment, the sandbox limits, and output
in its folder's log files. With ``"cell": true`` (the jailed pool) ``folder`` names the
render's folder under the jail's RENDERS_DIR and the child becomes the supervisor of a
render cell (:mod:`services.renderer.cell`): the scene then runs in its own namespaces,
sees only its own folder (as ``/render``) and its own ``/proc``, and cannot reach this
parent or any other render. Because each render is a fresh fork, nothing one scene does
(globals, Manim config, monkey-patches) reaches the next. The parent stays
single-threaded, which is what makes forking it safe.
"""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import json
import os
import select
import signal
import sys
import traceback
from pathlib import Path
from typing import Any, TextIO

from services.renderer import fastforward
from services.renderer.cell import CELL_DIR, RENDERS_DIR, exit_like, run_in_cell
from services.renderer.errors import SCENE_FILE_NAME
from services.renderer.outputs import OUTPUT_NAME
from services.renderer.sandbox import RenderLimits, confine

# Manim's quality names for our quality values (the CLI's -ql/-qm/-qh/-qk).
MANIM_QUALITY = {
    "low": "low_quality",
    "medium": "medium_quality",
    "high": "high_quality",
    "ultra": "fourk_quality",
}
_POLL_SECONDS = 0.02
_MAX_FDS = 1 << 20
_PR_SET_CHILD_SUBREAPER = 36


def main() -> None:
    # The whole point: pay Manim's import (and the OpenGL renderer's) once, here.
    import manim.renderer.opengl_renderer  # noqa: F401

    _become_subreaper()
    # The protocol gets its own descriptor; anything else printed goes to stderr.
    protocol = os.fdopen(os.dup(1), "w")
    os.dup2(2, 1)
    _send(protocol, {"ready": True, "pid": os.getpid()})
    children: dict[int, int] = {}  # pid → request id
    buffer = b""
    open_input = True
    while open_input or children:
        readable, _, _ = select.select([0] if open_input else [], [], [], _POLL_SECONDS)
        if readable:
            chunk = os.read(0, 65536)
            if not chunk:
                open_input = False  # the service went away: stop what is still running
                for pid in children:
                    with contextlib.suppress(ProcessLookupError, PermissionError):
                        os.killpg(pid, signal.SIGKILL)
            buffer += chunk
            while b"\n" in buffer:
                line, buffer = buffer.split(b"\n", 1)
                if line.strip():
                    request = json.loads(line)
                    pid = _fork(request, protocol)
                    children[pid] = request["id"]
                    _send(protocol, {"id": request["id"], "pid": pid})
        _reap(children, protocol)


def _fork(request: dict[str, Any], protocol: TextIO) -> int:
    sys.stdout.flush()
    sys.stderr.flush()
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child; it always leaves through os._exit
        status = 1
        try:
            os.setpgid(0, 0)
            os.close(protocol.fileno())
            limits = RenderLimits(**request["limits"])
            if request["cell"]:
                _redirect(Path(RENDERS_DIR) / request["folder"])
                os.closerange(3, _MAX_FDS)  # nothing of the parent's reaches the render
                exit_like(
                    run_in_cell(
                        request["folder"], limits, lambda: _render_in_child(request, Path(CELL_DIR))
                    )
                )
            folder = Path(request["folder"])
            _redirect(folder)
            os.chdir(folder)
            confine(limits)
            status = _render_in_child(request, folder)
        except BaseException:
            traceback.print_exc()  # a failed set-up is the render's error, in its log
        finally:
            os._exit(status)
    with contextlib.suppress(OSError):  # the child may already have done it, or exited
        os.setpgid(pid, pid)
    return pid


def _reap(children: dict[int, int], protocol: TextIO) -> None:
    """Collect every ended child: renders (reported) and adopted orphans (just reaped)."""
    while True:
        try:
            pid, status = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return
        request_id = children.pop(pid, None)
        if request_id is not None:
            _send(protocol, {"id": request_id, "exit": os.waitstatus_to_exitcode(status)})


def _become_subreaper() -> None:
    """Adopt the orphans of killed renders (Linux), so _reap collects them, not init."""
    path = ctypes.util.find_library("c")
    with contextlib.suppress(OSError, AttributeError):
        if path is not None:
            ctypes.CDLL(path).prctl(_PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)


def _send(protocol: TextIO, message: dict[str, Any]) -> None:
    protocol.write(json.dumps(message) + "\n")
    protocol.flush()


def _render_in_child(request: dict[str, Any], workdir: Path) -> int:  # pragma: no cover
    """Render one scene from ``workdir``, as ``manim render`` would (runs forked)."""
    os.environ.clear()
    os.environ.update(request["env"])

    from manim import config, tempconfig
    from manim._config import error_console, logger
    from manim.utils.module_ops import get_module, get_scene_classes_from_module

    scene_path = workdir / SCENE_FILE_NAME
    class_name = request["class_name"]
    config.renderer = request["renderer"]
    config.quality = MANIM_QUALITY[request["quality"]]
    config.disable_caching = True
    config.progress_bar = "none"
    config.media_dir = str(workdir / "media")
    config.output_file = OUTPUT_NAME
    config.input_file = str(scene_path)
    config.scene_names = [class_name]
    if request.get("layout"):
        from services.renderer.layout_hook import LAYOUT_FILE, install

        install(str(scene_path), workdir / LAYOUT_FILE)
    try:
        spec = fastforward.prepare(workdir, scene_path.read_text(encoding="utf-8"))
        module = get_module(scene_path)
        scenes = [
            cls for cls in get_scene_classes_from_module(module) if cls.__name__ == class_name
        ]
        if not scenes:
            logger.error(f"{class_name} is not in the script")
            return 1
        with tempconfig({}):
            if request["renderer"] == "opengl":
                from manim.renderer.opengl_renderer import OpenGLRenderer

                scene = scenes[0](renderer=OpenGLRenderer())
            else:
                scene = scenes[0]()
            fastforward.render(scene, spec, workdir)
    except Exception:
        error_console.print_exception()
        return 1
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
    return 0


def _redirect(workdir: Path) -> None:  # pragma: no cover - runs forked
    """Output to the workdir's log files; the parent's protocol pipes are closed to us."""
    devnull = os.open(os.devnull, os.O_RDONLY)
    os.dup2(devnull, 0)
    for fd, name in ((1, "stdout.log"), (2, "stderr.log")):
        target = os.open(workdir / name, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        os.dup2(target, fd)
        os.close(target)
    os.close(devnull)


def render_here(argv: list[str]) -> None:  # pragma: no cover - the CLI path of a slice
    """``--render REQUEST``: one render in this process, in the current folder (the cell)."""
    request = json.loads(argv[1]) | {"env": dict(os.environ)}
    sys.exit(_render_in_child(request, Path.cwd()))


if __name__ == "__main__":
    if sys.argv[1:2] == ["--render"]:
        render_here(sys.argv[1:])
    main()
