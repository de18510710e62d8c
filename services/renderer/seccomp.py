"""The system calls a render may not make, as one seccomp filter (the only copy of the rule).

A render runs Manim, LaTeX and ffmpeg; none of them needs to debug another process, load
kernel code, change mounts or namespaces, or use the kernel's exotic interfaces. Denying
those closes the routes a hostile scene used to leave its sandbox (``gdb -p`` on the warm
pool, ``nsenter`` into the renderer's network, ``process_vm_readv`` of another render)
and shrinks the kernel surface an exploit can reach.

Written as raw classic BPF through ``prctl(PR_SET_SECCOMP)``, not with libseccomp: the
program is small, so one module with two syscall tables (x86_64, aarch64) needs no
dependency and no C library at run time, and the same bytes serve bubblewrap's
``--seccomp`` option for the CLI path. A process of any other architecture (e.g. 32-bit
``int 0x80`` calls on x86_64, or the x32 ABI) is killed outright: its numbers would mean
different calls.

Denied calls fail with ``EPERM``; ``clone3`` fails with ``ENOSYS`` so that glibc falls
back to ``clone``, whose flags a filter can read: a plain fork or thread is allowed, a
clone into new namespaces is not.
"""

from __future__ import annotations

import ctypes
import errno
import platform
import struct

__all__ = ["DENIED", "install", "program"]

# Calls denied outright (EPERM), by name; numbers per architecture below.
DENIED = (
    # reach into other processes
    "ptrace",
    "process_vm_readv",
    "process_vm_writev",
    "kcmp",
    "pidfd_getfd",
    # mounts, namespaces, root changes (set-up is done before the filter is installed)
    "mount",
    "umount2",
    "pivot_root",
    "chroot",
    "move_mount",
    "open_tree",
    "fsopen",
    "fsconfig",
    "fsmount",
    "fspick",
    "mount_setattr",
    "unshare",
    "setns",
    # kernel keyrings, BPF, perf, userfaultfd, io_uring: large attack surface, no use here
    "keyctl",
    "add_key",
    "request_key",
    "bpf",
    "perf_event_open",
    "userfaultfd",
    "io_uring_setup",
    "io_uring_enter",
    "io_uring_register",
    # loading or replacing kernel code, and other host administration
    "kexec_load",
    "kexec_file_load",
    "init_module",
    "finit_module",
    "delete_module",
    "reboot",
    "swapon",
    "swapoff",
    "acct",
    "syslog",
    "quotactl",
    "quotactl_fd",
    "lookup_dcookie",
    "vhangup",
    "fanotify_init",
    "open_by_handle_at",
    "name_to_handle_at",
)
_X86_64_ONLY = ("iopl", "ioperm", "uselib")

_SYSCALLS: dict[str, dict[str, int]] = {
    "x86_64": {
        "ptrace": 101,
        "process_vm_readv": 310,
        "process_vm_writev": 311,
        "kcmp": 312,
        "pidfd_getfd": 438,
        "mount": 165,
        "umount2": 166,
        "pivot_root": 155,
        "chroot": 161,
        "move_mount": 429,
        "open_tree": 428,
        "fsopen": 430,
        "fsconfig": 431,
        "fsmount": 432,
        "fspick": 433,
        "mount_setattr": 442,
        "unshare": 272,
        "setns": 308,
        "keyctl": 250,
        "add_key": 248,
        "request_key": 249,
        "bpf": 321,
        "perf_event_open": 298,
        "userfaultfd": 323,
        "io_uring_setup": 425,
        "io_uring_enter": 426,
        "io_uring_register": 427,
        "kexec_load": 246,
        "kexec_file_load": 320,
        "init_module": 175,
        "finit_module": 313,
        "delete_module": 176,
        "reboot": 169,
        "swapon": 167,
        "swapoff": 168,
        "acct": 163,
        "syslog": 103,
        "quotactl": 179,
        "quotactl_fd": 443,
        "lookup_dcookie": 212,
        "vhangup": 153,
        "fanotify_init": 300,
        "open_by_handle_at": 304,
        "name_to_handle_at": 303,
        "iopl": 172,
        "ioperm": 173,
        "uselib": 134,
        "personality": 135,
        "clone": 56,
        "clone3": 435,
    },
    "aarch64": {
        "ptrace": 117,
        "process_vm_readv": 270,
        "process_vm_writev": 271,
        "kcmp": 272,
        "pidfd_getfd": 438,
        "mount": 40,
        "umount2": 39,
        "pivot_root": 41,
        "chroot": 51,
        "move_mount": 429,
        "open_tree": 428,
        "fsopen": 430,
        "fsconfig": 431,
        "fsmount": 432,
        "fspick": 433,
        "mount_setattr": 442,
        "unshare": 97,
        "setns": 268,
        "keyctl": 219,
        "add_key": 217,
        "request_key": 218,
        "bpf": 280,
        "perf_event_open": 241,
        "userfaultfd": 282,
        "io_uring_setup": 425,
        "io_uring_enter": 426,
        "io_uring_register": 427,
        "kexec_load": 104,
        "kexec_file_load": 294,
        "init_module": 105,
        "finit_module": 273,
        "delete_module": 106,
        "reboot": 142,
        "swapon": 224,
        "swapoff": 225,
        "acct": 89,
        "syslog": 116,
        "quotactl": 60,
        "quotactl_fd": 443,
        "lookup_dcookie": 18,
        "vhangup": 58,
        "fanotify_init": 262,
        "open_by_handle_at": 265,
        "name_to_handle_at": 264,
        "personality": 92,
        "clone": 220,
        "clone3": 435,
    },
}
_AUDIT_ARCH = {"x86_64": 0xC000003E, "aarch64": 0xC00000B7}
_X32_SYSCALL_BIT = 0x40000000
# CLONE_NEWNS | NEWCGROUP | NEWUTS | NEWIPC | NEWUSER | NEWPID | NEWNET
_NAMESPACE_FLAGS = (
    0x00020000 | 0x02000000 | 0x04000000 | 0x08000000 | 0x10000000 | 0x20000000 | 0x40000000
)
_PERSONALITY_QUERY = 0xFFFFFFFF

