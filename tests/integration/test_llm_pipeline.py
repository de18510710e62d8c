"""Planner and coder on an LLM (the scripted OpenAI-compatible server) over a real nats-server.

One job goes all the way through the real renderer: its outline is invalid once, scene 1
fails with a NameError and is fixed, scene 2 never renders and falls back to the built-in
model, scene 3 just works. Lighter tests stop after planning or coding.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass, replace
from typing import Any

import pytest
from nats.js import api as js_api

from services.coder.handlers import register as register_coder
from services.planner.handlers import register as register_planner
from services.renderer.handlers import register as register_renderer
from shared import subjects
from shared.events import (
    AnyEvent,
    JobConfig,
    JobContext,
    JobFailed,
    JobRequested,
    SceneCoded,
    ScenePlanned,
    UsageRecorded,
    VideoCombined,
    decode,
)
from shared.jobview import JobView
from shared.scene_report import fallbacks, scene_reports, usage_totals
from shared.service import StageDeps, connected
from shared.settings import Settings
from tests.llm_server import Reply, ScriptedLLM
from tests.plan_answers import plan_json
from videogen.natsd import NatsServer

MODEL = "openai/scripted"
TITLES = ("Intro", "Middle", "End")
OUTLINE = json.dumps(
    {
        "scenes": [
            {"title": t, "purpose": f"Show the {t.lower()}.", "kind": "statement"} for t in TITLES
        ]
    }
)
PLAN = plan_json("Here a circle appears on the screen.")


def scene_code(cls: str, body: str, extra: str = "") -> str:
    return (
        f"```python\nfrom manim import *\n\n\nclass {cls}(Scene):\n"
        f"    def construct(self):\n{body}\n{extra}```"
    )


# Also written with manimgl's ShowCreation: rewritten to Create before it is checked.
NAME_ERROR = scene_code(
    "Scene01Intro",
    "        self.play(ShowCreation(circle), run_time=0.5)",
    "    def unused(self):\n        circle = Circle()\n",
)
# Scenes end on an empty frame (the code prompt asks for it; LAYOUT_CHECK flags leftovers).
FIXED = scene_code(
    "Scene01Intro",
    "        circle = Circle()\n        self.play(Create(circle), run_time=0.5)\n"
    "        self.play(FadeOut(circle), run_time=0.3)",
)
ALWAYS_FAILS = scene_code("Scene02Middle", "        raise ValueError('scripted failure')")
WORKS = scene_code(
    "Scene03End",
    "        self.play(FadeIn(Square()), run_time=0.5)\n"
    "        self.play(FadeOut(*self.mobjects), run_time=0.3)",
)

Register = Callable[[StageDeps], Awaitable[None] | None]


@pytest.fixture(scope="module")
def nats_server(private_nats_server: NatsServer) -> NatsServer:
    """This module runs real stage durables: it gets a server of its own."""
    return private_nats_server


@pytest.fixture
def llm() -> Iterator[ScriptedLLM]:
    server = ScriptedLLM().start()
    server.on("Task: outline", replies=[OUTLINE])
    server.on("Task: scene plan", replies=[PLAN])
    yield server
    server.stop()


def _llm_settings(settings: Settings, llm: ScriptedLLM, **overrides: Any) -> Settings:
    return replace(
        settings,
        planner_model=MODEL,
        scene_model=MODEL,
        openai_base_url=llm.base_url,
        llm_retry_base_seconds=0.05,
        fix_backoff_seconds=0.01,
        max_fix_attempts=1,
        **overrides,
    )


@contextlib.asynccontextmanager
async def running(settings: Settings, *registers: Register) -> AsyncIterator[StageDeps]:
    """The given stages' handlers, in this process, on the real bus."""
    async with connected("llm-test", settings) as deps:
        for register in registers:
            pending = register(deps)
            if pending is not None:
                await pending
        await deps.broker.start()
        yield deps


@dataclass
class Job:
    deps: StageDeps
    event: JobRequested

    async def events_until(
        self, done: Callable[[list[AnyEvent]], bool], *, timeout: float = 60
    ) -> list[AnyEvent]:
        """The job's events once `done` holds for them (read back from the stream)."""
        subscription = await self.deps.js.subscribe(
            subjects.events_of_job(self.event.job_id),
            ordered_consumer=True,
            deliver_policy=js_api.DeliverPolicy.ALL,
        )
        events: list[AnyEvent] = []
        try:
            async with asyncio.timeout(timeout):
                while not done(events):
                    events.append(decode((await subscription.next_msg(timeout=timeout)).data))
        finally:
            await subscription.unsubscribe()
        return events


