"""Temp folders belong to their process: a live owner's folder stays, a killed one's goes."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

from shared.tempdirs import owned_tempdir, sweep_orphans

HOLD = """
import sys, time
from pathlib import Path
from shared.tempdirs import owned_tempdir
with owned_tempdir("vg-test-", root=Path(sys.argv[1])) as folder:
    (folder / "video.mp4").write_bytes(b"x" * 1000)
    print(folder, flush=True)
    time.sleep(600)
"""


def test_a_killed_owners_folder_is_swept_a_live_ones_is_kept(tmp_path: Path) -> None:
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])}
    owner = subprocess.Popen(
        [sys.executable, "-c", HOLD, str(tmp_path)], env=env, stdout=subprocess.PIPE, text=True
    )
    try:
        folder = Path(owner.stdout.readline().strip())  # type: ignore[union-attr]
        assert folder.name.startswith(f"vg-test-{owner.pid}-")
        with owned_tempdir("vg-test-", root=tmp_path) as mine:
            assert sweep_orphans("vg-test-", root=tmp_path) == []  # both owners alive
            owner.send_signal(signal.SIGKILL)
            owner.wait()
            assert folder.exists()
            assert sweep_orphans("vg-test-", root=tmp_path) == [folder]
            assert not folder.exists() and mine.exists()
        assert not mine.exists()  # removed when its block ended
    finally:
        owner.kill()
        owner.wait()
