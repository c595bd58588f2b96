"""Building blocks of the secure autograder: the wire format, hidden-test splitting, argument
mirroring, remote reports of global-RNG use, and the refusal to grade without a sandbox.
(The attacks themselves are in tests/attacks/.)"""
from __future__ import annotations

import io
import json
import time
import types
import zipfile
from pathlib import Path

import numpy as np
import pytest
from grader_testkit import run_cli
from system_tools import skip_without_sandbox, use_sandbox

from grader.secure import _wire
from grader.checks import _common, initialization
from grader.secure.preprocessors import NormalizeCells, SecureExecute, secure_config
from grader.secure.remote import RemoteFunction, Unsupported, _check_reply, mirror, student_exception
from grader.secure.trusted import split_hidden
from traitlets.config import Config


# ------------------------------------------------------------------ wire format


# A probe module of the grader's kind, small enough to read: the kernel test sends this source into
# the kernel, and this side builds the same module from it. Its Quadratic counts its calls, so a
# test can see that state a probe changes inside the kernel comes back.
PROBE_SOURCE = '''
import copy

import numpy as np

class Probe:
    def __new__(cls, *args, **kwargs):
        self = super().__new__(cls)
        self._probe_spec = (copy.deepcopy(args), copy.deepcopy(kwargs))
        return self

class Quadratic(Probe):
    def __init__(self, A, b):
        self.A, self.b, self.calls = np.asarray(A), np.asarray(b), 0

    def __call__(self, x):
        self.calls += 1
        return float(x @ self.A @ x + self.b @ x)
'''
probes = types.ModuleType("probes")
exec(PROBE_SOURCE, vars(probes))
PROBES = vars(probes)
Quadratic = probes.Quadratic


def test_plain_data_round_trips_with_exact_types():
    value = {"W1": np.arange(6.0).reshape(2, 3), "n": 3, "big": 2**100, "x": 1.5, "nan": float("nan"),
             "c": 1 + 2j, "s": "text", "none": None, "flag": True, "t": (1, [2, 3]), 4: np.float32(2.5),
             (1, "a"): np.int64(7), "strings": np.array(["a", "bc"]), "bools": np.array([True, False])}
    back = _wire.decode(_wire.encode(value))
    assert back.keys() == value.keys()
    assert type(back["t"]) is tuple and type(back["t"][1]) is list
    assert type(back["n"]) is int and back["big"] == 2**100 and type(back["flag"]) is bool
    assert np.isnan(back["nan"]) and back["c"] == 1 + 2j
    assert type(back[4]) is np.float32 and type(back[(1, "a")]) is np.int64
    assert type(back["W1"]) is np.ndarray and np.array_equal(back["W1"], value["W1"])
    assert back["strings"].tolist() == ["a", "bc"]


def test_small_arrays_share_members_yet_each_reference_decodes_to_its_own():
    X = np.arange(6.0).reshape(2, 3)
    big = np.ones((100, 100))                                   # over the size that is packed
    value = [X, X.copy(), np.asfortranarray(X), X[:, ::2], np.int8(3), np.array(["ab", "c"]), big, big,
             np.zeros((0, 4)), np.array(True)]
    data = _wire.encode(value)
    with np.load(io.BytesIO(data)) as archive:
        assert len(archive.files) < len(value)                  # equal and small arrays share members
    back = _wire.decode(data)
    for original, got in zip(value, back):
        assert type(got) is type(original) and got.dtype == original.dtype and got.shape == original.shape
        assert np.array_equal(got, original)
    back[0][0, 0] = 99.0                                        # a function changing one input in place
    back[6][0, 0] = 99.0
    assert back[1][0, 0] == back[2][0, 0] == 0.0 and back[7][0, 0] == 1.0


