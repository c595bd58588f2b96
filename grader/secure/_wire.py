"""Plain data across the boundary between the grader and a student's kernel.

Arguments going into a student's function and whatever comes back are
encoded as one ``.npz`` archive: every NumPy array is a member read back with
``np.load(allow_pickle=False)``, and the structure around them (numbers,
strings, ``None``, lists, tuples, dicts) is a JSON tree stored in the member
``__tree__``. Nothing is ever pickled and no code crosses: decoding builds
only ``None``, ``bool``, ``int``, ``float``, ``complex``, ``str``, ``list``,
``tuple``, ``dict``, ``np.ndarray`` (numeric, boolean or string dtypes) and
NumPy scalars. Two extras exist for arguments only:

* an ``np.random.Generator`` travels as its bit generator's name and state;
* a *probe* (a callable from ``grader.checks.probes``) travels as its name and
  the plain data it was built from; :func:`build` rebuilds it from the probes
  namespace it is given, never from anything else the data names;
* a function of the student's namespace passed to another travels by name
  (:class:`Ref`).

The grader reads replies with ``decode(data, kind="args")`` and then refuses
any generator, probe or reference inside a return value
(:func:`contains_extras`); sizes, depth and dtypes are limited, and anything
else is a ``WireError``.

This module imports only the standard library and NumPy and defines no
relative imports: the grader sends its source text into the kernel, where the
same functions encode the student's results (the grader/checks package itself
is not visible there).
"""
from __future__ import annotations

import io
import json
import zipfile

import numpy as np

MAX_DEPTH = 64
MAX_NODES = 1_000_000
_TREE = "__tree__"
_DTYPE_KINDS = "biufcUS"  # bool, int, uint, float, complex, unicode, bytes
_BIT_GENERATORS = ("PCG64", "PCG64DXSM", "MT19937", "Philox", "SFC64")
# Arrays up to this size share one member per dtype (an archive member costs about 0.1 ms to write and
# as much to read: a batch of 300 calls returns some 2000 small arrays), and equal ones are stored once;
# every reference still decodes to an array of its own.
_SMALL_BYTES = 1 << 16


class WireError(ValueError):
    """Data that cannot cross: an unsupported type when encoding, bad data when decoding."""


# ---------------------------------------------------------------- encode


def _probe_spec(obj, probes):
    """``(name, args, kwargs, state)`` if ``obj`` is a probe defined in ``probes``, else None."""
    if probes is None:
        return None
    if getattr(obj, "__module__", None) == probes.get("__name__") and callable(obj) \
            and type(obj).__name__ == "function" and probes.get(obj.__name__) is obj:
        return obj.__name__, (), {}, {}
    cls = type(obj)
    spec = getattr(obj, "_probe_spec", None)
    if spec is not None and probes.get(cls.__name__) is cls:
        state = {k: v for k, v in vars(obj).items() if k != "_probe_spec"}
        return cls.__name__, spec[0], spec[1], state
    return None


