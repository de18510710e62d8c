"""`videogen up` as a user runs it, from the README: no NATS_URL anywhere, then the CLI in
other processes with the same environment; the launcher supervising nats-server; and
the order of shutdown.

Each step is a separate process started the way a user's shell would start it, in one
working directory (so the default DATA_DIR, `var`, is shared as it is for a user).
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from shared.settings import SERVICES
from tests.e2e.helpers import submit, wait_for
from videogen.stack import free_port

# Credentials in the user's shell (unused: the models are built in, storage is local).
CANARIES = {
    "OPENAI_API_KEY": "sk-canary-openai",
    "AWS_ACCESS_KEY_ID": "canary-aws-id",
    "AWS_SECRET_ACCESS_KEY": "canary-aws-secret",
}


@dataclass
class Up:
    """A `videogen up` process, its directory and its console output."""

    process: subprocess.Popen[bytes]
    cwd: Path
    console: Path
    port: int

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def output(self) -> str:
        return self.console.read_text(errors="replace")

    def wait_for_output(self, text: str, timeout: float = 120) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if text in self.output():
                return
            assert self.process.poll() is None, self.output()
            time.sleep(0.2)
        raise AssertionError(f"{text!r} never appeared in:\n{self.output()}")


def _user_environment() -> dict[str, str]:
    """The environment of a user's shell: nothing that says where NATS is."""
    env = {k: v for k, v in os.environ.items() if k not in ("NATS_URL", "DATA_DIR")}
    return env | {"COLUMNS": "200"}  # keep the console's lines whole


def _videogen(up: Up, *args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "videogen", *args],
        cwd=up.cwd,
        env=_user_environment(),
        capture_output=True,
        text=True,
        timeout=timeout,
    )


