"""The hidden checks of 10_batch_norm: pass the reference and correct variants (compact and
step-by-step backward, loops, in place, tuple / dict / NamedTuple caches), fail a catalogue of
realistic wrong implementations with a message that names the problem."""
from __future__ import annotations

from pathlib import Path
from typing import NamedTuple

import numpy as np
import pytest

from grader.checks import batch_norm

# ------------------------------------------------------------------ forward / backward pairs


def forward_dict(Z, gamma, beta, epsilon=1e-8):
    """Caches the intermediates of the computation graph, keyed by name."""
    mu = Z.mean(axis=1, keepdims=True)
    Z_mu = Z - mu
    var = (Z_mu ** 2).mean(axis=1, keepdims=True)
    std = np.sqrt(var + epsilon)
    Z_hat = Z_mu / std
    return gamma * Z_hat + beta, {"Z_mu": Z_mu, "std": std, "Z_hat": Z_hat, "gamma": gamma}


def backward_step_by_step(dZ_tilde, cache):
    """Back through the graph one node at a time (CS231n style)."""
    Z_mu, std, Z_hat, gamma = cache["Z_mu"], cache["std"], cache["Z_hat"], cache["gamma"]
    m = dZ_tilde.shape[1]
    dbeta = dZ_tilde.sum(axis=1, keepdims=True)
    dgamma = (dZ_tilde * Z_hat).sum(axis=1, keepdims=True)
    dZ_hat = dZ_tilde * gamma
    dstd = -(dZ_hat * Z_mu).sum(axis=1, keepdims=True) / std ** 2
    dvar = dstd / (2 * std)
    dZ_mu = dZ_hat / std + 2 * Z_mu * dvar / m
    dmu = -dZ_mu.sum(axis=1, keepdims=True)
    dZ = dZ_mu + dmu / m
    return dZ, dgamma, dbeta


class Cache(NamedTuple):
    Z: np.ndarray
    mu: np.ndarray
    var: np.ndarray
    gamma: np.ndarray
    epsilon: float


def forward_namedtuple(Z, gamma, beta, epsilon=1e-8):
    mu, var = Z.mean(axis=1, keepdims=True), Z.var(axis=1, keepdims=True)
    return gamma * (Z - mu) / np.sqrt(var + epsilon) + beta, Cache(Z, mu, var, gamma, epsilon)


def backward_unpacks(dZ_tilde, cache):
    Z, mu, var, gamma, epsilon = cache  # by position: works on the plain tuple the grader passes
    inv_std = 1 / np.sqrt(var + epsilon)
    Z_hat = (Z - mu) * inv_std
    m = Z.shape[1]
    dbeta = dZ_tilde.sum(axis=1, keepdims=True)
    dgamma = (dZ_tilde * Z_hat).sum(axis=1, keepdims=True)
    dZ = gamma * inv_std / m * (m * dZ_tilde - dbeta - Z_hat * dgamma)
    return dZ, dgamma, dbeta


def backward_attributes(dZ_tilde, cache):
    return backward_unpacks(dZ_tilde, (cache.Z, cache.mu, cache.var, cache.gamma, cache.epsilon))


def forward_loops(Z, gamma, beta, epsilon=1e-8):
    """One unit (row) at a time, in place into Z."""
    Z_hat = np.empty_like(Z)
    inv_std = np.empty((Z.shape[0], 1))
    for i in range(Z.shape[0]):
        row = Z[i]
        mu = sum(row) / len(row)
        var = sum((z - mu) ** 2 for z in row) / len(row)
        inv_std[i] = 1 / np.sqrt(var + epsilon)
        Z_hat[i] = (row - mu) * inv_std[i]
    Z[:] = gamma * Z_hat + beta
    return Z, [Z_hat, gamma, inv_std]


def backward_loops(dZ_tilde, cache):
    Z_hat, gamma, inv_std = cache
    n, m = dZ_tilde.shape
    dZ, dgamma, dbeta = np.zeros((n, m)), np.zeros((n, 1)), np.zeros((n, 1))
    for i in range(n):
        for j in range(m):
            dbeta[i, 0] += dZ_tilde[i, j]
            dgamma[i, 0] += dZ_tilde[i, j] * Z_hat[i, j]
    for i in range(n):
        for j in range(m):
            dZ[i, j] = gamma[i, 0] * inv_std[i, 0] / m * (m * dZ_tilde[i, j] - dbeta[i, 0] - Z_hat[i, j] * dgamma[i, 0])
    return dZ, dgamma, dbeta


