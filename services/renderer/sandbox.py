"""What a render process may use: an allow-listed environment and resource limits.

Isolation itself (namespaces, read-only system, seccomp) is the jail's and the cell's job
(:mod:`services.renderer.jail`, :mod:`services.renderer.cell`); this module holds the two
things every render gets on top, on both the jailed and the ``unsafe-dev`` path:

- an environment built from an allow-list: nothing of the service's own (API keys, S3
  credentials) ever reaches a render;
- ``RLIMIT_CPU``, ``RLIMIT_AS`` (memory), ``RLIMIT_FSIZE`` (largest file),
  ``RLIMIT_NPROC`` (processes; counted per render, since each cell has its own user
  namespace) and no core dumps, applied by :func:`confine` just before the scene runs.
"""

from __future__ import annotations

import contextlib
import os
import resource
from dataclasses import dataclass

INHERITED = ("PATH", "LANG", "LC_ALL", "TZ")
_MB = 1024 * 1024
_CPU_GRACE_SECONDS = 5
# Pinned so set and dict orders are the same in every render: a slice and the whole
# render of a scene must make the same choices (services/renderer/fastforward.py).
HASH_SEED = "0"


@dataclass(frozen=True)
class RenderLimits:
    """Per-render resource limits (RENDER_* settings)."""

    memory_mb: int = 4096
    cpu_seconds: int = 900
    max_file_mb: int = 1024
    max_processes: int = 256


def render_environment(folder: str) -> dict[str, str]:
    """The complete environment of a render process whose folder is ``folder``."""
    env = {name: os.environ[name] for name in INHERITED if name in os.environ}
    env.update(
        HOME=folder,
        TMPDIR="/tmp",
        PYTHONDONTWRITEBYTECODE="1",
        PYTHONUNBUFFERED="1",
        PYTHONHASHSEED=HASH_SEED,
        # Plain, wide, uncoloured output keeps Rich's tracebacks parseable.
        TERM="dumb",
        COLUMNS="200",
        NO_COLOR="1",
    )
    return env


def confine(limits: RenderLimits) -> None:
    """Apply the limits to the calling process; meant for a render just before it starts.

    Runs between fork and the scene code, so it never raises for what a platform lacks.
    """
    # SIGXCPU at the soft limit names the cause; SIGKILL a few seconds later is certain.
    _limit(resource.RLIMIT_CPU, limits.cpu_seconds, grace=_CPU_GRACE_SECONDS)
    _limit(resource.RLIMIT_AS, limits.memory_mb * _MB)
    _limit(resource.RLIMIT_FSIZE, limits.max_file_mb * _MB)
    _limit(resource.RLIMIT_NPROC, limits.max_processes)
    _limit(resource.RLIMIT_CORE, 0)


def _limit(kind: int, value: int, *, grace: int = 0) -> None:
    """Lower a limit (never above the hard limit the service itself has)."""
    with contextlib.suppress(ValueError, OSError):
        _soft, hard = resource.getrlimit(kind)
        ceiling = value + grace if hard == resource.RLIM_INFINITY else min(value + grace, hard)
        resource.setrlimit(kind, (min(value, ceiling), ceiling))
