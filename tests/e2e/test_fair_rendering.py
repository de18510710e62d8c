"""Fair rendering through the whole stack: one user's backlog does not hold every slot.

Alice submits four slow renders (20 s each) to a renderer with two slots; Bob then submits
one short render. With MAX_RENDERS_PER_USER=1 (the default) Alice runs one render at a
time, so Bob's starts at once in the other slot and finishes well within one of Alice's
renders, instead of behind her queue. Alice's waiting renders are kept alive by in-progress
acks: none is redelivered although they wait longer than ACK_WAIT_SECONDS.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator

import httpx
import pytest

from shared import subjects
from tests.e2e.helpers import wait_for
from videogen.stack import Stack, isolated_stack

pytestmark = pytest.mark.e2e

ALICE = {"Authorization": "Bearer key-alice"}
BOB = {"Authorization": "Bearer key-bob"}
SLOW_SECONDS = 20
SLOW = """\
from manim import *
import time
# {nonce}


class Slow(Scene):
    def construct(self):
        time.sleep({seconds})
        self.play(Create(Circle()), run_time=0.2)
"""
SHORT = """\
from manim import *


class Short(Scene):
    def construct(self):
        self.play(Create(Square()), run_time=0.5)
"""


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    with isolated_stack(
        tmp_path_factory.mktemp("fair"),
        API_KEYS="key-alice:alice,key-bob:bob",
        DEFAULT_QUALITY="low",
        ACK_WAIT_SECONDS="4",
        MAX_CONCURRENT_RENDERS="2",
        RENDER_CACHE_MB="0",
        ENABLE_THUMBNAILS="false",
        # The slow scenes sleep in construct(); slicing's dry pass would run (and sleep)
        # each of them once more before its render and change the timing this test sets up.
        SLICE_MIN_SECONDS="0",
    ) as running:
        yield running


def _render(api: httpx.Client, code: str, headers: dict[str, str]) -> str:
    response = api.post(
        "/api/v1/videos/render", json={"code": code, "quality": "low"}, headers=headers
    )
    assert response.status_code == 201, response.text
    return response.json()["job_id"]


def _stage(api: httpx.Client, job_id: str) -> str:
    status = api.get(f"/api/v1/videos/jobs/{job_id}/status", headers=ALICE).json()
    return status["progress"]["current_stage"]


def _redelivered(stack: Stack) -> int:
    async def read() -> int:
        connection = await stack.connect()
        try:
            info = await connection.jetstream().consumer_info(subjects.STREAM, "renderer")
            return info.num_redelivered or 0
        finally:
            await connection.close()

    return asyncio.run(read())


def test_a_second_user_is_not_queued_behind_the_first(stack: Stack) -> None:
    with httpx.Client(base_url=stack.base_url, timeout=30) as api:
        alice = [_render(api, SLOW.format(nonce=n, seconds=SLOW_SECONDS), ALICE) for n in range(4)]
        wait_for(
            api,
            alice[0],
            ALICE,
            until=lambda s: s["progress"]["current_stage"] == "rendering",
            timeout=60,
        )
        time.sleep(2)  # every event of Alice's has reached the renderer by now

        started = time.monotonic()
        bob = _render(api, SHORT, BOB)
        status, _ = wait_for(api, bob, BOB, timeout=120)
        bob_seconds = time.monotonic() - started
        assert status["status"] == "completed", status.get("error")
        assert bob_seconds < SLOW_SECONDS * 0.75, f"Bob waited {bob_seconds:.1f} s"

        # Alice never held both slots: one render of hers runs, the rest wait their turn.
        stages = [_stage(api, job) for job in alice]
        assert stages.count("rendering") == 1, stages
        # They waited longer than ACK_WAIT_SECONDS, kept alive: nothing was redelivered.
        assert _redelivered(stack) == 0

        # Renders of Alice's that finished meanwhile have nothing to cancel (409): how many
        # depends on how slowly this machine started. Every other one ends cancelled.
        answers = [api.post(f"/api/v1/jobs/{job}/cancel", headers=ALICE) for job in alice]
        assert {a.status_code for a in answers} <= {200, 409}, [a.text for a in answers]
        ended = [
            api.get(f"/api/v1/videos/jobs/{job}/status", headers=ALICE).json()["status"]
            for job in alice
        ]
        expected = ["cancelled" if a.status_code == 200 else "completed" for a in answers]
        assert ended == expected
        assert ended.count("cancelled") >= 1, ended  # one was rendering while Bob's ran
