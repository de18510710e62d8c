"""Throwaway local stacks for benchmarks: temp data dir, free port, stopped on exit."""

from __future__ import annotations

import contextlib
import os
import socket
import tempfile
from collections.abc import Iterator
from pathlib import Path

from videogen.stack import SERVICES, Stack, start_stack


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextlib.contextmanager
def bench_stack(
    *, services: tuple[str, ...] = SERVICES, **environ: str
) -> Iterator[Stack]:
    base = {k: v for k, v in os.environ.items() if k != "NATS_URL"}
    with tempfile.TemporaryDirectory(prefix="videogen-bench-") as folder:
        stack = start_stack(
            Path(folder), port=free_port(), environ={**base, **environ}, services=services
        )
        try:
            yield stack
        finally:
            stack.stop()
