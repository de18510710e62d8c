"""The render cache against a real JetStream object store: hits start no Manim process,
replicas share it, and it stays under its size budget by evicting the least recently used."""

from __future__ import annotations

import time
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import nats
import pytest
from nats.js.object_store import ObjectStore

from services.renderer.cache import RenderCache, cache_key
from services.renderer.clipstore import ObjectStoreClips
from services.renderer.engine import RenderEngine
from services.renderer.warm import WarmPool
from videogen.natsd import NatsServer


def _scene(colour: str) -> str:
    return (
        "from manim import *\n\n\nclass Clip(Scene):\n    def construct(self):\n"
        f"        self.play(Create(Circle(color={colour})), run_time=0.5)\n"
    )


@pytest.fixture
async def object_store(nats_server: NatsServer) -> AsyncIterator[ObjectStore]:
    connection = await nats.connect(nats_server.url)
    bucket = f"cache-{uuid.uuid4().hex[:8]}"
    store = await connection.jetstream().create_object_store(bucket)
    yield store
    await connection.jetstream().delete_object_store(bucket)
    await connection.close()


def _engine(store: ObjectStore, pool: WarmPool, *, max_bytes: int = 50 * 2**20) -> RenderEngine:
    cache = RenderCache(ObjectStoreClips(store), max_bytes=max_bytes)
    return RenderEngine(timeout_seconds=60, pool=pool, cache=cache)


async def test_same_scene_twice_is_a_cache_hit_without_a_process(
    object_store: ObjectStore, pool: WarmPool, tmp_path: Path
) -> None:
    engine = _engine(object_store, pool)
    first = await engine.render(
        _scene("BLUE"), class_name="Clip", quality="low", workdir=tmp_path / "a"
    )
    forks, launches = pool.forks, engine.cli.launches
    started = time.monotonic()
    second = await engine.render(
        _scene("BLUE"), class_name="Clip", quality="low", workdir=tmp_path / "b"
    )
    assert time.monotonic() - started < 1.0
    assert not first.cached and second.cached
    assert (pool.forks, engine.cli.launches) == (forks, launches)  # no Manim process
    assert second.path.read_bytes() == first.path.read_bytes()
    assert second.duration_seconds == first.duration_seconds
    assert engine.cache is not None and engine.cache.hits == 1


async def test_replicas_share_the_cache(
    object_store: ObjectStore, pool: WarmPool, tmp_path: Path
) -> None:
    replica_a, replica_b = _engine(object_store, pool), _engine(object_store, pool)
    await replica_a.render(_scene("RED"), class_name="Clip", quality="low", workdir=tmp_path / "a")
    forks = pool.forks
    clip = await replica_b.render(
        _scene("RED"), class_name="Clip", quality="low", workdir=tmp_path / "b"
    )
    assert clip.cached and pool.forks == forks


async def test_other_inputs_are_other_keys() -> None:
    base = cache_key("code", class_name="A", quality="low", renderer="cairo", manim_version="1")
    assert base != cache_key(
        "code", class_name="B", quality="low", renderer="cairo", manim_version="1"
    )
    assert base != cache_key(
        "code", class_name="A", quality="medium", renderer="cairo", manim_version="1"
    )
    assert base != cache_key(
        "code", class_name="A", quality="low", renderer="opengl", manim_version="1"
    )
    assert base != cache_key(
        "code", class_name="A", quality="low", renderer="cairo", manim_version="2"
    )
    assert base != cache_key(
        "code2", class_name="A", quality="low", renderer="cairo", manim_version="1"
    )


async def test_budget_evicts_least_recently_used(
    object_store: ObjectStore, pool: WarmPool, tmp_path: Path
) -> None:
    probe = _engine(object_store, pool)
    clip = await probe.render(
        _scene("GREEN"), class_name="Clip", quality="low", workdir=tmp_path / "probe"
    )
    size = clip.path.stat().st_size
    # Room for about two clips of this size.
    engine = _engine(object_store, pool, max_bytes=int(size * 2.5))
    for colour in ("GREEN", "YELLOW"):
        await engine.render(
            _scene(colour), class_name="Clip", quality="low", workdir=tmp_path / colour
        )
    await engine.render(
        _scene("GREEN"), class_name="Clip", quality="low", workdir=tmp_path / "again"
    )  # a hit: GREEN is now the most recent
    await engine.render(
        _scene("PURPLE"), class_name="Clip", quality="low", workdir=tmp_path / "PURPLE"
    )
    assert engine.cache is not None
    stored = {entry.key for entry in await engine.cache.store.entries()}
    key = lambda colour: cache_key(  # noqa: E731
        _scene(colour), class_name="Clip", quality="low", renderer="cairo"
    )
    assert stored == {key("GREEN"), key("PURPLE")}
