"""A real job on a 3-node JetStream cluster (replicas 3, with the services' NATS users):
kill -9 the node that leads the event stream mid-job; the job completes with exactly one
video; the node comes back and catches up."""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import Iterator

import httpx
import pytest

from shared import subjects
from shared.broker import CONSUMERS, connect, ensure_topology
from shared.events import VideoStored
from shared.history import read_job
from shared.jobview import user_key
from shared.settings import Secret, load_settings
from tests.e2e.helpers import submit, terminal, wait_for
from videogen.natsconf import new_passwords
from videogen.natsd import NatsServer, jsz, start_cluster
from videogen.stack import Stack, free_port, start_stack

USER = "local"


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[list[NatsServer], dict]]:
    passwords = new_passwords()
    nodes = start_cluster(tmp_path_factory.mktemp("cluster"), passwords=passwords)
    try:
        yield nodes, passwords
    finally:
        for node in nodes:
            node.stop()


@pytest.fixture(scope="module")
def stack(
    cluster: tuple[list[NatsServer], dict], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Stack]:
    nodes, passwords = cluster
    asyncio.run(_declare_single_copies(nodes, passwords))  # as an older, R1 install left it
    environ = {
        "NATS_URL": ",".join(node.url for node in nodes),
        "JETSTREAM_REPLICAS": "3",
        "DEFAULT_QUALITY": "low",
        "ACK_WAIT_SECONDS": "10",
    }
    running = start_stack(
        tmp_path_factory.mktemp("stack"),
        port=free_port(),
        environ={**{k: v for k, v in os.environ.items() if k != "NATS_URL"}, **environ},
        nats_passwords=passwords,
    )
    try:
        yield running
    finally:
        running.stop()


async def _declare_single_copies(nodes: list[NatsServer], passwords: dict[str, str]) -> None:
    settings = load_settings(
        {},
        nats_url=",".join(node.url for node in nodes),
        nats_user="gateway",
        nats_password=Secret(passwords["gateway"]),
        jetstream_replicas=1,
    )
    connection = await connect(settings)
    try:
        await ensure_topology(connection.jetstream(), settings)
    finally:
        await connection.close()


async def _stream_cluster(stack: Stack) -> tuple[str, dict[str, bool], int]:
    """(leader, {replica: current}, last sequence) of the event stream."""
    connection = await stack.connect("gateway")
    try:
        info = await connection.jetstream().stream_info(subjects.STREAM)
    finally:
        await connection.close()
    assert info.cluster is not None and info.config.num_replicas == 3
    replicas: dict[str, bool] = {}
    for peer in info.cluster.replicas or []:
        assert peer.name is not None  # the server names every replica
        replicas[peer.name] = bool(peer.current)
    return info.cluster.leader or "", replicas, info.state.last_seq


async def _events(stack: Stack, job_id: str) -> list:
    connection = await stack.connect()
    try:
        return await read_job(connection.jetstream(), job_id)
    finally:
        await connection.close()


def _local_last_seq(node: NatsServer) -> int:
    report = jsz(node, "?streams=true")
    accounts = report.get("account_details", [])
    assert isinstance(accounts, list)
    for account in accounts:
        for stream in account.get("stream_detail", []):
            if stream["name"] == subjects.STREAM:
                return int(stream["state"]["last_seq"])
    return -1


def test_a_job_survives_the_stream_leader_dying_and_the_node_catches_up(
    cluster: tuple[list[NatsServer], dict], stack: Stack
):
    nodes, _ = cluster
    with httpx.Client(base_url=stack.base_url, timeout=30) as api:
        job_id = submit(api, "The Pythagorean Theorem", {})
        midway, _ = wait_for(
            api, job_id, {}, lambda s: s["progress"]["percentage"] >= 50 or terminal(s)
        )
        assert not terminal(midway)
        leader, _, _ = asyncio.run(_stream_cluster(stack))
        victim = next(node for node in nodes if node.config.server_name == leader)
        victim.kill()
        status, _ = wait_for(api, job_id, {}, timeout=400)
    assert status["status"] == "completed", status.get("error")

    folder = stack.data_dir / "videos" / user_key(USER) / job_id
    assert [path.name for path in folder.glob("*.mp4")] == ["video.mp4"]
    stored = [r for r in asyncio.run(_events(stack, job_id)) if isinstance(r.event, VideoStored)]
    assert len(stored) == 1
    assert asyncio.run(_stream_cluster(stack))[0] not in ("", leader)  # a new leader took over

    victim.restart()
    deadline = time.monotonic() + 120
    while True:
        _, replicas, last_seq = asyncio.run(_stream_cluster(stack))
        if replicas.get(leader) and _local_last_seq(victim) == last_seq:
            break
        assert time.monotonic() < deadline, (replicas, _local_last_seq(victim), last_seq)
        time.sleep(1)
    assert _local_last_seq(victim) == last_seq > 0
    for node in nodes:  # every service did all of this within its permissions
        assert "Violation" not in (node.config.data_dir / "nats-server.log").read_text()


def test_the_gateway_brings_existing_streams_and_buckets_to_three_replicas(stack: Stack):
    async def replicas() -> dict[str, int | None]:
        connection = await stack.connect("gateway")
        try:
            js = connection.jetstream()
            names = [subjects.STREAM, *map(subjects.bucket_stream, subjects.BUCKETS)]
            found = {name: (await js.stream_info(name)).config.num_replicas for name in names}
            for durable in CONSUMERS:
                info = await js.consumer_info(subjects.STREAM, durable)
                found[durable] = info.config.num_replicas or 0
            return found
        finally:
            await connection.close()

    assert set(asyncio.run(replicas()).values()) == {3}
