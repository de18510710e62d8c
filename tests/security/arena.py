"""A real stack with planted secrets, and the checks that run after every hostile payload.

The stack is what `videogen up` starts (videogen/stack.py), with canary secrets in every
service's environment (LLM and S3 keys, another user's API key) and canary files outside
any render (one in DATA_DIR, one in a temp dir). Mallory attacks through the REST API;
Victim renders a fixed scene before and after each attack, and must get the same frames.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import os
import signal
import struct
import time
import uuid
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypedDict

import httpx

from shared.events import encode
from shared.history import read_job
from tests.security.evidence import (
    Canaries,
    bytes_under,
    canary,
    descendants,
    files_named,
    frame_digest,
    ocr_video,
    processes,
)
from tests.security.payloads import Payload, scene_code
from videogen.stack import Stack

MALLORY = "key-mallory"
VICTIM_SCENE = """\
from manim import *
import time
# run {nonce}


class Victim(Scene):
    def construct(self):
        time.sleep({pause})
        title = Text("Victim scene", font_size=48).to_edge(UP)
        self.add(title)
        self.play(Create(Circle(color=BLUE)), FadeIn(Square(color=RED).shift(RIGHT * 3)),
                  run_time=1)
"""
TERMINAL = ("completed", "failed", "cancelled")


class StackSecrets(TypedDict):
    """The settings that plant canaries in the stack (named keys: they go into `**settings`)."""

    OPENAI_API_KEY: str
    AWS_SECRET_ACCESS_KEY: str
    OPENROUTER_API_KEY: str
    API_KEYS: str


@dataclass
class Planted:
    """The canaries and where they are."""

    canaries: Canaries
    victim_key: str
    outside: Path
    file_canary: Path
    data_canary: Path
    svg_canary: Path
    png_canary: Path

    @classmethod
    def create(cls, root: Path, data_dir: Path) -> Planted:
        values = {
            "OPENAI_API_KEY": canary("sk-"),
            "AWS_SECRET_ACCESS_KEY": canary(),
            "OPENROUTER_API_KEY": canary("or-"),
            "victim API key": canary("key-victim-"),
            "file canary (temp dir)": canary(),
            "file canary (DATA_DIR)": canary(),
            "svg canary": canary(),
            "png canary": canary(),
        }
        # Worst case: permissions would let any uid read the canaries and write the
        # folders, so only the jail's own view of the file system can keep them safe.
        outside = root / "outside"
        outside.mkdir()
        data_dir.mkdir(parents=True, exist_ok=True)
        for folder in (root, outside, data_dir):
            folder.chmod(0o777)
        planted = cls(
            canaries=Canaries(values),
            victim_key=values["victim API key"],
            outside=outside,
            file_canary=outside / "canary.txt",
            data_canary=data_dir / "canary.txt",
            svg_canary=outside / "canary.svg",
            png_canary=outside / "canary.png",
        )
        planted.file_canary.write_text(values["file canary (temp dir)"] + "\n")
        planted.data_canary.write_text(values["file canary (DATA_DIR)"] + "\n")
        planted.svg_canary.write_text(_svg_encoding(values["svg canary"]))
        planted.png_canary.write_bytes(_png_encoding(values["png canary"]))
        for path in (
            planted.file_canary,
            planted.data_canary,
            planted.svg_canary,
            planted.png_canary,
        ):
            path.chmod(0o644)
        return planted

    def environment(self) -> StackSecrets:
        values = self.canaries.values
        return {
            "OPENAI_API_KEY": values["OPENAI_API_KEY"],
            "AWS_SECRET_ACCESS_KEY": values["AWS_SECRET_ACCESS_KEY"],
            "OPENROUTER_API_KEY": values["OPENROUTER_API_KEY"],
            "API_KEYS": f"{self.victim_key}:victim,{MALLORY}:mallory",
        }


def _svg_encoding(text: str) -> str:
    """An SVG whose rectangles' widths spell ``text`` (after a 100-wide reference)."""
    rects, x = [], 0
    for width in [100, *map(ord, text)]:
        rects.append(f'<rect x="{x}" y="0" width="{width}" height="50"/>')
        x += width + 10
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{x}" height="50">'
        + "".join(rects)
        + "</svg>"
    )


