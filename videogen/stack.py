"""The whole system on one host: nats-server plus one process per service.

`videogen up` and the end-to-end tests both use this, so the tests exercise exactly
what a user starts. Each service gets only its own variables (shared/settings.py says
which) and its own NATS user; the server runs with the users of shared/access.py, and
DATA_DIR/nats/connection.json tells `videogen events`/`replay` how to reach it.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import nats
from nats.aio.client import Client

from shared.access import OPERATOR
from shared.broker import CONSUMERS, connect_options
from shared.settings import SERVICES, Secret, load_settings, service_environment
from videogen.natsconf import new_passwords, record_connection, write_credentials
from videogen.natsd import NatsServer, free_port, start_nats_server

__all__ = ["SERVICES", "Stack", "free_port", "isolated_stack", "start_stack"]


@dataclass
class Stack:
    """Running processes of the local stack."""

    data_dir: Path
    port: int
    env: dict[str, str]
    nats: NatsServer | None = None
    passwords: Mapping[str, str] | None = None  # NATS user → password; None: no users
    processes: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)

    @property
    def base_url(self) -> str:
        return f"http://{self.env.get('GATEWAY_HOST', '127.0.0.1')}:{self.port}"

    def start_service(self, name: str) -> subprocess.Popen[bytes]:
        """Start (or restart) one service process; its logs go to DATA_DIR/logs/<name>.log."""
        process = self._spawn(name, self.service_env(name), self.log_path(name))
        self.processes[name] = process
        return process

    def start_replica(self, name: str, number: int) -> subprocess.Popen[bytes]:
        """Another replica of a running service (logs: DATA_DIR/logs/<name>-<number>.log,
        no metrics port); the caller stops it, the stack does not know it."""
        env = self.service_env(name) | {"METRICS_PORT": "0"}
        return self._spawn(name, env, self.log_path(f"{name}-{number}"))

    def log_path(self, name: str) -> Path:
        return self.data_dir / "logs" / f"{name}.log"

    def _spawn(self, name: str, env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
        log.parent.mkdir(parents=True, exist_ok=True)
        with log.open("ab") as log_file:
            return subprocess.Popen(
                [sys.executable, "-m", "videogen", "worker", name],
                env=env,
                stdout=log_file,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,  # Ctrl-C reaches the launcher, which stops us in order
            )

    def service_env(self, name: str) -> dict[str, str]:
        """The environment of one service: its own variables and NATS user, nothing else."""
        env = service_environment(name, self.env)
        env["METRICS_PORT"] = self.metrics_port(name)
        if self.passwords is not None:
            env |= {"NATS_USER": name, "NATS_PASSWORD": self.passwords[name]}
        return env

    async def connect(self, user: str = OPERATOR) -> Client:
        """A nats-py connection to this stack's bus as one of its users (tests, tools)."""
        password = (self.passwords or {}).get(user, "")
        settings = load_settings(
            {},
            nats_url=self.env["NATS_URL"],
            nats_user=user if password else "",
            nats_password=Secret(password),
        )
        return await nats.connect(**connect_options(settings))

    def supervise(self, say: Callable[[str], None]) -> None:
        """Restart whatever exited: NATS first (same port and store), then services."""
        if self.nats is not None and self.nats.process.poll() is not None:
            say(
                f"nats-server exited ({self.nats.process.returncode}); restarting it on "
                f"{self.nats.url}"
            )
            try:
                self.nats.restart()
            except (RuntimeError, TimeoutError) as exc:
                say(f"nats-server did not restart: {exc}; trying again")
                return
            say(f"nats-server is back on {self.nats.url}")
        for name, process in list(self.processes.items()):
            if process.poll() is not None:
                say(f"{name} exited ({process.returncode}); restarting")
                self.start_service(name)

    def metrics_port(self, name: str) -> str:
        """Services share one host here: METRICS_PORT=N gives them N, N+1, …; unset is off."""
        base = int(self.env.get("METRICS_PORT") or 0)
        return str(base + SERVICES.index(name)) if base else "0"

    def kill_service(self, name: str) -> None:
        """SIGKILL one service, as a crash would."""
        process = self.processes.pop(name)
        process.send_signal(signal.SIGKILL)
        process.wait()

    def wait_ready(self, timeout: float = 60.0) -> None:
        """Wait until the gateway is ready and every stage is pulling from its durable."""
        deadline = time.monotonic() + timeout
        listening: set[str] = set()
        expected = {d for d in CONSUMERS if d.split("-")[0] in self.processes} - {"gateway"}
        while time.monotonic() < deadline:
            for name, process in self.processes.items():
                if process.poll() is not None:
                    raise RuntimeError(
                        f"{name} exited with {process.returncode}; "
                        f"see {self.data_dir / 'logs' / (name + '.log')}"
                    )
            if self.nats is not None:  # our own server: its monitor shows who is pulling
                listening |= {d for d, n in waiting_pulls(self.nats.monitor_url).items() if n}
            else:
                listening = expected
            if expected <= listening and self._gateway_ready():
                return
            time.sleep(0.2)
        raise TimeoutError(
            f"not ready within {timeout:.0f}s; still waiting for "
            f"{sorted(expected - listening) or ['gateway /ready']}"
        )

    def _gateway_ready(self) -> bool:
        if "gateway" not in self.processes:
            return True
        try:
            return httpx.get(f"{self.base_url}/ready", timeout=1).status_code == 200
        except httpx.HTTPError:
            return False

    def stop(self, say: Callable[[str], None] = lambda _: None) -> None:
        """Stop services (SIGTERM, then SIGKILL after a grace period), then NATS last, so
        services finish or hand back their messages while the bus is still there."""
        for process in self.processes.values():
            if process.poll() is None:
                process.terminate()
        for name, process in self.processes.items():
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                say(f"{name} did not stop within 15 s; killing it")
                process.kill()
                process.wait()
            say(f"{name} stopped ({process.returncode})")
        self.processes.clear()
        if self.nats is not None:
            self.nats.stop()
            say("nats-server stopped")


