"""The jail every render runs in: bubblewrap, an unprivileged uid, read-only system files.

Scene code is hostile until proven otherwise, and a static policy cannot prove it (see the
README's security model). So the operating system draws the line: the warm pool's parent
and every CLI render run inside ``bwrap`` with their own user, pid, network, IPC, UTS and
cgroup namespaces, no capabilities, a fresh ``/proc`` and ``/dev``, an empty ``/tmp``, and
read-only views of only what Manim, TeX and the fonts need — never the project root, where
DATA_DIR and the configuration live. The one writable place is this process's folder of
render folders (``RENDERS_DIR`` inside), from which each render's cell
(:mod:`services.renderer.cell`) then shows it only its own.

When the service runs as root, the jail runs as ``nobody`` (65534): an escape from the
namespaces still lands on a uid that owns nothing. Paths ``nobody`` cannot traverse (e.g.
a Python under ``/root``) are first bound, by root and in a private mount namespace of the
launching child, to a staging folder it can reach; bubblewrap then binds them read-only
at their usual place inside the jail.

Outputs come back to the service only through :func:`collect`: regular files, never a
symlink or device, copied out of the render's folder — so the clip cache and storage only
ever hold what the jail wrote as plain files.
"""

from __future__ import annotations

import contextlib
import ctypes
import logging
import os
import shutil
import signal
import stat
import subprocess
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from services.renderer import scratch
from services.renderer.cell import RENDERS_DIR
from services.renderer.sandbox import HASH_SEED

__all__ = ["JAIL_UID", "Jail", "JailUnavailable", "collect", "jail_for", "probe"]

log = logging.getLogger("videogen.renderer.jail")

JAIL_UID = 65534  # nobody: the uid renders run as when the service is root
APP_DIR = "/app"  # where the renderer's own source is importable inside the jail
# Host trees under these are bound elsewhere: the jail and each cell lay fresh, empty
# mounts over them (a venv checked out under /tmp would vanish under the cell's /tmp).
_SHADOWED = ("/tmp", "/dev", "/proc")
HOST_DIR = "/host"  # where such trees appear inside the jail (e.g. /host/tmp/clone/.venv)
_PACKAGES = ("services", "shared")  # source the pool and cells import (not the project root)
_SYSTEM_READ_ONLY = (
    "/usr",
    "/etc/ld.so.cache",
    "/etc/fonts",
    "/etc/texmf",
    "/etc/alternatives",
    "/etc/localtime",
    "/etc/mime.types",
    "/etc/glvnd",
    "/var/lib/texmf",
    "/var/cache/fontconfig",
)
_MERGED_USR = ("/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32")
_CLONE_NEWNS = 0x00020000
_MS_BIND, _MS_REC, _MS_PRIVATE = 4096, 16384, 1 << 18
_PR_SET_PDEATHSIG = 1
_libc = ctypes.CDLL(None, use_errno=True)


class JailUnavailable(SystemExit):
    """This machine lacks a primitive the jail needs; the message says which.

    A SystemExit: uncaught, the renderer stops with this message instead of starting.
    """


@dataclass(frozen=True)
class Bind:
    source: str  # on the host (or its staged copy)
    dest: str  # inside the jail