# classic BPF opcodes and seccomp return values
_LD_ABS = 0x20  # BPF_LD | BPF_W | BPF_ABS
_JEQ = 0x15  # BPF_JMP | BPF_JEQ | BPF_K
_JSET = 0x45  # BPF_JMP | BPF_JSET | BPF_K
_RET = 0x06  # BPF_RET | BPF_K
_RET_KILL_PROCESS = 0x80000000
_RET_ERRNO = 0x00050000
_RET_ALLOW = 0x7FFF0000
# offsets in struct seccomp_data: nr, arch, instruction_pointer, args[6] (little endian)
_NR, _ARCH, _ARG0_LOW = 0, 4, 16

_PR_SET_NO_NEW_PRIVS = 38
_PR_SET_SECCOMP = 22
_SECCOMP_MODE_FILTER = 2

Instruction = tuple[int, int, int, int]


def _machine() -> str:
    machine = platform.machine().lower()
    return {"amd64": "x86_64", "arm64": "aarch64"}.get(machine, machine)


def _ins(code: int, k: int, jt: int = 0, jf: int = 0) -> Instruction:
    return (code, jt, jf, k)


def instructions(arch: str | None = None) -> list[Instruction]:
    """The filter for ``arch`` (default: this machine) as BPF instructions."""
    arch = arch or _machine()
    if arch not in _SYSCALLS:
        raise OSError(f"no seccomp syscall table for architecture {arch!r}")
    numbers = _SYSCALLS[arch]
    eperm = _ins(_RET, _RET_ERRNO | errno.EPERM)
    allow = _ins(_RET, _RET_ALLOW)
    program = [
        _ins(_LD_ABS, _ARCH),
        _ins(_JEQ, _AUDIT_ARCH[arch], jt=1),
        _ins(_RET, _RET_KILL_PROCESS),
        _ins(_LD_ABS, _NR),
    ]
    if arch == "x86_64":  # the x32 ABI shares AUDIT_ARCH_X86_64: refuse it by number
        program += [_ins(_JSET, _X32_SYSCALL_BIT, jf=1), _ins(_RET, _RET_KILL_PROCESS)]
    denied = DENIED + (_X86_64_ONLY if arch == "x86_64" else ())
    for name in denied:
        program += [_ins(_JEQ, numbers[name], jf=1), eperm]
    program += [_ins(_JEQ, numbers["clone3"], jf=1), _ins(_RET, _RET_ERRNO | errno.ENOSYS)]
    # clone: allowed unless the flags ask for a new namespace
    program += [
        _ins(_JEQ, numbers["clone"], jf=4),
        _ins(_LD_ABS, _ARG0_LOW),
        _ins(_JSET, _NAMESPACE_FLAGS, jf=1),
        eperm,
        allow,
    ]
    # personality: only the query (and the default persona), never e.g. READ_IMPLIES_EXEC
    program += [
        _ins(_JEQ, numbers["personality"], jf=5),
        _ins(_LD_ABS, _ARG0_LOW),
        _ins(_JEQ, _PERSONALITY_QUERY, jt=2),
        _ins(_JEQ, 0, jt=1),
        eperm,
        allow,
    ]
    program.append(allow)
    return program


def program(arch: str | None = None) -> bytes:
    """The filter as the raw ``struct sock_filter`` array (what ``bwrap --seccomp`` reads)."""
    return b"".join(struct.pack("<HBBI", code, jt, jf, k) for code, jt, jf, k in instructions(arch))


class _SockFprog(ctypes.Structure):
    _fields_ = [("len", ctypes.c_ushort), ("filter", ctypes.c_void_p)]


def install() -> None:
    """Set no_new_privs and install the filter on the calling thread (inherited by children).

    Raises OSError when the kernel refuses; a render must not run without it.
    """
    libc = ctypes.CDLL(None, use_errno=True)
    code = program()
    buffer = ctypes.create_string_buffer(code, len(code))
    fprog = _SockFprog(len(code) // 8, ctypes.cast(buffer, ctypes.c_void_p))
    if libc.prctl(_PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0:
        raise OSError(ctypes.get_errno(), "prctl(PR_SET_NO_NEW_PRIVS) failed")
    if libc.prctl(_PR_SET_SECCOMP, _SECCOMP_MODE_FILTER, ctypes.byref(fprog), 0, 0) != 0:
        raise OSError(ctypes.get_errno(), "prctl(PR_SET_SECCOMP) failed")
