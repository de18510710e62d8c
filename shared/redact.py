"""Scrub secrets and host paths from text that leaves a process.

Failure messages and tracebacks travel far: into events (and so the job's status and
log routes), into log lines, into API error bodies. A library error can quote a URL
with its password, a header with an API key, or a file path that maps the host. Every
choke point (the runtime's failure events, the JSON log formatter, the gateway's error
bodies) passes its text through `redact`, so a secret never has to be caught at the
place that happened to print it.

What to scrub is taught by every `Settings` the process builds (`add_secrets`,
`add_paths`): each `Secret` value, the API keys, the S3 access key, and the data
directory; the Python environment's prefixes are known from the start.
"""

from __future__ import annotations

import re
import site
import sys
import sysconfig
from collections.abc import Iterable
from pathlib import Path
from typing import Any, TypeVar

import msgspec

SECRET_MARK = "[REDACTED]"
# Shorter values would turn ordinary words into marks; settings refuse none, so say it here.
MIN_SECRET_CHARS = 4
# Fields of events that carry free text from failures (everything else is structure).
_TEXT_FIELDS = ("fallback_reason", "detail", "reason")

S = TypeVar("S", bound=msgspec.Struct)


def _environment_paths() -> dict[str, str]:
    """Where Python and its packages live: the installs, not the job, so not the client's."""
    paths: dict[str, str] = {}
    for directory in (
        *site.getsitepackages(),
        site.getusersitepackages(),
        sysconfig.get_paths()["purelib"],
        sysconfig.get_paths()["stdlib"],
    ):
        paths[directory] = "<site-packages>" if "-packages" in directory else "<python>"
    paths[sys.prefix] = "<venv>"
    paths[sys.base_prefix] = "<python>"
    paths[str(Path(__file__).resolve().parent.parent)] = "<app>"
    return {path: mark for path, mark in paths.items() if len(path) > 1}


_secrets: set[str] = set()
_paths: dict[str, str] = _environment_paths()  # host path → short marker
_pattern: re.Pattern[str] | None = None


def add_secrets(values: Iterable[str]) -> None:
    global _pattern
    fresh = {value for value in values if len(value) >= MIN_SECRET_CHARS} - _secrets
    if fresh:
        _secrets.update(fresh)
        _pattern = None


def add_paths(paths: dict[str, str]) -> None:
    global _pattern
    fresh = {path: mark for path, mark in paths.items() if len(path) > 1 and path not in _paths}
    if fresh:
        _paths.update(fresh)
        _pattern = None


def _compiled() -> re.Pattern[str]:
    global _pattern
    if _pattern is None:
        # Longest first, so a site-packages dir wins over the venv that contains it; a
        # path only where it ends (DATA_DIR=/data must not eat "/datasets").
        needles = sorted({*_secrets, *_paths}, key=len, reverse=True)
        _pattern = re.compile(
            "|".join(
                re.escape(needle) + ("" if needle in _secrets else r"(?![\w.-])")
                for needle in needles
            )
        )
    return _pattern


def redact(text: str) -> str:
    """`text` with every known secret replaced by a mark and host paths shortened."""
    if not text:
        return text
    return _compiled().sub(_replacement, text)


def _replacement(match: re.Match[str]) -> str:
    found = match.group(0)
    return SECRET_MARK if found in _secrets else _paths[found]


def redact_value(value: Any) -> Any:
    """`redact` applied to every string inside dicts, lists and tuples."""
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, dict):
        return {key: redact_value(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return type(value)(redact_value(item) for item in value)
    return value


def redact_struct(struct: S) -> S:
    """A copy of a msgspec Struct with its string and dict fields scrubbed."""
    changes = {
        name: redact_value(getattr(struct, name))
        for name in struct.__struct_fields__
        if isinstance(getattr(struct, name), str | dict | list)
    }
    return msgspec.structs.replace(struct, **changes)


def redact_event(event: S) -> S:
    """An event with the free text of its failure fields scrubbed (the rest is structure)."""
    changes: dict[str, Any] = {}
    error = getattr(event, "error", None)
    if isinstance(error, msgspec.Struct):
        changes["error"] = redact_struct(error)
    for name in _TEXT_FIELDS:
        text = getattr(event, name, None)
        if isinstance(text, str):
            changes[name] = redact(text)
    return msgspec.structs.replace(event, **changes) if changes else event
