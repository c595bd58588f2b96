"""What the hidden checks of 12_frameworks grade against, compared with PyTorch's autograd and
torch.optim.Adam in float64 (optional: needs torch).

* unbroadcast: the gradient torch gives a broadcast operand of ``a + b``;
* matmul_backward: torch's gradients of ``(A @ B * G).sum()``, A 2-D or a batch;
* adam_step: ``torch.optim.Adam(lr, betas, eps)`` (same bias correction, epsilon outside the
  square root), step by step from the empty state.
"""
from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from grader.checks import frameworks as checks_frameworks  # noqa: E402

pytestmark = pytest.mark.oracle


@pytest.mark.parametrize("case", checks_frameworks._unbroadcast_cases(), ids=lambda c: c[0])
def test_unbroadcast_expected_is_torchs_gradient(case):
    _, grad_shape, shape, _ = case
    rng = np.random.default_rng(0)
    grad = rng.standard_normal(grad_shape)
    big = torch.zeros(grad_shape, dtype=torch.float64)
    operand = torch.zeros(shape, dtype=torch.float64, requires_grad=True)
    ((big + operand) * torch.from_numpy(grad)).sum().backward()
    np.testing.assert_allclose(checks_frameworks._unbroadcast_loops(grad, shape), operand.grad.numpy(),
                               rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("case", checks_frameworks._matmul_cases(), ids=lambda c: c[0])
def test_matmul_expected_is_torchs_gradient(case):
    _, a_shape, b_shape = case
    rng = np.random.default_rng(1)
    A, B = rng.standard_normal(a_shape), rng.standard_normal(b_shape)
    grad = rng.standard_normal(a_shape[:-1] + b_shape[-1:])
    At, Bt = (torch.tensor(x, requires_grad=True) for x in (A, B))
    ((At @ Bt) * torch.from_numpy(grad)).sum().backward()
    dA, dB = checks_frameworks._matmul_expected(grad, A, B)
    np.testing.assert_allclose(dA, At.grad.numpy(), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(dB, Bt.grad.numpy(), rtol=1e-12, atol=1e-12)


def test_adam_expected_is_torch_adam():
    hyper = {"learning_rate": 0.02, "beta1": 0.8, "beta2": 0.95, "epsilon": 0.3}
    params, grads = checks_frameworks._adam_problem(3)
    tensors = [torch.tensor(p, requires_grad=True) for p in params]
    optimizer = torch.optim.Adam(tensors, lr=hyper["learning_rate"], betas=(hyper["beta1"], hyper["beta2"]),
                                 eps=hyper["epsilon"])
    state: dict = {}
    for step in range(4):
        step_grads = [(step + 1) * g for g in grads]
        params, state = checks_frameworks._adam_expected(params, step_grads, state, hyper)
        for t, g in zip(tensors, step_grads):
            t.grad = torch.from_numpy(g)
        optimizer.step()
        for mine, theirs in zip(params, tensors):
            np.testing.assert_allclose(mine, theirs.detach().numpy(), rtol=1e-12, atol=1e-14)
