"""Callables that checks pass *into* students' functions (e.g. the ``f`` of
``numerical_gradient`` or the ``cost_fn`` of ``gradient_check``).

Everything here is defined at module level from plain data, so a grader that
calls students' functions in another process can rebuild the same callable
there from its name and arguments: the secure autograder sends this module's
source into the student's kernel and rebuilds a probe from its class name and
the arguments it was constructed with (see ``grader/secure/_wire.py``). So:

* a probe is a subclass of :class:`Probe` whose ``__init__`` takes only plain
  data (arrays, numbers, strings, ``None``, dicts/lists/tuples of them), or a
  plain module-level function;
* attributes a probe changes while called (e.g. a call counter) must be plain
  data too: the grader copies them back after the student's function returns;
* nothing here is secret: the student's function receives these objects and
  can inspect them. This module imports only the standard library, NumPy and
  dlutils (which the student's kernel has too).

Each probe also knows its exact gradient (``gradient`` / ``gradients``), which
the checks use as the answer.

Probes refuse input they cannot make sense of with a ``ValueError`` that says
what the student's code passed, because that error is what the student sees.
"""
from __future__ import annotations

import copy

import numpy as np

from dlutils import model


class Probe:
    """Base of callable probes: remembers the plain data it was built from."""

    def __new__(cls, *args, **kwargs):
        self = super().__new__(cls)
        self._probe_spec = (copy.deepcopy(args), copy.deepcopy(kwargs))
        return self


def _as_vector(theta, n: int, who: str) -> np.ndarray:
    """theta as a flat float64 vector of n entries; (n,), (n, 1) or (1, n) are all accepted."""
    x = np.asarray(theta, dtype=np.float64)
    if x.size != n:
        raise ValueError(f"{who}: expected theta with {n} entries, got shape {np.shape(theta)}")
    return x.reshape(-1)


class Quadratic(Probe):
    """f(theta) = 1/2 thetaᵀ A theta + bᵀ theta, for theta of n entries (shape (n,) or (n, 1)).

    Centred differences are exact for a quadratic (up to rounding), whatever epsilon.
    """

    def __init__(self, A, b):
        self.A = np.array(A, dtype=np.float64)
        self.b = np.array(b, dtype=np.float64).reshape(-1)
        n = self.b.size
        if self.A.shape != (n, n):
            raise ValueError(f"Quadratic: A must be ({n}, {n}) for b of {n} entries, got {self.A.shape}")

    def __call__(self, theta) -> float:
        x = _as_vector(theta, self.b.size, "Quadratic")
        return float(0.5 * x @ self.A @ x + self.b @ x)

    def gradient(self, theta) -> np.ndarray:
        """(A + Aᵀ)/2 theta + b, shaped like theta."""
        x = _as_vector(theta, self.b.size, "Quadratic")
        return (0.5 * (self.A + self.A.T) @ x + self.b).reshape(np.shape(theta))


class Sines(Probe):
    """f(theta) = Σ_i a_i sin(w_i theta_i): smooth, with third derivatives a_i w_i³.

    Large frequencies make the truncation error of a finite difference large,
    so the result shows which epsilon (and which formula) was used.
    """

    def __init__(self, amplitudes, frequencies):
        self.a = np.array(amplitudes, dtype=np.float64).reshape(-1)
        self.w = np.array(frequencies, dtype=np.float64).reshape(-1)
        if self.a.shape != self.w.shape:
            raise ValueError(f"Sines: {self.a.size} amplitudes but {self.w.size} frequencies")

    def __call__(self, theta) -> float:
        x = _as_vector(theta, self.a.size, "Sines")
        return float(np.sum(self.a * np.sin(self.w * x)))

    def gradient(self, theta) -> np.ndarray:
        x = _as_vector(theta, self.a.size, "Sines")
        return (self.a * self.w * np.cos(self.w * x)).reshape(np.shape(theta))


class NetCost(Probe):
    """cost_fn(parameters) of an L-layer binary classifier on fixed data.

    [LINEAR -> hidden_activation] x (L-1) -> LINEAR -> SIGMOID, mean
    cross-entropy on X (n_x, m), Y (1, m), plus lambd / (2m) Σ_l ||W{l}||²
    when lambd > 0. ``parameters`` must hold W1, b1, ..., WL, bL with the
    course's shapes (``dlutils.params.vector_to_dictionary`` gives that back
    from theta).
    """

    def __init__(self, X, Y, hidden_activation="tanh", lambd=0.0):
        self.X = np.array(X, dtype=np.float64)
        self.Y = np.array(Y, dtype=np.float64)
        self.hidden_activation = str(hidden_activation)
        self.lambd = float(lambd)

    def _parameters(self, parameters) -> dict:
        if not isinstance(parameters, dict):
            raise ValueError(f"cost_fn: expected parameters as a dict {{'W1': ..., 'b1': ...}}, "
                             f"got {type(parameters).__name__}")
        return {k: np.asarray(v, dtype=np.float64) for k, v in parameters.items()}

    def __call__(self, parameters) -> float:
        parameters = self._parameters(parameters)
        AL, _ = model.L_model_forward(self.X, parameters, self.hidden_activation)
        cost = model.compute_cost(AL, self.Y)
        if self.lambd:
            m = self.X.shape[1]
            cost += self.lambd / (2 * m) * sum(float(np.sum(v**2)) for k, v in parameters.items()
                                               if k.startswith("W"))
        return float(cost)

    def gradients(self, parameters) -> dict:
        """Exact grads {"dW1", "db1", ...} of this cost (backprop, with the L2 term)."""
        parameters = self._parameters(parameters)
        AL, caches = model.L_model_forward(self.X, parameters, self.hidden_activation)
        grads = model.L_model_backward(AL, self.Y, caches)
        m = self.X.shape[1]
        for key in grads:
            if key.startswith("dW"):
                grads[key] = grads[key] + self.lambd / m * parameters[key[1:]]
        return grads


class LearningCurves(Probe):
    """evaluate(config, budget) -> the dev error of a made-up training run, for successive halving.

    config: a dict with numbers "final" and "gap" (and anything else, e.g. an
    "id"); the error after ``budget`` epochs is final + gap / budget, so runs
    that start slowly (large gap) can overtake others given more budget.
    ``calls`` records [config.get("id"), budget] for every call (plain data:
    the grader copies it back from the student's process).
    """

    def __init__(self):
        self.calls = []

    def __call__(self, config, budget) -> float:
        if not isinstance(config, dict) or "final" not in config or "gap" not in config:
            raise ValueError(f"evaluate: expected one of the configs you were given (a dict with 'final' and "
                             f"'gap'), got {config!r}")
        try:
            budget = float(budget)
        except (TypeError, ValueError):
            raise ValueError(f"evaluate: expected a budget (a number of epochs), got {budget!r}") from None
        if not budget > 0:
            raise ValueError(f"evaluate: expected a budget > 0 epochs, got {budget!r}")
        self.calls.append([config.get("id"), budget])
        return float(config["final"]) + float(config["gap"]) / budget