@contextlib.asynccontextmanager
async def submitted(deps: StageDeps, *, use_rag: bool = False) -> AsyncIterator[Job]:
    """A job as the gateway would submit it; cancelled afterwards so no later test's
    stages pick up its leftovers."""
    job_id = str(uuid.uuid4())
    config = JobConfig(topic="Circles", context="Circles are round.", model=MODEL)
    await deps.jobs.create(JobView(job_id=job_id, user_id="tester", config=config))
    event = JobRequested(
        job_id=job_id,
        user_id="tester",
        config=config,
        context=JobContext(quality="low", scene_model=MODEL, use_rag=use_rag),
    )
    await deps.bus.publish(event)
    try:
        yield Job(deps, event)
    finally:

        def cancel(view: JobView) -> JobView:
            view.status = "cancelled"
            return view

        await deps.jobs.update("tester", job_id, cancel)


def _count(kind: type, n: int) -> Callable[[list[AnyEvent]], bool]:
    return lambda events: sum(isinstance(e, kind) for e in events) >= n


def _failed(events: list[AnyEvent]) -> bool:
    return any(isinstance(e, JobFailed) for e in events)


@pytest.fixture(scope="module")
async def rendered_job(
    nats_server: object, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[tuple[ScriptedLLM, list[AnyEvent]]]:
    from shared.settings import load_settings

    llm = ScriptedLLM().start()
    llm.on("Task: outline", replies=['{"scenes": "not a list"}', OUTLINE])
    llm.on("Task: scene plan", replies=[PLAN])
    llm.on("Task: retrieval queries", replies=['{"queries": ["create a circle"]}'])
    llm.on("Task: scene code", "scene number 1 of", replies=[NAME_ERROR])
    llm.on("Task: repair code", "scene number 1 (", replies=[FIXED])
    llm.on("Task: scene code", "scene number 2 of", replies=[ALWAYS_FAILS])
    llm.on("Task: repair code", "scene number 2 (", replies=[ALWAYS_FAILS])
    llm.on("Task: scene code", "scene number 3 of", replies=[WORKS])
    base = load_settings(
        {},
        nats_url=nats_server.url,  # type: ignore[attr-defined]
        data_dir=tmp_path_factory.mktemp("llm-job"),
        ack_wait_seconds=10.0,
    )
    settings = _llm_settings(base, llm, use_rag=True, helper_model=MODEL)
    try:
        async with (
            running(settings, register_planner, register_coder, register_renderer) as deps,
            submitted(deps, use_rag=True) as job,
        ):
            events = await job.events_until(
                lambda es: _failed(es) or _count(VideoCombined, 1)(es), timeout=150
            )
    finally:
        llm.stop()
    # The stages are stopped before the tests run: they must not compete with later tests'.
    yield llm, events


def test_llm_job_completes_despite_a_bad_scene(rendered_job):
    _, events = rendered_job
    assert not _failed(events), [e for e in events if isinstance(e, JobFailed)]
    assert _count(VideoCombined, 1)(events)


def test_llm_fix_request_carries_the_traceback_and_docs(rendered_job):
    llm, events = rendered_job
    [fix] = llm.requests("Task: repair code", "scene number 1 (")
    assert "NameError: name 'circle' is not defined" in fix.text and "Traceback" in fix.text
    assert "│" not in fix.text  # rich's box drawing is stripped before it costs tokens
    assert "Failing line 6: self.play(Create(circle), run_time=0.5)" in fix.text
    assert "rewritten automatically" in fix.text and "line 6: ShowCreation -> Create" in fix.text
    assert "### " in fix.text  # docs retrieved for the error
    [report] = [r for r in scene_reports(events) if r.scene_number == 1]
    assert [(a.attempt, a.status) for a in report.attempts] == [(1, "failed"), (2, "rendered")]
    assert [(r.line, r.before, r.after, r.rule) for r in report.attempts[0].rewrites] == [
        (6, "ShowCreation", "Create", "rename")
    ]
    assert report.attempts[1].rewrites == []
    assert "NameError" in report.errors[0]
    assert report.model == MODEL and report.usage[0].calls >= 2


def test_llm_invalid_outline_is_reasked_once(rendered_job):
    llm, events = rendered_job
    _, second = llm.requests("Task: outline")
    assert "That answer is invalid" in second.text and "Expected `array`" in second.text
    planning = [e for e in events if isinstance(e, UsageRecorded) and e.stage == "planning"]
    assert planning[0].usage[0].calls == 2
    assert sum(isinstance(e, ScenePlanned) for e in events) == 3


def test_llm_scene_whose_fixes_fail_falls_back_to_builtin(rendered_job):
    llm, events = rendered_job
    assert len(llm.requests("Task: repair code", "scene number 2 (")) == 1  # MAX_FIX_ATTEMPTS
    reasons = fallbacks(events)
    assert list(reasons) == [2]
    assert "attempt 2 failed to render" in reasons[2] and "scripted failure" in reasons[2]
    [report] = [r for r in scene_reports(events) if r.scene_number == 2]
    assert [(a.model, a.status) for a in report.attempts] == [
        (MODEL, "failed"),
        (MODEL, "failed"),
        ("builtin", "rendered"),
    ]
    totals = usage_totals(events)
    assert set(totals.by_stage) == {"planning", "scenario_creation", "code_generation", "repair"}
    assert totals.calls == len(llm.requests())


async def test_llm_rate_limit_is_retried_after_retry_after(settings: Settings, llm: ScriptedLLM):
    llm.on("Task: outline", replies=[Reply(status=429, headers={"Retry-After": "1"}), OUTLINE])
    async with (
        running(_llm_settings(settings, llm), register_planner) as deps,
        submitted(deps) as job,
    ):
        events = await job.events_until(lambda es: _failed(es) or _count(ScenePlanned, 3)(es))
    assert not _failed(events)
    first, second = llm.requests("Task: outline")
    assert second.at - first.at >= 0.95


async def test_llm_dead_endpoint_fails_the_job_at_planning(settings: Settings, llm: ScriptedLLM):
    llm.on("Task: outline", replies=[Reply(status=503)])
    async with (
        running(_llm_settings(settings, llm, llm_max_retries=2), register_planner) as deps,
        submitted(deps) as job,
    ):
        events = await job.events_until(_failed)
        await asyncio.sleep(1.5)  # a broker redelivery would show up as more requests
    [failed] = [e for e in events if isinstance(e, JobFailed)]
    assert (failed.error.stage, failed.error.code, failed.error.attempts) == (
        "planning",
        "LLM_UNAVAILABLE",
        1,
    )
    assert "OPENAI_BASE_URL" in failed.error.suggestion
    assert len(llm.requests("Task: outline")) == 3  # 1 call + LLM_MAX_RETRIES, nothing more


async def test_llm_unknown_manim_name_is_caught_before_rendering(
    settings: Settings, llm: ScriptedLLM
):
    hallucinated = scene_code("Scene01Intro", "        self.play(Create(Cirle()))")
    llm.on("Task: scene code", replies=[WORKS])
    llm.on("Task: scene code", "scene number 1 of", replies=[hallucinated])
    llm.on("Task: repair code", "scene number 1 (", replies=[FIXED])
    async with (
        running(_llm_settings(settings, llm), register_planner, register_coder) as deps,
        submitted(deps) as job,
    ):
        events = await job.events_until(lambda es: _failed(es) or _count(SceneCoded, 3)(es))
        [coded] = [e for e in events if isinstance(e, SceneCoded) and e.scene_number == 1]
        code = (await deps.artifacts.get_bytes(coded.code_ref)).decode()
    [check] = llm.requests("Task: repair code", "scene number 1 (")
    assert "rejected before rendering" in check.text and "did you mean Circle" in check.text
    assert coded.attempt == 1 and coded.fallback_reason is None
    assert "Cirle" not in code and "circle = Circle()" in code


async def test_llm_old_api_idioms_are_rewritten_without_a_repair_round(
    settings: Settings, llm: ScriptedLLM
):
    manimgl = scene_code(
        "Scene01Intro",
        "        frame = self.camera.frame\n"
        "        frame.set_euler_angles(theta=30 * DEGREES, phi=60 * DEGREES)\n"
        "        title = TextMobject('Intro').fix_in_frame()\n"
        "        self.play(ShowCreation(Circle()), FadeInFrom(title, LEFT))",
    )
    llm.on("Task: scene code", replies=[WORKS])
    llm.on("Task: scene code", "scene number 1 of", replies=[manimgl])
    async with (
        running(_llm_settings(settings, llm), register_planner, register_coder) as deps,
        submitted(deps) as job,
    ):
        events = await job.events_until(lambda es: _failed(es) or _count(SceneCoded, 3)(es))
        [coded] = [e for e in events if isinstance(e, SceneCoded) and e.scene_number == 1]
        code = (await deps.artifacts.get_bytes(coded.code_ref)).decode()
    assert llm.requests("Task: repair code", "scene number 1 (") == []
    assert "class Scene01Intro(ThreeDScene):" in code
    assert "self.set_camera_orientation(theta=30 * DEGREES, phi=60 * DEGREES)" in code
    assert "self.add_fixed_in_frame_mobjects(title)" in code
    assert "self.play(Create(Circle()), FadeIn(title, shift=RIGHT))" in code
    assert {r.rule for r in coded.rewrites} == {
        "scene_base",
        "camera_frame",
        "text_mobject",
        "fix_in_frame",
        "rename",
        "fade_from",
    }
    [report] = [r for r in scene_reports(events) if r.scene_number == 1]
    assert report.attempts[0].rewrites == coded.rewrites
    lines = code.splitlines()  # records point at lines of the code the renderer gets
    by_after = {r.after: r.line for r in coded.rewrites}
    assert "Create" in lines[by_after["Create"] - 1]
    assert "shift=RIGHT" in lines[by_after["FadeIn(title, shift=RIGHT)"] - 1]
