"""dlutils.nn against PyTorch CPU (optional: needs torch): same weights, same batch -> same numbers, in float64.

Conventions converted where they differ, each stated where it is used:
- BatchNorm1d: torch's momentum weighs the NEW value (torch momentum = 1 - ours) and torch's running_var is the
  unbiased (m - 1) variance, ours the population (m) one; eps passed explicitly (torch's default is 1e-5).
- Dropout: torch's p is the probability to DROP (p = 1 - keep_prob); torch draws its own mask, so the same mask is
  applied in torch by hand (x * mask / keep_prob, which is what torch's dropout computes).
- SGD with momentum: torch keeps buf = beta buf + grad (first buf = grad), the course v = beta v + (1 - beta) grad,
  so v = (1 - beta) buf: the course's steps with learning rate lr are torch's with lr * (1 - beta).
- RMSprop: torch's alpha is our beta. Adagrad: torch's initial_accumulator_value 0 and lr_decay 0 are the course's.
"""

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from dlutils import nn  # noqa: E402

pytestmark = pytest.mark.oracle

RTOL, ATOL = 1e-10, 1e-12


def close(ours, theirs, rtol=RTOL, atol=ATOL):
    np.testing.assert_allclose(ours, theirs.detach().numpy(), rtol=rtol, atol=atol)


@pytest.fixture
def rng():
    return np.random.default_rng(21)


def torch_linear(layer):
    n_out, n_in = layer.weight.shape
    t = torch.nn.Linear(n_in, n_out, dtype=torch.float64)
    with torch.no_grad():
        t.weight.copy_(torch.from_numpy(layer.weight.data))
        t.bias.copy_(torch.from_numpy(layer.bias.data))
    return t


def compare_model(ours, theirs, pairs, x, y):
    """Logits, loss and every parameter's gradient of ours vs theirs on one batch."""
    logits = ours(nn.Tensor(x))
    loss = nn.SoftmaxCrossEntropy()(logits, y)
    loss.backward()
    t_logits = theirs(torch.from_numpy(x))
    t_loss = torch.nn.functional.cross_entropy(t_logits, torch.from_numpy(y))
    t_loss.backward()
    close(logits.data, t_logits)
    close(loss.data, t_loss)
    for p, tp in pairs:
        close(p.grad, tp.grad)


@pytest.mark.parametrize("activation, torch_activation", [(nn.ReLU, torch.nn.ReLU), (nn.Tanh, torch.nn.Tanh),
                                                          (nn.Sigmoid, torch.nn.Sigmoid)])
def test_mlp_logits_loss_and_gradients(rng, activation, torch_activation):
    ours = nn.Sequential(nn.Linear(6, 8, rng=rng), activation(), nn.Linear(8, 4, rng=rng))
    theirs = torch.nn.Sequential(torch_linear(ours[0]), torch_activation(), torch_linear(ours[2]))
    pairs = list(zip(ours.parameters(), theirs.parameters()))
    x, y = rng.standard_normal((10, 6)), rng.integers(0, 4, 10)
    compare_model(ours, theirs, pairs, x, y)


def test_batchnorm1d_train_and_eval(rng):
    momentum, eps = 0.9, 1e-8
    ours = nn.Sequential(nn.Linear(5, 6, rng=rng), nn.BatchNorm1d(6, momentum=momentum, epsilon=eps), nn.ReLU(),
                         nn.Linear(6, 3, rng=rng))
    ours[1].weight.data[:] = rng.uniform(0.5, 2, 6)
    ours[1].bias.data[:] = rng.standard_normal(6)
    t_bn = torch.nn.BatchNorm1d(6, momentum=1 - momentum, eps=eps, dtype=torch.float64)  # torch weighs the new
    with torch.no_grad():
        t_bn.weight.copy_(torch.from_numpy(ours[1].weight.data))
        t_bn.bias.copy_(torch.from_numpy(ours[1].bias.data))
    theirs = torch.nn.Sequential(torch_linear(ours[0]), t_bn, torch.nn.ReLU(), torch_linear(ours[3]))
    pairs = list(zip(ours.parameters(), theirs.parameters()))
    m = 12
    for _ in range(3):
        x, y = rng.standard_normal((m, 5)) * 3 + 1, rng.integers(0, 3, m)
        for p, tp in pairs:
            p.grad, tp.grad = None, None
        compare_model(ours, theirs, pairs, x, y)
    close(ours[1].running_mean, t_bn.running_mean)
    # torch's running variance averages unbiased variances: ours (population) = theirs * (m - 1) / m, each batch
    # being the same size m, with both starting at 1 -> undo on the part the batches contributed
    start = momentum ** 3
    ours_batches = ours[1].running_var - start
    theirs_batches = t_bn.running_var.detach().numpy() - start
    np.testing.assert_allclose(ours_batches, theirs_batches * (m - 1) / m, rtol=1e-10)
    ours.eval()
    with torch.no_grad():
        t_bn.running_var.copy_(torch.from_numpy(ours[1].running_var))  # the same statistics for eval
    theirs.eval()
    x = rng.standard_normal((4, 5))
    close(ours(nn.Tensor(x)).data, theirs(torch.from_numpy(x)))


