"""The render seccomp filter's shape, and the pod profile that must agree with it."""

from __future__ import annotations

import json
import struct
from pathlib import Path

import pytest

from services.renderer import seccomp

PROFILE = Path(__file__).resolve().parents[2] / "deploy/k8s/seccomp/videogen-renderer.json"
JAIL_SET_UP = {"mount", "umount2", "pivot_root", "chroot", "unshare", "setns"}


@pytest.mark.parametrize("arch", ["x86_64", "aarch64"])
def test_foreign_architectures_are_killed_first(arch: str) -> None:
    program = seccomp.instructions(arch)
    assert program[0] == (0x20, 0, 0, 4)  # load seccomp_data.arch
    assert program[1][0] == 0x15 and program[1][1] == 1  # equal: skip the kill
    assert program[2] == (0x06, 0, 0, 0x80000000)  # SECCOMP_RET_KILL_PROCESS
    assert program[-1] == (0x06, 0, 0, 0x7FFF0000)  # anything else is allowed
    assert len(seccomp.program(arch)) == 8 * len(program)


@pytest.mark.parametrize("arch", ["x86_64", "aarch64"])
def test_every_denied_call_has_a_number_and_fails_with_eperm(arch: str) -> None:
    program = seccomp.instructions(arch)
    table = seccomp._SYSCALLS[arch]
    compared = {k for code, _, _, k in program if code == 0x15}
    for name in seccomp.DENIED:
        assert table[name] in compared, name
    assert (0x06, 0, 0, 0x00050000 | 1) in program  # ERRNO(EPERM)
    assert (0x06, 0, 0, 0x00050000 | 38) in program  # clone3 → ENOSYS


def test_unknown_architecture_is_refused() -> None:
    with pytest.raises(OSError, match="no seccomp syscall table"):
        seccomp.instructions("mips")


def test_pod_profile_denies_the_same_calls_except_the_jails_set_up() -> None:
    profile = json.loads(PROFILE.read_text())
    denied = set(profile["syscalls"][0]["names"])
    assert denied == (set(seccomp.DENIED) - JAIL_SET_UP) | {"iopl", "ioperm", "uselib"}
    assert profile["defaultAction"] == "SCMP_ACT_ALLOW"


def test_program_bytes_round_trip() -> None:
    raw = seccomp.program("x86_64")
    decoded = [struct.unpack("<HBBI", raw[i : i + 8]) for i in range(0, len(raw), 8)]
    assert decoded == seccomp.instructions("x86_64")
