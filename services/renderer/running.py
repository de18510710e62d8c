"""The renders running in this replica, so a cancelled job's renders can be killed."""

from __future__ import annotations

import contextlib
from collections import defaultdict
from collections.abc import Callable, Iterator

from services.renderer.render import RenderProcess, kill_process_group

MAX_REMEMBERED = 10_000


class RunningRenders:
    """Processes per job; `cancel(job)` kills them (their renders fail as `cancelled`)."""

    def __init__(self) -> None:
        self._processes: dict[str, set[RenderProcess]] = defaultdict(set)
        self._cancelled: dict[str, None] = {}  # insertion-ordered, trimmed

    @contextlib.contextmanager
    def tracking(self, job_id: str) -> Iterator[Callable[[RenderProcess], None]]:
        """Yield an `on_start` callback that registers the render's process."""
        started: list[RenderProcess] = []

        def on_start(process: RenderProcess) -> None:
            started.append(process)
            self._processes[job_id].add(process)
            if job_id in self._cancelled:
                kill_process_group(process)

        try:
            yield on_start
        finally:
            for process in started:
                self._processes[job_id].discard(process)
            if not self._processes[job_id]:
                self._processes.pop(job_id, None)

    def cancel(self, job_id: str) -> int:
        """Kill every render of the job; returns how many were running."""
        self._cancelled[job_id] = None
        while len(self._cancelled) > MAX_REMEMBERED:
            del self._cancelled[next(iter(self._cancelled))]
        processes = list(self._processes.get(job_id, ()))
        for process in processes:
            kill_process_group(process)
        return len(processes)
