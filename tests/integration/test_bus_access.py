"""NATS users against a real nats-server: each service can do its job and nothing else.

The server runs with the users and permissions `videogen up` gives it (shared/access.py);
the assertions are what a process holding the renderer's credentials would see.
"""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import nats
import pytest
from nats.aio.client import Client

from shared import subjects
from shared.broker import connect_options, ensure_topology
from shared.events import JobConfig, JobContext, JobRequested, SceneRendered, encode
from shared.history import read_job
from shared.service import connected
from shared.settings import Secret, Settings, load_settings
from tests.integration.onejob import USER
from videogen.natsconf import new_passwords, record_connection, write_credentials
from videogen.natsd import NatsServer, jsz, running_nats_server

DENIED_WITHIN = 2.0  # a refused request gets no reply: it times out


@pytest.fixture(scope="module")
def passwords() -> dict[str, str]:
    return new_passwords()


@pytest.fixture(scope="module")
def server(
    tmp_path_factory: pytest.TempPathFactory, passwords: dict[str, str]
) -> Iterator[NatsServer]:
    with running_nats_server(tmp_path_factory.mktemp("nats-auth"), passwords=passwords) as s:
        yield s


def _settings(server: NatsServer, passwords: dict[str, str], user: str) -> Settings:
    return load_settings(
        {}, nats_url=server.url, nats_user=user, nats_password=Secret(passwords[user])
    )


@contextlib.asynccontextmanager
async def _as(
    server: NatsServer, passwords: dict[str, str], user: str
) -> AsyncIterator[tuple[Client, list[str]]]:
    """A connection as `user`, and the errors the server sent it (permission violations)."""
    errors: list[str] = []

    async def record(error: Exception) -> None:
        errors.append(str(error))

    connection = await nats.connect(
        **connect_options(_settings(server, passwords, user)), error_cb=record
    )
    try:
        yield connection, errors
    finally:
        await connection.close()


@pytest.fixture(scope="module")
async def declared(server: NatsServer, passwords: dict[str, str]) -> None:
    """The gateway declares the topology, as it does at start-up."""
    async with _as(server, passwords, "gateway") as (connection, errors):
        await ensure_topology(connection.jetstream(), _settings(server, passwords, "gateway"))
        assert errors == []


async def test_anonymous_and_wrong_passwords_are_refused(server: NatsServer):
    for options in ({}, {"user": "renderer", "password": "guess"}):
        with pytest.raises(nats.errors.Error, match="Authorization Violation"):
            await nats.connect(server.url, allow_reconnect=False, **options)


async def test_a_stage_does_its_job(server: NatsServer, passwords: dict[str, str], declared):
    """The renderer reads job views and artifacts, writes its ledger and clips, publishes
    its events, pulls from its durables: all it needs, with no violation."""
    async with connected("renderer", _settings(server, passwords, "renderer")) as deps:
        job_id = str(uuid.uuid4())
        assert await deps.jobs.get(USER, job_id) is None
        await deps.artifacts.store.put("cache/probe.mp4", b"clip" * 1000)
        assert (await deps.artifacts.store.get("cache/probe.mp4")).data == b"clip" * 1000
        ledger = await deps.js.key_value(subjects.LEDGER_BUCKET)
        await ledger.put(job_id, b"{}")
        await deps.bus.progress(
            JobRequested(job_id=job_id, user_id=USER, config=_config(), context=_context()),
            "rendering",
        )
        info = await deps.js.consumer_info(subjects.STREAM, "renderer")
        assert info.name == "renderer"


async def test_the_renderer_cannot_touch_what_is_not_its(
    server: NatsServer, passwords: dict[str, str], declared
):
    async with _as(server, passwords, "renderer") as (connection, errors):
        js = connection.jetstream(timeout=DENIED_WITHIN)
        job_id = str(uuid.uuid4())
        forged = JobRequested(job_id=job_id, user_id=USER, config=_config(), context=_context())
        jobs = await js.key_value(subjects.JOBS_BUCKET)  # read-only for stages
        refused = [
            js.publish(subjects.event_subject(job_id, forged.type), encode(forged)),
            js.key_value(subjects.IDEMPOTENCY_BUCKET),  # the gateway's
            js.consumer_info(subjects.STREAM, "gateway"),  # another service's durable
            js.delete_stream(subjects.STREAM),
            js.purge_stream(subjects.STREAM),
            js.delete_consumer(subjects.STREAM, "planner"),
            jobs.put(f"{USER}.{job_id}", b"{}"),
        ]
        # All at once: each is refused by timing out, and one wait serves them all.
        outcomes = await asyncio.gather(*refused, return_exceptions=True)
        for outcome in outcomes:
            assert isinstance(outcome, (nats.errors.TimeoutError, asyncio.TimeoutError)), outcome
        for subject in (">", subjects.ALL_EVENTS, "_INBOX.>", f"$KV.{subjects.JOBS_BUCKET}.>"):
            await connection.subscribe(subject)
        await connection.flush()
        await asyncio.sleep(0.5)
        violations = " ".join(errors).lower()
        assert "permissions violation for publish" in violations
        for subject in (">", subjects.ALL_EVENTS, "_inbox.>"):
            assert f'subscription to "{subject.lower()}"' in violations, subject
    async with _as(server, passwords, "gateway") as (connection, _):  # nothing forged landed
        assert await read_job(connection.jetstream(), job_id) == []


async def test_a_stage_publishes_only_its_own_events(
    server: NatsServer, passwords: dict[str, str], declared
):
    job_id = str(uuid.uuid4())
    async with _as(server, passwords, "planner") as (connection, _):
        js = connection.jetstream(timeout=DENIED_WITHIN)
        rendered = SceneRendered(
            job_id=job_id,
            user_id=USER,
            context=_context(),
            scene_number=1,
            scene_count=1,
            attempt=1,
            clip_ref="c",
            duration_seconds=1.0,
            render_seconds=1.0,
        )
        with pytest.raises((nats.errors.TimeoutError, asyncio.TimeoutError)):
            await js.publish(subjects.event_subject(job_id, rendered.type), encode(rendered))


def _config() -> JobConfig:
    return JobConfig(topic="t", context="c")


def _context() -> JobContext:
    return JobContext(quality="low", scene_model="builtin")


def test_credentials_files_are_private(tmp_path: Path):
    passwords = new_passwords()
    write_credentials(tmp_path, passwords)
    record_connection(tmp_path, "nats://127.0.0.1:1", passwords["cli"])
    files = list((tmp_path / "nats").rglob("*.json"))
    assert len(files) == len(passwords) + 1
    assert {oct(path.stat().st_mode & 0o777) for path in files} == {"0o600"}


def test_the_store_limit_is_the_setting_not_the_free_disk(tmp_path: Path):
    limit = load_settings({"NATS_MAX_STORE": "256MB"}).nats_max_store
    with running_nats_server(tmp_path, max_store=limit) as server:
        assert jsz(server)["config"]["max_storage"] == 256 * 2**20  # type: ignore[index]
