"""Optimizers with the course's update rules (week 2), and learning-rate schedules as pure functions.

    optimizer = nn.optim.Adam(model.parameters(), learning_rate=1e-3)
    optimizer.zero_grad(); loss.backward(); optimizer.step()

Every optimizer updates all its parameters at once: on construction the
parameters' data become views into one flat array (and their gradients are
collected into another), so a step is a few vectorized NumPy operations
whatever the number of layers. Parameters whose .grad is None are skipped
in a step, as in PyTorch. All parameters of one optimizer share a dtype.
"""

import math

import numpy as np

from dlutils.nn.tensor import Tensor


def _check_number(name, value, low=None, high=None, low_open=False, high_open=False):
    ok = isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, bool)
    ok = ok and math.isfinite(value)
    if ok and low is not None:
        ok = value > low if low_open else value >= low
    if ok and high is not None:
        ok = value < high if high_open else value <= high
    if not ok:
        left = "(" if low_open else "["
        right = ")" if high_open else "]"
        span = f"{left}{'-inf' if low is None else low}, {'inf' if high is None else high}{right}"
        raise ValueError(f"{name}: expected a number in {span}, got {value!r}")
    return float(value)


class Optimizer:
    """Base class: Optimizer(params, learning_rate).

    params: the Parameters to update (e.g. model.parameters()), each once, one dtype; one whose
    requires_grad is False (frozen, as in transfer learning) gets no gradient, so it is never updated.
    Attributes: params (list), learning_rate (settable between steps, e.g. by a schedule),
    state (dict: parameter index -> dict of that parameter's state arrays, e.g. {"v": ..., "s": ...}),
    steps (number of step() calls so far).
    zero_grad() sets every .grad to None; step() applies one update. A subclass either overrides step()
    (loop over self.params, update p.data from p.grad, keep what it needs in self.state[i]), or, as the
    built-in ones do, defines _update(data, grad, scratch, states) on flat arrays and lets step() call it.
    """

    _flat_states = {}  # name -> flat state array, set by subclasses with _buffer(name)

    def __init__(self, params, learning_rate):
        if isinstance(params, Tensor):
            raise ValueError("params: expected a list of Parameters (e.g. model.parameters()), got one Tensor")
        params = list(params)
        if not params:
            raise ValueError("params: expected at least one Parameter, got an empty list")
        seen = set()
        for i, p in enumerate(params):
            if not isinstance(p, Tensor):
                raise ValueError(f"params[{i}]: expected a Parameter, got {type(p).__name__}")
            if p._backward is not None:
                raise ValueError(f"params[{i}]: expected a Parameter, got a Tensor computed by an op (only leaves "
                                 "can be optimized)")
            if id(p) in seen:
                raise ValueError(f"params[{i}]: this Parameter is listed twice")
            seen.add(id(p))
        dtypes = {p.data.dtype for p in params}
        if len(dtypes) > 1:
            raise ValueError(f"params: expected one dtype for all parameters, got {sorted(map(str, dtypes))}")
        self.params = params
        self.learning_rate = _check_number("learning_rate", learning_rate, 0, low_open=True)
        self.state = {i: {} for i in range(len(params))}
        self.steps = 0
        self._slices = []
        start = 0
        for p in params:
            self._slices.append(slice(start, start + p.data.size))
            start += p.data.size
        self._flat = np.concatenate([p.data.ravel() for p in params])
        self._grad_flat = np.zeros_like(self._flat)
        self._scratch = np.empty_like(self._flat)
        self._data_views, self._grad_views = [], []
        for p, s in zip(params, self._slices):
            self._data_views.append(self._flat[s].reshape(p.data.shape))
            self._grad_views.append(self._grad_flat[s].reshape(p.data.shape))
            p.data = self._data_views[-1]

    def _buffer(self, name, fill=0.0):
        """A flat state array named ``name``, with one view per parameter in ``state[i][name]``."""
        flat = np.full_like(self._flat, fill)
        for i, (p, s) in enumerate(zip(self.params, self._slices)):
            self.state[i][name] = flat[s].reshape(p.data.shape)
        return flat

    def zero_grad(self):
        """Forget the gradients: every parameter's .grad becomes None."""
        for p in self.params:
            p.grad = None

    def step(self):
        """One update of every parameter that has a gradient, by the rule of this optimizer."""
        if type(self)._update is Optimizer._update:
            raise NotImplementedError(f"{type(self).__name__}: an Optimizer subclass defines step() (or _update())")
        self.steps += 1
        complete = True
        for p, data_view, grad_view in zip(self.params, self._data_views, self._grad_views):
            if p.data is not data_view:  # data replaced since (e.g. p.data = ...): take it back into the flat array
                if p.data.shape != data_view.shape:
                    raise ValueError(f"params: a parameter's data changed shape from {data_view.shape} to "
                                     f"{p.data.shape}; make a new optimizer")
                np.copyto(data_view, p.data)
                p.data = data_view
            if p.grad is None:
                complete = False
            else:
                np.copyto(grad_view, p.grad)  # gather: the update reads one flat gradient
        if complete:  # one vectorized update of all parameters
            self._update(self._flat, self._grad_flat, self._scratch, self._states(slice(None)))
            return
        for p, s in zip(self.params, self._slices):
            if p.grad is not None:
                self._update(self._flat[s], self._grad_flat[s], self._scratch[s], self._states(s))

    def _states(self, s):
        return {name: flat[s] for name, flat in self._flat_states.items()}

    def _update(self, data, grad, scratch, states):
        """Update ``data`` in place from ``grad`` (1-D arrays of one or all parameters); ``scratch`` is free
        space of that size, ``states`` maps names to the matching 1-D state arrays."""

    def __repr__(self):
        return f"{type(self).__name__}(learning_rate={self.learning_rate}, {len(self.params)} parameters)"


