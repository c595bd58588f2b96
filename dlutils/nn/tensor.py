"""Tensor: an ndarray that remembers how it was made, and backward() over that record.

Every op computes its result with NumPy and, when an input requires a gradient,
records on the result its inputs (``_parents``) and a closure ``_backward(grad)``
that maps the gradient of the result to one gradient per input (None where an
input needs none). ``backward()`` visits the recorded graph once, in reverse
topological order, summing the gradients that reach each tensor; leaves that
require a gradient (Parameters) add theirs into ``.grad``.

Shapes follow NumPy: binary ops broadcast, and ``unbroadcast`` sums a gradient
back to the shape of the input that was broadcast. dtypes: float32 stays
float32, float64 stays float64; numbers and arrays mixed into an op take the
Tensor's dtype.
"""

import numpy as np

_FLOATS = (np.dtype(np.float32), np.dtype(np.float64))
_grad_enabled = [True]  # the one switch no_grad flips (and restores); a list so closures see changes


def is_grad_enabled():
    """True unless inside ``with no_grad():``."""
    return _grad_enabled[0]


class no_grad:
    """Context manager: ops inside record no graph (evaluation, optimizer updates).

    Results made inside have ``requires_grad=False``; the previous setting is
    restored on exit, also when an exception leaves the block.
    """

    def __enter__(self):
        self._previous = _grad_enabled[0]
        _grad_enabled[0] = False
        return self

    def __exit__(self, *exc):
        _grad_enabled[0] = self._previous
        return False


def _as_float_array(name, data):
    """``data`` as a float32/float64 ndarray (ints and bools become float64), without copying floats."""
    if isinstance(data, Tensor):
        return data.data
    arr = np.asarray(data)
    if arr.dtype in _FLOATS:
        return arr
    if arr.dtype.kind in "biu":
        return arr.astype(np.float64)
    raise ValueError(f"{name}: expected numbers (float32 or float64), got an array of dtype {arr.dtype}")


def unbroadcast(grad, shape):
    """Sum ``grad`` over the axes broadcasting added or stretched, so it gets ``shape`` back.

    grad: an ndarray shaped like an op's output; shape: the shape of the input
    that was broadcast to it. E.g. grad (m, n) and shape (n,) -> sum over axis 0;
    shape (m, 1) -> sum over axis 1, keeping it. Returns grad itself when the
    shapes already agree.
    """
    shape = tuple(shape)
    if grad.shape == shape:
        return grad
    extra = grad.ndim - len(shape)
    if extra < 0:
        raise ValueError(f"shape: {shape} has more axes than grad's {grad.shape}; it cannot have been broadcast to it")
    if extra:
        grad = grad.sum(axis=tuple(range(extra)))
    stretched = tuple(i for i, n in enumerate(shape) if n == 1 and grad.shape[i] != 1)
    if stretched:
        grad = grad.sum(axis=stretched, keepdims=True)
    if grad.shape != shape:
        raise ValueError(f"shape: {shape} does not broadcast to grad's shape")
    return grad