def start_stack(
    data_dir: Path,
    *,
    port: int = 8000,
    environ: Mapping[str, str] | None = None,
    services: tuple[str, ...] = SERVICES,
    wait: bool = True,
    nats_passwords: Mapping[str, str] | None = None,
) -> Stack:
    """Start NATS (unless NATS_URL points elsewhere) and every service; wait for readiness.

    Our own NATS gets fresh users and passwords (written to DATA_DIR/nats, mode 0600);
    with NATS_URL set, `nats_passwords` gives each service its user there, else they all
    connect as NATS_USER (or anonymously).
    """
    environ = dict(os.environ if environ is None else environ)
    data_dir = data_dir.resolve()
    data_dir.mkdir(parents=True, exist_ok=True)
    env = {**environ, "DATA_DIR": str(data_dir), "GATEWAY_PORT": str(port)}
    stack = Stack(data_dir=data_dir, port=port, env=env, passwords=nats_passwords)
    if "NATS_URL" not in environ:
        passwords = new_passwords()
        write_credentials(data_dir, passwords)
        stack.nats = start_nats_server(
            data_dir / "nats",
            passwords=passwords,
            max_store=load_settings(environ).nats_max_store,
        )
        stack.passwords = passwords
        env["NATS_URL"] = stack.nats.url
        record_connection(data_dir, stack.nats.url, passwords[OPERATOR])
    try:
        for name in services:
            stack.start_service(name)
        if wait:
            stack.wait_ready()
    except BaseException:
        stack.stop()
        raise
    return stack


@contextlib.contextmanager
def isolated_stack(
    data_dir: Path, *, services: tuple[str, ...] = SERVICES, **settings: str
) -> Iterator[Stack]:
    """A stack of its own (own NATS, free port) with extra settings, stopped on exit.

    For tests and benchmarks: the caller's NATS_URL is ignored so nothing is shared.
    """
    environ = {k: v for k, v in os.environ.items() if k != "NATS_URL"}
    stack = start_stack(
        data_dir, port=free_port(), environ={**environ, **settings}, services=services
    )
    try:
        yield stack
    finally:
        stack.stop()


def waiting_pulls(monitor_url: str) -> dict[str, int]:
    """Pull requests waiting on each durable consumer: how many stage replicas listen."""
    try:
        with urllib.request.urlopen(f"{monitor_url}/jsz?consumers=true", timeout=2) as reply:
            data = json.load(reply)
    except OSError:
        return {}
    waiting: dict[str, int] = {}
    for account in data.get("account_details", []):
        for stream in account.get("stream_detail", []):
            for consumer in stream.get("consumer_detail", []):
                name = consumer["name"]
                waiting[name] = waiting.get(name, 0) + consumer.get("num_waiting", 0)
    return waiting
