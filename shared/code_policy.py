"""A static policy for untrusted scene code: refuse what reaches beyond Manim's needs.

Scene code comes from an LLM steered by an API client (or from the client itself), so it
is checked before it runs. The check is an AST walk, not a sandbox: it rejects the
obvious routes to the process (os, subprocess, fork, signals), the network (socket,
urllib, …), the interpreter's internals (``__import__``, ``eval``/``exec`` of strings,
``__subclasses__``/``__globals__`` walks, ctypes, importlib) and the file system outside
the scene's folder (``open`` of absolute or parent paths, numpy file I/O, deleting or
renaming files). The process limits in :mod:`services.renderer.sandbox` stay the second
line of defence for whatever slips past.

Every message names the line and says what to do instead, so the coder can repair the
scene. Legitimate Manim code — numpy, math, random, colours, rate functions, MathTex,
3D scenes, updaters — passes.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from typing import NamedTuple

__all__ = ["SCENE_IMPORTS", "Violation", "policy_violations", "violations"]

# What a scene needs to import (top-level packages): the one list the coder holds drafts
# to, its prompt names and every message here suggests.
SCENE_IMPORTS = (
    "manim",
    "numpy",
    "math",
    "random",
    "itertools",
    "functools",
    "colorsys",
    "typing",
)

# Modules scene code has no business importing (top-level package names).
_NETWORK_MODULES = frozenset(
    {
        "socket",
        "ssl",
        "select",
        "selectors",
        "http",
        "urllib",
        "urllib3",
        "ftplib",
        "smtplib",
        "telnetlib",
        "poplib",
        "imaplib",
        "socketserver",
        "xmlrpc",
        "requests",
        "httpx",
        "aiohttp",
        "webbrowser",
    }
)
_PROCESS_MODULES = frozenset(
    {
        "os",
        "posix",
        "nt",
        "sys",
        "subprocess",
        "_posixsubprocess",
        "pty",
        "signal",
        "resource",
        "multiprocessing",
        "threading",
        "_thread",
        "concurrent",
        "asyncio",
    }
)
FORBIDDEN_MODULES = (
    _NETWORK_MODULES
    | _PROCESS_MODULES
    | frozenset(
        {
            "fcntl",
            "mmap",
            "ctypes",
            "cffi",
            "importlib",
            "imp",
            "pkgutil",
            "runpy",
            "zipimport",
            "builtins",
            "__builtin__",
            "shutil",
            "tempfile",
            "pickle",
            "marshal",
            "shelve",
            "dill",
            "code",
            "codeop",
            "inspect",
            "gc",
            "pwd",
            "grp",
            "getpass",
            "sysconfig",
            "platform",
            "faulthandler",
            "tracemalloc",
        }
    )
)

# Builtins that run strings as code, reach the interpreter's namespaces or import by name.
FORBIDDEN_BUILTINS = frozenset(
    {
        "__import__",
        "eval",
        "exec",
        "compile",
        "globals",
        "breakpoint",
        "__builtins__",
        "__loader__",
        "__spec__",
    }
)
# Module names that must not be reachable even without an import (`from manim import *`
# or a future Manim could re-export them).
_RESERVED_NAMES = frozenset(
    {
        "os",
        "sys",
        "subprocess",
        "ctypes",
        "importlib",
        "socket",
        "shutil",
        "posix",
        "multiprocessing",
        "pty",
        "builtins",
    }
)
_DYNAMIC_ATTRIBUTE = frozenset({"getattr", "setattr", "delattr"})

# Attributes that walk from any object to modules, frames or code objects.
FORBIDDEN_ATTRIBUTES = frozenset(
    {
        "__subclasses__",
        "__globals__",
        "__builtins__",
        "__code__",
        "__closure__",
        "__mro__",
        "__bases__",
        "__base__",
        "__getattribute__",
        "__reduce__",
        "__reduce_ex__",
        "__loader__",
        "__spec__",
        "__import__",
        "__dict__",
        "__self__",
        "__func__",
        "__module__",
        "__init_subclass__",
        "__set_name__",
        "mro",
        "f_globals",
        "f_locals",
        "f_back",
        "f_builtins",
        "f_code",
        "gi_frame",
        "gi_code",
        "cr_frame",
        "cr_code",
        "ag_frame",
        "tb_frame",
        "tb_next",
        "co_code",
        # numpy's doors to C libraries and to the file system
        "ctypeslib",
        "ctypes",
        "distutils",
        "f2py",
        "memmap",
        "fromfile",
        "tofile",
        "loadtxt",
        "genfromtxt",
        "savetxt",
        "savez",
        "savez_compressed",
        "DataSource",
        # process and environment, whatever object they are reached through
        "system",
        "popen",
        "spawnl",
        "spawnv",
        "fork",
        "forkpty",
        "execv",
        "execve",
        "execvp",
        "environ",
        "getenv",
        "putenv",
        "kill",
        "killpg",
    }
)
# File-system methods that change things (pathlib and friends), wherever they are called.
FORBIDDEN_FILE_METHODS = frozenset(
    {
        "unlink",
        "rmdir",
        "rmtree",
        "rename",
        "chmod",
        "chown",
        "lchmod",
        "symlink_to",
        "hardlink_to",
        "link_to",
        "touch",
        "mkdir",
        "write_text",
        "write_bytes",
    }
)
_NUMPY_FILE_FUNCTIONS = frozenset({"load", "save"})
_FILE_OPENERS = frozenset({"open", "Path", "ImageMobject", "SVGMobject"})
_SENSITIVE_MARKERS = (".aws", ".ssh", "/etc/", "/proc/", "/sys/", "/dev/", "/root", "id_rsa")


class Violation(NamedTuple):
    """One thing the policy refuses: the scene line and what to do instead."""

    line: int
    message: str

    def __str__(self) -> str:
        return f"line {self.line}: {self.message}"


def violations(code: str | ast.Module) -> list[Violation]:
    """Every policy violation in ``code`` (source or a parsed module), in line order.

    Code that does not parse yields no violations here: the render reports the syntax
    error with its line, which is the more useful message.
    """
    if isinstance(code, str):
        try:
            code = ast.parse(code)
        except (SyntaxError, ValueError):
            return []
    return sorted({Violation(line, message) for line, message in _check(code)})


def policy_violations(code: str) -> list[str]:
    """Every policy violation in ``code``, one actionable line each (empty: allowed)."""
    return [str(violation) for violation in violations(code)]


def _check(tree: ast.AST) -> Iterator[tuple[int, str]]:
    numpy_names = {"numpy", "np"}
    for node in ast.walk(tree):
        line = getattr(node, "lineno", 0)
        match node:
            case ast.Import(names=names):
                for alias in names:
                    yield from _import(alias.name, line)
                    if alias.name == "numpy":
                        numpy_names.add(alias.asname or "numpy")
            case ast.ImportFrom(module=module, level=level):
                if level:
                    yield line, "relative imports are not allowed: the scene is a single file"
                elif module:
                    yield from _import(module, line)
            case ast.Name(id=name):
                yield from _name(name, line)
            case ast.Attribute(attr=attr, value=value):
                yield from _attribute(attr, value, line, numpy_names)
            case ast.Call(func=func, args=args):
                yield from _call(func, args, line)
            case ast.Constant(value=str(text)):
                yield from _constant(text, line)


def _import(module: str, line: int) -> Iterator[tuple[int, str]]:
    root = module.split(".", 1)[0]
    if root not in FORBIDDEN_MODULES:
        return
    if root in _PROCESS_MODULES:
        why = "scene code may not control processes, threads or the environment"
    elif root in _NETWORK_MODULES:
        why = "scene code has no network access"
    else:
        why = "scene code may not load code dynamically or touch the interpreter or files"
    yield (
        line,
        (f"import of {module!r} is not allowed: {why}; use {', '.join(SCENE_IMPORTS)} instead"),
    )


def _name(name: str, line: int) -> Iterator[tuple[int, str]]:
    if name in FORBIDDEN_BUILTINS:
        yield (
            line,
            (
                f"{name}() is not allowed: scene code may not run strings as code or reach the "
                "interpreter's namespaces; write the code out directly"
            ),
        )
    elif name in _RESERVED_NAMES:
        yield line, f"the name {name!r} is reserved: scene code may not use the {name} module"


def _attribute(
    attr: str, value: ast.expr, line: int, numpy_names: set[str]
) -> Iterator[tuple[int, str]]:
    if attr in FORBIDDEN_ATTRIBUTES:
        yield (
            line,
            (
                f"attribute {attr!r} is not allowed: it reaches interpreter internals, C "
                "libraries, files or processes; use Manim's own API"
            ),
        )
    elif attr in FORBIDDEN_FILE_METHODS:
        yield (
            line,
            (
                f".{attr}() is not allowed: scene code may not change the file system; a scene "
                "draws with mobjects and needs no files"
            ),
        )
    elif attr in _NUMPY_FILE_FUNCTIONS and _root_name(value) in numpy_names:
        yield line, f"numpy.{attr} is not allowed: scene code may not read or write files"


def _call(func: ast.expr, args: list[ast.expr], line: int) -> Iterator[tuple[int, str]]:
    name = func.id if isinstance(func, ast.Name) else None
    if name in _DYNAMIC_ATTRIBUTE and (len(args) < 2 or not _is_plain_attribute_name(args[1])):
        yield (
            line,
            (
                f"{name}() needs a literal, non-dunder attribute name here; use "
                "obj.attribute directly"
            ),
        )
    if name in _FILE_OPENERS and args:
        path = args[0]
        if name == "open" and not isinstance(path, ast.Constant):
            yield (
                line,
                (
                    "open() needs a literal relative path inside the scene's folder; scene code "
                    "should not need files at all"
                ),
            )
        elif (
            isinstance(path, ast.Constant)
            and isinstance(path.value, str)
            and _outside_workdir(path.value)
        ):
            yield (
                line,
                (
                    f"{name}({path.value!r}) points outside the scene's folder: only "
                    "relative paths without '..' are allowed"
                ),
            )


def _constant(text: str, line: int) -> Iterator[tuple[int, str]]:
    if text.startswith("__") and text.endswith("__") and len(text) > 4 and text != "__main__":
        yield line, f"the string {text!r} names an interpreter internal; it is not allowed"
    elif any(marker in text for marker in _SENSITIVE_MARKERS) and "\n" not in text:
        yield (
            line,
            (
                f"the string {text!r} names a system or credentials path; scene code may not "
                "read files outside its folder"
            ),
        )


def _is_plain_attribute_name(node: ast.expr) -> bool:
    return (
        isinstance(node, ast.Constant)
        and isinstance(node.value, str)
        and not node.value.startswith("__")
        and node.value not in FORBIDDEN_ATTRIBUTES
    )


def _outside_workdir(path: str) -> bool:
    return path.startswith(("/", "~", "\\")) or ".." in path.replace("\\", "/").split("/")


def _root_name(node: ast.expr) -> str | None:
    while isinstance(node, ast.Attribute):
        node = node.value
    return node.id if isinstance(node, ast.Name) else None
