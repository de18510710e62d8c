"""Throwaway local stacks for benchmarks: temp data dir, own NATS, free port."""

from __future__ import annotations

import contextlib
import tempfile
from collections.abc import Iterator
from pathlib import Path

from videogen.stack import SERVICES, Stack, isolated_stack


@contextlib.contextmanager
def bench_stack(*, services: tuple[str, ...] = SERVICES, **settings: str) -> Iterator[Stack]:
    with (
        tempfile.TemporaryDirectory(prefix="videogen-bench-") as folder,
        isolated_stack(Path(folder), services=services, **settings) as stack,
    ):
        yield stack