def test_dropout_with_the_same_mask(rng):
    keep_prob = 0.7
    x = rng.standard_normal((8, 5))
    mask = np.random.default_rng(4).random(x.shape) < keep_prob  # what nn.Dropout(0.7, rng=default_rng(4)) draws
    drop = nn.Dropout(keep_prob, rng=np.random.default_rng(4))
    t = nn.Tensor(x, requires_grad=True)
    out = drop(t)
    upstream = rng.standard_normal(x.shape)
    out.backward(upstream)
    tx = torch.tensor(x, requires_grad=True)
    t_out = tx * torch.from_numpy(mask) / keep_prob
    t_out.backward(torch.from_numpy(upstream))
    close(out.data, t_out)
    close(t.grad, tx.grad)
    # torch's own dropout (p = 1 - keep_prob) scales kept units by the same 1 / keep_prob
    kept = torch.nn.functional.dropout(torch.ones(1000, dtype=torch.float64), p=1 - keep_prob, training=True)
    assert set(np.unique(kept.numpy())) <= {0.0, 1 / keep_prob}


def test_softmax_cross_entropy_matches_torch_for_large_logits(rng):
    z = rng.standard_normal((9, 5)) * 50
    y = rng.integers(0, 5, 9)
    t = nn.Tensor(z, requires_grad=True)
    loss = nn.SoftmaxCrossEntropy()(t, y)
    loss.backward()
    tz = torch.tensor(z, requires_grad=True)
    t_loss = torch.nn.functional.cross_entropy(tz, torch.from_numpy(y))
    t_loss.backward()
    close(loss.data, t_loss)
    close(t.grad, tz.grad)


def test_sigmoid_cross_entropy_with_mask_matches_torch(rng):
    z, targets, mask = rng.standard_normal((6, 3)) * 4, rng.integers(0, 2, (6, 3)), rng.integers(0, 2, (6, 3))
    t = nn.Tensor(z, requires_grad=True)
    loss = nn.SigmoidCrossEntropy()(t, targets, mask)
    loss.backward()
    tz = torch.tensor(z, requires_grad=True)
    t_losses = torch.nn.functional.binary_cross_entropy_with_logits(tz, torch.tensor(targets, dtype=torch.float64),
                                                                    reduction="none")
    t_loss = (t_losses * torch.from_numpy(mask)).sum() / mask.sum()
    t_loss.backward()
    close(loss.data, t_loss)
    close(t.grad, tz.grad)


OPTIMIZERS = {
    "sgd": (lambda ps: nn.optim.SGD(ps, 0.1), lambda ps: torch.optim.SGD(ps, lr=0.1)),
    # the course's momentum with lr is torch's with lr * (1 - beta) (see the module docstring)
    "momentum": (lambda ps: nn.optim.SGD(ps, 0.1, momentum=0.9),
                 lambda ps: torch.optim.SGD(ps, lr=0.1 * (1 - 0.9), momentum=0.9)),
    "rmsprop": (lambda ps: nn.optim.RMSprop(ps, 0.01, beta=0.95, epsilon=1e-8),
                lambda ps: torch.optim.RMSprop(ps, lr=0.01, alpha=0.95, eps=1e-8)),
    "adam": (lambda ps: nn.optim.Adam(ps, learning_rate=0.01, beta1=0.85, beta2=0.99, epsilon=1e-8),
             lambda ps: torch.optim.Adam(ps, lr=0.01, betas=(0.85, 0.99), eps=1e-8)),
    "adagrad": (lambda ps: nn.optim.Adagrad(ps, 0.05, epsilon=1e-10),
                lambda ps: torch.optim.Adagrad(ps, lr=0.05, eps=1e-10, initial_accumulator_value=0, lr_decay=0)),
}


@pytest.mark.parametrize("name", OPTIMIZERS)
def test_optimizer_steps_match_torch(rng, name):
    ours = nn.Sequential(nn.Linear(4, 6, rng=rng), nn.Tanh(), nn.Linear(6, 3, rng=rng))
    theirs = torch.nn.Sequential(torch_linear(ours[0]), torch.nn.Tanh(), torch_linear(ours[2]))
    make_ours, make_theirs = OPTIMIZERS[name]
    optimizer, t_optimizer = make_ours(ours.parameters()), make_theirs(theirs.parameters())
    loss_fn = nn.SoftmaxCrossEntropy()
    for _ in range(6):
        x, y = rng.standard_normal((8, 4)), rng.integers(0, 3, 8)
        optimizer.zero_grad()
        loss_fn(ours(nn.Tensor(x)), y).backward()
        optimizer.step()
        t_optimizer.zero_grad()
        torch.nn.functional.cross_entropy(theirs(torch.from_numpy(x)), torch.from_numpy(y)).backward()
        t_optimizer.step()
        for p, tp in zip(ours.parameters(), theirs.parameters()):
            close(p.data, tp, rtol=1e-9, atol=1e-12)
