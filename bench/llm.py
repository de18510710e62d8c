"""LLM benchmark: calls, tokens and time per job for a 4-scene topic, scripted server.

`python -m bench.llm` prints the JSON of `run()`. The planner and coder run in this
process on a real nats-server against the scripted OpenAI-compatible server (fixed
token counts per reply), with retrieval on and an LLM helper writing the queries: the
most LLM calls a job makes when no scene needs a fix. Rendering is not included.
"""

from __future__ import annotations

import asyncio
import json
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

from nats.js import api as js_api

from services.coder.handlers import register as register_coder
from services.planner.handlers import register as register_planner
from shared import subjects
from shared.events import AnyEvent, JobConfig, JobContext, JobRequested, SceneCoded, decode
from shared.jobview import JobView
from shared.scene_report import usage_totals
from shared.service import connected
from shared.settings import load_settings
from tests.llm_server import ScriptedLLM
from tests.plan_answers import plan_json
from videogen.natsd import running_nats_server

MODEL = "openai/scripted"
SCENES = 4
TITLES = [f"Part {n}" for n in range(1, SCENES + 1)]


def run() -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="videogen-bench-llm-") as folder:
        root = Path(folder)
        llm = ScriptedLLM().start()
        try:
            _script(llm)
            with running_nats_server(root / "nats") as nats:
                return asyncio.run(_measure(llm, nats.url, root))
        finally:
            llm.stop()


def _script(llm: ScriptedLLM) -> None:
    llm.on(
        "Task: outline",
        replies=[
            json.dumps(
                {
                    "scenes": [
                        {"title": t, "purpose": "Explain one step.", "kind": "statement"}
                        for t in TITLES
                    ]
                }
            )
        ],
    )
    llm.on(
        "Task: scene plan",
        replies=[
            plan_json(
                "A square grows from its centre.",
                storyboard="A square grows.",
                technical_plan="Square, GrowFromCenter 1 s.",
            )
        ],
    )
    llm.on("Task: retrieval queries", replies=['{"queries": ["grow a square"]}'])
    for number, title in enumerate(TITLES, start=1):
        llm.on(
            "Task: scene code",
            f"scene number {number} of",
            replies=[
                "```python\nfrom manim import *\n\n\n"
                f"class Scene{number:02d}{title.replace(' ', '')}(Scene):\n"
                "    def construct(self):\n        self.play(GrowFromCenter(Square()))\n"
                "        self.play(FadeOut(*self.mobjects))\n```"
            ],
        )


async def _measure(llm: ScriptedLLM, nats_url: str, root: Path) -> dict[str, Any]:
    settings = load_settings(
        {},
        nats_url=nats_url,
        data_dir=root / "data",
        planner_model=MODEL,
        scene_model=MODEL,
        helper_model=MODEL,
        openai_base_url=llm.base_url,
        use_rag=True,
        max_scene_concurrency=SCENES,
    )
    async with connected("bench-llm", settings) as deps:
        register_planner(deps)
        await register_coder(deps)  # builds the docs index: not part of the job's time
        await deps.broker.start()
        job_id = str(uuid.uuid4())
        config = JobConfig(topic="Squares", context="Squares grow.", model=MODEL)
        await deps.jobs.create(JobView(job_id=job_id, user_id="bench", config=config))
        started = time.perf_counter()
        await deps.bus.publish(
            JobRequested(
                job_id=job_id,
                user_id="bench",
                config=config,
                context=JobContext(quality="low", scene_model=MODEL, use_rag=True),
            )
        )
        events = await _until_coded(deps.js, job_id)
        seconds = time.perf_counter() - started
    totals = usage_totals(events)
    return {
        "scenes": SCENES,
        "llm_calls": totals.calls,
        "http_requests": len(llm.received),
        "prompt_tokens": totals.prompt_tokens,
        "completion_tokens": totals.completion_tokens,
        "calls_by_stage": {
            stage: sum(u.calls for u in usage) for stage, usage in totals.by_stage.items()
        },
        "prompt_chars_mean": round(
            sum(len(r.text) for r in llm.requests()) / max(len(llm.requests()), 1)
        ),
        "seconds_to_all_scenes_coded": round(seconds, 2),
        "note": "scripted replies report 100 prompt + 50 completion tokens per call; "
        "prompt_chars_mean is the real size of what was sent",
    }


async def _until_coded(js: Any, job_id: str) -> list[AnyEvent]:
    subscription = await js.subscribe(
        subjects.events_of_job(job_id),
        ordered_consumer=True,
        deliver_policy=js_api.DeliverPolicy.ALL,
    )
    events: list[AnyEvent] = []
    try:
        while sum(isinstance(e, SceneCoded) for e in events) < SCENES:
            events.append(decode((await subscription.next_msg(timeout=60)).data))
        await asyncio.sleep(0.5)  # the last usage.recorded follows its scene.coded
        while True:
            try:
                events.append(decode((await subscription.next_msg(timeout=0.5)).data))
            except TimeoutError:
                break
    finally:
        await subscription.unsubscribe()
    return events


if __name__ == "__main__":
    print(json.dumps(run(), indent=2))
