"""How one renderer replica renders a scene: the cache, then the warm pool, else the CLI.

The handlers only ever call :meth:`RenderEngine.render`; which of the three paths served a
scene is visible in the counters (``cache.hits``, ``pool.forks``, ``cli.launches``), which
is how tests prove that a cache hit starts no Manim process.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from services.renderer import scratch
from services.renderer.cache import RenderCache, cache_key
from services.renderer.choice import RendererChoice, choose_renderer
from services.renderer.fastforward import SliceSpec
from services.renderer.layout_hook import LAYOUT_FILE
from services.renderer.outputs import probe_duration
from services.renderer.render import (
    CliLauncher,
    Launcher,
    RenderedClip,
    RenderProcess,
    check_code,
    render_scene,
)
from services.renderer.sandbox import RenderLimits
from services.renderer.warm import PoolUnavailable, WarmPool

log = logging.getLogger("videogen.renderer")


class RenderEngine:
    """Renders scenes with a renderer mode (RENDERER: "auto", "cairo" or "opengl"), limits
    and timeout; under "auto" each scene's code picks its renderer."""

    def __init__(
        self,
        *,
        timeout_seconds: float,
        renderer: str = "auto",
        limits: RenderLimits | None = None,
        pool: WarmPool | None = None,
        cache: RenderCache | None = None,
        cli: CliLauncher | None = None,
    ) -> None:
        self.timeout_seconds = timeout_seconds
        self.renderer = renderer
        self.limits = limits or RenderLimits()
        self.pool = pool
        self.cache = cache
        self.cli = cli or CliLauncher()

    async def render(
        self,
        code: str,
        *,
        class_name: str,
        quality: str,
        workdir: Path,
        on_start: Callable[[RenderProcess], None] | None = None,
        use_cache: bool = True,
        strict: bool = True,
        layout: bool = False,
        slice_spec: SliceSpec | None = None,
        tex_cache: bytes | None = None,
    ) -> RenderedClip:
        """A clip for the scene; raise RenderFailure (policy, syntax, timeout, crash, …).

        `use_cache=False` renders anyway (a replay after a renderer fix) and refreshes
        the cached clip. `strict` lints the code with the static policy first: LLM code,
        whose author (the coder) repairs what the lint names; a client's own code is not
        linted (the jail is the boundary, and real scenes use os.path, sys, pathlib).
        `layout` records the layout (the hook in the render); a cached clip comes with the
        records cached beside it (``<key>-layout``), when there are any.
        `slice_spec` counts the scene's animations or renders a range of them
        (services/renderer/fastforward.py): never cached, a part is not the scene.
        """
        check_code(code, policy=strict)  # refused code is never served, not even cached
        if use_cache and slice_spec is None:
            hit = await self.cached(
                code, class_name=class_name, quality=quality, workdir=workdir, layout=layout
            )
            if hit is not None:
                return hit
        choice = self.choice(code, class_name)
        clip = await render_scene(
            code,
            class_name=class_name,
            quality=quality,
            workdir=workdir,
            timeout_seconds=self.timeout_seconds,
            renderer=choice.renderer,
            launcher=await self._launcher(),
            limits=self.limits,
            on_start=on_start,
            check_policy=False,  # done above
            layout=layout,
            slice_spec=slice_spec,
            tex_cache=tex_cache,
        )
        if slice_spec is None:
            await self.remember(
                code, class_name=class_name, quality=quality, clip=clip.path, layout=clip.layout
            )
        return dataclasses.replace(clip, renderer_reason=choice.reason)

    def choice(self, code: str, class_name: str) -> RendererChoice:
        """The Manim renderer this scene gets under the RENDERER mode, and why."""
        return choose_renderer(self.renderer, code, class_name)

    def key(self, code: str, *, class_name: str, quality: str) -> str:
        renderer = self.choice(code, class_name).renderer
        return cache_key(code, class_name=class_name, quality=quality, renderer=renderer)

    async def cached(
        self, code: str, *, class_name: str, quality: str, workdir: Path, layout: bool = False
    ) -> RenderedClip | None:
        """The cached clip of this scene (with its layout records when `layout`), or None."""
        if self.cache is None:
            return None
        started = time.monotonic()
        key = self.key(code, class_name=class_name, quality=quality)
        cached = await self.cache.get(key, Path(workdir) / "cached.mp4")
        if cached is None:
            return None
        duration = await asyncio.to_thread(probe_duration, cached)
        target = Path(workdir) / LAYOUT_FILE
        found = layout and await self.cache.store.fetch(f"{key}-layout", target)
        choice = self.choice(code, class_name)
        return RenderedClip(
            path=cached,
            duration_seconds=duration,
            seconds_rendering=time.monotonic() - started,
            cached=True,
            renderer=choice.renderer,
            renderer_reason=choice.reason,
            layout=target if found else None,
        )

    async def remember(
        self, code: str, *, class_name: str, quality: str, clip: Path, layout: Path | None = None
    ) -> None:
        """Cache a whole scene's clip (rendered whole, or joined from exact slices)."""
        if self.cache is not None:
            key = self.key(code, class_name=class_name, quality=quality)
            await self.cache.put(key, clip)
            if layout is not None:
                await self.cache.put(f"{key}-layout", layout)

    def workdir(self) -> tempfile.TemporaryDirectory[str]:
        """A temporary folder for one render's files, inside this process's own folder
        (removed on exit, and by the next renderer after a crash)."""
        return tempfile.TemporaryDirectory(prefix="render-", dir=scratch.process_root())

    async def close(self) -> None:
        if self.pool is not None:
            await self.pool.close()

    async def _launcher(self) -> Launcher:
        if self.pool is None:
            return self.cli
        try:
            await self.pool.start()
        except PoolUnavailable as exc:
            log.warning("warm pool unavailable, rendering with the manim CLI: %s", exc)
            return self.cli
        return self.pool
