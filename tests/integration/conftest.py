"""Fixtures of the integration tier."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from services.renderer.warm import WarmPool


@pytest.fixture(scope="module")
async def pool() -> AsyncIterator[WarmPool]:
    """A warm render pool (Manim imported once) for a module's renders."""
    warm = WarmPool()
    await warm.start()
    yield warm
    await warm.close()
