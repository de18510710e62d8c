"""Temp folders that belong to their process, and the sweep of those whose owner died.

A `TemporaryDirectory` is removed when its block ends, but a process killed with
SIGKILL (or the OOM killer) never gets there: its folder, with a whole video in it, stays
forever. So each folder holds an exclusive `flock` on a file inside it for as long as its
owner lives; the kernel drops the lock when the owner dies, however it dies. A service
sweeps, at start, the folders of its prefix whose lock is free: their owners are gone.
The owner's pid is in the name too, for people reading `ls /tmp`.
"""

from __future__ import annotations

import contextlib
import fcntl
import logging
import os
import shutil
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

log = logging.getLogger("videogen.tempdirs")

OWNER_FILE = ".owner"
# A folder without an owner file is younger than this only while its creator is between
# mkdir and lock; older, it is left from a crash in that instant (or an older version).
UNLOCKED_GRACE_SECONDS = 60.0


@contextlib.contextmanager
def owned_tempdir(prefix: str, *, root: Path | None = None) -> Iterator[Path]:
    """A fresh folder `<prefix><pid>-<random>` under `root` (default: the temp dir),
    locked by this process while the block runs and removed when it ends."""
    folder = Path(tempfile.mkdtemp(prefix=f"{prefix}{os.getpid()}-", dir=root))
    owner = (folder / OWNER_FILE).open("w")
    try:
        fcntl.flock(owner, fcntl.LOCK_EX)
        yield folder
    finally:
        owner.close()  # releases the lock
        shutil.rmtree(folder, ignore_errors=True)


def sweep_orphans(prefix: str, *, root: Path | None = None) -> list[Path]:
    """Remove the folders of `prefix` whose owner is no longer alive; the ones removed."""
    base = Path(root or tempfile.gettempdir())
    removed = []
    for folder in base.glob(f"{prefix}*"):
        if folder.is_dir() and not folder.is_symlink() and _orphaned(folder):
            shutil.rmtree(folder, ignore_errors=True)
            removed.append(folder)
    if removed:
        log.info(
            "removed %d temp folder(s) of dead owners",
            len(removed),
            extra={"prefix": prefix, "folders": [folder.name for folder in removed]},
        )
    return removed


def _orphaned(folder: Path) -> bool:
    try:
        with (folder / OWNER_FILE).open("a") as owner:
            fcntl.flock(owner, fcntl.LOCK_EX | fcntl.LOCK_NB)  # released on close
            return True
    except BlockingIOError:
        return False  # its owner holds the lock: alive
    except FileNotFoundError:
        return time.time() - folder.stat().st_mtime > UNLOCKED_GRACE_SECONDS
