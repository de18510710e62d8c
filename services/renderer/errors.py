"""Turn a failed render into a RenderFailure the coder (or a person) can act on.

Manim prints Rich-boxed tracebacks (plain ones for errors before its console is set up);
both are reduced to one readable line, the exception type and the scene line, plus a few
numbered lines of the scene's code around it. ``kind`` tells a policy rejection, a
timeout, a resource limit, a crash and a cancellation apart; ``recoverable`` says
whether changing the code can help.
"""

from __future__ import annotations

import re
import signal
from pathlib import Path

__all__ = [
    "SCENE_FILE_NAME",
    "RenderFailure",
    "code_excerpt",
    "failure_from_exit",
    "parse_manim_error",
]

SCENE_FILE_NAME = "scene.py"
TRACEBACK_LIMIT = 8000
_MESSAGE_LIMIT = 300
_EXCERPT_CONTEXT = 2
# Signals a render dies of when it hits a limit: SIGKILL (memory or our own kill),
# SIGXCPU (RLIMIT_CPU), SIGXFSZ (RLIMIT_FSIZE).
_LIMIT_SIGNALS = {
    signal.SIGKILL: "was killed (out of memory?)",
    signal.SIGXCPU: "used up its CPU-time limit and was stopped",
    signal.SIGXFSZ: "tried to write a file larger than the file-size limit and was stopped",
}
_RESOURCE_ERRORS = frozenset({"MemoryError", "RecursionError"})


class RenderFailure(Exception):
    """A render that produced no usable clip, with enough detail to repair the scene code.

    ``kind`` is "policy", "timeout", "resource", "crash", "no_output" or "cancelled";
    ``message`` is one readable line, ``traceback`` the tail of Manim's stderr, ``line`` the
    failing line in the scene file and ``code_excerpt`` the numbered code around it.
    ``recoverable`` is False only when no change of the code can help (cancellation).
    """

    def __init__(
        self,
        kind: str,
        message: str,
        *,
        traceback: str = "",
        line: int | None = None,
        error_type: str | None = None,
        code_excerpt: str = "",
    ) -> None:
        super().__init__(message)
        self.kind = kind
        self.message = message
        self.traceback = traceback[-TRACEBACK_LIMIT:]
        self.line = line
        self.error_type = error_type
        self.code_excerpt = code_excerpt
        self.recoverable = kind != "cancelled"

    def __repr__(self) -> str:
        return (
            f"RenderFailure(kind={self.kind!r}, message={self.message!r}, "
            f"line={self.line!r}, error_type={self.error_type!r})"
        )


def failure_from_exit(
    returncode: int | None, *, stdout: str, stderr: str, code: str
) -> RenderFailure:
    """The failure of a render process that exited with ``returncode`` (not 0)."""
    stdout, stderr = clean(stdout), clean(stderr)
    tail = _tail(stdout, stderr)
    if returncode is not None and returncode < 0 and -returncode in _LIMIT_SIGNALS:
        what = _LIMIT_SIGNALS[signal.Signals(-returncode)]
        return RenderFailure("resource", f"the render {what}", traceback=tail)
    message, error_type, line = parse_manim_error(stderr or stdout)
    if not message:
        message = _exit_description(returncode, stderr)
    kind = "resource" if error_type in _RESOURCE_ERRORS else "crash"
    return RenderFailure(
        kind,
        message,
        traceback=tail,
        line=line,
        error_type=error_type,
        code_excerpt=code_excerpt(code, line),
    )


def code_excerpt(code: str, line: int | None, *, context: int = _EXCERPT_CONTEXT) -> str:
    """Numbered lines around ``line`` with the failing one marked; "" without a line."""
    lines = code.splitlines()
    if line is None or not 1 <= line <= len(lines):
        return ""
    first, last = max(1, line - context), min(len(lines), line + context)
    width = len(str(last))
    return "\n".join(
        f"{'>' if number == line else ' '} {number:>{width}} | {lines[number - 1]}"
        for number in range(first, last + 1)
    )


def scene_not_found(class_name: str, output: str) -> bool:
    """Manim only logs a missing scene class, then renders the sole other class (exit 0) or
    prompts for a choice (exit 1 on our empty stdin)."""
    flat = " ".join(output.split())
    return f"{class_name} is not in the script" in flat


def parse_manim_error(output: str) -> tuple[str, str | None, int | None]:
    """Reduce Manim's (Rich-boxed or plain) traceback to (one-line message, type, scene line).

    The line comes from the deepest frame in ``scene.py``, since that is the line a repair
    prompt must point at; the message gets " (line N)" appended when a line is known.
    Returns ("", None, None) when no exception can be recognised.
    """
    text = clean(output)
    lines = text.split("\n")
    line_no = _scene_line(_unwrap_boxes(lines))
    error_type, detail = _exception_line(lines)
    if error_type is None:
        return "", None, line_no
    message = f"{error_type}: {detail}" if detail else error_type
    message = _one_line(message)
    if line_no is not None:
        message = f"{message} (line {line_no})"
    return message, error_type.rsplit(".", 1)[-1], line_no


