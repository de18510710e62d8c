"""The whole system on one host: nats-server plus one process per service.

`videogen up` and the end-to-end tests both use this, so the tests exercise exactly
what a user starts.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from shared.broker import CONSUMERS
from videogen.natsd import NatsServer, start_nats_server

SERVICES = ("planner", "narrator", "coder", "renderer", "storage", "gateway")


@dataclass
class Stack:
    """Running processes of the local stack."""

    data_dir: Path
    port: int
    env: dict[str, str]
    nats: NatsServer | None = None
    processes: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)

    @property
    def base_url(self) -> str:
        return f"http://{self.env.get('GATEWAY_HOST', '127.0.0.1')}:{self.port}"

    def start_service(self, name: str) -> subprocess.Popen[bytes]:
        """Start (or restart) one service process; its logs go to DATA_DIR/logs/<name>.log."""
        logs = self.data_dir / "logs"
        logs.mkdir(parents=True, exist_ok=True)
        with (logs / f"{name}.log").open("ab") as log_file:
            process = subprocess.Popen(
                [sys.executable, "-m", "videogen", "worker", name],
                env={**self.env, "METRICS_PORT": self.metrics_port(name)},
                stdout=log_file, stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
            )
        self.processes[name] = process
        return process

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
                listening |= _pulling_durables(self.nats.monitor_url)
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

    def stop(self) -> None:
        """Stop services (SIGTERM, then SIGKILL after a grace period), then NATS."""
        for process in self.processes.values():
            if process.poll() is None:
                process.terminate()
        for process in self.processes.values():
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        self.processes.clear()
        if self.nats is not None:
            self.nats.stop()


def start_stack(
    data_dir: Path,
    *,
    port: int = 8000,
    environ: Mapping[str, str] | None = None,
    services: tuple[str, ...] = SERVICES,
    wait: bool = True,
) -> Stack:
    """Start NATS (unless NATS_URL points elsewhere) and every service; wait for readiness."""
    environ = dict(os.environ if environ is None else environ)
    data_dir = data_dir.resolve()
    data_dir.mkdir(parents=True, exist_ok=True)
    env = {**environ, "DATA_DIR": str(data_dir), "GATEWAY_PORT": str(port)}
    stack = Stack(data_dir=data_dir, port=port, env=env)
    if "NATS_URL" not in environ:
        stack.nats = start_nats_server(data_dir / "nats")
        env["NATS_URL"] = stack.nats.url
    try:
        for name in services:
            stack.start_service(name)
        if wait:
            stack.wait_ready()
    except BaseException:
        stack.stop()
        raise
    return stack


def free_port() -> int:
    """A loopback port nothing listens on (closed again before it is returned)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


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


def _pulling_durables(monitor_url: str) -> set[str]:
    """Durable consumers with a pull request waiting: a stage replica is listening."""
    try:
        with urllib.request.urlopen(f"{monitor_url}/jsz?consumers=true", timeout=2) as reply:
            data = json.load(reply)
    except OSError:
        return set()
    return {
        consumer["name"]
        for account in data.get("account_details", [])
        for stream in account.get("stream_detail", [])
        for consumer in stream.get("consumer_detail", [])
        if consumer.get("num_waiting", 0) > 0
    }
