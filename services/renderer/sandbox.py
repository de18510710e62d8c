"""What a render's child process may see and use: an allow-listed environment and limits.

Generated code is untrusted input. Nothing from the service's own environment (API keys,
S3 credentials) is passed to it, and every render process — a ``manim`` CLI child or a
child forked from the warm pool — calls :func:`confine` before the scene code runs:

- (set up by the launcher) its own process group, so a timeout or cancellation kills
  everything it started;
- ``RLIMIT_CPU``, ``RLIMIT_AS`` (memory), ``RLIMIT_FSIZE`` (largest file) and
  ``RLIMIT_NPROC`` (processes), and no core dumps. Linux does not enforce ``RLIMIT_NPROC``
  for root, so where the renderer runs as root the static policy (no fork, no
  subprocess) and the wall-clock timeout are what stop a fork bomb; run the renderer
  as a non-root user to get the kernel's limit as well;
- a fresh, empty network namespace (``unshare(CLONE_NEWNET)``) where the platform allows
  it (root or CAP_SYS_ADMIN on Linux): no interface but a downed loopback, so no
  network at all. Elsewhere this is skipped and the policy's ban on network modules is
  what remains.
"""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import os
import resource
from dataclasses import dataclass
from pathlib import Path

INHERITED = ("PATH", "LANG", "LC_ALL", "TZ")
_CLONE_NEWNET = 0x40000000
_MB = 1024 * 1024
_CPU_GRACE_SECONDS = 5


@dataclass(frozen=True)
class RenderLimits:
    """Per-render resource limits (RENDER_* settings)."""

    memory_mb: int = 4096
    cpu_seconds: int = 900
    max_file_mb: int = 1024
    max_processes: int = 256
    isolate_network: bool = True


def render_environment(workdir: Path) -> dict[str, str]:
    """The complete environment of a render process."""
    env = {name: os.environ[name] for name in INHERITED if name in os.environ}
    env.update(
        HOME=str(workdir),
        TMPDIR=str(workdir),
        PYTHONDONTWRITEBYTECODE="1",
        PYTHONUNBUFFERED="1",
        # Plain, wide, uncoloured output keeps Rich's tracebacks parseable.
        TERM="dumb",
        COLUMNS="200",
        NO_COLOR="1",
    )
    return env


def confine(limits: RenderLimits) -> None:
    """Apply the limits to the calling process; meant for a freshly forked render child.

    Runs between fork and the scene code (``preexec_fn`` or the warm pool's child), so it
    only makes async-signal-safe-enough calls and never raises for what a platform lacks.
    """
    if limits.isolate_network:
        _unshare_network()
    # SIGXCPU at the soft limit names the cause; SIGKILL a few seconds later is certain.
    _limit(resource.RLIMIT_CPU, limits.cpu_seconds, grace=_CPU_GRACE_SECONDS)
    _limit(resource.RLIMIT_AS, limits.memory_mb * _MB)
    _limit(resource.RLIMIT_FSIZE, limits.max_file_mb * _MB)
    _limit(resource.RLIMIT_NPROC, limits.max_processes)
    _limit(resource.RLIMIT_CORE, 0)


def network_isolation_available() -> bool:
    """Whether ``confine`` can give a child its own empty network namespace here."""
    pid = os.fork()
    if pid == 0:  # pragma: no cover - runs in the child
        os._exit(0 if _unshare_network() else 1)
    _, status = os.waitpid(pid, 0)
    return os.waitstatus_to_exitcode(status) == 0


def _unshare_network() -> bool:
    path = ctypes.util.find_library("c")
    if path is None:
        return False
    try:
        libc = ctypes.CDLL(path, use_errno=True)
        return libc.unshare(_CLONE_NEWNET) == 0
    except (OSError, AttributeError):
        return False


def _limit(kind: int, value: int, *, grace: int = 0) -> None:
    """Lower a limit (never above the hard limit the service itself has)."""
    with contextlib.suppress(ValueError, OSError):
        _soft, hard = resource.getrlimit(kind)
        ceiling = value + grace if hard == resource.RLIM_INFINITY else min(value + grace, hard)
        resource.setrlimit(kind, (min(value, ceiling), ceiling))