def _adaptive_step(data, numerator, second_moment, correction, learning_rate, epsilon, scratch):
    """data -= learning_rate * numerator / (sqrt(correction * second_moment) + epsilon), in place."""
    np.multiply(second_moment, correction, out=scratch)
    np.sqrt(scratch, out=scratch)
    scratch += epsilon
    np.divide(numerator, scratch, out=scratch)
    scratch *= learning_rate
    data -= scratch


class SGD(Optimizer):
    """Gradient descent, with the course's momentum: v = beta v + (1 - beta) grad; param -= learning_rate v.

    momentum (beta) 0 is plain gradient descent: param -= learning_rate grad. state[i]["v"] with momentum.
    PyTorch's SGD(momentum=beta) keeps buf = beta buf + grad instead, which is v / (1 - beta): the same
    steps with its learning rate = ours * (1 - beta).
    """

    def __init__(self, params, learning_rate, momentum=0.0):
        super().__init__(params, learning_rate)
        self.momentum = _check_number("momentum", momentum, 0, 1, high_open=True)
        self._flat_states = {"v": self._buffer("v")} if self.momentum else {}

    def _update(self, data, grad, scratch, states):
        beta, lr = self.momentum, self.learning_rate
        if beta:
            v = states["v"]
            v *= beta
            np.multiply(grad, 1 - beta, out=scratch)
            v += scratch
            grad = v
        np.multiply(grad, lr, out=scratch)
        data -= scratch


class RMSprop(Optimizer):
    """s = beta s + (1 - beta) grad**2; param -= learning_rate grad / (sqrt(s) + epsilon). state[i]["s"].

    PyTorch's RMSprop(alpha=beta, eps=epsilon) is the same rule."""

    def __init__(self, params, learning_rate, beta=0.999, epsilon=1e-8):
        super().__init__(params, learning_rate)
        self.beta = _check_number("beta", beta, 0, 1, high_open=True)
        self.epsilon = _check_number("epsilon", epsilon, 0)
        self._flat_states = {"s": self._buffer("s")}

    def _update(self, data, grad, scratch, states):
        s = states["s"]
        s *= self.beta
        np.multiply(grad, grad, out=scratch)
        scratch *= 1 - self.beta
        s += scratch
        _adaptive_step(data, grad, s, 1.0, self.learning_rate, self.epsilon, scratch)