class Tensor:
    """An ndarray ``data`` with an optional gradient ``grad`` of the same shape.

    Tensor(data, requires_grad=False): data is array-like; a float32 or float64
    ndarray is used as is (no copy), ints and bools become float64.
    Attributes: data (ndarray), grad (ndarray or None; filled by backward() on
    leaves that require grad), requires_grad, shape, dtype, ndim.
    Ops: + - * / ** (a number), unary -, @, sum/mean(axis, keepdims), T, reshape, indexing t[...],
    relu, tanh, sigmoid, exp, log; numbers and ndarrays are accepted on either
    side of a binary op and take this tensor's dtype.
    """

    __slots__ = ("data", "grad", "requires_grad", "_parents", "_backward", "__weakref__")
    __array_ufunc__ = None  # ndarray + Tensor calls Tensor.__radd__ instead of looping over elements

    def __init__(self, data, requires_grad=False):
        self.data = _as_float_array("data", data)
        self.grad = None
        self.requires_grad = bool(requires_grad)
        self._parents = ()
        self._backward = None

    # ---- properties ---------------------------------------------------------------------------------
    shape = property(lambda self: self.data.shape, doc="shape of data")
    dtype = property(lambda self: self.data.dtype, doc="dtype of data (float32 or float64)")
    ndim = property(lambda self: self.data.ndim, doc="number of axes of data")
    size = property(lambda self: self.data.size, doc="number of entries of data")

    def __len__(self):
        return len(self.data)

    def __repr__(self):
        flag = ", requires_grad=True" if self.requires_grad else ""
        return f"Tensor({np.array2string(self.data, precision=4, threshold=20, prefix='Tensor(')}{flag})"

    def item(self):
        """The value of a one-entry tensor as a Python float."""
        if self.data.size != 1:
            raise ValueError(f"item(): expected a tensor with one entry, got shape {self.data.shape}")
        return self.data.item()

    def numpy(self):
        """The data ndarray itself (not a copy)."""
        return self.data

    def detach(self):
        """A new leaf Tensor sharing this data, outside the graph."""
        return Tensor(self.data)

    # ---- graph ---------------------------------------------------------------------------------------
    def backward(self, grad=None):
        """Gradients of this tensor with respect to every leaf that requires grad, added into their .grad.

        grad: the gradient of some final scalar with respect to this tensor, shaped like it;
        None (allowed for a one-entry tensor) means 1. Gradients accumulate: call zero_grad()
        (on the Module or the optimizer) between steps.
        """
        if not self.requires_grad:
            raise RuntimeError("backward(): this tensor does not require grad: no input of the ops that made it "
                               "requires grad (Parameters do), or it was made under no_grad()")
        if grad is None:
            if self.data.size != 1:
                raise ValueError(f"grad: backward() of a tensor of shape {self.data.shape} needs grad, "
                                 "an array of that shape (only a one-entry tensor defaults to 1)")
            grad = np.ones_like(self.data)
        else:
            grad = np.array(_as_float_array("grad", grad), dtype=self.data.dtype)  # a copy: never aliased
            if grad.shape != self.data.shape:
                raise ValueError(f"grad: expected shape {self.data.shape} (this tensor's), got {grad.shape}")
        order = _topological_order(self)
        grads = {id(self): grad}
        for node in reversed(order):
            g = grads.pop(id(node), None)
            if g is None:
                continue
            if node._backward is None:  # a leaf
                _accumulate_leaf(node, g)
                continue
            for parent, pg in zip(node._parents, node._backward(g)):
                if pg is None or not parent.requires_grad:
                    continue
                key = id(parent)
                previous = grads.get(key)
                grads[key] = pg if previous is None else previous + pg


def _topological_order(root):
    """Tensors reachable from root that require grad, each after all its inputs."""
    order, visited = [], set()
    stack = [(root, False)]
    while stack:
        node, expanded = stack.pop()
        if expanded:
            order.append(node)
            continue
        if id(node) in visited:
            continue
        visited.add(id(node))
        stack.append((node, True))
        for parent in node._parents:
            if parent.requires_grad and id(parent) not in visited:
                stack.append((parent, False))
    return order


def _accumulate_leaf(leaf, g):
    """Add g into leaf.grad, which the leaf owns: the first gradient is copied, later ones added in place."""
    if g.dtype != leaf.data.dtype:
        g = g.astype(leaf.data.dtype)
    if leaf.grad is None:
        leaf.grad = np.array(g, copy=True)
    else:
        np.add(leaf.grad, g, out=leaf.grad)


