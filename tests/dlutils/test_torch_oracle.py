"""dlutils layers against PyTorch CPU autograd in float64 (optional: needs torch)."""

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from dlutils import layers, model  # noqa: E402

pytestmark = pytest.mark.oracle

RTOL, ATOL = 1e-12, 1e-14


def tensor(array):
    return torch.tensor(array, dtype=torch.float64, requires_grad=True)


def close(ours, theirs):
    np.testing.assert_allclose(ours, theirs.detach().numpy(), rtol=RTOL, atol=ATOL)


@pytest.fixture
def rng():
    return np.random.default_rng(3)


def test_linear_forward_backward(rng):
    A_prev, W, b = rng.standard_normal((4, 7)), rng.standard_normal((3, 4)), rng.standard_normal((3, 1))
    dZ = rng.standard_normal((3, 7))
    m = A_prev.shape[1]
    Z, cache = layers.linear_forward(A_prev, W, b)
    dA_prev, dW, db = layers.linear_backward(dZ, cache)

    tA, tW, tb = tensor(A_prev), tensor(W), tensor(b)
    tZ = tW @ tA + tb
    tZ.backward(torch.from_numpy(dZ))
    close(Z, tZ)
    close(dA_prev, tA.grad)
    close(dW, tW.grad / m)  # course convention: dW and db are averaged over the m examples
    close(db, tb.grad / m)


@pytest.mark.parametrize("name, torch_fn", [("relu", "relu"), ("sigmoid", "sigmoid"), ("tanh", "tanh")])
def test_activations_forward_backward(rng, name, torch_fn):
    Z = rng.standard_normal((5, 8)) * 4
    Z[0, :3] = [-800.0, 0.5, 800.0]  # saturating inputs too
    dA = rng.standard_normal((5, 8))
    A, cache = getattr(layers, f"{name}_forward")(Z)
    dZ = getattr(layers, f"{name}_backward")(dA, cache)

    tZ = tensor(Z)
    tA = getattr(torch, torch_fn)(tZ)
    tA.backward(torch.from_numpy(dA))
    close(A, tA)
    close(dZ, tZ.grad)


def test_sigmoid_cross_entropy_output_gradient(rng):
    m = 9
    Z = rng.standard_normal((1, m)) * 3
    Z[0, :2] = [40.0, -40.0]  # nearly saturated, where the combined gradient matters
    Y = (rng.random((1, m)) > 0.5).astype(float)
    Y[0, :2] = [0.0, 1.0]
    parameters = {"W1": np.eye(1), "b1": np.zeros((1, 1))}
    AL, caches = model.L_model_forward(Z, parameters)  # AL = sigmoid(Z): a one-layer net on X = Z
    grads = model.L_model_backward(AL, Y, caches)

    tZ = tensor(Z)
    loss = torch.nn.functional.binary_cross_entropy_with_logits(tZ, torch.from_numpy(Y))
    loss.backward()
    # The cost clips AL to [1e-15, 1 - 1e-15], so compare it where nothing saturates.
    moderate = torch.nn.functional.binary_cross_entropy_with_logits(
        torch.from_numpy(Z[:, 2:]), torch.from_numpy(Y[:, 2:])
    )
    assert model.compute_cost(AL[:, 2:], Y[:, 2:]) == pytest.approx(moderate.item(), rel=1e-10)
    # dW1 = dZ X^T / m with X = Z; dZ = AL - Y must equal m * dloss/dZ
    dZ = m * tZ.grad.numpy()
    np.testing.assert_allclose(AL - Y, dZ, rtol=RTOL, atol=ATOL)
    np.testing.assert_allclose(grads["dW1"], dZ @ Z.T / m, rtol=1e-12)
    np.testing.assert_allclose(grads["db1"], dZ.sum(keepdims=True) / m, rtol=1e-12)