class Jail:
    """How to start a command inside the render jail, for one service process."""

    def __init__(self, root: Path | None = None) -> None:
        self.root = root or scratch.process_root()
        self.uid, self.gid = (
            (JAIL_UID, JAIL_UID) if os.geteuid() == 0 else (os.getuid(), os.getgid())
        )
        self.renders = self.root / "renders"  # RENDERS_DIR inside
        if not self.renders.exists():
            self.renders.mkdir(mode=0o700)
            os.chown(self.renders, self.uid, self.gid)
        self._stage = self.root / "stage"
        self._binds, self._staged = self._layout()
        self.python = sys.executable

    # --- render folders ---------------------------------------------------------------

    def folder(self, name: str) -> Path:
        """A fresh, empty folder for one render, writable by the jail's uid only."""
        folder = self.renders / name
        folder.mkdir(mode=0o700)
        os.chown(folder, self.uid, self.gid)
        return folder

    # --- commands --------------------------------------------------------------------

    def inside(self, path: str) -> str:
        """Where a host path bound into the jail appears inside it."""
        for shadowed in _SHADOWED:
            if path == shadowed or path.startswith(shadowed + "/"):
                return HOST_DIR + path
        return path

    def command(self, argv: Sequence[str]) -> list[str]:
        """``bwrap`` with the jail's namespaces and binds around ``argv``."""
        args = [
            "bwrap",
            "--unshare-all",
            "--die-with-parent",
            "--new-session",
            "--cap-drop",
            "ALL",
            "--hostname",
            "videogen-render",
        ]
        for link in _MERGED_USR:
            target = Path(link)
            if target.is_symlink():
                args += ["--symlink", os.readlink(target), link]
            elif target.is_dir():
                args += ["--ro-bind", link, link]
        for bind in self._binds:
            args += ["--ro-bind", bind.source, bind.dest]
        args += [
            "--proc",
            "/proc",
            "--dev",
            "/dev",
            "--tmpfs",
            "/tmp",
            "--bind",
            str(self.renders),
            RENDERS_DIR,
            "--dir",
            "/render",
            # bwrap's root is a tmpfs every cell shares: read-only, or it is a channel
            "--remount-ro",
            "/",
            "--chdir",
            "/tmp",
            "--",
            *map(self.inside, argv),
        ]
        return args

    def environment(self, extra: dict[str, str] | None = None) -> dict[str, str]:
        """The whole environment of the jail's first process (nothing of the service's)."""
        env = {
            "PATH": f"{self.inside(str(Path(self.python).parent))}:/usr/local/bin:/usr/bin:/bin",
            "PYTHONPATH": APP_DIR,
            "HOME": "/tmp",
            "TMPDIR": "/tmp",
            "LANG": os.environ.get("LANG", "C.UTF-8"),
            "PYTHONDONTWRITEBYTECODE": "1",
            "PYTHONHASHSEED": HASH_SEED,  # the warm pool's forks inherit it
        }
        return env | (extra or {})

    def preexec(self) -> Callable[[], None]:
        """What the launching child does before ``exec bwrap``: stage, drop to the jail uid."""
        staged = [(s.encode(), d.encode()) for s, d in self._staged]
        uid, gid, root = self.uid, self.gid, os.geteuid() == 0

        def enter() -> None:  # pragma: no cover - runs between fork and exec
            if staged:
                _check(_libc.unshare(_CLONE_NEWNS), "unshare(CLONE_NEWNS)")
                _check(
                    _libc.mount(b"none", b"/", None, _MS_REC | _MS_PRIVATE, None), "make / private"
                )
                for source, target in staged:
                    _check(
                        _libc.mount(source, target, None, _MS_BIND | _MS_REC, None),
                        f"stage {source!r}",
                    )
            if root:
                os.setgroups([])
                os.setresgid(gid, gid, gid)
                os.setresuid(uid, uid, uid)
            # After the uid change (which clears it): die with the service, whatever happens.
            _check(_libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0), "PDEATHSIG")

        return enter

    def close(self) -> None:
        """Remove this process's render folders (every render is over)."""
        shutil.rmtree(self.root, ignore_errors=True)

    # --- layout ------------------------------------------------------------------------

    def _layout(self) -> tuple[list[Bind], list[tuple[str, str]]]:
        """Read-only binds, with the sources the jail uid cannot reach staged first."""
        wanted = [p for p in _SYSTEM_READ_ONLY if os.path.exists(p)]
        wanted += _python_trees()
        project = Path(__file__).resolve().parents[2]
        binds = [Bind(p, self.inside(p)) for p in wanted]
        binds += [Bind(str(project / package), f"{APP_DIR}/{package}") for package in _PACKAGES]
        staged: list[tuple[str, str]] = []
        result: list[Bind] = []
        for index, bind in enumerate(binds):
            if self.uid == os.getuid() or _reachable(bind.source):
                result.append(bind)
                continue
            target = self._stage / str(index)
            self._stage.mkdir(mode=0o755, exist_ok=True)
            if os.path.isdir(bind.source):
                target.mkdir(mode=0o755, exist_ok=True)
            else:
                target.touch(mode=0o644, exist_ok=True)
            staged.append((bind.source, str(target)))
            result.append(Bind(str(target), bind.dest))
        return result, staged


def _python_trees() -> list[str]:
    """The interpreter's installation and the virtualenv, unless /usr already holds them."""
    trees = {os.path.realpath(sys.base_prefix), sys.prefix}
    python = os.path.realpath(sys.executable)
    trees.add(str(Path(python).parents[1]))
    return sorted(t for t in trees if not t.startswith("/usr/"))


def _reachable(path: str) -> bool:
    """Whether any uid may traverse to ``path`` (every folder on the way is o+x)."""
    current = Path(path)
    for folder in [*reversed(current.parents), current]:
        with contextlib.suppress(OSError):
            mode = folder.stat().st_mode
            if stat.S_ISDIR(mode) and not mode & stat.S_IXOTH:
                return False
    return True


def _check(result: int, what: str) -> None:
    if result != 0:
        error = ctypes.get_errno()
        raise OSError(error, f"{what}: {os.strerror(error)}")


