"""A small client of the REST contract, used by the CLI (and handy in scripts)."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx

TERMINAL = {"completed", "failed", "cancelled"}


class ApiError(RuntimeError):
    """The gateway answered with the contract's error shape."""

    def __init__(self, status: int, body: dict[str, Any]) -> None:
        error = body.get("error") or {}
        super().__init__(f"{status} {error.get('code', '')}: {error.get('message', body)}")
        self.status = status
        self.body = body


class VideogenClient:
    def __init__(self, base_url: str, *, api_key: str | None = None, timeout: float = 30) -> None:
        headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
        self.http = httpx.Client(base_url=base_url, headers=headers, timeout=timeout)

    def close(self) -> None:
        self.http.close()

    def _json(self, response: httpx.Response) -> dict[str, Any]:
        if response.status_code >= 400:
            try:
                body = response.json()
            except ValueError:
                body = {"error": {"message": response.text[:200]}}
            raise ApiError(response.status_code, body)
        return response.json()

    def generate(self, topic: str, context: str, **configuration: Any) -> dict[str, Any]:
        body = {"configuration": {"topic": topic, "context": context, **configuration}}
        return self._json(self.http.post("/api/v1/videos/generate", json=body))

    def status(self, job_id: str) -> dict[str, Any]:
        return self._json(self.http.get(f"/api/v1/videos/jobs/{job_id}/status"))

    def events(self, job_id: str) -> dict[str, Any]:
        """The job's recorded timeline (what `videogen events` prints)."""
        return self._json(self.http.get(f"/api/v1/jobs/{job_id}/events"))

    def replay(
        self, job_id: str, event_type: str, *, scene: int | None = None, reopen: bool = False
    ) -> dict[str, Any]:
        """Publish the job's recorded `event_type` again (what `videogen replay` does)."""
        body = {"from": event_type, "scene": scene, "reopen": reopen}
        return self._json(self.http.post(f"/api/v1/jobs/{job_id}/replay", json=body))

    def revise(self, job_id: str, instruction: str, *, scene: int | None = None) -> dict[str, Any]:
        """Ask for a new revision of a finished job (`scene` None: the planner decides)."""
        body = {"scene": scene, "instruction": instruction}
        return self._json(self.http.post(f"/api/v1/videos/jobs/{job_id}/revise", json=body))

    def watch(
        self, job_id: str, *, interval: float = 0.5, timeout: float = 3600
    ) -> Iterator[dict[str, Any]]:
        """Status bodies until the job is terminal (the last one yielded is terminal)."""
        deadline = time.monotonic() + timeout
        while True:
            status = self.status(job_id)
            yield status
            if status["status"] in TERMINAL:
                return
            if time.monotonic() > deadline:
                raise TimeoutError(f"job {job_id} still {status['status']} after {timeout}s")
            time.sleep(interval)

    def download(
        self, job_id: str, target: Path, *, on_bytes: Callable[[int, int], None] | None = None
    ) -> Path:
        """Save the finished video to `target`, reporting (done, total) bytes."""
        target.parent.mkdir(parents=True, exist_ok=True)
        with self.http.stream("GET", f"/api/v1/videos/jobs/{job_id}/download") as response:
            if response.status_code >= 400:
                response.read()
                self._json(response)
            total = int(response.headers.get("Content-Length", 0))
            done = 0
            with target.open("wb") as out:
                for chunk in response.iter_bytes(1 << 16):
                    out.write(chunk)
                    done += len(chunk)
                    if on_bytes:
                        on_bytes(done, total)
        return target
