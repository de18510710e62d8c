"""The renderer's temporary folders: one per process, removed on exit and after a crash.

Every render folder, the jail's staging folders and the handlers' work folders live
under one folder per renderer process, named after the process (pid and start time, so a
reused pid is not mistaken for its owner). A clean exit removes it; a process killed with
``-9`` cannot, so the next renderer process to start removes every folder whose owner is
gone.
"""

from __future__ import annotations

import atexit
import os
import shutil
import tempfile
from pathlib import Path

__all__ = ["PREFIX", "process_root", "sweep"]

PREFIX = "videogen-renderer"
_root: Path | None = None


def _start_time(pid: int) -> str | None:
    """The process's start time in clock ticks since boot (None: no such process)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return stat.rsplit(")", 1)[1].split()[19]


def _remove_root() -> None:
    if _root is not None:
        shutil.rmtree(_root, True)


def process_root() -> Path:
    """This process's folder (created on first use, after sweeping dead owners' folders)."""
    global _root
    if _root is None or not _root.exists():
        sweep()
        pid = os.getpid()
        folder = Path(tempfile.mkdtemp(prefix=f"{PREFIX}.{pid}.{_start_time(pid)}."))
        folder.chmod(0o711)  # the jail's uid must reach the render folders inside
        if _root is None:
            atexit.register(_remove_root)
        _root = folder
    return _root


def sweep(base: Path | None = None) -> list[Path]:
    """Remove the folders of renderer processes that are no longer running."""
    removed = []
    for folder in Path(base or tempfile.gettempdir()).glob(f"{PREFIX}.*"):
        parts = folder.name.split(".")
        if len(parts) < 4 or not parts[1].isdigit():
            continue
        if _start_time(int(parts[1])) != parts[2]:
            shutil.rmtree(folder, ignore_errors=True)
            removed.append(folder)
    return removed