class _Encoder:
    def __init__(self, probes=None, lenient_state=False, refs=None):
        self.arrays = {}
        self.probes = probes
        self.lenient_state = lenient_state
        self.refs = refs
        self.nodes = 0
        self.packs = {}   # dtype string -> (member name, raveled small arrays, their total size)
        self.same = {}    # small arrays by content -> their node

    def array(self, value, kind="array"):
        """The node of an array (``kind="scalar"``: of a NumPy scalar, as a 0-d array)."""
        value = np.asarray(value)
        if value.dtype.kind not in _DTYPE_KINDS:
            raise WireError(f"an array of dtype {value.dtype} (only numbers, booleans and strings can be checked)")
        if value.nbytes > _SMALL_BYTES:
            key = f"a{len(self.arrays)}"
            self.arrays[key] = np.ascontiguousarray(value) if value.ndim else value
            return {"t": kind, "ref": key}
        content = (kind, value.dtype.str, value.shape, value.tobytes())
        if content not in self.same:
            if value.dtype.str not in self.packs:
                self.packs[value.dtype.str] = (f"p{len(self.packs)}", [], [0])
            key, parts, size = self.packs[value.dtype.str]
            parts.append(value.ravel())
            self.same[content] = {"t": kind, "ref": key, "at": size[0], "shape": list(value.shape)}
            size[0] += value.size
        return self.same[content]

    def members(self):
        packed = {key: np.concatenate(parts) for key, parts, _ in self.packs.values()}
        return {**self.arrays, **packed}

    def node(self, obj, depth=0):
        self.nodes += 1
        if depth > MAX_DEPTH:
            raise WireError(f"data nested more than {MAX_DEPTH} levels deep")
        if self.nodes > MAX_NODES:
            raise WireError(f"more than {MAX_NODES} values")
        if obj is None:
            return {"t": "none"}
        if type(obj) is bool:
            return {"t": "bool", "v": obj}
        if type(obj) is int:
            return {"t": "int", "v": str(obj)}
        if type(obj) is float:
            return {"t": "float", "v": repr(obj)}
        if type(obj) is complex:
            return {"t": "complex", "re": repr(obj.real), "im": repr(obj.imag)}
        if type(obj) is str:
            return {"t": "str", "v": obj}
        if isinstance(obj, np.generic):
            return self.array(obj, "scalar")
        if isinstance(obj, np.ndarray):
            return self.array(obj)
        if isinstance(obj, np.random.Generator):
            bg = obj.bit_generator
            name = type(bg).__name__
            if name not in _BIT_GENERATORS:
                raise WireError(f"a Generator with bit generator {name}")
            return {"t": "generator", "bit": name, "state": self.node(bg.state, depth + 1)}
        if isinstance(obj, (list, tuple)) and type(obj) in (list, tuple):
            return {"t": type(obj).__name__, "v": [self.node(x, depth + 1) for x in obj]}
        if type(obj) is dict:
            return {"t": "dict", "v": [[self.node(k, depth + 1), self.node(v, depth + 1)] for k, v in obj.items()]}
        ref = self.refs(obj) if self.refs is not None else None
        if ref is not None:
            return {"t": "ref", "name": ref}
        spec = _probe_spec(obj, self.probes)
        if spec is not None:
            name, args, kwargs, state = spec
            state_node = {}
            for key, value in state.items():
                try:
                    state_node[key] = self.node(value, depth + 1)
                except WireError:
                    if not self.lenient_state:
                        raise
            return {"t": "probe", "name": name, "args": self.node(list(args), depth + 1),
                    "kwargs": self.node(dict(kwargs), depth + 1), "state": state_node}
        # Containers of a subclass (e.g. OrderedDict, namedtuple) become plain ones.
        if isinstance(obj, dict):
            return self.node(dict(obj), depth)
        if isinstance(obj, (list, tuple)):
            return self.node(list(obj) if isinstance(obj, list) else tuple(obj), depth)
        if isinstance(obj, (bool, int, float, complex, str)):
            base = next(t for t in (bool, int, float, complex, str) if isinstance(obj, t))
            return self.node(base(obj), depth)
        kind = type(obj).__name__
        if callable(obj):
            raise WireError(f"a function or callable object ({kind})")
        raise WireError(f"an object of type {kind}")


def ensure_encodable(obj) -> None:
    """Raise the ``WireError`` that :func:`encode` would raise for ``obj`` (without probes or
    references), without building the archive."""
    _Encoder().node(obj)


def encode(obj, *, probes=None, lenient_state=False, refs=None) -> bytes:
    """``obj`` as bytes; ``WireError`` names the first thing that cannot cross.

    ``probes`` is the namespace of the probes module (a dict), needed to encode
    probes; ``lenient_state`` skips probe attributes that are not plain data;
    ``refs(obj)`` may name a function of the student's namespace, sent as a
    reference by name (e.g. a student's function passed to another).
    """
    enc = _Encoder(probes, lenient_state, refs)
    tree = enc.node(obj)
    members = enc.members()
    members[_TREE] = np.frombuffer(json.dumps(tree).encode("utf-8"), dtype=np.uint8)
    out = io.BytesIO()
    np.savez(out, **members)
    return out.getvalue()


