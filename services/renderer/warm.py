"""The warm pool: renders forked from a parent that has Manim imported already.

Every ``manim`` CLI run pays about 2 s of imports before its first frame. The pool keeps
one pre-loaded parent (:mod:`services.renderer.forkserver`) per renderer replica and asks
it to fork a fresh child per render, so a render starts in milliseconds while staying as
isolated as a CLI child (own process group, allow-listed environment, limits, workdir).

:class:`WarmPool` is a :class:`~services.renderer.render.Launcher`; when its parent cannot
be started (or died), ``launch`` raises :class:`PoolUnavailable` and the caller falls back
to the CLI.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import shutil
import signal
import sys
import tempfile
from dataclasses import asdict
from pathlib import Path
from typing import Any

from services.renderer.render import RenderProcess, RenderRequest
from services.renderer.sandbox import render_environment

log = logging.getLogger("videogen.renderer.warm")

_LOST_PARENT = -int(signal.SIGKILL)


class PoolUnavailable(RuntimeError):
    """The pre-loaded parent is not running; render another way."""


class ForkedRender:
    """A render child of the pool's parent, shaped like an asyncio subprocess."""

    def __init__(self, pid: int, exited: asyncio.Future[int]) -> None:
        self.pid = pid
        self._exited = exited

    @property
    def returncode(self) -> int | None:
        return self._exited.result() if self._exited.done() else None

    async def wait(self) -> int:
        return await asyncio.shield(self._exited)


class WarmPool:
    """One pre-loaded Manim parent that forks a child per render; restarted when it dies."""

    def __init__(self, *, python: str = sys.executable, startup_timeout: float = 60.0) -> None:
        self.python = python
        self.startup_timeout = startup_timeout
        self.forks = 0  # renders started through the pool (tests and benchmarks read it)
        self._process: asyncio.subprocess.Process | None = None
        self._reader: asyncio.Task[None] | None = None
        self._home: Path | None = None
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
        loop = asyncio.get_running_loop()
        started = self._started[request_id] = loop.create_future()
        exited = self._exited[request_id] = loop.create_future()
        message = {
            "id": request_id,
            "workdir": str(request.workdir),
            "class_name": request.class_name,
            "quality": request.quality,
            "renderer": request.renderer,
            "env": dict(request.env),
            "limits": asdict(request.limits),
        }
        try:
            self._process.stdin.write(json.dumps(message).encode() + b"\n")
            await self._process.stdin.drain()
            pid = await asyncio.wait_for(started, timeout=10)
        except (OSError, TimeoutError, PoolUnavailable) as exc:
            self._exited.pop(request_id, None)
            raise PoolUnavailable(f"the warm pool did not start the render: {exc}") from exc
        finally:
            self._started.pop(request_id, None)
        self.forks += 1
        return ForkedRender(pid, exited)

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
        if self._home is not None:
            shutil.rmtree(self._home, ignore_errors=True)
            self._home = None

    def _alive(self) -> bool:
        return self._process is not None and self._process.returncode is None

    async def _spawn(self) -> None:
        self._home = self._home or Path(tempfile.mkdtemp(prefix="videogen-warm-"))
        process = await asyncio.create_subprocess_exec(
            self.python, "-m", "services.renderer.forkserver",
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.DEVNULL,
            # The parent holds no secrets: its children inherit what it has.
            env={**render_environment(self._home), "PYTHONPATH": _project_root()},
            cwd=str(self._home),
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
        self._reader = asyncio.create_task(self._read(process))
        log.info("warm pool ready", extra={"pid": process.pid})

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
        log.warning("warm pool parent exited", extra={"returncode": process.returncode})
        for future in self._started.values():
            if not future.done():
                future.set_exception(PoolUnavailable("the warm pool's parent exited"))
        for future in self._exited.values():
            if not future.done():
                future.set_result(_LOST_PARENT)
        self._exited.clear()


def _project_root() -> str:
    """Where ``services`` is importable from, for the parent's ``-m``."""
    return str(Path(__file__).resolve().parents[2])

