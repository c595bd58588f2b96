"""dlutils.nn.functional: the fused ops' forward values and backward against centred differences (float64)."""

import numpy as np
import pytest
from _numgrad import rel_error
from test_nn_tensor import check_gradients

from dlutils import nn
from dlutils.nn import functional as F


@pytest.fixture
def rng():
    return np.random.default_rng(11)


def test_linear_forward_and_gradients(rng):
    x, w, b = rng.standard_normal((5, 4)), rng.standard_normal((3, 4)), rng.standard_normal(3)
    out = F.linear(nn.Tensor(x), nn.Tensor(w), nn.Tensor(b))
    np.testing.assert_allclose(out.data, x @ w.T + b)
    check_gradients(F.linear, x, w, b, rng=rng)
    check_gradients(lambda x, w: F.linear(x, w), x, w, rng=rng)


def test_linear_skips_the_input_gradient_it_does_not_need(rng):
    x, w, b = nn.Tensor(rng.standard_normal((5, 4))), nn.Parameter(rng.standard_normal((3, 4))), nn.Parameter(
        np.zeros(3))
    F.linear(x, w, b).sum().backward()
    assert x.grad is None
    np.testing.assert_allclose(b.grad, np.full(3, 5.0))
    with pytest.raises(ValueError, match=r"x: expected shape \(m, 4\)"):
        F.linear(nn.Tensor(np.ones((5, 3))), w, b)


def test_log_softmax(rng):
    x = rng.standard_normal((4, 5)) * 3
    out = F.log_softmax(nn.Tensor(x)).data
    np.testing.assert_allclose(np.exp(out).sum(axis=1), 1.0)
    np.testing.assert_allclose(out, x - np.log(np.exp(x).sum(axis=1, keepdims=True)))
    check_gradients(F.log_softmax, x, rng=rng)
    assert np.isfinite(F.log_softmax(nn.Tensor(np.array([[1000.0, 0.0], [-1e4, -1e4]]))).data).all()


def softmax_ce_reference(z, y):
    p = np.exp(z - z.max(axis=1, keepdims=True))
    p /= p.sum(axis=1, keepdims=True)
    return -np.mean(np.log(p[np.arange(len(y)), y]))


def test_softmax_cross_entropy_value_and_gradient(rng):
    z, y = rng.standard_normal((6, 4)) * 2, rng.integers(0, 4, 6)
    loss = F.softmax_cross_entropy(nn.Tensor(z), y)
    assert loss.shape == () and loss.item() == pytest.approx(softmax_ce_reference(z, y), rel=1e-12)
    check_gradients(lambda t: F.softmax_cross_entropy(t, y), z, rng=rng)
    # the fused node equals its composition from the basic ops
    t1, t2 = nn.Parameter(z), nn.Parameter(z)
    F.softmax_cross_entropy(t1, y).backward()
    one_hot = np.eye(4)[y]
    (-(F.log_softmax(t2) * one_hot).sum(axis=1).mean()).backward()
    assert rel_error(t1.grad, t2.grad) < 1e-12


def test_softmax_cross_entropy_first_cost_is_ln_C_and_huge_logits_are_finite():
    z = np.zeros((8, 10))
    assert F.softmax_cross_entropy(nn.Tensor(z), np.arange(8)).item() == pytest.approx(np.log(10))
    loss = F.softmax_cross_entropy(nn.Tensor(np.array([[1000.0, -1000.0]])), np.array([1]))
    assert loss.item() == pytest.approx(2000.0)


def test_softmax_cross_entropy_bad_labels():
    z = nn.Tensor(np.zeros((3, 4)))
    with pytest.raises(ValueError, match=r"labels: expected shape \(3,\).*not one-hot"):
        F.softmax_cross_entropy(z, np.eye(4)[:3])
    with pytest.raises(ValueError, match=r"labels: expected class labels in 0..3"):
        F.softmax_cross_entropy(z, np.array([0, 1, 4]))
    with pytest.raises(ValueError, match="labels: expected integer"):
        F.softmax_cross_entropy(z, np.array([0.5, 1, 2]))
    with pytest.raises(ValueError, match=r"logits: expected shape \(m, C\)"):
        F.softmax_cross_entropy(nn.Tensor(np.zeros(3)), np.array([0, 1, 2]))
    with pytest.raises(ValueError, match="logits: expected a Tensor"):
        F.softmax_cross_entropy(np.zeros((3, 4)), np.array([0, 1, 2]))