# ---------------------------------------------------------------- decode


class _Decoder:
    def __init__(self, archive, kind):
        self.archive = archive
        self.kind = kind
        self.nodes = 0
        self.members = set(archive.files)
        self.read = {}

    def member(self, ref):
        if not isinstance(ref, str) or ref == _TREE or ref not in self.members:
            raise WireError("a reference to a missing array")
        if ref not in self.read:
            value = self.archive[ref]
            if value.dtype.kind not in _DTYPE_KINDS or value.dtype.fields is not None or value.dtype.subdtype:
                raise WireError(f"an array of dtype {value.dtype}")
            self.read[ref] = [value, False]
        return self.read[ref]

    def array(self, node):
        """A node's array, always one of its own (a function changing one input in place must not change
        another): the first reference to a whole member gets the array read, later ones copies (the whole
        tree is built before anything can change an array); a slice of a shared member is copied out."""
        entry = self.member(node.get("ref"))
        value = entry[0]
        if "at" not in node:
            if entry[1]:
                return value.copy()
            entry[1] = True
            return value
        at, shape = node.get("at"), node.get("shape")
        if type(at) is not int or not isinstance(shape, list) or len(shape) > 32 \
                or not all(type(n) is int and n >= 0 for n in shape):
            raise WireError("a malformed array")
        count = 1
        for n in shape:
            count *= n
        if value.ndim != 1 or at < 0 or at + count > value.size:
            raise WireError("an array outside the data")
        return value[at:at + count].reshape(shape).copy()

    def node(self, node, depth=0):
        self.nodes += 1
        if depth > MAX_DEPTH or self.nodes > MAX_NODES:
            raise WireError("data nested too deeply or too large")
        if not isinstance(node, dict) or not isinstance(node.get("t"), str):
            raise WireError("a malformed value")
        t = node["t"]
        if t == "none":
            return None
        if t == "bool" and type(node.get("v")) is bool:
            return node["v"]
        if t == "int" and isinstance(node.get("v"), str) and len(node["v"]) <= 4000:
            return int(node["v"])
        if t == "float" and isinstance(node.get("v"), str) and len(node["v"]) <= 40:
            return float(node["v"])
        if t == "complex" and isinstance(node.get("re"), str) and isinstance(node.get("im"), str) \
                and len(node["re"]) <= 40 and len(node["im"]) <= 40:
            return complex(float(node["re"]), float(node["im"]))
        if t == "str" and isinstance(node.get("v"), str):
            return node["v"]
        if t == "array":
            return self.array(node)
        if t == "scalar":
            value = self.array(node)
            if value.ndim != 0:
                raise WireError("a scalar that is not 0-dimensional")
            return value[()]
        if t in ("list", "tuple") and isinstance(node.get("v"), list):
            items = [self.node(x, depth + 1) for x in node["v"]]
            return items if t == "list" else tuple(items)
        if t == "dict" and isinstance(node.get("v"), list):
            out = {}
            for pair in node["v"]:
                if not isinstance(pair, list) or len(pair) != 2:
                    raise WireError("a malformed dict")
                key = self.node(pair[0], depth + 1)
                if not _hashable_plain(key):
                    raise WireError(f"a dict key of type {type(key).__name__}")
                out[key] = self.node(pair[1], depth + 1)
            return out
        if t == "generator" and self.kind != "result":
            name = node.get("bit")
            if name not in _BIT_GENERATORS:
                raise WireError(f"an unknown bit generator {name!r}")
            bit_generator = getattr(np.random, name)()
            try:
                bit_generator.state = self.node(node.get("state"), depth + 1)
            except (TypeError, ValueError, KeyError) as exc:
                raise WireError(f"a bad generator state ({exc})") from None
            return np.random.Generator(bit_generator)
        if t == "probe" and self.kind != "result":
            return _Probe(node.get("name"), self.node(node.get("args"), depth + 1),
                          self.node(node.get("kwargs"), depth + 1),
                          {k: self.node(v, depth + 1) for k, v in _dict(node.get("state")).items()})
        if t == "ref" and self.kind != "result" and isinstance(node.get("name"), str):
            return Ref(node["name"])
        raise WireError(f"a value of kind {t!r} where it is not allowed")