@contextlib.contextmanager
def _videogen_up(cwd: Path) -> Iterator[Up]:
    """`videogen up` in `cwd`, in a terminal's process group of its own; killed on exit."""
    console = cwd / "console.txt"
    port = free_port()
    with console.open("wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "videogen", "up", "--port", str(port)],
            cwd=cwd,
            env=_user_environment() | {"DEFAULT_QUALITY": "low", **CANARIES},
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    running = Up(process, cwd, console, port)
    try:
        running.wait_for_output("ready")
        yield running
    finally:
        if process.poll() is None:
            _kill_children(process.pid)
            process.kill()
            process.wait()


@pytest.fixture(scope="module")
def up(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Up]:
    with _videogen_up(tmp_path_factory.mktemp("user")) as running:
        yield running


def _children(pid: int) -> dict[int, str]:
    """{pid: command name} of the direct children of `pid` (from /proc)."""
    found: dict[int, str] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            text = stat.read_text()
        except OSError:
            continue
        name = text[text.index("(") + 1 : text.rindex(")")]
        parent = int(text[text.rindex(")") + 2 :].split()[1])
        if parent == pid:
            found[int(stat.parent.name)] = name
    return found


def _kill_children(pid: int) -> None:
    for child in _children(pid):
        with contextlib.suppress(ProcessLookupError):
            os.kill(child, signal.SIGKILL)


def _api(up: Up) -> httpx.Client:
    return httpx.Client(base_url=up.base_url, timeout=30)


def test_events_and_replay_work_with_no_flags_after_videogen_up(up: Up):
    with _api(up) as api:
        job_id = submit(api, "Permutation", {}, target_minutes=0.5)  # a short job: 3 scenes
        status, _ = wait_for(api, job_id, {}, timeout=300)
        assert status["status"] == "completed", status.get("error")

    events = _videogen(up, "events", job_id)
    assert events.returncode == 0, events.stderr
    event_types = [row.split()[3] for row in events.stdout.strip().splitlines()[1:]]
    assert event_types[0] == "job.requested" and "video.stored" in event_types

    replay = _videogen(up, "replay", job_id, "--from", "scene.coded", "--scene", "1", "--reopen")
    assert replay.returncode == 0, replay.stderr
    assert replay.stdout.strip() == f"{job_id}:scene.coded:1:2"  # the scene's next attempt
    with _api(up) as api:
        status, _ = wait_for(api, job_id, {}, timeout=300)
    assert status["status"] == "completed", status.get("error")
    again = _videogen(up, "events", job_id).stdout
    assert again.count("video.stored") == 2  # the replay stored a new revision


def test_credentials_are_private_and_never_logged(up: Up):
    data = up.cwd / "var"
    users = sorted((data / "nats" / "users").glob("*.json"))
    assert {path.stem for path in users} == {*SERVICES, "cli"}
    passwords = [json.loads(path.read_text())["password"] for path in users]
    private = [*users, data / "nats" / "connection.json", data / "nats" / "nats.conf"]
    assert {oct(path.stat().st_mode & 0o777) for path in private} == {"0o600"}
    logs = [*(data / "logs").glob("*.log"), data / "nats" / "nats-server.log", up.console]
    text = "".join(path.read_text(errors="replace") for path in logs)
    assert "renderer ready" in text or "ready" in text
    assert all(password not in text for password in passwords)
    # Every service did its work within its NATS permissions.
    assert "Violation" not in (data / "nats" / "nats-server.log").read_text()


def test_each_service_process_holds_only_its_own_secrets(up: Up):
    environments: dict[str, dict[str, str]] = {}
    for pid in _children(up.process.pid):
        command = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
        if b"worker" in command:
            raw = Path(f"/proc/{pid}/environ").read_bytes().split(b"\0")
            pairs = (item.decode().partition("=") for item in raw if item)
            environments[command[-2].decode()] = {key: value for key, _, value in pairs}
    assert set(environments) == set(SERVICES)
    renderer = environments["renderer"]
    assert not set(CANARIES) & set(renderer)
    assert not any(canary in "\0".join(renderer.values()) for canary in CANARIES.values())
    assert renderer["NATS_USER"] == "renderer"
    assert environments["coder"]["OPENAI_API_KEY"] == CANARIES["OPENAI_API_KEY"]
    assert environments["storage"]["AWS_SECRET_ACCESS_KEY"] == CANARIES["AWS_SECRET_ACCESS_KEY"]
    passwords = {name: env["NATS_PASSWORD"] for name, env in environments.items()}
    assert len(set(passwords.values())) == len(SERVICES)  # each its own, no one else's
    for name, env in environments.items():
        others = [password for other, password in passwords.items() if other != name]
        assert not any(password in "\0".join(env.values()) for password in others), name


def test_the_launcher_restarts_a_killed_nats_server(up: Up):
    nats = [pid for pid, name in _children(up.process.pid).items() if name == "nats-server"]
    assert len(nats) == 1
    os.kill(nats[0], signal.SIGKILL)
    up.wait_for_output("nats-server is back", timeout=60)
    assert "nats-server exited (-9)" in up.output()
    assert [name for name in _children(up.process.pid).values()].count("nats-server") == 1
    with _api(up) as api:
        deadline = time.monotonic() + 60
        while api.get("/ready").status_code != 200:  # the gateway reconnects
            assert time.monotonic() < deadline
            time.sleep(0.5)
        job_id = submit(api, "Cramer's Rule", {}, target_minutes=0.5)
        status, _ = wait_for(api, job_id, {}, timeout=300)
    assert status["status"] == "completed", status.get("error")


def test_sigterm_stops_the_services_first_and_nats_last(up: Up):
    _stop_and_check_order(up, lambda: up.process.send_signal(signal.SIGTERM))


def test_ctrl_c_in_the_terminal_stops_them_in_order_too(tmp_path: Path):
    """Ctrl-C signals the terminal's whole foreground group: only the launcher must act."""
    with _videogen_up(tmp_path) as up:
        _stop_and_check_order(up, lambda: os.killpg(up.process.pid, signal.SIGINT))


def _stop_and_check_order(up: Up, stop: Callable[[], None]) -> None:
    logs = sorted((up.cwd / "var" / "logs").glob("*.log"))
    before = {log: log.stat().st_size for log in logs}
    stop()
    assert up.process.wait(timeout=90) == 0
    lines = up.output().splitlines()
    stopped = [line for line in lines if " stopped (" in line]
    assert sorted(line.split()[0] for line in stopped) == sorted(SERVICES)
    # uvicorn ends a clean shutdown by re-raising the SIGTERM it caught: -15 (checked below).
    assert all(
        line.endswith("stopped (0)") or line == "gateway stopped (-15)" for line in stopped
    ), stopped
    last_service = max(lines.index(line) for line in stopped)
    assert lines.index("nats-server stopped") > last_service
    for log in logs:  # what each service logged while stopping
        with log.open("rb") as handle:
            handle.seek(before[log])
            text = handle.read().decode(errors="replace")
        done = "Application shutdown complete" if log.stem == "gateway" else "stopping"
        assert done in text, log.name
        assert "ConnectionReconnectingError" not in text, log.name
        assert "Connection broken" not in text, log.name  # NATS went away under it
        assert "Traceback" not in text, log.name
    assert _children(up.process.pid) == {}