# --- outputs -----------------------------------------------------------------------------


def collect(folder: Path, target: Path) -> None:
    """Move the render's regular files from its jail folder into ``target``, then drop it.

    Symlinks, devices, sockets and FIFOs are skipped: a render could point one at a
    host file, and the service (root) would otherwise read it as the render's output.
    Files are opened without following links and copied, so what arrives is what the
    jail wrote.
    """
    target.mkdir(parents=True, exist_ok=True)
    for directory, folders, files in os.walk(folder, followlinks=False):
        relative = Path(directory).relative_to(folder)
        for name in files:
            source = Path(directory) / name
            destination = target / relative / name
            with contextlib.suppress(OSError):
                _copy_regular(source, destination)
        folders[:] = [f for f in folders if not (Path(directory) / f).is_symlink()]
    shutil.rmtree(folder, ignore_errors=True)


def _copy_regular(source: Path, destination: Path) -> None:
    fd = os.open(source, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            return
        destination.parent.mkdir(parents=True, exist_ok=True)
        with open(fd, "rb", closefd=False) as reader, destination.open("wb") as writer:
            shutil.copyfileobj(reader, writer, 1 << 20)
    finally:
        os.close(fd)


# --- start-up probe ----------------------------------------------------------------------

_PROBE = """
import errno, os, sys
from services.renderer.cell import run_in_cell
from services.renderer.sandbox import RenderLimits
def check():
    assert sorted(p for p in os.listdir('/proc') if p.isdigit()) == ['1', '2'], 'own /proc'
    import ctypes
    libc = ctypes.CDLL(None, use_errno=True)
    assert libc.unshare(0x40000000) != 0 and ctypes.get_errno() == errno.EPERM, 'seccomp'
    assert 'Seccomp:\\t2' in open('/proc/self/status').read(), 'seccomp filter'
    return 0
status = run_in_cell(sys.argv[1], RenderLimits(), check)
sys.exit(0 if status == 0 else 1)
"""


def probe() -> list[str]:
    """What this machine lacks for the jail (empty: everything works), checked for real."""
    if shutil.which("bwrap") is None:
        return ["bubblewrap is not installed (Debian: apt-get install bubblewrap)"]
    try:
        if int(Path("/proc/sys/user/max_user_namespaces").read_text()) <= 0:
            return ["user namespaces are disabled (sysctl user.max_user_namespaces is 0)"]
    except (OSError, ValueError):
        return ["user namespaces are not available (no /proc/sys/user/max_user_namespaces)"]
    jail = Jail()
    name = f"probe-{os.getpid()}"
    folder = jail.folder(name)
    try:
        done = subprocess.run(
            jail.command([jail.python, "-c", _PROBE, name]),
            env=jail.environment(),
            preexec_fn=jail.preexec(),
            capture_output=True,
            timeout=60,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        return [f"the jail could not be started: {exc}"]
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    if done.returncode == 0:
        return []
    detail = (done.stderr or done.stdout).decode(errors="replace").strip().splitlines()
    return [_explain(detail[-1] if detail else f"exit code {done.returncode}")]


def _explain(line: str) -> str:
    """The probe's last error line, with the missing primitive named where we know it."""
    hints = {
        "No permissions to creat": "creating user namespaces is not permitted here "
        "(container seccomp profile or kernel.unprivileged_userns_clone=0?)",
        "mount /proc": "a render cannot mount its own /proc (is /proc masked?)",
        "unshare": "a render cannot create its own namespaces",
        "seccomp": "seccomp filters are not available",
        "setresuid": f"the service cannot switch to uid {JAIL_UID}",
        "Permission denied": f"the jail's uid ({JAIL_UID}) cannot reach the renderer's "
        "temporary folder (every folder above TMPDIR needs o+x; /tmp is fine)",
    }
    for marker, hint in hints.items():
        if marker in line:
            return f"{hint}: {line}"
    return f"the jail's self-test failed: {line}"


def jail_for(mode: str) -> Jail | None:
    """The jail for RENDER_SANDBOX=``mode``: probed, or None for ``unsafe-dev``.

    Raises JailUnavailable, naming what is missing, rather than render unjailed.
    """
    if mode == "unsafe-dev":
        log.warning(
            "RENDER_SANDBOX=unsafe-dev: renders run WITHOUT the jail; scene code can "
            "read this machine's files and reach its network"
        )
        return None
    missing = probe()
    if missing:
        message = (
            "renders cannot be jailed on this machine: "
            + "; ".join(missing)
            + ". Fix that, or set RENDER_SANDBOX=unsafe-dev on a development machine "
            "(renders then run unjailed)."
        )
        log.error("refusing to start: %s", message)
        raise JailUnavailable(message)
    return Jail()
