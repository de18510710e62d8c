"""The warm pool: renders forked from a parent that has Manim imported already.

Every ``manim`` CLI run pays about 2 s of imports before its first frame. The pool keeps
one pre-loaded parent (:mod:`services.renderer.forkserver`) per renderer replica and asks
it to fork a fresh child per render, so a render starts in milliseconds while staying as
isolated as a CLI render. With a :class:`~services.renderer.jail.Jail` (the default) the
parent runs inside the jail and each child enters its own render cell; a render's files
come back through :func:`~services.renderer.jail.collect`.

:class:`WarmPool` is a :class:`~services.renderer.render.Launcher`; when its parent cannot
be started, ``launch`` raises :class:`PoolUnavailable` and the caller falls back to the
CLI. When the parent dies while renders are running, those renders raise
:class:`PoolLost`, a transient error: no render can reach the parent from its cell, so
none of them is to blame, and the broker delivers each again (a render that really does
bring the parent down fails once its deliveries run out).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import shutil
import sys
import uuid
from dataclasses import asdict
from pathlib import Path
from typing import Any

from services.renderer.cell import CELL_DIR
from services.renderer.jail import Jail, collect
from services.renderer.render import RenderProcess, RenderRequest
from services.renderer.sandbox import render_environment
from shared.errors import TransientError

log = logging.getLogger("videogen.renderer.warm")


class PoolUnavailable(RuntimeError):
    """The pre-loaded parent is not running; render another way."""


class PoolLost(TransientError):
    """The pool's parent died during the render; the render is worth another try."""

    code = "RENDERER_RESTARTED"


class ForkedRender:
    """A render child of the pool's parent, shaped like an asyncio subprocess.

    ``pid`` is the child's pid as this service sees it (its process group), or -1 when
    it could not be seen (it had ended already).
    """

    def __init__(
        self,
        pid: int,
        exited: asyncio.Future[int],
        *,
        folder: Path | None = None,
        workdir: Path | None = None,
    ) -> None:
        self.pid = pid
        self._exited = exited
        self._folder, self._workdir = folder, workdir
        self._collected = False

    @property
    def returncode(self) -> int | None:
        if not self._exited.done() or self._exited.exception() is not None:
            return None
        return self._exited.result()

    async def wait(self) -> int:
        try:
            code = await asyncio.shield(self._exited)
        finally:
            self._collect()
        return code

    def _collect(self) -> None:
        if self._folder is not None and self._workdir is not None and not self._collected:
            self._collected = True
            collect(self._folder, self._workdir)


