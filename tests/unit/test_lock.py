"""The lock files agree with pyproject.toml: every dependency pinned, within its range, hashed.

A dependency added to pyproject.toml without `bash scripts/lock.sh` fails here, not on a
fresh machine where `pip install --require-hashes` would refuse the unlocked package.
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parents[2]
PIN = re.compile(r"^([A-Za-z0-9._-]+)==([^\s;\\]+)")


def _pins(lock: str) -> dict[str, str]:
    text = (ROOT / lock).read_text()
    return {canonicalize_name(m[1]): m[2] for m in map(PIN.match, text.splitlines()) if m}


def _requirements(*, dev: bool) -> list[Requirement]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    names = project["dependencies"] + (project["optional-dependencies"]["dev"] if dev else [])
    return [Requirement(name) for name in names]


@pytest.mark.parametrize(
    ("lock", "dev"), [("requirements.lock", False), ("requirements-dev.lock", True)]
)
def test_every_dependency_is_pinned_within_its_range(lock: str, dev: bool) -> None:
    pins = _pins(lock)
    for requirement in _requirements(dev=dev):
        name = canonicalize_name(requirement.name)
        assert name in pins, f"{name} is not in {lock}: run `bash scripts/lock.sh`"
        assert requirement.specifier.contains(pins[name], prereleases=True), (
            f"{lock} pins {name}=={pins[name]}, outside {requirement}: run `bash scripts/lock.sh`"
        )


def test_runtime_and_dev_locks_agree_and_every_pin_is_hashed() -> None:
    runtime, dev = _pins("requirements.lock"), _pins("requirements-dev.lock")
    assert {name: dev.get(name) for name in runtime} == runtime
    for lock in ("requirements.lock", "requirements-dev.lock"):
        text = (ROOT / lock).read_text()
        blocks = re.split(r"\n(?=[A-Za-z0-9])", text)
        assert all("--hash=sha256:" in block for block in blocks if PIN.match(block)), lock
