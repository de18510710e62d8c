"""Fixtures shared by every test tier: a real nats-server, settings pointing at it."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from shared.settings import Settings, load_settings
from tests.s3server import running_moto_server
from videogen.natsd import NatsServer, running_nats_server


@pytest.fixture(scope="session")
def nats_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[NatsServer]:
    """One real JetStream server for the session, on free loopback ports."""
    with running_nats_server(tmp_path_factory.mktemp("nats")) as server:
        yield server


@pytest.fixture(scope="module")
def private_nats_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[NatsServer]:
    """A server for one module whose tests run real stage durables.

    Stage durables read the stream from its start, so on the session's shared server they
    would also pick up every job other modules left behind.
    """
    with running_nats_server(tmp_path_factory.mktemp("nats-private")) as server:
        yield server


@pytest.fixture
def settings(nats_server: NatsServer, tmp_path: Path) -> Settings:
    """Settings for a test: the session's NATS, a fresh data dir, short ack wait."""
    return load_settings(
        {}, nats_url=nats_server.url, data_dir=tmp_path / "data", ack_wait_seconds=5.0
    )


@pytest.fixture(scope="session")
def s3_endpoint(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A real S3-compatible server (moto) on a free loopback port, for the session."""
    with running_moto_server(tmp_path_factory.mktemp("moto")) as url:
        yield url