class WarmPool:
    """One pre-loaded Manim parent that forks a child per render; restarted when it dies.

    ``jail=None`` runs the parent and its renders unjailed (``RENDER_SANDBOX=unsafe-dev``).
    """

    def __init__(
        self,
        *,
        jail: Jail | bool | None = True,
        python: str = sys.executable,
        startup_timeout: float = 60.0,
    ) -> None:
        self.jail = Jail() if jail is True else (jail or None)
        self.python = python
        self.startup_timeout = startup_timeout
        self.forks = 0  # renders started through the pool (tests and benchmarks read it)
        self.parent_pid: int | None = None  # the forkserver, as this service sees it
        self._process: asyncio.subprocess.Process | None = None
        self._reader: asyncio.Task[None] | None = None
        self._starting: asyncio.Lock | None = None
        self._next_id = 0
        self._started: dict[int, asyncio.Future[int]] = {}  # id → pid
        self._exited: dict[int, asyncio.Future[int]] = {}  # id → return code

    async def start(self) -> None:
        """Start the parent and wait until Manim is imported; raise PoolUnavailable."""
        self._starting = self._starting or asyncio.Lock()
        async with self._starting:
            if self._alive():
                return
            await self._spawn()

    async def launch(self, request: RenderRequest) -> RenderProcess:
        await self.start()
        assert self._process is not None and self._process.stdin is not None
        self._next_id += 1
        request_id = self._next_id
        folder: Path | None = None
        if self.jail is not None:
            folder = self.jail.folder(f"warm-{uuid.uuid4().hex[:16]}")
            for staged in request.staged_files:
                shutil.copyfile(staged, folder / staged.name)
            where, env = folder.name, render_environment(CELL_DIR)
        else:
            where, env = str(request.workdir), render_environment(str(request.workdir))
        loop = asyncio.get_running_loop()
        started = self._started[request_id] = loop.create_future()
        exited = self._exited[request_id] = loop.create_future()
        message = {
            "id": request_id,
            "folder": where,
            "cell": self.jail is not None,
            "class_name": request.class_name,
            "quality": request.quality,
            "renderer": request.renderer,
            "env": dict(request.env or env),
            "limits": asdict(request.limits),
            "layout": request.layout,
        }
        try:
            self._process.stdin.write(json.dumps(message).encode() + b"\n")
            await self._process.stdin.drain()
            pid = await asyncio.wait_for(started, timeout=10)
        except (OSError, TimeoutError, PoolUnavailable) as exc:
            self._exited.pop(request_id, None)
            if folder is not None:
                shutil.rmtree(folder, ignore_errors=True)
            raise PoolUnavailable(f"the warm pool did not start the render: {exc}") from exc
        finally:
            self._started.pop(request_id, None)
        self.forks += 1
        if self.jail is not None:
            pid = _host_pid(pid, parent=self.parent_pid)
        return ForkedRender(pid, exited, folder=folder, workdir=request.workdir)

    async def close(self) -> None:
        """Stop the parent (it kills any render still running) and wait for it."""
        process, self._process = self._process, None
        if process is not None and process.returncode is None:
            if process.stdin is not None:
                process.stdin.close()  # EOF: the parent kills its children and exits
            try:
                await asyncio.wait_for(process.wait(), timeout=5)
            except TimeoutError:
                with contextlib.suppress(ProcessLookupError):
                    process.kill()
                await process.wait()
        if self._reader is not None:
            await self._reader
            self._reader = None

    def _alive(self) -> bool:
        return self._process is not None and self._process.returncode is None

    async def _spawn(self) -> None:
        argv = [self.python, "-m", "services.renderer.forkserver"]
        if self.jail is not None:
            process = await asyncio.create_subprocess_exec(
                *self.jail.command(argv),
                stdin=asyncio.subprocess.PIPE,
                stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.DEVNULL,
                env=self.jail.environment(),
                preexec_fn=self.jail.preexec(),
                start_new_session=True,
            )
        else:
            process = await asyncio.create_subprocess_exec(
                *argv,
                stdin=asyncio.subprocess.PIPE,
                stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.DEVNULL,
                # The parent holds no secrets: its children inherit what it has.
                env={**render_environment("/tmp"), "PYTHONPATH": _project_root()},
                cwd="/tmp",
                start_new_session=True,
            )
        assert process.stdout is not None
        try:
            line = await asyncio.wait_for(process.stdout.readline(), self.startup_timeout)
            ready = json.loads(line or b"{}").get("ready", False)
        except (TimeoutError, ValueError):
            ready = False
        if not ready:
            with contextlib.suppress(ProcessLookupError):
                process.kill()
            await process.wait()
            raise PoolUnavailable("the warm pool's parent did not start")
        self._process = process
        self.parent_pid = _forkserver_pid(process.pid) if self.jail else process.pid
        self._reader = asyncio.create_task(self._read(process))
        log.info("warm pool ready", extra={"pid": self.parent_pid, "jailed": self.jail is not None})

    async def _read(self, process: asyncio.subprocess.Process) -> None:
        """Resolve launches and exits from the parent's messages; fail them all if it dies."""
        assert process.stdout is not None
        while line := await process.stdout.readline():
            message: dict[str, Any] = json.loads(line)
            request_id = message.get("id")
            if "pid" in message and request_id in self._started:
                self._started[request_id].set_result(message["pid"])
            elif "exit" in message and request_id in self._exited:
                self._exited.pop(request_id).set_result(message["exit"])
        await process.wait()
        if self._process is process:
            log.warning("warm pool parent exited", extra={"returncode": process.returncode})
        for future in self._started.values():
            if not future.done():
                future.set_exception(PoolUnavailable("the warm pool's parent exited"))
        lost = PoolLost(
            "the renderer's warm pool stopped during the render; it will be retried",
            suggestion="Nothing to do: the render is delivered again.",
        )
        for future in self._exited.values():
            if not future.done():
                future.set_exception(lost)
                future.exception()  # retrieved: a render nobody awaits is no error
        self._exited.clear()


def _project_root() -> str:
    """Where ``services`` is importable from, for the unjailed parent's ``-m``."""
    return str(Path(__file__).resolve().parents[2])


def _parent_of(pid: int) -> int | None:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return int(stat.rsplit(")", 1)[1].split()[1])


def _children(pid: int) -> list[int]:
    return [
        int(entry)
        for entry in os.listdir("/proc")
        if entry.isdigit() and _parent_of(int(entry)) == pid
    ]


def _forkserver_pid(monitor: int) -> int | None:
    """bwrap's monitor → the jail's init → the pool's parent: the last one's host pid."""
    for init in _children(monitor):
        for child in _children(init):
            return child
    return None


def _host_pid(inner: int, *, parent: int | None) -> int:
    """The host pid of the pool's child whose pid in the jail is ``inner`` (-1: gone)."""
    if parent is None:
        return -1
    for child in _children(parent):
        try:
            status = Path(f"/proc/{child}/status").read_text()
        except OSError:
            continue
        for line in status.splitlines():
            if line.startswith("NSpid:") and line.split()[-1] == str(inner):
                return child
    return -1
