"""shared/ imports cleanly module by module: no cycle, and the LLM client stays light.

Each module is imported alone in a fresh interpreter, so an import cycle fails here
whatever order a service happens to import things in. The LLM client plumbing must not
drag in the broker (FastStream), the job view or OpenTelemetry: a model and its tests
use it without any of them.
"""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SHARED_MODULES = sorted(
    ".".join(path.relative_to(ROOT).with_suffix("").parts).removesuffix(".__init__")
    for path in (ROOT / "shared").rglob("*.py")
)
LLM_MODULES = [name for name in SHARED_MODULES if name.startswith("shared.llm")]
HEAVY = ("faststream", "opentelemetry", "shared.jobview", "shared.runtime", "nats")
_PROBE = (
    "import importlib, json, sys; importlib.import_module(sys.argv[1]); "
    "print(json.dumps(sorted(sys.modules)))"
)


def _loaded_by(module: str) -> list[str]:
    """Every module loaded by importing `module` alone; fails with the import error."""
    done = subprocess.run(
        [sys.executable, "-c", _PROBE, module],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, f"importing {module} alone failed:\n{done.stderr}"
    return json.loads(done.stdout)


def test_the_list_covers_shared():
    assert {"shared.events", "shared.plans", "shared.llm.client"} <= set(SHARED_MODULES)


@pytest.mark.parametrize("module", SHARED_MODULES)
def test_shared_module_imports_alone(module: str):
    _loaded_by(module)


@pytest.mark.parametrize("module", LLM_MODULES)
def test_llm_plumbing_loads_no_broker_job_view_or_tracing(module: str):
    heavy = [name for name in _loaded_by(module) if name.split(".")[0] in HEAVY or name in HEAVY]
    assert heavy == []


def _imports_of(module: str) -> set[str]:
    """The shared modules `module` imports, wherever in the file (lazy imports count)."""
    path = ROOT / Path(*module.split("."))
    source = (path / "__init__.py" if path.is_dir() else path.with_suffix(".py")).read_text()
    found: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.ImportFrom) and node.module:
            found |= {node.module, *(f"{node.module}.{a.name}" for a in node.names)}
        elif isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
    return found & set(SHARED_MODULES) - {module}


def test_shared_import_graph_has_no_cycle():
    graph = {module: _imports_of(module) for module in SHARED_MODULES}
    done: set[str] = set()

    def visit(module: str, path: tuple[str, ...]) -> None:
        assert module not in path, " -> ".join((*path, module))
        if module not in done:
            for imported in graph[module]:
                visit(imported, (*path, module))
            done.add(module)

    for module in SHARED_MODULES:
        visit(module, ())


def test_shared_never_imports_services():
    offenders = [
        f"{path.relative_to(ROOT)}: {line.strip()}"
        for path in (ROOT / "shared").rglob("*.py")
        for line in path.read_text().splitlines()
        if line.lstrip().startswith(("from services", "import services"))
    ]
    assert offenders == []