def _result(data, parents, backward):
    """A Tensor for an op's output; records parents and backward only when a parent requires grad."""
    out = Tensor.__new__(Tensor)
    out.data = data if type(data) is np.ndarray else np.asarray(data)  # NumPy returns scalars for 0-d results
    out.grad = None
    if _grad_enabled[0] and any(p.requires_grad for p in parents):
        out.requires_grad = True
        out._parents = parents
        out._backward = backward
    else:
        out.requires_grad = False
        out._parents = ()
        out._backward = None
    return out


def _lift(x, dtype):
    """A Tensor for the other operand of a binary op: numbers and arrays take ``dtype``."""
    if isinstance(x, Tensor):
        return x
    try:
        return Tensor(np.asarray(x, dtype=dtype))
    except (TypeError, ValueError) as err:
        raise ValueError(f"other operand: expected a Tensor, a number or an array, got {type(x).__name__}") from err


def _add(a, b):
    ad, bd = a.data, b.data
    return _result(ad + bd, (a, b), lambda g: (unbroadcast(g, ad.shape), unbroadcast(g, bd.shape)))


def _sub(a, b):
    ad, bd = a.data, b.data
    return _result(ad - bd, (a, b), lambda g: (unbroadcast(g, ad.shape), unbroadcast(-g, bd.shape)))


def _mul(a, b):
    ad, bd = a.data, b.data

    def backward(g):
        return (unbroadcast(g * bd, ad.shape) if a.requires_grad else None,
                unbroadcast(g * ad, bd.shape) if b.requires_grad else None)
    return _result(ad * bd, (a, b), backward)


def _div(a, b):
    ad, bd = a.data, b.data
    out = ad / bd

    def backward(g):
        ga = g / bd
        return (unbroadcast(ga, ad.shape) if a.requires_grad else None,
                unbroadcast(-ga * out, bd.shape) if b.requires_grad else None)
    return _result(out, (a, b), backward)


def _matmul(a, b):
    ad, bd = a.data, b.data
    if ad.ndim == 0 or bd.ndim == 0:
        raise ValueError(f"@: expected arrays with at least one axis, got shapes {ad.shape} and {bd.shape}")
    if ad.shape[-1] != bd.shape[0 if bd.ndim == 1 else -2]:
        raise ValueError(f"@: shapes {ad.shape} and {bd.shape} do not line up (inner sizes differ)")
    a2 = ad[None, :] if ad.ndim == 1 else ad  # vectors as (1, n) rows and (n, 1) columns
    b2 = bd[:, None] if bd.ndim == 1 else bd
    out2_shape = np.broadcast_shapes(a2.shape[:-2], b2.shape[:-2]) + (a2.shape[-2], b2.shape[-1])

    def backward(g):
        g2 = g.reshape(out2_shape)
        ga = gb = None
        if a.requires_grad:
            ga = unbroadcast(g2 @ np.swapaxes(b2, -1, -2), a2.shape).reshape(ad.shape)
        if b.requires_grad:
            gb = unbroadcast(np.swapaxes(a2, -1, -2) @ g2, b2.shape).reshape(bd.shape)
        return ga, gb
    return _result(ad @ bd, (a, b), backward)


def _binary(op, swap=False):
    def method(self, other):
        other = _lift(other, self.data.dtype)
        return op(other, self) if swap else op(self, other)
    return method


Tensor.__add__ = _binary(_add)
Tensor.__radd__ = _binary(_add, swap=True)
Tensor.__sub__ = _binary(_sub)
Tensor.__rsub__ = _binary(_sub, swap=True)
Tensor.__mul__ = _binary(_mul)
Tensor.__rmul__ = _binary(_mul, swap=True)
Tensor.__truediv__ = _binary(_div)
Tensor.__rtruediv__ = _binary(_div, swap=True)
Tensor.__matmul__ = _binary(_matmul)
Tensor.__rmatmul__ = _binary(_matmul, swap=True)


def _neg(self):
    return _result(-self.data, (self,), lambda g: (-g,))