def test_forward_reference_and_variants_pass(reference):
    batch_norm.check_batchnorm_forward(reference["batchnorm_forward"])
    for forward in (forward_dict, forward_namedtuple, forward_loops):
        batch_norm.check_batchnorm_forward(forward)


@pytest.mark.parametrize("forward, backward", [
    (forward_dict, backward_step_by_step),
    (forward_namedtuple, backward_unpacks),
    (forward_loops, backward_loops),
], ids=["dict cache, step by step", "NamedTuple cache unpacked", "loops, in place, list cache"])
def test_backward_variants_pass(forward, backward):
    batch_norm.check_batchnorm_backward(backward, forward)


def test_backward_reference_finds_its_forward(reference):
    """From a notebook the check finds batchnorm_forward next to batchnorm_backward."""
    batch_norm.check_batchnorm_backward(reference["batchnorm_backward"])


def test_backward_without_a_forward_says_so():
    namespace = {"np": np}
    exec("def batchnorm_backward(dZ_tilde, cache):\n    return cache", namespace)
    with pytest.raises(AssertionError, match="define batchnorm_forward first"):
        batch_norm.check_batchnorm_backward(namespace["batchnorm_backward"])


def test_backward_reading_namedtuple_attributes_is_told_to_unpack():
    with pytest.raises(AssertionError, match="unpack it by position"):
        batch_norm.check_batchnorm_backward(backward_attributes, forward_namedtuple)


def test_cache_that_cannot_travel_fails_the_forward():
    def forward_lambda_cache(Z, gamma, beta, epsilon=1e-8):
        Z_tilde, cache = forward_dict(Z, gamma, beta, epsilon)
        return Z_tilde, (cache, lambda: None)

    with pytest.raises(AssertionError, match="cache holds a function"):
        batch_norm.check_batchnorm_forward(forward_lambda_cache)


def test_wrong_forward_with_a_right_cache_keeps_the_backward(reference):
    """Exercises stay independent: a forward that forgets beta but caches the right things."""
    def forward_no_beta(Z, gamma, beta, epsilon=1e-8):
        Z_tilde, cache = reference["batchnorm_forward"](Z, gamma, beta, epsilon)
        return Z_tilde - beta, cache

    with pytest.raises(AssertionError, match="beta is missing"):
        batch_norm.check_batchnorm_forward(forward_no_beta)
    batch_norm.check_batchnorm_backward(reference["batchnorm_backward"], forward_no_beta)


def test_backward_with_a_wrong_forward_cache_points_at_the_forward():
    def forward_ddof(Z, gamma, beta, epsilon=1e-8):
        mu, var = Z.mean(axis=1, keepdims=True), Z.var(axis=1, ddof=1, keepdims=True)
        Z_hat = (Z - mu) / np.sqrt(var + epsilon)
        return gamma * Z_hat + beta, (Z_hat, gamma, 1 / np.sqrt(var + epsilon))

    with pytest.raises(AssertionError, match="fix the forward first"):
        batch_norm.check_batchnorm_backward(backward_loops, forward_ddof)


# ------------------------------------------------------------------ wrong forwards


def forward_wrong(ddof=0, axis=1, eps_outside=False, gamma_used=True, beta_used=True, default_eps=1e-8,
                  epsilon_used=True):
    def forward(Z, gamma, beta, epsilon=default_eps):
        eps = epsilon if epsilon_used else 1e-8
        mu = Z.mean(axis=axis, keepdims=True)
        var = Z.var(axis=axis, ddof=ddof, keepdims=True)
        Z_hat = (Z - mu) / (np.sqrt(var) + eps if eps_outside else np.sqrt(var + eps))
        return (gamma if gamma_used else 1) * Z_hat + (beta if beta_used else 0), (Z_hat, gamma, 1 / np.sqrt(var + eps))
    return forward