def _dict(value):
    if not isinstance(value, dict):
        raise WireError("a malformed probe state")
    return value


def _hashable_plain(key):
    if key is None or type(key) in (bool, int, float, complex, str) or isinstance(key, np.generic):
        return True
    return type(key) is tuple and all(_hashable_plain(k) for k in key)


class _Probe:
    """A probe as decoded: plain data until :func:`build` rebuilds it from a probes namespace."""

    def __init__(self, name, args, kwargs, state):
        self.name, self.args, self.kwargs, self.state = name, args, kwargs, state

    def build(self, probes):
        if probes is None or not isinstance(self.name, str) or self.name.startswith("_") \
                or not callable(probes.get(self.name)):
            raise WireError(f"an unknown probe {self.name!r}")
        if not isinstance(self.args, list) or not isinstance(self.kwargs, dict):
            raise WireError("malformed probe arguments")
        target = probes[self.name]
        if type(target).__name__ == "function":
            return target
        obj = target(*self.args, **self.kwargs)
        vars(obj).update(self.state)
        return obj


class Ref:
    """A function of the student's namespace, named (see ``encode(refs=...)``)."""

    def __init__(self, name):
        self.name = name


def build(obj, probes=None, resolve=None):
    """Replace decoded probes and references in ``obj`` by live callables.

    ``probes`` is the probes module's namespace, ``resolve(name)`` returns the
    function a :class:`Ref` names.
    """
    if isinstance(obj, _Probe):
        return obj.build(probes)
    if isinstance(obj, Ref):
        if resolve is None:
            raise WireError("a function reference where none is allowed")
        return resolve(obj.name)
    if type(obj) is list:
        return [build(x, probes, resolve) for x in obj]
    if type(obj) is tuple:
        return tuple(build(x, probes, resolve) for x in obj)
    if type(obj) is dict:
        return {k: build(v, probes, resolve) for k, v in obj.items()}
    return obj


def contains_extras(obj, depth=0):
    """Whether decoded data holds a probe, a reference or a generator (never allowed in results)."""
    if depth > MAX_DEPTH:
        return True
    if isinstance(obj, (_Probe, Ref, np.random.Generator)):
        return True
    if type(obj) in (list, tuple):
        return any(contains_extras(x, depth + 1) for x in obj)
    if type(obj) is dict:
        return any(contains_extras(v, depth + 1) for v in obj.values())
    return False


def decode(data: bytes, *, kind: str = "result", max_bytes: int = 256 << 20):
    """Rebuild what :func:`encode` wrote, accepting nothing else.

    ``kind="result"`` refuses generators, probes and references; ``kind="args"``
    accepts them (probes and references stay records until :func:`build`).
    Raises ``WireError``.
    """
    if not isinstance(data, bytes | bytearray) or len(data) > max_bytes:
        raise WireError("more data than the grader accepts" if isinstance(data, bytes | bytearray)
                        else "no data")
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            infos = zf.infolist()
            if len(infos) > MAX_NODES or sum(i.file_size for i in infos) > max_bytes:
                raise WireError("more data than the grader accepts")
            if any(i.compress_type != zipfile.ZIP_STORED for i in infos):
                raise WireError("compressed members")
        archive = np.load(io.BytesIO(data), allow_pickle=False)
        with archive:
            if _TREE not in archive.files:
                raise WireError("no structure")
            raw = archive[_TREE]
            if raw.dtype != np.uint8 or raw.ndim != 1:
                raise WireError("a malformed structure")
            tree = json.loads(raw.tobytes().decode("utf-8"))
            return _Decoder(archive, kind).node(tree)
    except WireError:
        raise
    except (ValueError, TypeError, KeyError, OSError, EOFError, RecursionError, MemoryError,
            UnicodeDecodeError, zipfile.BadZipFile, OverflowError) as exc:
        raise WireError(f"unreadable data ({type(exc).__name__})") from None