class Adam(Optimizer):
    """Adam with bias correction, the course's rule, t = number of steps so far (from 1):

    v = beta1 v + (1 - beta1) grad; s = beta2 s + (1 - beta2) grad**2;
    param -= learning_rate * v_hat / (sqrt(s_hat) + epsilon), v_hat = v / (1 - beta1**t), s_hat = s / (1 - beta2**t).
    state[i]["v"], state[i]["s"] (not bias-corrected). PyTorch's Adam(betas=(beta1, beta2), eps=epsilon) agrees.
    """

    def __init__(self, params, learning_rate=1e-3, beta1=0.9, beta2=0.999, epsilon=1e-8):
        super().__init__(params, learning_rate)
        self.beta1 = _check_number("beta1", beta1, 0, 1, high_open=True)
        self.beta2 = _check_number("beta2", beta2, 0, 1, high_open=True)
        self.epsilon = _check_number("epsilon", epsilon, 0)
        self._flat_states = {"v": self._buffer("v"), "s": self._buffer("s")}

    def _update(self, data, grad, scratch, states):
        b1, b2, t = self.beta1, self.beta2, self.steps
        v, s = states["v"], states["s"]
        v *= b1
        np.multiply(grad, 1 - b1, out=scratch)
        v += scratch
        s *= b2
        np.multiply(grad, grad, out=scratch)
        scratch *= 1 - b2
        s += scratch
        # v_hat / (sqrt(s_hat) + epsilon) with v_hat's correction moved into the learning rate
        _adaptive_step(data, v, s, 1 / (1 - b2 ** t), self.learning_rate / (1 - b1 ** t), self.epsilon, scratch)


class Adagrad(Optimizer):
    """cache += grad**2; param -= learning_rate grad / (sqrt(cache) + epsilon). state[i]["cache"].

    PyTorch's Adagrad(eps=epsilon, initial_accumulator_value=0, lr_decay=0) is the same rule."""

    def __init__(self, params, learning_rate, epsilon=1e-8):
        super().__init__(params, learning_rate)
        self.epsilon = _check_number("epsilon", epsilon, 0)
        self._flat_states = {"cache": self._buffer("cache")}

    def _update(self, data, grad, scratch, states):
        cache = states["cache"]
        np.multiply(grad, grad, out=scratch)
        cache += scratch
        _adaptive_step(data, grad, cache, 1.0, self.learning_rate, self.epsilon, scratch)


def _check_epoch(epoch):
    if isinstance(epoch, bool) or not isinstance(epoch, (int, np.integer)) or epoch < 0:
        raise ValueError(f"epoch: expected a whole number >= 0, got {epoch!r}")
    return int(epoch)


def inverse_time_decay(learning_rate0, epoch, decay_rate):
    """learning_rate0 / (1 + decay_rate * epoch)."""
    lr0 = _check_number("learning_rate0", learning_rate0, 0, low_open=True)
    return lr0 / (1 + _check_number("decay_rate", decay_rate, 0) * _check_epoch(epoch))


def exponential_decay(learning_rate0, epoch, base):
    """learning_rate0 * base ** epoch, base in (0, 1]."""
    lr0 = _check_number("learning_rate0", learning_rate0, 0, low_open=True)
    return lr0 * _check_number("base", base, 0, 1, low_open=True) ** _check_epoch(epoch)


def staircase_decay(learning_rate0, epoch, decay_rate, interval):
    """learning_rate0 / (1 + decay_rate * floor(epoch / interval)): constant for ``interval`` epochs at a time."""
    lr0 = _check_number("learning_rate0", learning_rate0, 0, low_open=True)
    if isinstance(interval, bool) or not isinstance(interval, (int, np.integer)) or interval <= 0:
        raise ValueError(f"interval: expected a positive whole number of epochs, got {interval!r}")
    return lr0 / (1 + _check_number("decay_rate", decay_rate, 0) * (_check_epoch(epoch) // int(interval)))


__all__ = ["Optimizer", "SGD", "RMSprop", "Adam", "Adagrad", "inverse_time_decay", "exponential_decay",
           "staircase_decay"]