def test_packed_arrays_outside_their_member_are_refused():
    def archive(node: dict) -> bytes:
        tree, member = io.BytesIO(), io.BytesIO()
        np.save(tree, np.frombuffer(json.dumps(node).encode(), dtype=np.uint8))
        np.save(member, np.arange(3.0))
        return _archive({"__tree__.npy": tree.getvalue(), "p0.npy": member.getvalue()})

    good = {"t": "array", "ref": "p0", "at": 1, "shape": [2]}
    assert _wire.decode(archive(good)).tolist() == [1.0, 2.0]
    for node in ({**good, "at": 2}, {**good, "at": -1}, {**good, "shape": [4]}, {**good, "shape": "2"},
                 {**good, "at": True}, {**good, "shape": [-1, -2]}, {**good, "ref": "p1"}):
        with pytest.raises(_wire.WireError):
            _wire.decode(archive(node))


def test_subclasses_and_lookalikes_come_back_as_plain_data():
    class Liar(np.ndarray):
        def __eq__(self, other):
            return True

    class Loud(dict):
        def __eq__(self, other):
            return True

    back = _wire.decode(_wire.encode(Loud(W=np.ones(3).view(Liar))))
    assert type(back) is dict and type(back["W"]) is np.ndarray
    assert not np.array_equal(back["W"], np.zeros(3))


@pytest.mark.parametrize("bad, named", [
    (object(), "an object of type object"),
    (lambda x: x, "a function"),
    (np.array([object()]), "dtype object"),
    ({"W": {1, 2}}, "type set"),
])
def test_what_cannot_cross_is_named(bad, named):
    with pytest.raises(_wire.WireError, match=named):
        _wire.encode(bad)


def test_results_may_not_hold_generators_or_probes_but_arguments_may():
    rng = np.random.default_rng(3)
    data = _wire.encode([rng, Quadratic(np.eye(2), np.ones(2))], probes=PROBES)
    with pytest.raises(_wire.WireError):
        _wire.decode(data)                       # kind="result"
    gen, probe = _wire.build(_wire.decode(data, kind="args"), PROBES)
    assert gen.random() == np.random.default_rng(3).random()
    assert isinstance(probe, Quadratic) and probe(np.ones(2)) == 4.0


def test_probe_names_are_only_looked_up_in_the_probes_namespace():
    data = _wire.encode(Quadratic(np.eye(2), np.ones(2)), probes=PROBES)
    record = _wire.decode(data, kind="args")
    record.name = "__import__"
    with pytest.raises(_wire.WireError, match="unknown probe"):
        _wire.build(record, PROBES)


def _archive(members: dict[str, bytes], compression=zipfile.ZIP_STORED) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression=compression) as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    return out.getvalue()


def test_decode_refuses_pickles_bombs_and_garbage():
    pickled = io.BytesIO()
    np.save(pickled, np.array([{"a": 1}], dtype=object), allow_pickle=True)
    tree = io.BytesIO()
    np.save(tree, np.frombuffer(b'{"t": "array", "ref": "a0"}', dtype=np.uint8))
    with pytest.raises(_wire.WireError):
        _wire.decode(_archive({"__tree__.npy": tree.getvalue(), "a0.npy": pickled.getvalue()}))
    zeros = io.BytesIO()
    np.save(zeros, np.zeros(10**6))
    with pytest.raises(_wire.WireError, match="compressed"):
        _wire.decode(_archive({"__tree__.npy": tree.getvalue(), "a0.npy": zeros.getvalue()}, zipfile.ZIP_DEFLATED))
    with pytest.raises(_wire.WireError, match="more data"):
        _wire.decode(_wire.encode(np.zeros(1000)), max_bytes=1000)
    for junk in (b"", b"not a zip", _archive({"x.npy": b"junk"})):
        with pytest.raises(_wire.WireError):
            _wire.decode(junk)
    deep: list = []
    for _ in range(200):
        deep = [deep]
    with pytest.raises(_wire.WireError):
        _wire.encode(deep)


# ------------------------------------------------------------------ hidden tests