def sigmoid_ce_reference(z, t, mask):
    a = 1 / (1 + np.exp(-z))
    losses = -(t * np.log(a) + (1 - t) * np.log(1 - a))
    return (losses * mask).sum() / mask.sum()


@pytest.mark.parametrize("with_mask", [False, True])
def test_sigmoid_cross_entropy_with_mask(rng, with_mask):
    z, t = rng.standard_normal((5, 3)) * 2, rng.integers(0, 2, (5, 3))
    mask = rng.integers(0, 2, (5, 3)) if with_mask else None
    mask_or_ones = np.ones((5, 3)) if mask is None else mask
    loss = F.sigmoid_cross_entropy(nn.Tensor(z), t, mask)
    assert loss.item() == pytest.approx(sigmoid_ce_reference(z, t, mask_or_ones), rel=1e-12)
    check_gradients(lambda a: F.sigmoid_cross_entropy(a, t, mask), z, rng=rng)
    if with_mask:  # an unknown label changes nothing
        z2 = z.copy()
        z2[mask == 0] += 5.0
        assert F.sigmoid_cross_entropy(nn.Tensor(z2), t, mask).item() == pytest.approx(loss.item(), rel=1e-12)


def test_sigmoid_cross_entropy_is_stable_and_checks_its_inputs():
    loss = F.sigmoid_cross_entropy(nn.Tensor(np.array([[800.0, -800.0]])), np.array([[0, 1]]))
    assert loss.item() == pytest.approx(800.0)
    z = nn.Tensor(np.zeros((2, 2)))
    with pytest.raises(ValueError, match=r"targets: expected shape \(2, 2\)"):
        F.sigmoid_cross_entropy(z, np.zeros((2, 3)))
    with pytest.raises(ValueError, match=r"mask: expected shape \(2, 2\)"):
        F.sigmoid_cross_entropy(z, np.zeros((2, 2)), np.ones(2))
    with pytest.raises(ValueError, match="mask: keeps no entry"):
        F.sigmoid_cross_entropy(z, np.zeros((2, 2)), np.zeros((2, 2)))
    with pytest.raises(ValueError, match="mask: expected 0"):
        F.sigmoid_cross_entropy(z, np.zeros((2, 2)), np.full((2, 2), 0.5))


def test_dropout_with_a_fixed_mask(rng):
    x, mask = rng.standard_normal((4, 6)), rng.random((4, 6)) < 0.7
    out = F.dropout(nn.Tensor(x), 0.7, mask=mask)
    np.testing.assert_allclose(out.data, x * mask / 0.7)
    check_gradients(lambda a: F.dropout(a, 0.7, mask=mask), x, rng=rng)


def test_dropout_draws_its_mask_from_rng_only(rng):
    x = nn.Tensor(np.ones((200, 50)))
    a = F.dropout(x, 0.8, rng=np.random.default_rng(5)).data
    b = F.dropout(x, 0.8, rng=np.random.default_rng(5)).data
    np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(a != 0, np.random.default_rng(5).random((200, 50)) < 0.8)
    assert set(np.unique(a)) == {0.0, 1 / 0.8}
    assert F.dropout(x, 1.0) is x
    for bad in (0, 1.5, "0.5"):
        with pytest.raises(ValueError, match="keep_prob: "):
            F.dropout(x, bad, rng=rng)
    with pytest.raises(ValueError, match="rng: "):
        F.dropout(x, 0.5)
    with pytest.raises(ValueError, match="mask: "):
        F.dropout(x, 0.5, mask=np.ones(3))