def _png_encoding(text: str) -> bytes:
    """A one-row RGB PNG whose red channel spells ``text``."""
    row = b"\0" + b"".join(bytes([ord(c), 0, 0]) for c in text)

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
        )

    header = struct.pack(">IIBBBBB", len(text), 1, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(row))
        + chunk(b"IEND", b"")
    )


@dataclass
class Outcome:
    """What the attacker got back: the job's status and every body they could read."""

    job_id: str | None
    status: dict[str, Any]
    bodies: list[str]
    video: Path | None = None


@dataclass
class Arena:
    """The stack under attack, the planted secrets and the victim's reference render."""

    stack: Stack
    planted: Planted
    workdir: Path
    api: httpx.Client = field(init=False)
    victim_video: Path = field(init=False)
    victim_sha256: str = field(init=False)
    victim_original: bytes = field(init=False)
    reference_frames: list[bytes] = field(init=False)
    victim_jobs: set[str] = field(default_factory=set)
    idle_tree: int = 0

    def __post_init__(self) -> None:
        self.api = httpx.Client(base_url=self.stack.base_url, timeout=60)

    @property
    def victim(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.planted.victim_key}"}

    @property
    def mallory(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {MALLORY}"}

    def prepare(self) -> None:
        """The victim's reference render (its stored file is a write target), and the idle
        process tree once the warm pool is up."""
        outcome = self.render_victim()
        assert outcome.status["status"] == "completed", outcome.status
        assert outcome.video is not None
        self.reference_frames = frame_digest(outcome.video)
        [self.victim_video] = (self.stack.data_dir / "videos").glob(f"*/{outcome.job_id}/*.mp4")
        self.victim_video.chmod(0o666)  # only the jail may stand between it and a render
        self.victim_original = self.victim_video.read_bytes()
        self.victim_sha256 = _sha256(self.victim_video)
        self.idle_tree = self._wait_tree_settles()

    def values(self, mark: str) -> dict[str, str]:
        nats_port = self.stack.env["NATS_URL"].rsplit(":", 1)[1]
        return {
            "MARK_REVERSED": mark[::-1],
            "OUTSIDE": str(self.planted.outside),
            "DATA_DIR": str(self.stack.data_dir),
            "FILE_CANARY": str(self.planted.file_canary),
            "DATA_CANARY": str(self.planted.data_canary),
            "SVG_CANARY": str(self.planted.svg_canary),
            "PNG_CANARY": str(self.planted.png_canary),
            "VICTIM_VIDEO": str(self.victim_video),
            "GATEWAY_PORT": str(self.stack.port),
            "NATS_PORT": nats_port,
        }

    # --- submitting -------------------------------------------------------------------------

    def render(self, code: str, headers: dict[str, str], *, timeout: float = 180) -> Outcome:
        body = {"code": code, "quality": "low", "enable_thumbnails": False}
        response = self.api.post("/api/v1/videos/render", json=body, headers=headers)
        assert response.status_code < 500, response.text
        if response.status_code != 201:
            return Outcome(None, response.json(), [response.text])
        return self.follow(response.json()["job_id"], headers, [response.text], timeout=timeout)

    def follow(
        self, job_id: str, headers: dict[str, str], bodies: list[str], *, timeout: float = 240
    ) -> Outcome:
        """Wait for the job to end; read back every body its owner can get."""
        deadline = time.monotonic() + timeout
        while True:
            status = self.api.get(f"/api/v1/videos/jobs/{job_id}/status", headers=headers).json()
            if status.get("status") in TERMINAL:
                break
            assert time.monotonic() < deadline, f"job did not end: {status}"
            time.sleep(0.3)
        bodies.append(str(status))
        for route in (
            f"/api/v1/jobs/{job_id}",
            f"/api/v1/jobs/{job_id}/logs",
            f"/api/v1/videos/jobs/{job_id}/scenes",
            f"/api/v1/videos/jobs/{job_id}/metadata",
        ):
            bodies.append(self.api.get(route, headers=headers).text)
        video = None
        if status["status"] == "completed":
            download = self.api.get(f"/api/v1/videos/jobs/{job_id}/download", headers=headers)
            assert download.status_code == 200
            video = self.workdir / f"{job_id}.mp4"
            video.write_bytes(download.content)
        return Outcome(job_id, status, bodies, video)

    def render_victim(self) -> Outcome:
        return self.follow(self.submit_victim(), self.victim, [])

    def submit_victim(self, *, pause_seconds: float = 0) -> str:
        """Queue the victim's scene (after a pause inside the render, which changes no
        frame: to keep it running while something else happens); its job id."""
        code = VICTIM_SCENE.format(nonce=uuid.uuid4().hex, pause=pause_seconds)
        body = {"code": code, "quality": "low", "enable_thumbnails": False}
        response = self.api.post("/api/v1/videos/render", json=body, headers=self.victim)
        assert response.status_code == 201, response.text
        job_id: str = response.json()["job_id"]
        self.victim_jobs.add(job_id)
        return job_id

    def same_as_reference(self, outcome: Outcome) -> bool:
        return outcome.video is not None and frame_digest(outcome.video) == self.reference_frames

    # --- what the attacker achieved ---------------------------------------------------------

    def findings(self, mark: str, outcome: Outcome) -> list[str]:
        """Everything the payload achieved; empty when the jail held.

        Lasting damage is reported once and then undone (files removed, the victim's video
        restored, leftover processes and a tampered warm pool killed), so the next payload
        is judged on what it achieves itself.
        """
        found: list[str] = []
        secrets = self.planted.canaries
        for body in outcome.bodies:
            found += [f"{name} in an API body" for name in secrets.found_in(body)]
        if outcome.job_id:
            for event in self.events(outcome.job_id):
                found += [f"{name} in event {event[:60]!r}" for name in secrets.found_in(event)]
        if outcome.video is not None:
            text = ocr_video(outcome.video)
            found += [f"{name} on the video's frames" for name in secrets.found_in(text)]
            if Canaries({"marker": mark}).found_in(text):
                found.append(f"the payload's success marker on its frames: {text[:200]!r}")
        found += self._logs(mark)
        found += self._store(mark)
        found += [f"file written outside the work dir: {path}" for path in self._files(mark)]
        if _sha256(self.victim_video) != self.victim_sha256:
            found.append(f"the victim's stored video was changed: {self.victim_video}")
            self.victim_video.write_bytes(self.victim_original)
        found += self._leftover_processes(mark)
        found += self._victim_unaffected(mark)
        return found

    def events(self, job_id: str) -> list[str]:
        async def read() -> list[str]:
            connection = await self.stack.connect()
            try:
                records = await read_job(connection.jetstream(), job_id)
            finally:
                await connection.close()
            return [encode(r.event).decode(errors="replace") for r in records if r.event]

        return asyncio.run(read())

    def _logs(self, mark: str) -> list[str]:
        found = []
        for log in (self.stack.data_dir / "logs").glob("*.log"):
            text = log.read_text(errors="replace")
            found += [f"{name} in {log.name}" for name in self.planted.canaries.found_in(text)]
            if f"{mark} render finished" in text:
                found.append(f"a forged line in {log.name}")
        return found

    def _store(self, mark: str) -> list[str]:
        needles = {name: value.encode() for name, value in self.planted.canaries.values.items()}
        needles["a forged event on the bus"] = f"videogen.{mark}.job".encode()
        needles["a job submitted with a stolen key"] = f"class {mark}(Scene)".encode()
        return [f"{hit} (NATS store)" for hit in bytes_under(self.stack.data_dir / "nats", needles)]

    def _files(self, mark: str) -> list[Path]:
        """Files the payload left outside its work dir (removed once found: /tmp is shared)."""
        found = files_named(
            mark,
            [
                (self.planted.outside, False),
                (self.stack.data_dir, True),
                (Path("/tmp"), False),
            ],
        )
        for path in found:
            path.unlink(missing_ok=True)
        return found

    def _leftover_processes(self, mark: str, settle_seconds: float = 15.0) -> list[str]:
        """Processes of the payload still alive once its job ended (after a grace period)."""
        deadline = time.monotonic() + settle_seconds
        while True:
            table = processes()
            leftovers = [
                f"process left behind: {p.pid} {p.cmdline[:120]!r}"
                for p in table.values()
                if mark in p.cmdline
            ]
            tree = len(self._tree(table))
            if tree > self.idle_tree:
                leftovers.append(
                    f"{tree - self.idle_tree} more processes under the stack than "
                    f"when idle ({self.idle_tree})"
                )
            if not leftovers:
                return leftovers
            if time.monotonic() > deadline:
                self._reset_renderer(mark)
                return leftovers
            time.sleep(0.5)

    def _victim_unaffected(self, mark: str) -> list[str]:
        outcome = self.render_victim()
        if outcome.status["status"] != "completed" or outcome.video is None:
            return [f"the victim's next render did not complete: {outcome.status.get('error')}"]
        found = []
        if not self.same_as_reference(outcome):
            text = ocr_video(outcome.video)
            found.append(f"the victim's next render differs from a clean one (OCR: {text[:120]!r})")
            self._reset_renderer(mark)
        listed = self.api.get(
            "/api/v1/jobs", headers=self.victim, params={"items_per_page": 100}
        ).json()
        others = {job["job_id"] for job in listed.get("jobs", [])} - self.victim_jobs
        if others:
            found.append(f"jobs in the victim's name that the victim never made: {others}")
            self.victim_jobs |= others
        return found

    def _reset_renderer(self, mark: str) -> None:
        """Kill what a payload left running: its marked processes, and every process under
        the renderer service (renders and the warm pool, which restarts at the next render)."""
        table = processes()
        doomed = {p.pid for p in table.values() if mark in p.cmdline}
        doomed |= descendants([self.stack.processes["renderer"].pid], table)
        for pid in doomed:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)

    def _tree(self, table: dict[int, Any]) -> set[int]:
        roots = [p.pid for p in self.stack.processes.values()]
        if self.stack.nats is not None:
            roots.append(self.stack.nats.process.pid)
        return descendants(roots, table)

    def _wait_tree_settles(self) -> int:
        sizes = []
        for _ in range(6):
            sizes.append(len(self._tree(processes())))
            time.sleep(0.5)
        return min(sizes)

    def close(self) -> None:
        self.api.close()


def payload_mark() -> str:
    """A per-payload marker: letters only, so OCR reads it back."""
    return "MARK" + canary()


def run_payload(arena: Arena, payload: Payload) -> tuple[Outcome, list[str]]:
    mark = payload_mark()
    outcome = arena.render(scene_code(payload, arena.values(mark)), arena.mallory)
    return outcome, arena.findings(mark, outcome)


def describe(payload: Payload, outcome: Outcome) -> str:
    """One line on how an attack ended: refused up front, failed (why), or completed."""
    status = outcome.status
    if outcome.job_id is None:
        return f"{payload.id}: refused ({status.get('error', {}).get('code')})"
    error = status.get("error") or {}
    message = error.get("message", "")
    return f"{payload.id}: {status.get('status')} {message[:160]}".rstrip()


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()
