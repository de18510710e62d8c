"""Where an attacker's success would show: canaries, OCR of frames, files, processes.

Every check here looks at what an attacker could see or leave behind, never at which layer
stopped the attack: API bodies, the job's recorded events, the services' log files, the
NATS store on disk, the video's frames (read back with tesseract), files outside the work
dir and processes that outlive the render.
"""

from __future__ import annotations

import random
import re
import subprocess
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import av

# Letters OCR does not confuse with digits or each other (no I/O/Q/S/Z/B/G).
_ALPHABET = "ACDEFHJKMNPRTUVWXY"
_WINDOW = 10  # OCR may misread a letter or two: any 10 letters in a row of a canary count


def canary(prefix: str = "") -> str:
    """A secret-looking value that reads back reliably off a frame."""
    return prefix + "".join(random.choices(_ALPHABET, k=16))


def _letters(text: str) -> str:
    return re.sub(r"[^A-Z0-9]", "", text.upper())


@dataclass(frozen=True)
class Canaries:
    """Named secret values planted in the stack's environment and in files."""

    values: dict[str, str]

    def found_in(self, text: str) -> list[str]:
        """Names of the canaries that appear in ``text`` (exactly, or with OCR noise)."""
        flat = _letters(text)
        return [
            name
            for name, value in self.values.items()
            if value in text or _fuzzy_in(_letters(value), flat)
        ]


def _fuzzy_in(core: str, flat: str) -> bool:
    if len(core) <= _WINDOW:
        return core in flat
    return any(core[i : i + _WINDOW] in flat for i in range(len(core) - _WINDOW + 1))


# --- frames -----------------------------------------------------------------------------------


def ocr_video(path: Path, *, samples: int = 4) -> str:
    """Text tesseract reads off a few frames spread over the video (last one included)."""
    with av.open(str(path)) as container:
        frames = list(container.decode(container.streams.video[0]))
    if not frames:
        return ""
    picks = sorted({round(i * (len(frames) - 1) / max(samples - 1, 1)) for i in range(samples)})
    texts = []
    with tempfile.TemporaryDirectory() as folder:
        for index in picks:
            image = frames[index].to_image()
            image = image.resize((image.width * 2, image.height * 2))
            target = Path(folder) / f"{index}.png"
            image.save(target)
            done = subprocess.run(
                ["tesseract", str(target), "stdout"],
                capture_output=True,
                text=True,
                timeout=60,
                check=False,
            )
            texts.append(done.stdout)
    return "\n".join(texts)


def frame_digest(path: Path) -> list[bytes]:
    """The decoded pixels of every frame (what a viewer sees), to compare two renders."""
    with av.open(str(path)) as container:
        return [
            frame.to_ndarray(format="rgb24").tobytes()
            for frame in container.decode(container.streams.video[0])
        ]


# --- files ------------------------------------------------------------------------------------


def files_named(mark: str, folders: Iterable[tuple[Path, bool]]) -> list[Path]:
    """Files whose name carries the marker, in each (folder, recursive) given."""
    found: list[Path] = []
    for folder, recursive in folders:
        if folder.is_dir():
            pattern = f"**/*{mark}*" if recursive else f"*{mark}*"
            found += [p for p in folder.glob(pattern)]
    return found


def bytes_under(folder: Path, needles: dict[str, bytes]) -> list[str]:
    """Which needles appear in any file under ``folder`` (e.g. the NATS store)."""
    hits: set[str] = set()
    for path in folder.rglob("*"):
        if not path.is_file():
            continue
        try:
            data = path.read_bytes()
        except OSError:
            continue
        hits |= {
            f"{name} in {path.relative_to(folder)}"
            for name, needle in needles.items()
            if needle in data
        }
    return sorted(hits)


# --- processes --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Proc:
    pid: int
    ppid: int
    cmdline: str


def processes() -> dict[int, Proc]:
    """Every process on the machine (pid → parent and command line)."""
    table: dict[int, Proc] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        table[int(entry.name)] = Proc(int(entry.name), ppid, cmdline)
    return table


def descendants(roots: Iterable[int], table: dict[int, Proc] | None = None) -> set[int]:
    table = processes() if table is None else table
    children: dict[int, list[int]] = {}
    for proc in table.values():
        children.setdefault(proc.ppid, []).append(proc.pid)
    found: set[int] = set()
    pending = list(roots)
    while pending:
        pid = pending.pop()
        for child in children.get(pid, ()):
            if child not in found:
                found.add(child)
                pending.append(child)
    return found