def test_split_hidden_follows_nbgrader():
    source = ('x = f(1)\nassert x == 2\n### BEGIN HIDDEN TESTS\nimport grader.checks\n'
              'grader.checks.run("f", f)\n### END HIDDEN TESTS')
    visible, hidden = split_hidden(source)
    assert visible == "x = f(1)\nassert x == 2"
    assert hidden == 'import grader.checks\ngrader.checks.run("f", f)\n'
    assert split_hidden("print(1)") == ("print(1)", None)
    assert split_hidden("a\n### BEGIN HIDDEN TESTS\nsecret()") == ("a", "secret()\n")
    # an END line outside a block disappears too (nbgrader removes it from the release), in the
    # kernel's code and in the feedback alike: both use this one parser
    assert split_hidden("a\n### END HIDDEN TESTS\nb") == ("a\nb", None)
    from grader.feedback import strip_hidden_tests
    assert strip_hidden_tests("a\n### END HIDDEN TESTS\nb") == ("a\nb", [])


# ------------------------------------------------------------------ replies and mirroring


def test_replies_become_errors_the_checks_understand():
    with pytest.raises(ValueError, match="bad shape") as info:
        _check_reply("f", {"ok": False, "kind": "raised", "type": "ValueError", "message": "bad shape"})
    assert info.value.function == "f"
    with pytest.raises(NameError):
        _check_reply("f", {"ok": False, "kind": "missing", "message": "f"})
    with pytest.raises(Unsupported, match="cannot check"):
        _check_reply("f", {"ok": False, "kind": "unsupported", "message": "an object of type X"})
    with pytest.raises(Unsupported):
        _check_reply("f", {"ok": True, "result": [np.random.default_rng(0)]})
    with pytest.raises(Unsupported):
        _check_reply("f", ["not", "a", "reply"])
    assert not issubclass(Unsupported, Exception)       # no check can swallow it
    exc = student_exception("f", "SystemExit", "bye")
    assert isinstance(exc, Exception) and not isinstance(exc, SystemExit)


def test_mirror_copies_in_place_changes_back():
    theta = np.zeros(3)
    params = {"W1": np.ones((2, 2)), "gone": 1}
    items = [np.zeros(2), 5]
    rng = np.random.default_rng(0)
    mirror(theta, np.arange(3.0))
    mirror(params, {"W1": np.full((2, 2), 7.0), "new": 2})
    mirror(items, [np.ones(2), 6, "extra"])
    advanced = np.random.default_rng(0)
    advanced.random(5)
    mirror(rng, advanced)
    assert theta.tolist() == [0, 1, 2]
    assert params.keys() == {"W1", "new"} and params["W1"][0, 0] == 7
    assert items[0].tolist() == [1, 1] and items[1:] == [6, "extra"]
    assert rng.random() == advanced.random()
    untouched = np.zeros(3)
    mirror(untouched, np.zeros(4))      # a mismatched shape is left alone
    assert untouched.shape == (3,)


class _FakeSession:
    """Stands for a kernel: runs ``impl`` locally but, like the kernel stub, reports global-RNG use."""

    def __init__(self, impl):
        self.impl = impl

    def call(self, name, args, kwargs, *, watch_global_rng=False):
        args, kwargs = _wire.build(_wire.decode(_wire.encode([list(args), kwargs]), kind="args"))
        saved = np.random.get_state()
        np.random.seed(12345)
        before = np.random.get_state()
        try:
            result = self.impl(*args, **kwargs)
            used = not np.array_equal(before[1], np.random.get_state()[1])
        finally:
            np.random.set_state(saved)   # the grader's own global state never moves
        return {"ok": True, "result": _wire.decode(_wire.encode(result)), "args": args, "kwargs": kwargs,
                "global_rng_used": used}


def _he(layer_dims, rng):
    return {k: v for l in range(1, len(layer_dims)) for k, v in (
        (f"W{l}", rng.standard_normal((layer_dims[l], layer_dims[l - 1])) * np.sqrt(2 / layer_dims[l - 1])),
        (f"b{l}", np.zeros((layer_dims[l], 1))))}