def _pow(self, p):
    if isinstance(p, Tensor) or not np.isscalar(p) or isinstance(p, (bool, str)):
        raise ValueError(f"p: ** takes a number as exponent, got {type(p).__name__}")
    p = p if isinstance(p, (int, np.integer)) else float(p)  # a NumPy float64 would promote float32 data
    x = self.data
    return _result(x ** p, (self,), lambda g: (g * (p * x ** (p - 1)),))


def _reduce(x, axis, keepdims, out, scale):
    """A reduction's node: the gradient spreads back over the reduced axes, times ``scale``."""
    def backward(g):
        if not keepdims and axis is not None:
            g = np.expand_dims(g, axis)
        return (np.broadcast_to(g * scale if scale != 1 else g, x.data.shape),)
    return _result(np.asarray(out, dtype=x.data.dtype), (x,), backward)


def _sum(self, axis=None, keepdims=False):
    """Sum over ``axis`` (None = all entries; an int or a tuple), keeping reduced axes as 1 if keepdims."""
    return _reduce(self, axis, keepdims, np.sum(self.data, axis=axis, keepdims=keepdims), 1)


def _mean(self, axis=None, keepdims=False):
    """Mean over ``axis`` (None = all entries; an int or a tuple), keeping reduced axes as 1 if keepdims."""
    out = np.mean(self.data, axis=axis, keepdims=keepdims)
    return _reduce(self, axis, keepdims, out, out.size / self.data.size if self.data.size else 0.0)


def _reshape(self, *shape):
    """The same entries in a new shape (reshape(2, 3) or reshape((2, 3)); -1 infers one size)."""
    if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
        shape = tuple(shape[0])
    old = self.data.shape
    try:
        out = self.data.reshape(shape)
    except ValueError as err:
        raise ValueError(f"shape: cannot reshape {old} into {shape}") from err
    return _result(out, (self,), lambda g: (g.reshape(old),))


def _getitem(self, index):
    """NumPy indexing (t[0], t[:, 1:3], t[rows, cols], t[mask]); the gradient goes back to the entries read."""
    x = self.data
    if isinstance(index, Tensor):
        raise ValueError("index: expected ints, slices or arrays of ints or bools, got a Tensor")

    def backward(g):
        full = np.zeros_like(x)
        np.add.at(full, index, g)  # an entry read twice gets both gradients
        return (full,)
    return _result(x[index], (self,), backward)


def _transpose(self):
    return _result(self.data.T, (self,), lambda g: (g.T,))


def _relu(self):
    """max(x, 0) entrywise; gradient 1 where x > 0, else 0."""
    x = self.data
    return _result(np.maximum(x, 0), (self,), lambda g: (g * (x > 0),))


def _tanh(self):
    """tanh entrywise; gradient 1 - tanh(x)**2."""
    y = np.tanh(self.data)
    return _result(y, (self,), lambda g: (g * (1 - y * y),))


def sigmoid_array(x):
    """1 / (1 + exp(-x)) of an ndarray, without overflow for large |x| (keeps x's dtype)."""
    z = np.exp(-np.abs(x))
    return np.where(x >= 0, 1 / (1 + z), z / (1 + z)).astype(x.dtype, copy=False)


def _sigmoid(self):
    """1 / (1 + exp(-x)), computed without overflow for large |x|."""
    y = sigmoid_array(self.data)
    return _result(y, (self,), lambda g: (g * (y * (1 - y)),))


def _exp(self):
    """exp entrywise; gradient exp(x)."""
    y = np.exp(self.data)
    return _result(y, (self,), lambda g: (g * y,))


def _log(self):
    """Natural log (log of 0 is -inf, of a negative number NaN, as in NumPy)."""
    x = self.data
    return _result(np.log(x), (self,), lambda g: (g / x,))


Tensor.__neg__ = _neg
Tensor.__pow__ = _pow
Tensor.sum = _sum
Tensor.mean = _mean
Tensor.reshape = _reshape
Tensor.__getitem__ = _getitem
Tensor.T = property(_transpose, doc="the transpose (axes reversed), on the graph")
Tensor.relu = _relu
Tensor.tanh = _tanh
Tensor.sigmoid = _sigmoid
Tensor.exp = _exp
Tensor.log = _log