def forward_no_keepdims(Z, gamma, beta, epsilon=1e-8):
    mu, var = Z.mean(axis=1), Z.var(axis=1)  # (n,) broadcasts along the examples
    Z_hat = (Z - mu) / np.sqrt(var + epsilon)
    return gamma * Z_hat + beta, (Z_hat, gamma)


def forward_float32(Z, gamma, beta, epsilon=1e-8):
    Z_tilde, cache = forward_dict(Z, gamma, beta, epsilon)
    return Z_tilde.astype(np.float32), cache


FORWARD_WRONG = {
    "ddof=1": (forward_wrong(ddof=1), "sample variance"),
    "wrong axis": (forward_wrong(axis=0), "wrong axis"),
    "epsilon outside the square root": (forward_wrong(eps_outside=True), "epsilon outside the square root"),
    "no gamma": (forward_wrong(gamma_used=False), "gamma is missing"),
    "no beta": (forward_wrong(beta_used=False), "beta is missing"),
    "PyTorch's epsilon": (forward_wrong(default_eps=1e-5), "default is epsilon=1e-8"),
    "epsilon ignored": (forward_wrong(epsilon_used=False), "epsilon ignored"),
    "no keepdims": (forward_no_keepdims, "values differ|shape"),
    "float32": (forward_float32, "float64"),
    "returns only Z_tilde": (lambda Z, gamma, beta, epsilon=1e-8: gamma * Z + beta, "should return the tuple"),
    "returns None": (lambda Z, gamma, beta, epsilon=1e-8: None, "return"),
}


@pytest.mark.parametrize("label", FORWARD_WRONG)
def test_forward_wrong_implementations_fail(label):
    fn, words = FORWARD_WRONG[label]
    with pytest.raises((AssertionError, ValueError), match=words):
        batch_norm.check_batchnorm_forward(fn)


# ------------------------------------------------------------------ wrong backwards (with a right forward)


def backward_wrong(mean_terms=True, variance_term=True, gamma_used=True, one_over_m=True, sum_axis=1,
                   average=False, swapped=False):
    def backward(dZ_tilde, cache):
        Z_hat, gamma, inv_std = cache
        m = dZ_tilde.shape[1]
        dbeta = dZ_tilde.sum(axis=sum_axis, keepdims=True)
        dgamma = (dZ_tilde * Z_hat).sum(axis=sum_axis, keepdims=True)
        if average:
            dbeta, dgamma = dbeta / m, dgamma / m
        g = gamma if gamma_used else 1.0
        dZ_hat = g * dZ_tilde
        if not mean_terms:
            dZ = dZ_hat * inv_std
        else:
            mean_term = dZ_hat.mean(axis=1, keepdims=True)
            var_term = Z_hat * (dZ_hat * Z_hat).mean(axis=1, keepdims=True) if variance_term else 0
            dZ = inv_std * (dZ_hat - mean_term - var_term)
            if not one_over_m:
                dZ = m * dZ
        return (dZ, dbeta, dgamma) if swapped else (dZ, dgamma, dbeta)
    return backward


def backward_all_ones_tested(dZ_tilde, cache):
    """Passes a test with an all-ones upstream gradient (dZ is then exactly 0), wrong otherwise."""
    Z_hat, gamma, inv_std = cache
    dZ = np.zeros_like(dZ_tilde)
    return dZ, (dZ_tilde * Z_hat).sum(axis=1, keepdims=True), dZ_tilde.sum(axis=1, keepdims=True)


def backward_forgets_epsilon(dZ_tilde, cache):
    Z_mu, std, Z_hat, gamma = cache["Z_mu"], cache["std"], cache["Z_hat"], cache["gamma"]
    std = np.sqrt((Z_mu ** 2).mean(axis=1, keepdims=True))  # recomputed without epsilon: 0 for one example
    return backward_step_by_step(dZ_tilde, {"Z_mu": Z_mu, "std": std, "Z_hat": Z_hat, "gamma": gamma})


