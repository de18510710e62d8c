"""One render's cell inside the jail: its own namespaces, folder, /proc and seccomp filter.

The jail (:mod:`services.renderer.jail`) keeps renders away from the host; the cell keeps
each render away from the warm pool and from every other render in the same jail. It is
entered by a child of the pool's parent (warm path) or by ``python -m
services.renderer.cell`` inside a one-off jail (CLI path), so both paths are set up by
this one piece of code:

1. the *supervisor* (the pool's child) unshares user, mount, pid, IPC, UTS and network
   namespaces and maps its own uid into the new user namespace (nothing more: no root);
2. it forks the cell's *init* (pid 1 of the new pid namespace). Init mounts a fresh
   ``/proc`` (it shows only the cell), binds the render's own folder to ``/render`` and
   covers the folder of all renders, ``/tmp`` and ``/dev/shm`` with empty tmpfs; then it
   applies the resource limits, drops every capability (bounding set included),
   sets ``no_new_privs`` and ``dumpable=0`` and installs the seccomp filter;
3. init forks the *render* (pid 2), which runs the scene (or execs ``manim``), and reaps
   every process of the cell until the render ends. When init exits, the kernel kills
   whatever is left in the namespace — a ``setsid`` daemon, a LaTeX run — so nothing
   outlives a render. Init dies with its supervisor, and the supervisor with the pool's
   parent (``PR_SET_PDEATHSIG``).

The supervisor exits the way the render did (same code, or killed by the same signal),
so the pool and the CLI report a render's exit exactly as before.
"""

from __future__ import annotations

import contextlib
import ctypes
import json
import os
import signal
import struct
import sys
from collections.abc import Callable
from pathlib import Path

from services.renderer import seccomp
from services.renderer.sandbox import RenderLimits, confine

__all__ = ["CELL_DIR", "RENDERS_DIR", "run_in_cell"]

RENDERS_DIR = "/renders"  # every render's folder, as the jail sees it
CELL_DIR = "/render"  # the one folder a render sees
_CLONE_NEWNS = 0x00020000
_CLONE_NEWUTS = 0x04000000
_CLONE_NEWIPC = 0x08000000
_CLONE_NEWUSER = 0x10000000
_CLONE_NEWPID = 0x20000000
_CLONE_NEWNET = 0x40000000
_MS_RDONLY, _MS_NOSUID, _MS_NODEV, _MS_NOEXEC = 1, 2, 4, 8
_MS_REMOUNT, _MS_NOATIME, _MS_NODIRATIME, _MS_RELATIME = 32, 1024, 2048, 1 << 21
_ST_RELATIME = 4096
# A render's private /tmp and /dev/shm live in memory, outside RLIMIT_AS: keep them small
# (Manim and LaTeX write into the render's folder, not here).
_TMP_BYTES = 256 << 20
_SHM_BYTES = 64 << 20
_MS_BIND, _MS_REC, _MS_PRIVATE = 4096, 16384, 1 << 18
_PR_SET_PDEATHSIG = 1
_PR_SET_DUMPABLE = 4
_PR_CAPBSET_DROP = 24
_PR_CAP_AMBIENT, _PR_CAP_AMBIENT_CLEAR_ALL = 47, 4
_CAPABILITY_VERSION_3 = 0x20080522
_libc = ctypes.CDLL(None, use_errno=True)


def _check(result: int, what: str) -> None:
    if result != 0:
        error = ctypes.get_errno()
        raise OSError(error, f"{what}: {os.strerror(error)}")


def _die_with_parent() -> None:
    _check(_libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0), "PR_SET_PDEATHSIG")


def run_in_cell(name: str, limits: RenderLimits, render: Callable[[], int]) -> int:
    """Supervise ``render`` (called in the cell's pid 2) and return its wait status code.

    Called in a freshly forked, single-threaded child; returns only in the supervisor,
    with the status to exit with (see :func:`exit_like`). ``name`` is the render's
    folder under RENDERS_DIR.
    """
    parent = os.getppid()
    _die_with_parent()
    if os.getppid() != parent:  # the parent died before the death signal was armed
        os._exit(1)
    uid, gid = os.getuid(), os.getgid()
    _check(
        _libc.unshare(
            _CLONE_NEWUSER
            | _CLONE_NEWNS
            | _CLONE_NEWPID
            | _CLONE_NEWIPC
            | _CLONE_NEWUTS
            | _CLONE_NEWNET
        ),
        "unshare",
    )
    Path("/proc/self/setgroups").write_text("deny")
    Path("/proc/self/uid_map").write_text(f"{uid} {uid} 1")
    Path("/proc/self/gid_map").write_text(f"{gid} {gid} 1")
    report, status_pipe = os.pipe()
    init = os.fork()
    if init == 0:
        os.close(report)
        _init(name, limits, render, status_pipe)  # never returns
    os.close(status_pipe)
    with os.fdopen(report, "rb") as source:
        raw = source.read(4)
    _, status = os.waitpid(init, 0)
    if len(raw) == 4:
        return struct.unpack("<i", raw)[0]
    return status  # init itself was killed: report that


