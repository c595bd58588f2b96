"""The reference solutions of 10_batch_norm against PyTorch CPU in float64 (optional: needs torch).

Also pins down, as executable statements, the conventions the notebook states: PyTorch's momentum
0.1 weights the new value (our 0.9 weights the old one: the same average), PyTorch normalizes with
the population variance but stores the unbiased one in running_var, and its epsilon is an argument
(1e-5 by default; we pass ours).
"""
import numpy as np
import pytest

torch = pytest.importorskip("torch")
F = torch.nn.functional

pytestmark = pytest.mark.oracle

RTOL, ATOL = 1e-10, 1e-12


def batch_first(array):
    """(n_l, m) in the course's layout -> (m, n_l) tensor, as every framework wants it."""
    return torch.tensor(np.ascontiguousarray(array.T), dtype=torch.float64, requires_grad=True)


@pytest.mark.parametrize("shape, mean, scale", [((3, 5), 0.0, 1.0), ((4, 6), 12.0, 5.0), ((2, 9), 0.0, 1e-4)])
def test_forward_and_backward_match_torch(reference, shape, mean, scale):
    g = np.random.default_rng(0)
    Z = mean + scale * g.standard_normal(shape)
    gamma, beta = g.uniform(0.5, 2.0, (shape[0], 1)), g.standard_normal((shape[0], 1))
    dZ_tilde = g.standard_normal(shape)
    Z_tilde, cache = reference["batchnorm_forward"](Z, gamma, beta)
    dZ, dgamma, dbeta = reference["batchnorm_backward"](dZ_tilde, cache)
    compact = reference["batchnorm_backward_compact"](dZ_tilde, cache)

    tZ = batch_first(Z)
    tgamma = torch.tensor(gamma.ravel(), requires_grad=True)
    tbeta = torch.tensor(beta.ravel(), requires_grad=True)
    out = F.batch_norm(tZ, None, None, tgamma, tbeta, training=True, eps=1e-8)
    out.backward(torch.from_numpy(np.ascontiguousarray(dZ_tilde.T)))
    np.testing.assert_allclose(Z_tilde, out.detach().numpy().T, rtol=RTOL, atol=ATOL)
    for ours in ((dZ, dgamma, dbeta), compact):
        np.testing.assert_allclose(ours[0], tZ.grad.numpy().T, rtol=1e-8, atol=1e-10)
        np.testing.assert_allclose(ours[1].ravel(), tgamma.grad.numpy(), rtol=1e-8, atol=1e-10)
        np.testing.assert_allclose(ours[2].ravel(), tbeta.grad.numpy(), rtol=1e-8, atol=1e-10)


def test_running_statistics_conventions(reference):
    """Our momentum 0.9 (old value) is PyTorch's 0.1 (new value); PyTorch stores the unbiased variance."""
    g = np.random.default_rng(1)
    n, m = 3, 8
    running_mean, running_var = g.standard_normal((n, 1)), g.uniform(0.5, 2.0, (n, 1))
    Z = g.standard_normal((n, m))
    mu, var = Z.mean(axis=1, keepdims=True), Z.var(axis=1, keepdims=True)
    ours_mean, ours_var = reference["update_running_stats"](running_mean, running_var, mu, var, momentum=0.9)

    t_mean, t_var = torch.tensor(running_mean.ravel()), torch.tensor(running_var.ravel())
    F.batch_norm(batch_first(Z), t_mean, t_var, training=True, momentum=0.1, eps=1e-8)
    np.testing.assert_allclose(ours_mean.ravel(), t_mean.numpy(), rtol=RTOL)
    _, unbiased = reference["update_running_stats"](running_mean, running_var, mu, var * m / (m - 1), momentum=0.9)
    np.testing.assert_allclose(unbiased.ravel(), t_var.numpy(), rtol=RTOL)
    assert not np.allclose(ours_var.ravel(), t_var.numpy(), rtol=1e-3)  # population vs unbiased: they differ


def test_inference_matches_torch_eval_mode(reference):
    g = np.random.default_rng(2)
    Z = 5 * g.standard_normal((4, 1)) + 12  # one example: fine at test time
    gamma, beta = g.uniform(0.5, 2.0, (4, 1)), g.standard_normal((4, 1))
    running_mean, running_var = 12 + g.standard_normal((4, 1)), g.uniform(0.5, 2.0, (4, 1))
    ours = reference["batchnorm_inference"](Z, gamma, beta, running_mean, running_var, epsilon=1e-5)
    theirs = F.batch_norm(batch_first(Z), torch.tensor(running_mean.ravel()), torch.tensor(running_var.ravel()),
                          torch.tensor(gamma.ravel()), torch.tensor(beta.ravel()), training=False, eps=1e-5)
    np.testing.assert_allclose(ours, theirs.detach().numpy().T, rtol=RTOL, atol=ATOL)
