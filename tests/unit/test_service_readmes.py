"""Each service's README says what it consumes and emits, and says it truly: the subjects
it names are shared/subjects.py's, its consumers are the ones it subscribes, and what it
emits is what its code publishes."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from shared import subjects
from shared.broker import CONSUMERS
from shared.events import EVENT_TYPES

ROOT = Path(__file__).resolve().parents[2]
SERVICES = sorted(p.parent.name for p in (ROOT / "services").glob("*/README.md"))
_NAME = re.compile(r"`([a-z_]+(?:\.[a-z_]+)*)`")
_EVENT_PREFIXES = ("job.", "scene.", "video.", "usage.", "revision.")
# Plain (non-durable) subscriptions: every replica must hear these.
PLAIN = {"renderer": {subjects.JOB_CANCELLED}}
# The runtime fails a job for any stage whose handler raises.
THROUGH_RUNTIME = {subjects.JOB_FAILED}
# Event classes, and the builders in shared/events.py that return one.
_CLASS_TYPES = {cls.__name__: kind for kind, cls in EVENT_TYPES.items()} | {
    "abandoned": subjects.SCENE_ABANDONED,
}


def _section(service: str, heading: str) -> str:
    text = (ROOT / "services" / service / "README.md").read_text()
    match = re.search(rf"^## {heading}\n(.*?)(?=^## |\Z)", text, re.S | re.M)
    assert match, f"services/{service}/README.md has no '## {heading}' section"
    return match.group(1)


def _documented(service: str, heading: str) -> set[str]:
    return {
        name
        for name in _NAME.findall(_section(service, heading))
        if name.startswith(_EVENT_PREFIXES) or name == subjects.PROGRESS
    }


def _published_by(service: str) -> set[str]:
    """Event types the service's code builds (event classes called, `bus.progress`)."""
    found: set[str] = set()
    for path in (ROOT / "services" / service).rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if not isinstance(node, ast.Call):
                continue
            if isinstance(node.func, ast.Name) and node.func.id in _CLASS_TYPES:
                found.add(_CLASS_TYPES[node.func.id])
            elif isinstance(node.func, ast.Attribute) and node.func.attr == "progress":
                found.add(subjects.PROGRESS)
    return found


def test_every_service_has_a_readme():
    assert {"gateway", "planner", "coder", "renderer", "storage"} <= set(SERVICES)


@pytest.mark.parametrize("service", SERVICES)
def test_documented_subjects_are_the_bus_names(service: str):
    named = _documented(service, "Consumes") | _documented(service, "Emits")
    assert named <= set(subjects.EVENT_TYPES), named - set(subjects.EVENT_TYPES)


@pytest.mark.parametrize("service", SERVICES)
def test_readme_consumes_what_the_service_subscribes(service: str):
    specs = [spec for name, spec in CONSUMERS.items() if name.split("-")[0] == service]
    section = _section(service, "Consumes")
    for spec in specs:
        assert f"`{spec.durable}`" in section, spec.durable
    if any(spec.event_type is None for spec in specs):
        assert f"`{subjects.ALL_EVENTS}`" in section
        return
    wanted = {spec.event_type for spec in specs} | PLAIN.get(service, set())
    assert _documented(service, "Consumes") == wanted


@pytest.mark.parametrize("service", SERVICES)
def test_readme_emits_what_the_service_publishes(service: str):
    published = _published_by(service)
    documented = _documented(service, "Emits")
    assert published <= documented, f"published but not documented: {published - documented}"
    assert documented - published <= THROUGH_RUNTIME, documented - published


@pytest.mark.parametrize("service", SERVICES)
def test_readme_says_what_the_service_decides(service: str):
    assert _section(service, "Decides").strip()


def test_every_event_type_is_emitted_by_some_service():
    emitted = set().union(*(_documented(service, "Emits") for service in SERVICES))
    assert set(subjects.EVENT_TYPES) <= emitted, set(subjects.EVENT_TYPES) - emitted
