"""Failure classification: resource limits, code excerpts and when a failure is final."""

from __future__ import annotations

import signal

from services.renderer.errors import code_excerpt, failure_from_exit
from services.renderer.ledger import SceneLedger

CODE = "a = 1\nb = 2\nc = oops\nd = 4\ne = 5\nf = 6\n"


def test_code_excerpt_marks_the_line() -> None:
    assert code_excerpt(CODE, 3) == (
        "  1 | a = 1\n  2 | b = 2\n> 3 | c = oops\n  4 | d = 4\n  5 | e = 5"
    )
    assert code_excerpt(CODE, None) == ""
    assert code_excerpt(CODE, 99) == ""


def test_limit_signals_are_resource_failures() -> None:
    cpu = failure_from_exit(-signal.SIGXCPU, stdout="", stderr="", code=CODE)
    assert (cpu.kind, cpu.recoverable) == ("resource", True)
    assert "CPU" in cpu.message
    crash = failure_from_exit(
        1,
        stdout="",
        stderr='Traceback (most recent call last):\n  File "/w/scene.py", line 3, in <module>\n'
        "NameError: name 'oops' is not defined\n",
        code=CODE,
    )
    assert (crash.kind, crash.line, crash.error_type) == ("crash", 3, "NameError")
    assert "> 3 | c = oops" in crash.code_excerpt
    memory = failure_from_exit(1, stdout="", stderr="MemoryError: Unable to allocate\n", code=CODE)
    assert memory.kind == "resource"


def test_ledger_settles_with_abandoned_scenes() -> None:
    ledger = SceneLedger(scene_count=3, rendered={1: 1, 3: 2}, abandoned=[2])
    assert ledger.settled and not ledger.complete
    assert ledger.scenes == [1, 3]


def test_ledger_revision_changes_when_a_scene_renders_again() -> None:
    first = SceneLedger(scene_count=2, rendered={1: 1, 2: 1})
    again = SceneLedger(scene_count=2, rendered={1: 2, 2: 1})
    assert first.revision == SceneLedger(scene_count=2, rendered={2: 1, 1: 1}).revision
    assert first.revision != again.revision
