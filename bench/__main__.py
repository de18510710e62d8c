"""Run benchmarks and write JSON results: `python -m bench [name …]`.

Each benchmark module exposes `run() -> dict`. Results go to bench/results/<name>.json
and, all together, to bench/results/all.json (a partial run updates only its entries).
"""

from __future__ import annotations

import importlib
import json
import os
import platform
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

from rich.console import Console

BENCHMARKS = (
    "api",
    "pipeline",
    "render",
    "storage",
    "retrieval",
    "llm",
    "telemetry",
    "narration",
    "rewrites",
    "revision",
    "plans",
    "opengl",
    "layout",
    "slicing",
)
RESULTS = Path(__file__).parent / "results"


def main(names: list[str]) -> None:
    console = Console(stderr=True)
    chosen = names or list(BENCHMARKS)
    unknown = sorted(set(chosen) - set(BENCHMARKS))
    if unknown:
        sys.exit(f"unknown benchmark(s): {', '.join(unknown)}; choose from {', '.join(BENCHMARKS)}")
    RESULTS.mkdir(exist_ok=True)
    combined = RESULTS / "all.json"
    summary: dict[str, object] = json.loads(combined.read_text()) if combined.exists() else {}
    summary["machine"] = {"python": platform.python_version(), "cpus": _cpus()}
    for name in chosen:
        try:
            module = importlib.import_module(f"bench.{name}")
        except ModuleNotFoundError as exc:
            if exc.name != f"bench.{name}":
                raise
            console.print(f"[yellow]{name}: not available in this build[/]")
            continue
        console.print(f"[bold]{name}[/] …")
        started = time.perf_counter()
        result = module.run()
        result["bench_seconds"] = round(time.perf_counter() - started, 1)
        result["measured_at"] = datetime.now(UTC).isoformat(timespec="seconds")
        (RESULTS / f"{name}.json").write_text(json.dumps(result, indent=2))
        summary[name] = result
        console.print_json(json.dumps(result))
    combined.write_text(json.dumps(summary, indent=2))
    console.print(f"results in {RESULTS}")


def _cpus() -> int:
    return len(os.sched_getaffinity(0))


if __name__ == "__main__":
    main(sys.argv[1:])