BACKWARD_WRONG = {
    "mu and var as constants": (backward_wrong(mean_terms=False), "treated as constants"),
    "no variance term": (backward_wrong(variance_term=False), "term through the variance"),
    "no gamma in dZ": (backward_wrong(gamma_used=False), "gamma is missing from dZ"),
    "no 1/m": (backward_wrong(one_over_m=False), "the 1/m is missing"),
    "sums over the wrong axis": (backward_wrong(sum_axis=0), "summed over the wrong axis"),
    "averages dgamma and dbeta": (backward_wrong(average=True), "averaged instead of summed"),
    "dgamma and dbeta swapped": (backward_wrong(swapped=True), "swapped"),
    "zero dZ (passes an all-ones test)": (backward_all_ones_tested, "dZ .*relative error"),
    "returns two gradients": (lambda d, c: (d, d.sum(axis=1, keepdims=True)), "should return the tuple"),
}


@pytest.mark.parametrize("label", BACKWARD_WRONG)
def test_backward_wrong_implementations_fail(label, reference):
    fn, words = BACKWARD_WRONG[label]
    with pytest.raises(AssertionError, match=words):
        batch_norm.check_batchnorm_backward(fn, reference["batchnorm_forward"])


def test_backward_that_forgets_epsilon_fails():
    with pytest.raises(AssertionError, match="NaN or inf.*np.sqrt\\(var \\+ epsilon\\)"), \
            np.errstate(divide="ignore", invalid="ignore"):
        batch_norm.check_batchnorm_backward(backward_forgets_epsilon, forward_dict)


def test_right_backward_passes_with_its_own_forward(reference):
    batch_norm.check_batchnorm_backward(backward_wrong(), reference["batchnorm_forward"])


# ------------------------------------------------------------------ running statistics


def running_in_place(running_mean, running_var, mu, var, momentum=0.9):
    running_mean *= momentum
    running_mean += (1 - momentum) * mu
    running_var *= momentum
    running_var += (1 - momentum) * var
    return running_mean, running_var


def running_difference_form(running_mean, running_var, mu, var, momentum=0.9):
    """The same average written as a step towards the new value."""
    return running_mean + (1 - momentum) * (mu - running_mean), running_var + (1 - momentum) * (var - running_var)


def test_running_reference_and_variants_pass(reference):
    for fn in (reference["update_running_stats"], running_in_place, running_difference_form):
        batch_norm.check_update_running_stats(fn)


RUNNING_WRONG = {
    "momentum on the new value": (
        lambda rm, rv, mu, var, momentum=0.9: ((1 - momentum) * rm + momentum * mu, (1 - momentum) * rv + momentum * var),
        "weights the new value"),
    "PyTorch's default 0.1": (
        lambda rm, rv, mu, var, momentum=0.1: (momentum * rm + (1 - momentum) * mu, momentum * rv + (1 - momentum) * var),
        "default momentum"),
    "running var from the std": (
        lambda rm, rv, mu, var, momentum=0.9: (momentum * rm + (1 - momentum) * mu,
                                               momentum * rv + (1 - momentum) * np.sqrt(var)),
        "standard deviation was averaged"),
    "no (1 - momentum)": (
        lambda rm, rv, mu, var, momentum=0.9: (momentum * rm + mu, momentum * rv + var), "lacks its weight"),
    "variance unchanged": (
        lambda rm, rv, mu, var, momentum=0.9: (momentum * rm + (1 - momentum) * mu, rv), "running_var returned unchanged"),
    "returns one array": (lambda rm, rv, mu, var, momentum=0.9: rm, "should return the tuple"),
}


@pytest.mark.parametrize("label", RUNNING_WRONG)
def test_running_wrong_implementations_fail(label):
    fn, words = RUNNING_WRONG[label]
    with pytest.raises(AssertionError, match=words):
        batch_norm.check_update_running_stats(fn)


# ------------------------------------------------------------------ inference


def inference_two_steps(Z, gamma, beta, running_mean, running_var, epsilon=1e-8):
    Z = Z - running_mean
    Z /= np.sqrt(running_var + epsilon)
    return gamma * Z + beta


def inference_folded(Z, gamma, beta, running_mean, running_var, epsilon=1e-8):
    """Folded into one scale and one shift per unit, as deployed networks do."""
    scale = gamma / np.sqrt(running_var + epsilon)
    return scale * Z + (beta - scale * running_mean)


