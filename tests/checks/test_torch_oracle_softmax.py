"""11_softmax against PyTorch CPU in float64 (optional: needs torch).

The reference solutions, the formulas the hidden checks grade against
(``grader.checks.softmax``) and the classifier's gradients in
``dlutils.classify`` are compared with ``torch.softmax`` (dim 0: one example
per column), ``torch.nn.functional.cross_entropy`` (which takes logits shaped
(m, C) and integer targets, and averages over the examples) and autograd.
"""
from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from dlutils import classify, multiclass  # noqa: E402
from grader.checks import softmax as checks_softmax  # noqa: E402

pytestmark = pytest.mark.oracle

F = torch.nn.functional


def logits_cases():
    rng = np.random.default_rng(12)
    return [Z for _, Z in checks_softmax._softmax_cases()] + [rng.normal(0, 30, (7, 9))]


@pytest.mark.parametrize("index", range(len(logits_cases())))
def test_softmax_matches_torch(reference, index):
    Z = logits_cases()[index]
    theirs = torch.softmax(torch.tensor(Z, dtype=torch.float64), dim=0).numpy()
    np.testing.assert_allclose(reference["softmax"](Z), theirs, rtol=1e-12, atol=1e-300)
    np.testing.assert_allclose(checks_softmax._softmax_loops(Z), theirs, rtol=1e-12, atol=1e-300)


# Scores within a few tens of each other: the reference's 1e-15 floor never acts, so it equals torch exactly.
@pytest.mark.parametrize("seed, C, m, scale", [(0, 3, 5, 1.0), (1, 10, 40, 5.0), (2, 4, 1, 5.0)])
def test_cost_and_gradient_match_torch(reference, seed, C, m, scale):
    rng = np.random.default_rng(seed)
    Z = rng.normal(0, scale, (C, m))
    y = rng.integers(0, C, m)
    logits = torch.tensor(Z.T.copy(), dtype=torch.float64, requires_grad=True)  # torch: (m, C)
    loss = F.cross_entropy(logits, torch.tensor(y))
    loss.backward()
    AL, Y = reference["softmax"](Z), reference["one_hot"](y, C)
    assert reference["cross_entropy_cost"](AL, Y) == pytest.approx(loss.item(), rel=1e-12)
    assert checks_softmax._cost_loops(AL, Y) == pytest.approx(loss.item(), rel=1e-12)
    # torch's gradient is of the mean: (AL - Y) / m; softmax_backward leaves the 1/m to dW and db.
    np.testing.assert_allclose(reference["softmax_backward"](AL, Y) / m, logits.grad.numpy().T, rtol=1e-10,
                               atol=1e-15)


def test_checks_cost_matches_torch_for_tiny_true_class_probabilities():
    # The checks' own cost has no floor: exact even where the true class gets e^-100.
    Z = np.array([[0.0, 100.0], [100.0, 0.0], [50.0, -20.0]])
    y = np.array([0, 1])
    E = np.exp(Z - Z.max(axis=0))
    expected = F.cross_entropy(torch.tensor(Z.T.copy()), torch.tensor(y)).item()
    got = checks_softmax._cost_loops(E / E.sum(axis=0), multiclass.one_hot(y, 3))
    assert got == pytest.approx(expected, rel=1e-12) and expected > 99


def test_classifier_gradients_match_torch_autograd(reference):
    rng = np.random.default_rng(4)
    X = rng.standard_normal((5, 8))
    y = rng.integers(0, 3, 8)
    parameters = classify.initialize([5, 6, 3], rng, output_scale=1.0)
    hooks = {name: reference[name] for name in ("softmax", "cross_entropy_cost", "softmax_backward")}
    cost, grads = classify.cost_and_gradients(X, reference["one_hot"](y, 3), parameters, **hooks)

    t = {key: torch.tensor(value, dtype=torch.float64, requires_grad=True) for key, value in parameters.items()}
    A1 = torch.relu(t["W1"] @ torch.tensor(X) + t["b1"])
    loss = F.cross_entropy((t["W2"] @ A1 + t["b2"]).T, torch.tensor(y))
    loss.backward()
    assert cost == pytest.approx(loss.item(), rel=1e-12)
    for key, value in t.items():
        np.testing.assert_allclose(grads["d" + key], value.grad.numpy(), rtol=1e-10, atol=1e-14)
    assert multiclass.cross_entropy(classify.probabilities(X, parameters, reference["softmax"]),
                                    multiclass.one_hot(y, 3)) == pytest.approx(loss.item(), rel=1e-12)