_ANSI = re.compile(r"\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07]*\x07")
_BOX_SIDE = "│┃"
_BOX_BOTTOM = re.compile(r"^\s*[╰└┗]")
_EXC_LINE = re.compile(r"^(?P<type>[A-Za-z_][\w.]*)(?::\s?(?P<msg>.*))?$")
_GENERIC_EXC = re.compile(
    r"^(?P<type>[A-Za-z_][\w.]*(?:Error|Exception|Exit|Interrupt|Iteration|Warning))"
    r"(?::\s?(?P<msg>.*))?$"
)
_PLAIN_FRAME = re.compile(r'File "(?P<path>[^"]+)", line (?P<line>\d+)')


def clean(text: str) -> str:
    """Strip colour codes and carriage-return progress redraws."""
    text = _ANSI.sub("", text)
    return "\n".join(line.rsplit("\r", 1)[-1] for line in text.split("\n"))


def _unwrap_boxes(lines: list[str]) -> str:
    """Undo Rich's box drawing and hard wrapping so long file paths become one line again.

    A boxed line whose content reaches the right border was wrapped by Rich; it is glued to the
    next one without a separator.
    """
    out: list[str] = []
    carry = ""
    for raw in lines:
        line = raw.rstrip()
        if len(line) >= 2 and line[0] in _BOX_SIDE and line[-1] in _BOX_SIDE:
            inner = line[1:-1].removeprefix(" ").removesuffix(" ")  # Rich pads one space
            full = bool(inner) and not inner.endswith(" ")
            inner = inner.rstrip()
            if full:
                carry += inner
                continue
            out.append(carry + inner)
            carry = ""
        else:
            if carry:
                out.append(carry)
                carry = ""
            out.append(line)
    if carry:
        out.append(carry)
    return "\n".join(out)


def _scene_line(text: str) -> int | None:
    """Line number of the deepest traceback frame located in the scene file."""
    name = re.escape(SCENE_FILE_NAME)
    rich = re.compile(rf"(?:^|[\s/\\]){name}:(?P<line>\d+)(?=\s|$)", re.MULTILINE)
    best: tuple[int, int] | None = None  # (position in text, line)
    for match in rich.finditer(text):
        best = (match.start(), int(match.group("line")))
    for match in _PLAIN_FRAME.finditer(text):
        if Path(match.group("path")).name == SCENE_FILE_NAME and (
            best is None or match.start() > best[0]
        ):
            best = (match.start(), int(match.group("line")))
    return best[1] if best else None


def _exception_line(lines: list[str]) -> tuple[str | None, str]:
    """Find the "Type: message" line that ends a traceback, including Rich-wrapped messages."""
    last_box_end = max((i for i, ln in enumerate(lines) if _BOX_BOTTOM.match(ln)), default=-1)
    if last_box_end >= 0:
        tail = lines[last_box_end + 1 :]
        for i, raw in enumerate(tail):
            if not raw.strip():
                continue
            match = _EXC_LINE.match(raw.strip())
            if match:
                # Rich wraps long messages; continuation lines run up to the next blank line.
                parts = [match.group("msg") or ""]
                for cont in tail[i + 1 :]:
                    if not cont.strip():
                        break
                    parts.append(cont.strip())
                return match.group("type"), " ".join(p for p in parts if p)
            break
    for raw in reversed(lines):
        match = _GENERIC_EXC.match(raw.strip())
        if match:
            return match.group("type"), (match.group("msg") or "").strip()
    return None, ""


def _one_line(text: str) -> str:
    text = " ".join(text.split())
    if len(text) > _MESSAGE_LIMIT:
        text = text[: _MESSAGE_LIMIT - 1] + "…"
    return text


def _tail(stdout: str, stderr: str) -> str:
    """Diagnostics for the failure record: stderr tail, or stdout when stderr is empty."""
    text = stderr.strip() or stdout.strip()
    return text[-TRACEBACK_LIMIT:]


def _exit_description(returncode: int | None, stderr: str) -> str:
    """Fallback message when stderr holds no recognisable exception."""
    if returncode is not None and returncode < 0:
        try:
            name = signal.Signals(-returncode).name
        except ValueError:
            name = f"signal {-returncode}"
        return f"manim was killed by {name}"
    last = next((ln.strip() for ln in reversed(stderr.split("\n")) if ln.strip()), "")
    suffix = f": {_one_line(last)}" if last else ""
    return f"manim exited with code {returncode}{suffix}"
