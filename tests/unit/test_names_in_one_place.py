"""Every subject, stream and bucket name lives in shared/subjects.py (style.md): no other
module spells one out, so renaming one is a one-line change."""

from __future__ import annotations

import ast
from pathlib import Path

from shared import subjects

ROOT = Path(__file__).parents[2]
NAMES = {
    subjects.STREAM,
    subjects.JOBS_BUCKET,
    subjects.IDEMPOTENCY_BUCKET,
    subjects.LEDGER_BUCKET,
    subjects.ARTIFACTS_BUCKET,
}
WILDCARDS = (f"{subjects.PREFIX}.*", f"{subjects.PREFIX}.>")


def _string_constants(path: Path) -> list[tuple[int, str]]:
    tree = ast.parse(path.read_text(), filename=str(path))
    return [
        (node.lineno, node.value)
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant) and isinstance(node.value, str)
    ]


def test_no_module_but_subjects_spells_a_bus_name():
    offenders = []
    for path in sorted(
        {
            *ROOT.glob("shared/**/*.py"),
            *ROOT.glob("services/**/*.py"),
            *ROOT.glob("videogen/**/*.py"),
        }
    ):
        if path == ROOT / "shared" / "subjects.py":
            continue
        for line, text in _string_constants(path):
            if text in NAMES or text.startswith(WILDCARDS):
                offenders.append(f"{path.relative_to(ROOT)}:{line}: {text!r}")
    assert offenders == []
