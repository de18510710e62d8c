"""LAYOUT_CHECK over a real nats-server, real jailed renders and the scripted LLM server.

A 3-scene job written by an "LLM": scene 1 puts a formula on its title (overlap), its
one repair moves it away; scene 2's note is too small and its repair is no better, so
attempt 1's clip is kept; scene 3 is clean. Each flagged scene gets exactly one repair
request, and that request names the objects, the kind and the line. With
LAYOUT_CHECK=warn the same findings are only recorded.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import replace

import pytest

from services.coder.handlers import register as register_coder
from services.planner.handlers import register as register_planner
from services.renderer.handlers import register as register_renderer
from shared.events import AnyEvent, JobFailed, SceneRendered, VideoCombined
from shared.scene_report import scene_reports
from shared.settings import Settings, load_settings
from tests.integration.test_llm_pipeline import (
    OUTLINE,
    PLAN,
    _count,
    _failed,
    _llm_settings,
    running,
    scene_code,
    submitted,
)
from tests.llm_server import ScriptedLLM
from videogen.natsd import NatsServer

pytestmark = pytest.mark.timeout(600)

# Lines: the body starts at line 6 of the module scene_code() writes.
OVERLAP = scene_code(
    "Scene01Intro",
    "        title = Text('Circles', font_size=48).to_edge(UP)\n"
    "        formula = Text('area = pi r squared', font_size=44).move_to(title)\n"
    "        self.play(Write(title), run_time=0.5)\n"
    "        self.play(FadeIn(formula), run_time=0.5)\n"
    "        self.play(FadeOut(title, formula), run_time=0.5)",
)
OVERLAP_FIXED = OVERLAP.replace(".move_to(title)", ".next_to(title, DOWN, buff=0.5)")
TOO_SMALL = scene_code(
    "Scene02Middle",
    "        note = Text('small print', font_size=10)\n"
    "        self.play(FadeIn(note), run_time=0.5)\n"
    "        self.play(FadeOut(note), run_time=0.5)",
)
TOO_SMALL_AGAIN = TOO_SMALL.replace("font_size=10", "font_size=11")
CLEAN = scene_code(
    "Scene03End", "        self.play(FadeIn(Text('The end', font_size=48)), run_time=0.5)"
)


@pytest.fixture(scope="module")
def nats_server(private_nats_server: NatsServer) -> NatsServer:
    return private_nats_server


async def _run_job(
    nats_server: NatsServer, tmp_path_factory: pytest.TempPathFactory, layout_check: str
) -> tuple[ScriptedLLM, list[AnyEvent]]:
    llm = ScriptedLLM().start()
    llm.on("Task: outline", replies=[OUTLINE])
    llm.on("Task: scene plan", replies=[PLAN])
    llm.on("Task: scene code", "scene number 1 of", replies=[OVERLAP])
    llm.on("Task: repair code", "scene number 1 (", replies=[OVERLAP_FIXED])
    llm.on("Task: scene code", "scene number 2 of", replies=[TOO_SMALL])
    llm.on("Task: repair code", "scene number 2 (", replies=[TOO_SMALL_AGAIN])
    llm.on("Task: scene code", "scene number 3 of", replies=[CLEAN])
    base = load_settings(
        {},
        nats_url=nats_server.url,
        data_dir=tmp_path_factory.mktemp(f"layout-{layout_check}"),
        ack_wait_seconds=10.0,
    )
    settings: Settings = replace(_llm_settings(base, llm), layout_check=layout_check)
    try:
        async with (
            running(settings, register_planner, register_coder, register_renderer) as deps,
            submitted(deps) as job,
        ):
            events = await job.events_until(
                lambda es: _failed(es) or _count(VideoCombined, 1)(es), timeout=300
            )
    finally:
        llm.stop()
    return llm, events


@pytest.fixture(scope="module")
async def repaired(
    nats_server: NatsServer, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[tuple[ScriptedLLM, list[AnyEvent]]]:
    yield await _run_job(nats_server, tmp_path_factory, "repair")


def _final(events: list[AnyEvent], scene: int) -> SceneRendered:
    rendered = [e for e in events if isinstance(e, SceneRendered) and e.scene_number == scene]
    assert len(rendered) == 1, rendered
    return rendered[0]


def test_a_planted_overlap_gets_one_repair_naming_objects_and_line(repaired):
    llm, events = repaired
    assert not _failed(events), [e for e in events if isinstance(e, JobFailed)]
    [request] = llm.requests("Task: repair code", "scene number 1 (")
    assert "layout check found problems" in request.text
    assert "- overlap: title, formula (line 6: title = Text('Circles'" in request.text
    assert "Text `title`, line 6 and Text `formula`, line 7 overlap" in request.text
    final = _final(events, 1)
    assert (final.attempt, final.findings) == (2, [])
    [report] = [r for r in scene_reports(events) if r.scene_number == 1]
    assert [(a.attempt, a.status) for a in report.attempts] == [(1, "flagged"), (2, "rendered")]
    [finding] = report.attempts[0].findings
    assert (finding.kind, finding.objects, finding.line, finding.source) == (
        "overlap",
        ["title", "formula"],
        6,
        "layout",
    )


def test_a_repair_that_is_no_better_keeps_the_first_clip_and_stops(repaired):
    llm, events = repaired
    [request] = llm.requests("Task: repair code", "scene number 2 (")  # one round, no loop
    assert "- too_small: note (line 6: note = Text('small print', font_size=10))" in request.text
    final = _final(events, 2)
    assert final.attempt == 2 and [f.kind for f in final.findings] == ["too_small"]
    assert "attempt 1's clip" in final.warnings[-1] and "is kept" in final.warnings[-1]
    assert "font size 10" in final.findings[0].message  # attempt 1's findings, not 2's


def test_a_clean_scene_is_not_repaired(repaired):
    llm, events = repaired
    assert llm.requests("Task: repair code", "scene number 3 (") == []
    assert _final(events, 3).findings == []
    assert _count(VideoCombined, 1)(events)


async def test_warn_records_the_findings_without_a_repair(
    nats_server: NatsServer, tmp_path_factory: pytest.TempPathFactory
):
    llm, events = await _run_job(nats_server, tmp_path_factory, "warn")
    assert not _failed(events) and llm.requests("Task: repair code") == []
    assert [f.kind for f in _final(events, 1).findings] == ["overlap"]
    assert [f.kind for f in _final(events, 2).findings] == ["too_small"]
    [report] = [r for r in scene_reports(events) if r.scene_number == 1]
    assert [f.objects for f in report.attempts[0].findings] == [["title", "formula"]]