def test_inference_reference_and_variants_pass(reference):
    for fn in (reference["batchnorm_inference"], inference_two_steps, inference_folded):
        batch_norm.check_batchnorm_inference(fn)


INFERENCE_WRONG = {
    "batch statistics": (
        lambda Z, g, b, rm, rv, epsilon=1e-8: g * (Z - Z.mean(1, keepdims=True)) / np.sqrt(Z.var(1, keepdims=True)
                                                                                            + epsilon) + b,
        "statistics of this batch"),
    "no epsilon": (lambda Z, g, b, rm, rv, epsilon=1e-8: g * (Z - rm) / np.sqrt(rv) + b, "epsilon is missing"),
    "epsilon outside": (lambda Z, g, b, rm, rv, epsilon=1e-8: g * (Z - rm) / (np.sqrt(rv) + epsilon) + b,
                        "epsilon outside"),
    "divides by the variance": (lambda Z, g, b, rm, rv, epsilon=1e-8: g * (Z - rm) / (rv + epsilon) + b,
                                "instead of its square root"),
    "no gamma": (lambda Z, g, b, rm, rv, epsilon=1e-8: (Z - rm) / np.sqrt(rv + epsilon) + b, "gamma is missing"),
    "epsilon ignored": (lambda Z, g, b, rm, rv, epsilon=1e-8: g * (Z - rm) / np.sqrt(rv + 1e-8) + b,
                        "epsilon ignored"),
}


@pytest.mark.parametrize("label", INFERENCE_WRONG)
def test_inference_wrong_implementations_fail(label):
    fn, words = INFERENCE_WRONG[label]
    with pytest.raises(AssertionError, match=words):
        batch_norm.check_batchnorm_inference(fn)


# ------------------------------------------------------------------ the e2e catalogue, exercise by exercise

GRADED = ("batchnorm_forward", "batchnorm_backward", "batchnorm_backward_compact", "update_running_stats",
          "batchnorm_inference")


def _visible_test_code():
    """grade_id of each graded function -> the visible part of its test cell in the solutions notebook, after the
    source of its fixture cell (``<name>_fixtures``, the provided cell above it) if it has one."""
    from grader.notebooks import grade_id, is_test_cell, read_notebook
    from grader.secure.trusted import split_hidden

    nb = read_notebook(Path(__file__).resolve().parents[2] / "solutions" / "week3" / "10_batch_norm.ipynb")
    fixtures = {grade_id(c).removesuffix("_fixtures"): c.source for c in nb.cells
                if (grade_id(c) or "").endswith("_fixtures")}
    return {grade_id(c).removeprefix("test_"): fixtures.get(grade_id(c).removeprefix("test_"), "") + "\n"
            + split_hidden(c.source)[0] for c in nb.cells if is_test_cell(c)}


@pytest.mark.parametrize("wrong", GRADED)
def test_each_e2e_wrong_implementation_fails_only_its_own_test_cell(wrong, reference):
    """What the e2e test grades through the CLI (slow), here fast: the visible and the hidden part of
    every test cell, with one wrong implementation from the catalogue among the reference ones."""
    import importlib.util

    from dlutils import bn_net, checks

    path = Path(__file__).resolve().parents[1] / "e2e" / "wrong_10_batch_norm.py"
    spec = importlib.util.spec_from_file_location("wrong_10_batch_norm", path)
    catalogue = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(catalogue)
    namespace = {"np": np, "checks": checks, "bn_net": bn_net, **{name: reference[name] for name in GRADED}}
    exec(catalogue.WRONG[wrong], namespace)
    visible = _visible_test_code()
    assert sorted(visible) == sorted(GRADED)

    def test_cell(name):
        exec(visible[name], dict(namespace))
        fn = namespace[name]
        check = getattr(batch_norm, f"check_{name}")
        check(*((fn, namespace["batchnorm_forward"]) if "backward" in name else (fn,)))

    for name in GRADED:
        if name == wrong:
            with pytest.raises(AssertionError):
                test_cell(name)
        else:
            test_cell(name)