class Parameter(Tensor):
    """A Tensor with requires_grad=True: what Modules hold and optimizers update.

    Parameter(data): data array-like (float32/float64 used as is, ints become float64).
    """

    __slots__ = ()

    def __init__(self, data):
        super().__init__(data, requires_grad=True)

    def __repr__(self):
        return "Parameter" + super().__repr__()[len("Tensor"):].replace(", requires_grad=True", "")


class Context:
    """What a Function's forward hands to its backward: ``save_for_backward(*arrays)`` then
    ``saved_tensors``; any other attribute may be set too (``ctx.axis = 1``).
    ``needs_input_grad``: one bool per positional input of forward."""

    def __init__(self, needs_input_grad):
        self.needs_input_grad = needs_input_grad
        self.saved_tensors = ()

    def save_for_backward(self, *arrays):
        self.saved_tensors = arrays


class Function:
    """A custom op, as in PyTorch: subclass with two static methods and call ``apply``.

    forward(ctx, *inputs, **options): inputs are ndarrays (Tensors are unwrapped; numbers stay
        numbers), returns one ndarray.
    backward(ctx, grad): grad is an ndarray shaped like forward's output; returns one gradient per
        positional input of forward (a tuple when there are several), each shaped like its input,
        or None for an input that needs none.
    apply(*inputs, **options) -> Tensor, recorded on the graph when an input requires grad.
    """

    @staticmethod
    def forward(ctx, *inputs, **options):
        """Compute the output ndarray from the input ndarrays (define it in the subclass)."""
        raise NotImplementedError("a Function subclass defines forward(ctx, *inputs) as a @staticmethod")

    @staticmethod
    def backward(ctx, grad):
        """One gradient per positional input of forward, from grad (define it in the subclass)."""
        raise NotImplementedError("a Function subclass defines backward(ctx, grad) as a @staticmethod")

    @classmethod
    def apply(cls, *inputs, **options):
        name = cls.__name__
        needs = tuple(isinstance(x, Tensor) and x.requires_grad for x in inputs)
        ctx = Context(needs)
        arrays = [x.data if isinstance(x, Tensor) else x for x in inputs]
        tensors = [x for x in inputs if isinstance(x, Tensor)]
        dtype = tensors[0].data.dtype if tensors else np.float64
        out = cls.forward(ctx, *arrays, **options)
        if isinstance(out, Tensor):
            raise ValueError(f"{name}.forward: returned a Tensor; it works on ndarrays and returns one")
        if not isinstance(out, np.ndarray) or out.dtype not in _FLOATS:
            out = np.asarray(out, dtype=dtype)
        positions = [i for i, x in enumerate(inputs) if isinstance(x, Tensor)]

        def backward(g):
            grads = cls.backward(ctx, g)
            if not isinstance(grads, tuple):
                grads = (grads,)
            if len(grads) != len(inputs):
                raise ValueError(f"{name}.backward: returned {len(grads)} gradient(s), expected one per "
                                 f"positional input of forward ({len(inputs)})")
            result = []
            for i in positions:
                gi = grads[i]
                if gi is not None and needs[i]:
                    if isinstance(gi, Tensor):
                        raise ValueError(f"{name}.backward: gradient {i} is a Tensor; return ndarrays")
                    gi = np.asarray(gi)
                    if gi.shape != arrays[i].shape:
                        raise ValueError(f"{name}.backward: gradient {i} has shape {gi.shape}, expected the shape "
                                         f"of input {i}, {arrays[i].shape}")
                    if gi.dtype != arrays[i].dtype:
                        gi = gi.astype(arrays[i].dtype)
                result.append(gi if needs[i] else None)
            return result
        return _result(out, tuple(tensors), backward)