def _he_global(layer_dims, rng):
    rng.random()  # depends on rng, but draws the weights from np.random
    return {k: v for l in range(1, len(layer_dims)) for k, v in (
        (f"W{l}", np.random.standard_normal((layer_dims[l], layer_dims[l - 1])) * np.sqrt(2 / layer_dims[l - 1])
         + rng.standard_normal() * 0),
        (f"b{l}", np.zeros((layer_dims[l], 1))))}


def test_hidden_checks_judge_a_remote_function_like_a_local_one():
    initialization.check_initialize_he(RemoteFunction("initialize_he", _FakeSession(_he)))
    with pytest.raises(AssertionError, match="global random generator"):
        _common.expect_uses_only_rng(
            lambda rng: _common.call(RemoteFunction("f", _FakeSession(_he_global)), [20, 10, 1], rng),
            "initialize_he", _common.dicts_equal)
    assert _common.watching_global_rng() is None


# ------------------------------------------------------------------ configuration and CLI


def test_secure_config_swaps_in_the_secure_preprocessors():
    cfg = secure_config(Config(), sandbox=False)
    assert NormalizeCells in cfg.Autograde.sanitize_preprocessors
    assert cfg.Autograde.autograde_preprocessors[0] is SecureExecute
    assert cfg.SecureExecute.sandboxed is False


def test_autograde_refuses_to_run_without_a_sandbox(course, tmp_path):
    ws = tmp_path / "ws"
    assert run_cli("init", ws, "--source", course / "solutions", root=course).returncode == 0
    (ws / "submitted" / "alice" / "demo").mkdir(parents=True)
    (ws / "submitted" / "alice" / "demo" / "01_demo.ipynb").write_text("{}")
    with (ws / "nbgrader_config.py").open("a") as fh:
        fh.write("c.Sandbox.bwrap = '/nonexistent/bwrap'\n")
    done = run_cli("autograde", "demo", "--workspace", ws, sandbox=True)
    assert done.returncode == 2
    assert "cannot grade untrusted submissions safely" in done.stderr and "--no-sandbox" in done.stderr
    assert "Traceback" not in done.stderr
    assert not (ws / "autograded").exists()
    done = run_cli("autograde", "demo", "--workspace", ws, "--no-sandbox", sandbox=True)
    assert "WARNING: --no-sandbox" in done.stderr


# ------------------------------------------------------------------ through a real kernel

KERNEL_CODE = '''
import numpy as np

def change_all(x, params, rng, f):
    """Mutates every argument, draws from rng, calls the probe twice."""
    x[0] = 99.0
    params["W1"] *= 2
    params["added"] = 1
    first = rng.random()
    return {"value": f(np.ones(2)) + f(np.zeros(2)), "first": first, "sum": float(x.sum())}

def global_draws(dims, rng):
    return {"W": np.random.standard_normal(dims) + 0 * rng.random()}

def lying():
    class Yes:
        def __eq__(self, other):
            return True
    return Yes()

def refuses(x):
    raise ValueError(f"x must be positive, got {x}")


def halves(x):
    if x < 0:
        raise ValueError(f"x must be positive, got {x}")
    return x / 2
'''