def exit_like(status: int) -> None:
    """Leave the way a process with wait status ``status`` did: same code or same signal."""
    sys.stdout.flush()
    sys.stderr.flush()
    if os.WIFSIGNALED(status):
        number = os.WTERMSIG(status)
        with contextlib.suppress(OSError, ValueError):
            signal.signal(number, signal.SIG_DFL)
            signal.pthread_sigmask(signal.SIG_UNBLOCK, [number])
        os.kill(os.getpid(), number)
        os._exit(128 + number)
    os._exit(os.WEXITSTATUS(status) if os.WIFEXITED(status) else 1)


def _init(
    name: str, limits: RenderLimits, render: Callable[[], int], status_pipe: int
) -> None:  # pragma: no cover - pid 1 of the cell
    status = 1 << 8
    try:
        _die_with_parent()
        _mount_cell(name)
        os.chdir(CELL_DIR)
        confine(limits)
        _drop_capabilities()
        _check(_libc.prctl(_PR_SET_DUMPABLE, 0, 0, 0, 0), "PR_SET_DUMPABLE")
        seccomp.install()
        child = os.fork()
        if child == 0:
            os.close(status_pipe)
            code = 1
            try:
                code = render()
            finally:
                os._exit(code)
        status = _reap_until(child)
    except BaseException as exc:  # set-up failed: say why on the render's stderr
        with contextlib.suppress(Exception):
            os.write(2, f"render cell set-up failed: {exc}\n".encode())
    finally:
        with contextlib.suppress(OSError):
            os.write(status_pipe, struct.pack("<i", status))
        os._exit(0)


def _mount_cell(name: str) -> None:
    """Private mounts: own /proc, own folder at CELL_DIR, empty RENDERS_DIR, /tmp, /dev/shm."""
    _check(_libc.mount(b"none", b"/", None, _MS_REC | _MS_PRIVATE, None), "private /")
    _check(
        _libc.mount(b"proc", b"/proc", b"proc", _MS_NOSUID | _MS_NODEV | _MS_NOEXEC, None),
        "mount /proc",
    )
    folder = f"{RENDERS_DIR}/{name}".encode()
    _check(
        _libc.mount(folder, CELL_DIR.encode(), None, _MS_BIND | _MS_REC, None),
        "bind the render's folder",
    )
    _check(
        _libc.mount(
            b"tmpfs",
            RENDERS_DIR.encode(),
            b"tmpfs",
            _MS_RDONLY | _MS_NOSUID | _MS_NODEV,
            b"size=4k",
        ),
        "hide the others",
    )
    # /dev is the jail's shared tmpfs: read-only here, so it cannot carry files between cells.
    _check(
        _libc.mount(
            None, b"/dev", None, _MS_REMOUNT | _MS_BIND | _MS_RDONLY | _kept_flags("/dev"), None
        ),
        "read-only /dev",
    )
    for target, size in (("/tmp", _TMP_BYTES), ("/dev/shm", _SHM_BYTES)):
        _check(
            _libc.mount(
                b"tmpfs",
                target.encode(),
                b"tmpfs",
                _MS_NOSUID | _MS_NODEV,
                f"mode=1777,size={size}".encode(),
            ),
            f"tmpfs on {target}",
        )
    with contextlib.suppress(OSError):
        _libc.sethostname(b"render", 6)


def _kept_flags(path: str) -> int:
    """The mount's flags a remount must repeat (a locked flag may not be cleared)."""
    flags = os.statvfs(path).f_flag
    kept = flags & (_MS_NOSUID | _MS_NODEV | _MS_NOEXEC | _MS_NOATIME | _MS_NODIRATIME)
    return kept | (_MS_RELATIME if flags & _ST_RELATIME else 0)


def _drop_capabilities() -> None:
    """Give up the capabilities the new user namespace granted (mounting is done)."""
    for number in range(64):
        if _libc.prctl(_PR_CAPBSET_DROP, number, 0, 0, 0) != 0:
            break  # past the last capability this kernel knows
    _libc.prctl(_PR_CAP_AMBIENT, _PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0)
    header = struct.pack("<Ii", _CAPABILITY_VERSION_3, 0)
    data = bytes(24)  # two empty {effective, permitted, inheritable} sets
    _check(_libc.capset(header, data), "capset")


def _reap_until(child: int) -> int:  # pragma: no cover - pid 1 of the cell
    """Reap every process of the cell (pid 1 adopts them) until ``child`` has ended."""
    while True:
        try:
            pid, status = os.waitpid(-1, 0)
        except ChildProcessError:
            return 1 << 8
        except InterruptedError:
            continue
        if pid == child:
            return status


def main(argv: list[str]) -> None:  # pragma: no cover - runs in the CLI jail
    """``python -m services.renderer.cell NAME LIMITS_JSON -- COMMAND...``: exec in a cell."""
    name, limits, separator, *command = argv
    if separator != "--" or not command:
        raise SystemExit("usage: cell NAME LIMITS_JSON -- COMMAND...")

    def execute() -> int:
        os.execvp(command[0], command)

    exit_like(run_in_cell(name, RenderLimits(**json.loads(limits)), execute))


if __name__ == "__main__":
    main(sys.argv[1:])
