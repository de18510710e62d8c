"""What a render's child process may see: an environment built from an allow-list.

Generated code is untrusted input; nothing from the service's own environment (API
keys, S3 credentials) is passed to it.
"""

from __future__ import annotations

import os
from pathlib import Path

INHERITED = ("PATH", "LANG", "LC_ALL", "TZ")


def render_environment(workdir: Path) -> dict[str, str]:
    """The complete environment of a render process."""
    env = {name: os.environ[name] for name in INHERITED if name in os.environ}
    env.update(
        HOME=str(workdir),
        TMPDIR=str(workdir),
        PYTHONDONTWRITEBYTECODE="1",
        PYTHONUNBUFFERED="1",
    )
    return env
