"""The render jail's own properties, through real renders in the real jail.

Each test renders a scene that tries something a hostile scene would, reports what it
saw (a ``RESULT:`` JSON line on its stdout), and the test asserts on that and on the
host: the render saw only its own processes and folder, no network, no way to trace,
mount or leave its namespaces, nothing outside its folder written, nothing left running.
Warm-pool renders and CLI renders go through the same assertions.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import textwrap
import time
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from services.renderer import scratch
from services.renderer.jail import probe
from services.renderer.render import CliLauncher, Launcher, render_scene
from services.renderer.warm import PoolLost, WarmPool
from shared.errors import TransientError
from videogen.natsd import NatsServer

PROJECT = Path(__file__).resolve().parents[2]


def _scene(body: str) -> str:
    return (
        "from manim import *\nimport ctypes, errno, json, os, socket, subprocess, sys\n\n"
        "class Clip(Scene):\n    def construct(self):\n        result = {}\n"
        + textwrap.indent(textwrap.dedent(body), " " * 8)
        + "\n        print('RESULT:' + json.dumps(result), flush=True)\n"
        "        self.add(Dot())\n"
    )


async def _run(launcher: Launcher, body: str, workdir: Path) -> dict[str, Any]:
    await render_scene(
        _scene(body),
        class_name="Clip",
        quality="low",
        workdir=workdir,
        timeout_seconds=120,
        launcher=launcher,
        check_policy=False,
    )
    lines = (workdir / "stdout.log").read_text(errors="replace").splitlines()
    found = [line.removeprefix("RESULT:") for line in lines if line.startswith("RESULT:")]
    assert found, (workdir / "stderr.log").read_text(errors="replace")[-3000:]
    return json.loads(found[-1])


@pytest.fixture(scope="module")
async def cli() -> AsyncIterator[CliLauncher]:
    yield CliLauncher()


@pytest.fixture(params=["warm", "cli"])
def launcher(request: pytest.FixtureRequest, pool: WarmPool, cli: CliLauncher) -> Launcher:
    return pool if request.param == "warm" else cli


def test_probe_finds_every_primitive() -> None:
    assert probe() == []


async def test_proc_shows_only_the_render(launcher: Launcher, tmp_path: Path) -> None:
    result = await _run(
        launcher,
        """
        result['pids'] = sorted(int(p) for p in os.listdir('/proc') if p.isdigit())
        result['me'] = os.getpid()
        result['caps'] = [l for l in open('/proc/self/status') if l.startswith('CapEff')][0]
        result['seccomp'] = [l for l in open('/proc/self/status') if l.startswith('Seccomp:')][0]
        result['uid'] = os.getuid()
    """,
        tmp_path,
    )
    assert result["pids"] == [1, 2]  # the cell's init and the render: no ancestor
    assert result["me"] == 2
    assert result["caps"].split()[1] == "0000000000000000"  # no capability at all
    assert result["seccomp"].split()[1] == "2"  # a filter is installed
    assert result["uid"] != 0


async def test_files_outside_the_binds_are_invisible(launcher: Launcher, tmp_path: Path) -> None:
    canary = tmp_path / "canary.txt"
    canary.write_text("canary-5d1f0b")
    paths = [
        str(canary),
        str(PROJECT / "pyproject.toml"),
        "/etc/passwd",
        "/etc/shadow",
        "/root",
        str(PROJECT / "var"),
        "/proc/1/environ",
    ]
    result = await _run(
        launcher,
        f"""
        for path in {paths!r}:
            try:
                with open(path, 'rb') as f:
                    result[path] = f.read(40).decode(errors='replace')
            except OSError as exc:
                result[path] = type(exc).__name__
    """,
        tmp_path / "work",
    )
    assert "canary-5d1f0b" not in json.dumps(result)
    for path in paths[:-1]:
        assert result[path] in ("FileNotFoundError", "IsADirectoryError"), (path, result)
    assert result["/proc/1/environ"] == "PermissionError"  # the cell's init is not dumpable


async def test_no_network(launcher: Launcher, tmp_path: Path) -> None:
    accepted = []

    async def on_connect(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        accepted.append(True)
        writer.close()

    server = await asyncio.start_server(on_connect, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        result = await _run(
            launcher,
            f"""
            for host in ('127.0.0.1', '1.1.1.1'):
                try:
                    socket.create_connection((host, {port}), timeout=3).close()
                    result[host] = 'connected'
                except OSError as exc:
                    result[host] = str(exc)
            result['interfaces'] = sorted(name for _, name in socket.if_nameindex())
        """,
            tmp_path,
        )
    finally:
        server.close()
        await server.wait_closed()
    assert accepted == []
    assert "connected" not in (result["127.0.0.1"], result["1.1.1.1"])
    assert result["interfaces"] == ["lo"]


async def test_no_ptrace_no_namespaces_no_mounts(launcher: Launcher, tmp_path: Path) -> None:
    result = await _run(
        launcher,
        """
        libc = ctypes.CDLL(None, use_errno=True)
        def call(name, *args):
            code = getattr(libc, name)(*args)
            return [code, errno.errorcode.get(ctypes.get_errno(), '?') if code != 0 else '']
        result['ptrace'] = call('ptrace', 16, 1, 0, 0)  # PTRACE_ATTACH to the cell's init
        result['unshare'] = call('unshare', 0x10000000)  # CLONE_NEWUSER
        result['unshare_net'] = call('unshare', 0x40000000)
        fd = os.open('/proc/1/ns/mnt', os.O_RDONLY) if os.path.exists('/proc/1/ns/mnt') else -1
        result['setns'] = call('setns', fd, 0)
        result['mount'] = call('mount', b'none', b'/tmp', b'tmpfs', 0, None)
        result['chroot'] = call('chroot', b'/tmp')
        try:
            out = subprocess.run(['unshare', '-U', 'true'], capture_output=True, timeout=20)
            result['unshare_cli'] = out.returncode
        except OSError as exc:
            result['unshare_cli'] = str(exc)
    """,
        tmp_path,
    )
    for name in ("ptrace", "unshare", "unshare_net", "setns", "mount", "chroot"):
        assert result[name][0] == -1 and result[name][1] in ("EPERM", "EBADF"), (name, result)
    assert result["ptrace"][1] == "EPERM" and result["unshare"][1] == "EPERM"
    assert result["unshare_cli"] != 0


async def test_writes_stay_in_the_render_folder(launcher: Launcher, tmp_path: Path) -> None:
    marker = f"pwned-{uuid.uuid4().hex}"
    targets = [
        f"/usr/{marker}",
        f"/app/services/{marker}",
        f"{PROJECT}/{marker}",
        f"/renders/{marker}",
        f"/{marker}",
        f"/dev/{marker}",
        f"/etc/{marker}",
        f"/render/{marker}",
        f"/tmp/{marker}",
        f"/dev/shm/{marker}",
    ]
    result = await _run(
        launcher,
        f"""
        for path in {targets!r}:
            try:
                with open(path, 'w') as f:
                    f.write('x')
                result[path] = 'written'
            except OSError as exc:
                result[path] = type(exc).__name__
    """,
        tmp_path,
    )
    assert result[f"/render/{marker}"] == "written"  # its own folder is writable
    for path in targets[:7]:  # the jail's root and /dev are shared by cells: read-only
        assert result[path] != "written", (path, result)
    assert not (PROJECT / marker).exists() and not (PROJECT / "services" / marker).exists()
    assert not Path("/tmp", marker).exists()
    assert (tmp_path / marker).exists()  # collected back with the render's files
    # What one render left in its private /tmp and /dev/shm, the next one does not see.
    later = await _run(
        launcher,
        f"""
        result['seen'] = [p for p in {targets!r} if os.path.exists(p)]
    """,
        tmp_path / "next",
    )
    assert later["seen"] == [], later


async def test_symlinks_are_not_collected(launcher: Launcher, tmp_path: Path) -> None:
    await _run(
        launcher,
        """
        os.symlink('/etc/hostname', 'link-out')
        os.makedirs('media/videos', exist_ok=True)
        os.symlink('/etc/hostname', 'media/videos/clip.mp4')
    """,
        tmp_path,
    )
    assert not (tmp_path / "link-out").exists()
    assert not (tmp_path / "media" / "videos" / "clip.mp4").exists()


def _host_processes_with(marker: str) -> list[int]:
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                if marker.encode() in Path(f"/proc/{entry}/cmdline").read_bytes():
                    found.append(int(entry))
            except OSError:
                continue
    return found


async def test_a_setsid_daemon_dies_with_the_render(launcher: Launcher, tmp_path: Path) -> None:
    seconds = f"{time.time() % 1000 + 1000:.6f}"  # a unique `sleep` argument to look for
    result = await _run(
        launcher,
        f"""
        subprocess.Popen(['setsid', 'sleep', '{seconds}'], start_new_session=True)
        if os.fork() == 0:
            os.setsid()
            if os.fork() == 0:
                os.execvp('sleep', ['sleep', '{seconds}'])
            os._exit(0)
        import time
        time.sleep(0.5)
        result['running'] = sum(
            '{seconds}' in open(f'/proc/{{p}}/cmdline').read()
            for p in os.listdir('/proc') if p.isdigit())
    """,
        tmp_path,
    )
    assert result["running"] == 2  # both daemons had started
    deadline = time.monotonic() + 5
    while _host_processes_with(seconds) and time.monotonic() < deadline:
        await asyncio.sleep(0.1)
    assert _host_processes_with(seconds) == []


async def test_a_dying_pool_retries_its_renders(tmp_path: Path) -> None:
    pool = WarmPool()
    await pool.start()
    try:
        assert pool.parent_pid is not None
        task = asyncio.create_task(
            render_scene(
                _scene("import time\ntime.sleep(60)"),
                class_name="Clip",
                quality="low",
                workdir=tmp_path / "slow",
                timeout_seconds=120,
                launcher=pool,
                check_policy=False,
            )
        )
        await asyncio.sleep(3)
        os.kill(pool.parent_pid, signal.SIGKILL)
        with pytest.raises(PoolLost) as info:
            await task
        assert isinstance(info.value, TransientError)  # the broker delivers it again
        # The pool comes back for the next render.
        result = await _run(pool, "result['ok'] = True", tmp_path / "next")
        assert result == {"ok": True}
    finally:
        await pool.close()


def test_dead_renderers_folders_are_swept(tmp_path: Path) -> None:
    dead = tmp_path / f"{scratch.PREFIX}.999999999.123.abcd"
    dead.mkdir()
    (dead / "renders").mkdir()
    me = os.getpid()
    start = Path(f"/proc/{me}/stat").read_text().rsplit(")", 1)[1].split()[19]
    alive = tmp_path / f"{scratch.PREFIX}.{me}.{start}.efgh"
    alive.mkdir()
    reused = tmp_path / f"{scratch.PREFIX}.{me}.1.ijkl"  # same pid, another start: dead
    reused.mkdir()
    assert sorted(scratch.sweep(tmp_path)) == sorted([dead, reused])
    assert alive.exists() and not dead.exists() and not reused.exists()


def test_the_renderer_refuses_to_start_without_the_jail(
    nats_server: NatsServer, tmp_path: Path
) -> None:
    bin_dir = tmp_path / "bin"  # a PATH with everything but bubblewrap
    bin_dir.mkdir()
    env = {
        **os.environ,
        "PATH": str(bin_dir),
        "NATS_URL": nats_server.url,
        "DATA_DIR": str(tmp_path / "data"),
        "METRICS_PORT": "0",
    }
    done = subprocess.run(
        [sys.executable, "-m", "videogen", "worker", "renderer"],
        env=env,
        capture_output=True,
        timeout=120,
        check=False,
    )
    assert done.returncode != 0
    assert "bubblewrap is not installed" in done.stderr.decode()
    assert "RENDER_SANDBOX=unsafe-dev" in done.stderr.decode()


async def test_unsafe_dev_renders_without_the_jail(tmp_path: Path) -> None:
    """RENDER_SANDBOX=unsafe-dev: the same renders, visibly unjailed (the host's /proc)."""
    pool = WarmPool(jail=None)
    await pool.start()
    try:
        for name, launcher in (("warm", pool), ("cli", CliLauncher(jail=None))):
            result = await _run(
                launcher,
                """
                result['pids'] = len([p for p in os.listdir('/proc') if p.isdigit()])
                result['seccomp'] = [l for l in open('/proc/self/status')
                                     if l.startswith('Seccomp:')][0].split()[1]
            """,
                tmp_path / name,
            )
            assert result["pids"] > 2 and result["seccomp"] == "0", (name, result)
    finally:
        await pool.close()