def test_remote_calls_through_a_real_kernel(tmp_path, monkeypatch):
    import nbformat
    from nbclient import NotebookClient

    from grader.secure import remote, sandbox
    from grader.secure.remote import KernelSession

    probes_file = tmp_path / "probes.py"
    probes_file.write_text(PROBE_SOURCE)
    monkeypatch.setattr(remote, "_PROBES_FILE", probes_file)
    monkeypatch.setattr(remote, "_probes_namespace", lambda: PROBES)

    from jupyter_client.manager import AsyncKernelManager

    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(KERNEL_CODE)])
    client = NotebookClient(nb, timeout=60, kernel_name="python3",   # owns (and so cleans up) its kernel
                            kernel_manager_class=sandbox.SandboxKernelManager if use_sandbox()
                            else AsyncKernelManager)
    client.stop_reason = lambda: "the kernel exited"
    with client.setup_kernel():
        client.execute_cell(nb.cells[0], 0)
        session = KernelSession(client, deadline=time.monotonic() + 60, call_timeout=30)

        x, params = np.arange(3.0), {"W1": np.ones((2, 2))}
        rng, local = np.random.default_rng(5), np.random.default_rng(5)
        quad = probes.Quadratic(np.eye(2), np.ones(2))
        result = RemoteFunction("change_all", session)(x, params, rng, quad)
        assert result == {"value": 4.0, "first": local.random(), "sum": 102.0}
        assert x.tolist() == [99, 1, 2]                      # in-place changes came back...
        assert params["W1"].tolist() == [[2, 2], [2, 2]] and params["added"] == 1
        assert rng.random() == local.random()                # ...the generator advanced...
        assert quad.calls == 2                               # ...and the probe counted its calls

        copies = _common.call_with_inputs(RemoteFunction("change_all", session), np.zeros(2), {"W1": np.ones(1)},
                                          np.random.default_rng(0), probes.Quadratic(np.eye(2), np.zeros(2)))
        assert copies[1][0].tolist() == [99, 0]
        with pytest.raises(AssertionError, match="global random generator"):
            _common.expect_uses_only_rng(lambda r: _common.call(RemoteFunction("global_draws", session), [3, 2], r),
                                         "global_draws", _common.dicts_equal)
        with pytest.raises(Unsupported, match="cannot check"):
            RemoteFunction("lying", session)()
        with pytest.raises(ValueError, match="must be positive"):
            RemoteFunction("refuses", session)(-1)
        with pytest.raises(NameError):
            RemoteFunction("never_defined", session)()

        # many calls in one round trip: results in order, the first failure raised where it happened
        each = _common.call_each(RemoteFunction("halves", session), [((x,), {}) for x in (2, 4, -1, 8)])
        assert [next(each), next(each)] == [1.0, 2.0]
        with pytest.raises(ValueError, match="got -1"):
            next(each)
        assert list(_common.call_each(RemoteFunction("halves", session), [((6,), {})] * 3)) == [3.0] * 3
        with pytest.raises(AssertionError, match="global random generator"):
            _common.expect_uses_only_rng(
                lambda r: list(_common.call_each(RemoteFunction("global_draws", session), [(([3, 2], r), {})])),
                "global_draws", _common.dicts_equal)


@pytest.mark.parametrize("slow_reader", [False, True], ids=["prompt-reader", "slow-reader"])
def test_a_sandbox_that_cannot_start_says_why(monkeypatch, slow_reader):
    from grader.secure import sandbox

    skip_without_sandbox("starting a sandbox")
    if slow_reader:
        # on a busy machine bwrap can exit before the thread reading its stderr has run:
        # the error must still carry bwrap's message, not "no message from bwrap"
        drain = sandbox.SandboxRun._drain

        def late_drain(self, stream):
            time.sleep(0.5)
            drain(self, stream)

        monkeypatch.setattr(sandbox.SandboxRun, "_drain", late_drain)
    run = sandbox.SandboxRun(sandbox.Sandbox(), None)
    try:
        with pytest.raises(sandbox.SandboxError, match="the sandbox did not start: .*bogus"):
            run.launch([run.bwrap, "--bogus-option", "--", "true"])
    finally:
        run.cleanup()
    assert not run.tmp.exists()


def test_a_sandbox_start_failure_names_its_real_cause():
    from grader.secure import sandbox

    missing = sandbox.start_failure_cause("bwrap: execvp /tmp/clone/.venv/bin/python: No such file or directory")
    assert "not visible inside the sandbox" in missing and "namespace" not in missing
    userns = sandbox.start_failure_cause("bwrap: setting up uid map: Permission denied")
    assert "user namespaces" in userns
    # a Python environment where the sandbox mounts its own file systems is refused, naming both
    with pytest.raises(sandbox.SandboxError, match="needs /home/student/venv, but the sandbox mounts its own /home/student"):
        sandbox._check_visible([Path("/usr/lib/python3"), Path("/home/student/venv")])
    sandbox._check_visible([Path("/tmp/clone/.venv"), Path("/home/me/.venv")])  # fine: bound over the private /tmp
