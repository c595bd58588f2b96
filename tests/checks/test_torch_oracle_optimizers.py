"""The course's update rules against torch.optim in float64 (optional: needs torch).

Both the reference solutions of 07_optimizers and the formulas the hidden checks
grade against are compared, step by step, with PyTorch's optimizers where the
definitions match:

* GD = ``SGD(lr)``; RMSprop = ``RMSprop(lr, alpha=beta2, eps)``; Adam =
  ``Adam(lr, betas, eps)`` (same bias correction, epsilon outside the square
  root); Adagrad = ``Adagrad(lr, eps)`` with no lr_decay.
* Momentum differs: torch keeps ``buf = momentum * buf + (1 - dampening) * grad``
  and sets ``buf = grad`` on the first step, while the course uses
  ``v = beta * v + (1 - beta) * grad`` from ``v = 0``. With ``dampening=beta``
  the formulas agree from the second step on, so the comparison pre-sets torch's
  buffer to the course's velocity and compares single steps.
"""
from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from grader.checks import optimizers as checks_optimizers  # noqa: E402

pytestmark = pytest.mark.oracle

STEPS = 5


def problem(seed=0, dims=(4, 3, 1)):
    rng = np.random.default_rng(seed)
    parameters = {}
    for l in range(1, len(dims)):
        parameters[f"W{l}"] = rng.standard_normal((dims[l], dims[l - 1]))
        parameters[f"b{l}"] = rng.standard_normal((dims[l], 1))
    grads = [{"d" + k: rng.standard_normal(p.shape) for k, p in parameters.items()} for _ in range(STEPS)]
    return parameters, grads


def torch_run(make_optimizer, parameters, grads):
    """Parameters after each of the steps torch takes with the given gradients."""
    tensors = {k: torch.tensor(p, dtype=torch.float64) for k, p in parameters.items()}
    optimizer = make_optimizer(list(tensors.values()))
    history = []
    for g in grads:
        for k, tensor in tensors.items():
            tensor.grad = torch.tensor(g["d" + k], dtype=torch.float64)
        optimizer.step()
        history.append({k: t.detach().numpy().copy() for k, t in tensors.items()})
    return history


def close(ours, theirs):
    assert ours.keys() == theirs.keys()
    for k in ours:
        np.testing.assert_allclose(ours[k], theirs[k], rtol=1e-12, atol=1e-14, err_msg=k)


def test_gd_matches_sgd(reference):
    parameters, grads = problem(1)
    theirs = torch_run(lambda ps: torch.optim.SGD(ps, lr=0.1), parameters, grads)
    p = parameters
    for g, expected in zip(grads, theirs):
        p = reference["update_parameters_gd"](p, g, 0.1)
        close(p, expected)


@pytest.mark.parametrize("source", ["reference", "check"])
def test_rmsprop_matches_torch(reference, source):
    parameters, grads = problem(2)
    theirs = torch_run(lambda ps: torch.optim.RMSprop(ps, lr=0.01, alpha=0.9, eps=1e-8), parameters, grads)
    p, s = parameters, reference["initialize_rmsprop"](parameters)
    for g, expected in zip(grads, theirs):
        if source == "reference":
            p, s = reference["update_parameters_rmsprop"](p, g, s, 0.9, 0.01)
        else:
            step, s = checks_optimizers._rmsprop(g, s, 0.9, 0.01, 1e-8)
            p = checks_optimizers._apply(p, step)
        close(p, expected)


@pytest.mark.parametrize("source", ["reference", "check"])
def test_adam_matches_torch(reference, source):
    parameters, grads = problem(3)
    theirs = torch_run(lambda ps: torch.optim.Adam(ps, lr=0.02, betas=(0.8, 0.95), eps=1e-8), parameters, grads)
    p, (v, s) = parameters, reference["initialize_adam"](parameters)
    for t, (g, expected) in enumerate(zip(grads, theirs), start=1):
        if source == "reference":
            p, v, s = reference["update_parameters_adam"](p, g, v, s, t, 0.02, 0.8, 0.95, 1e-8)
        else:
            step, v, s = checks_optimizers._adam(g, v, s, t, 0.02, 0.8, 0.95, 1e-8)
            p = checks_optimizers._apply(p, step)
        close(p, expected)


@pytest.mark.parametrize("source", ["reference", "check"])
def test_adagrad_matches_torch(reference, source):
    parameters, grads = problem(4)
    theirs = torch_run(lambda ps: torch.optim.Adagrad(ps, lr=0.1, eps=1e-8), parameters, grads)
    p, cache = parameters, reference["initialize_rmsprop"](parameters)
    for g, expected in zip(grads, theirs):
        if source == "reference":
            p, cache = reference["update_parameters_adagrad"](p, g, cache, 0.1)
        else:
            step, cache = checks_optimizers._adagrad(g, cache, 0.1, 1e-8)
            p = checks_optimizers._apply(p, step)
        close(p, expected)


@pytest.mark.parametrize("source", ["reference", "check"])
def test_momentum_step_matches_torch_with_dampening_beta(reference, source):
    beta, lr = 0.9, 0.05
    parameters, grads = problem(5)
    rng = np.random.default_rng(6)
    v = {k: rng.standard_normal(g.shape) for k, g in grads[0].items()}  # a velocity from earlier steps
    tensors = {k: torch.tensor(p, dtype=torch.float64) for k, p in parameters.items()}
    optimizer = torch.optim.SGD(list(tensors.values()), lr=lr, momentum=beta, dampening=beta)
    for k, tensor in tensors.items():
        optimizer.state[tensor]["momentum_buffer"] = torch.tensor(v["d" + k], dtype=torch.float64)
        tensor.grad = torch.tensor(grads[0]["d" + k], dtype=torch.float64)
    optimizer.step()
    if source == "reference":
        ours, new_v = reference["update_parameters_momentum"](parameters, grads[0], v, beta, lr)
    else:
        step, new_v = checks_optimizers._momentum(parameters, grads[0], v, beta, lr)
        ours = checks_optimizers._apply(parameters, step)
    close(ours, {k: t.numpy() for k, t in tensors.items()})
    close(new_v, {"d" + k: optimizer.state[t]["momentum_buffer"].numpy() for k, t in tensors.items()})


def test_torch_default_momentum_is_a_different_convention(reference):
    # From v = 0, torch's first momentum step is lr * grad; the course's is lr * (1 - beta) * grad.
    parameters, grads = problem(7)
    theirs = torch_run(lambda ps: torch.optim.SGD(ps, lr=0.1, momentum=0.9), parameters, grads[:1])[0]
    ours, _ = reference["update_parameters_momentum"](parameters, grads[0], reference["initialize_velocity"](
        parameters), 0.9, 0.1)
    np.testing.assert_allclose(parameters["W1"] - ours["W1"], 0.1 * (parameters["W1"] - theirs["W1"]), rtol=1e-12)