def batchnorm_course(Z, gamma, beta, epsilon):
    """The course's batch norm (10_batch_norm), on (n, m) columns."""
    mu = Z.mean(axis=1, keepdims=True)
    var = ((Z - mu) ** 2).mean(axis=1, keepdims=True)
    return gamma * (Z - mu) / np.sqrt(var + epsilon) + beta, mu, var


def test_batch_norm_train_mode_values_stats_and_gradients(rng):
    x, gamma, beta = rng.standard_normal((6, 3)) * 5 + 12, rng.standard_normal(3), rng.standard_normal(3)
    running_mean, running_var = np.full(3, 0.5), np.full(3, 2.0)
    out = F.batch_norm(nn.Tensor(x), nn.Tensor(gamma), nn.Tensor(beta), running_mean, running_var, True,
                       momentum=0.9, epsilon=1e-8)
    expected, mu, var = batchnorm_course(x.T, gamma[:, None], beta[:, None], 1e-8)
    np.testing.assert_allclose(out.data, expected.T, rtol=1e-12)
    np.testing.assert_allclose(running_mean, 0.9 * 0.5 + 0.1 * mu.ravel(), rtol=1e-12)  # momentum weighs the old
    np.testing.assert_allclose(running_var, 0.9 * 2.0 + 0.1 * var.ravel(), rtol=1e-12)  # population variance

    def op(a, g, b):
        return F.batch_norm(a, g, b, np.zeros(3), np.ones(3), True, epsilon=1e-5)
    check_gradients(op, x, gamma, beta, rng=rng)


def test_batch_norm_eval_mode_uses_the_running_stats(rng):
    x, gamma, beta = rng.standard_normal((4, 3)), rng.standard_normal(3), rng.standard_normal(3)
    running_mean, running_var = rng.standard_normal(3), rng.uniform(0.5, 2, 3)
    before = running_mean.copy(), running_var.copy()
    out = F.batch_norm(nn.Tensor(x), nn.Tensor(gamma), nn.Tensor(beta), running_mean, running_var, False)
    np.testing.assert_allclose(out.data, gamma * (x - running_mean) / np.sqrt(running_var + 1e-8) + beta)
    np.testing.assert_array_equal(running_mean, before[0])
    np.testing.assert_array_equal(running_var, before[1])
    check_gradients(lambda a, g, b: F.batch_norm(a, g, b, running_mean, running_var, False), x, gamma, beta,
                    rng=rng)


def test_batch_norm_checks_its_input(rng):
    g, b = nn.Tensor(np.ones(3)), nn.Tensor(np.zeros(3))
    with pytest.raises(ValueError, match=r"x: expected shape \(m, 3\)"):
        F.batch_norm(nn.Tensor(np.ones((4, 2))), g, b, np.zeros(3), np.ones(3), True)
    with pytest.raises(ValueError, match="at least 2 examples"):
        F.batch_norm(nn.Tensor(np.ones((1, 3))), g, b, np.zeros(3), np.ones(3), True)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_fused_ops_keep_the_dtype(rng, dtype):
    x = nn.Parameter(rng.standard_normal((4, 3)).astype(dtype))
    w, b = nn.Parameter(np.ones((2, 3), dtype=dtype)), nn.Parameter(np.zeros(2, dtype=dtype))
    h = F.batch_norm(x, nn.Parameter(np.ones(3, dtype=dtype)), nn.Parameter(np.zeros(3, dtype=dtype)),
                     np.zeros(3, dtype=dtype), np.ones(3, dtype=dtype), True)
    h = F.dropout(F.linear(h, w, b), 0.5, rng=rng)
    losses = [F.softmax_cross_entropy(h, np.array([0, 1, 1, 0])),
              F.sigmoid_cross_entropy(h, np.ones((4, 2)), np.ones((4, 2))), F.log_softmax(h).sum()]
    for loss in losses:
        assert loss.dtype == dtype
        loss.backward()
        assert x.grad.dtype == dtype and w.grad.dtype == dtype


def test_ops_need_tensors():
    for fn in (F.relu, F.tanh, F.sigmoid, F.log_softmax):
        with pytest.raises(ValueError, match="x: expected a Tensor"):
            fn(np.ones((2, 2)))
