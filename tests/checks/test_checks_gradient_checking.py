"""The hidden checks of 04_gradient_checking: pass the reference and correct variants,
fail a catalogue of realistic wrong implementations with a message that names the problem."""
from __future__ import annotations

import numpy as np
import pytest

from dlutils.params import dictionary_to_vector, vector_to_dictionary
from grader.checks import gradient_checking, probes


# ================================================================== numerical_gradient

def ng_copies(f, theta, epsilon=1e-7):
    grad = np.zeros_like(theta)
    for i in range(theta.shape[0]):
        plus, minus = theta.copy(), theta.copy()
        plus[i] += epsilon
        minus[i] -= epsilon
        grad[i] = (f(plus) - f(minus)) / (2 * epsilon)
    return grad


def ng_eye(f, theta, epsilon=1e-7):
    # One row of epsilon * I per coordinate, reshaped like theta.
    steps = epsilon * np.eye(theta.size)
    values = [(f(theta + s.reshape(theta.shape)) - f(theta - s.reshape(theta.shape))) / (2 * epsilon) for s in steps]
    return np.array(values).reshape(theta.shape)


def ng_in_place(f, theta, epsilon=1e-7):
    grad = np.empty(theta.shape)
    for index in np.ndindex(theta.shape):
        saved = float(theta[index])
        theta[index] = saved + epsilon
        plus = f(theta)
        theta[index] = saved - epsilon
        minus = f(theta)
        theta[index] = saved  # exactly the value it had
        grad[index] = (plus - minus) / (2 * epsilon)
    return grad


def ng_flat_view(f, theta, epsilon=1e-7):
    flat = theta.astype(float).ravel()
    grad = []
    for i in range(flat.size):
        e = np.zeros_like(flat)
        e[i] = epsilon
        grad.append((f((flat + e).reshape(theta.shape)) - f((flat - e).reshape(theta.shape))) / (2 * epsilon))
    return np.asarray(grad).reshape(np.shape(theta))


NG_CORRECT = [ng_copies, ng_eye, ng_in_place, ng_flat_view]


@pytest.mark.parametrize("fn", NG_CORRECT, ids=lambda f: f.__name__)
def test_numerical_gradient_correct_variants_pass(fn):
    gradient_checking.check_numerical_gradient(fn)


def test_numerical_gradient_reference_passes(reference):
    gradient_checking.check_numerical_gradient(reference["numerical_gradient"])


def ng_forward(f, theta, epsilon=1e-7):
    grad = np.zeros_like(theta)
    for i in range(theta.shape[0]):
        plus = theta.copy()
        plus[i] += epsilon
        grad[i] = (f(plus) - f(theta)) / epsilon
    return grad


def ng_backward(f, theta, epsilon=1e-7):
    grad = np.zeros_like(theta)
    for i in range(theta.shape[0]):
        minus = theta.copy()
        minus[i] -= epsilon
        grad[i] = (f(theta) - f(minus)) / epsilon
    return grad


def ng_over_epsilon(f, theta, epsilon=1e-7):
    grad = np.zeros_like(theta)
    for i in range(theta.shape[0]):
        plus, minus = theta.copy(), theta.copy()
        plus[i] += epsilon
        minus[i] -= epsilon
        grad[i] = (f(plus) - f(minus)) / epsilon
    return grad


def ng_two_epsilon(f, theta, epsilon=1e-7):
    grad = np.zeros_like(theta)
    for i in range(theta.shape[0]):
        plus, minus = theta.copy(), theta.copy()
        plus[i] += 2 * epsilon
        minus[i] -= 2 * epsilon
        grad[i] = (f(plus) - f(minus)) / (2 * epsilon)
    return grad


def ng_all_at_once(f, theta, epsilon=1e-7):
    return np.full(theta.shape, (f(theta + epsilon) - f(theta - epsilon)) / (2 * epsilon))


def ng_no_restore(f, theta, epsilon=1e-7):
    grad = np.zeros_like(theta)
    for i in range(theta.shape[0]):
        theta[i] += epsilon
        plus = f(theta)
        theta[i] -= 2 * epsilon
        minus = f(theta)
        grad[i] = (plus - minus) / (2 * epsilon)
    return grad


def ng_drift(f, theta, epsilon=1e-7):
    grad = np.zeros_like(theta)
    for i in range(theta.shape[0]):
        theta[i] += epsilon
        plus = f(theta)
        theta[i] -= 2 * epsilon
        minus = f(theta)
        theta[i] += epsilon  # back to theta[i]... up to rounding
        grad[i] = (plus - minus) / (2 * epsilon)
    return grad


def ng_saved_view(f, theta, epsilon=1e-7):
    grad = np.zeros_like(theta)
    for i in range(theta.shape[0]):
        saved = theta[i]  # for a (n, 1) theta a view of row i, which changes with it; fine for (n,)
        theta[i] += epsilon
        plus = f(theta)
        theta[i] -= 2 * epsilon
        minus = f(theta)
        theta[i] = saved
        grad[i] = (plus - minus) / (2 * epsilon)
    return grad


def ng_flat_result(f, theta, epsilon=1e-7):
    return ng_copies(f, theta.reshape(-1), epsilon)


def ng_always_column(f, theta, epsilon=1e-7):
    return ng_copies(f, theta.reshape(-1, 1), epsilon)


def ng_list(f, theta, epsilon=1e-7):
    return ng_copies(f, theta, epsilon).tolist()


def ng_fixed_epsilon(f, theta, epsilon=1e-7):
    return ng_copies(f, theta, 1e-7)


def ng_default_1e5(f, theta, epsilon=1e-5):
    return ng_copies(f, theta, epsilon)


def ng_calls_f_on_theta(f, theta, epsilon=1e-7):
    grad = np.zeros_like(theta)
    for i in range(theta.shape[0]):
        plus, minus = theta.copy(), theta.copy()
        plus[i] += epsilon
        minus[i] -= epsilon
        grad[i] = (f(theta) - f(theta)) / (2 * epsilon)  # perturbed copies never used
    return grad


NG_WRONG = {
    "forward differences": (ng_forward, "one-sided \\(forward\\)"),
    "backward differences": (ng_backward, "one-sided \\(backward\\)"),
    "divides by epsilon": (ng_over_epsilon, "divided by ε instead of 2ε"),
    "perturbs by 2 epsilon": (ng_two_epsilon, "perturbed by ±2ε"),
    "all coordinates at once": (ng_all_at_once, "every coordinate of θ perturbed at once"),
    "theta not restored": (ng_no_restore, "changed its input theta"),
    "restored with float drift": (ng_drift, "floating-point drift"),
    "saved a view, not a value": (ng_saved_view, "changed its input theta"),
    "flat result for a column theta": (ng_flat_result, "expected shape \\(6, 1\\), got \\(6,\\)"),
    "column result for a flat theta": (ng_always_column, "expected shape \\(6,\\), got \\(6, 1\\)"),
    "returns a list": (ng_list, "expected a NumPy array"),
    "epsilon argument ignored": (ng_fixed_epsilon, "epsilon argument ignored"),
    "default epsilon 1e-5": (ng_default_1e5, "default epsilon of 1e-05"),
    "perturbed copies unused": (ng_calls_f_on_theta, "got all zeros"),
    "returns None": (lambda f, theta, epsilon=1e-7: None, "forget `return`"),
}


@pytest.mark.parametrize("label", NG_WRONG)
def test_numerical_gradient_wrong_implementations_fail(label):
    fn, expected_words = NG_WRONG[label]
    with pytest.raises(AssertionError, match=expected_words):
        gradient_checking.check_numerical_gradient(fn)


def test_float_drift_really_happens_on_the_checks_theta():
    """The drift case is only caught if θ + ε − 2ε + ε != θ for some entry the check uses."""
    theta = np.random.default_rng(0).uniform(-2, 2, 50)
    assert np.any(((theta + 1e-7) - 2e-7) + 1e-7 != theta)


# ================================================================== relative_difference

def rd_norms(grad, grad_approx):
    denominator = np.linalg.norm(grad) + np.linalg.norm(grad_approx)
    return 0.0 if denominator == 0 else np.linalg.norm(grad - grad_approx) / denominator


def rd_sqrt_sums(grad, grad_approx):
    g, a = np.ravel(grad), np.ravel(grad_approx)
    numerator = np.sqrt(np.sum((g - a) ** 2))
    denominator = np.sqrt(np.sum(g**2)) + np.sqrt(np.sum(a**2))
    if numerator == 0:
        return 0.0
    return float(numerator / denominator)


def rd_any(grad, grad_approx):
    if not np.any(grad) and not np.any(grad_approx):
        return 0
    return np.linalg.norm((grad - grad_approx).ravel(), 2) / (
        np.linalg.norm(grad.ravel(), 2) + np.linalg.norm(grad_approx.ravel(), 2))


@pytest.mark.parametrize("fn", [rd_norms, rd_sqrt_sums, rd_any], ids=lambda f: f.__name__)
def test_relative_difference_correct_variants_pass(fn):
    gradient_checking.check_relative_difference(fn)


def test_relative_difference_reference_passes(reference):
    gradient_checking.check_relative_difference(reference["relative_difference"])


def _safe(fn):
    def wrapped(grad, grad_approx):
        with np.errstate(all="ignore"):
            return fn(np.asarray(grad, float), np.asarray(grad_approx, float))
    return wrapped


n = np.linalg.norm
RD_WRONG = {
    "no denominator": (_safe(lambda g, a: n(g - a)), "no denominator"),
    "squared norms": (_safe(lambda g, a: n(g - a) ** 2 / (n(g) ** 2 + n(a) ** 2)), "squared norms"),
    "nan when both are zero": (_safe(lambda g, a: n(g - a) / (n(g) + n(a))), "returned nan"),
    "max norm": (_safe(lambda g, a: np.max(np.abs(g - a)) / (np.max(np.abs(g)) + np.max(np.abs(a)))),
                 "max norm"),
    "1-norm": (_safe(lambda g, a: np.sum(np.abs(g - a)) / (np.sum(np.abs(g)) + np.sum(np.abs(a)))), "1-norm"),
    "only ||grad|| below": (_safe(lambda g, a: n(g - a) / n(g) if n(g) else 0.0), "only \\|\\|grad\\|\\|"),
    "||g + a|| below": (_safe(lambda g, a: n(g - a) / n(g + a) if n(g + a) else 0.0), "\\|\\|g \\+ a\\|\\|"),
    "spectral norm": (_safe(lambda g, a: n(g - a, 2) / (n(g, 2) + n(a, 2)) if n(g) + n(a) else 0.0),
                      "spectral norm"),
    "precedence: ||g - a|| / ||g|| + ||a||": (_safe(lambda g, a: n(g - a) / n(g) + n(a) if n(g) else 0.0),
                                              "expected"),
    "epsilon in the denominator": (_safe(lambda g, a: n(g - a) / (n(g) + n(a) + 1e-8)), "expected"),
    "per-column norms": (_safe(lambda g, a: np.sqrt(np.sum((g - a) ** 2, axis=0)) / (
        np.sqrt(np.sum(g**2, axis=0)) + np.sqrt(np.sum(a**2, axis=0)))), "expected a number, got an array"),
    "returns None": (lambda g, a: None, "forget `return`"),
}


@pytest.mark.parametrize("label", RD_WRONG)
def test_relative_difference_wrong_implementations_fail(label):
    fn, expected_words = RD_WRONG[label]
    with pytest.raises(AssertionError, match=expected_words):
        gradient_checking.check_relative_difference(fn)


# ================================================================== gradient_check

def _rd(g, a):
    d = np.linalg.norm(g) + np.linalg.norm(a)
    return 0.0 if d == 0 else float(np.linalg.norm(g - a) / d)


def gc_with_tools(parameters, grads, cost_fn, epsilon=1e-7):
    """The way the notebook suggests: flatten both (dictionary_to_vector lines dW{l} up with W{l})."""
    theta, spec = dictionary_to_vector(parameters)
    grad, _ = dictionary_to_vector(grads)
    approx = ng_copies(lambda t: cost_fn(vector_to_dictionary(t, spec)), theta, epsilon)
    return _rd(grad, approx)


def gc_dict_in_place(parameters, grads, cost_fn, epsilon=1e-7):
    """No flattening: perturb each entry of each array in place, restore it, pair grads by name."""
    squared_diff = squared_g = squared_a = 0.0
    for key, value in parameters.items():
        approx = np.zeros_like(value)
        for index in np.ndindex(value.shape):
            saved = value[index]
            value[index] = saved + epsilon
            plus = cost_fn(parameters)
            value[index] = saved - epsilon
            minus = cost_fn(parameters)
            value[index] = saved
            approx[index] = (plus - minus) / (2 * epsilon)
        g = grads["d" + key]
        squared_diff += np.sum((g - approx) ** 2)
        squared_g += np.sum(g**2)
        squared_a += np.sum(approx**2)
    return float(np.sqrt(squared_diff) / (np.sqrt(squared_g) + np.sqrt(squared_a)))


def gc_sorted_keys(parameters, grads, cost_fn, epsilon=1e-7):
    """Its own consistent order: alphabetical for both."""
    keys = sorted(parameters)
    theta, spec = dictionary_to_vector(parameters, keys=keys)
    grad, _ = dictionary_to_vector(grads, keys=["d" + k for k in keys])
    steps = epsilon * np.eye(theta.shape[0])
    approx = np.array([[(cost_fn(vector_to_dictionary(theta + s[:, None], spec))
                         - cost_fn(vector_to_dictionary(theta - s[:, None], spec))) / (2 * epsilon)]
                       for s in steps])
    return _rd(grad, approx.reshape(-1, 1))


@pytest.mark.parametrize("fn", [gc_with_tools, gc_dict_in_place, gc_sorted_keys], ids=lambda f: f.__name__)
def test_gradient_check_correct_variants_pass(fn):
    gradient_checking.check_gradient_check(fn)


def test_gradient_check_reference_passes(reference):
    gradient_checking.check_gradient_check(reference["gradient_check"])


def _gc_variant(kind="centred", epsilon_used=None, keys="layer", norm="relative", weights_only=False):
    def gradient_check(parameters, grads, cost_fn, epsilon=1e-7):
        eps = epsilon if epsilon_used is None else epsilon_used
        chosen = {k: v for k, v in parameters.items() if k.startswith("W") or not weights_only}
        theta, spec = dictionary_to_vector(chosen)
        if keys == "layer":
            grad, _ = dictionary_to_vector(grads, keys=["d" + k for k, _ in spec])
        elif keys == "insertion":
            grad = np.concatenate([g.reshape(-1) for g in grads.values()]).reshape(-1, 1)
        else:
            grad = np.concatenate([grads[k].reshape(-1) for k in sorted(grads)]).reshape(-1, 1)

        def f(t):
            return cost_fn({**parameters, **vector_to_dictionary(t, spec)})
        if kind == "centred":
            approx = ng_copies(f, theta, eps)
        elif kind == "forward":
            approx = ng_forward(f, theta, eps)
        else:
            approx = ng_over_epsilon(f, theta, eps)
        if norm == "relative":
            return _rd(grad, approx)
        if norm == "none":
            return float(np.linalg.norm(grad - approx))
        if norm == "squared":
            return float(np.sum((grad - approx) ** 2) / (np.sum(grad**2) + np.sum(approx**2)))
        if norm == "max":
            return float(np.max(np.abs(grad - approx)) / (np.max(np.abs(grad)) + np.max(np.abs(approx))))
        if norm == "vector":
            return grad - approx
        if norm == "array":
            return np.array([[_rd(grad, approx)]])
        raise ValueError(norm)
    return gradient_check


def gc_mean_of_keys(parameters, grads, cost_fn, epsilon=1e-7):
    """The mean of per-parameter relative differences: not the difference over all parameters."""
    values = []
    for key in parameters:
        sub = {key: parameters[key]}
        values.append(_gc_variant()(sub, {"d" + key: grads["d" + key]},
                                    lambda p: cost_fn({**parameters, **p}), epsilon))
    return float(np.mean(values))


GC_WRONG = {
    "forward differences": (_gc_variant(kind="forward"), "one-sided"),
    "divides by epsilon": (_gc_variant(kind="over"), "divided by ε instead of 2ε"),
    "epsilon ignored": (_gc_variant(epsilon_used=1e-7), "epsilon argument ignored"),
    "weights only": (_gc_variant(weights_only=True), "only the weights"),
    "grads in insertion order": (_gc_variant(keys="insertion"), "in the order of the grads dict"),
    "grads in alphabetical order": (_gc_variant(keys="alphabetical"), "in alphabetical order"),
    "no denominator": (_gc_variant(norm="none"), "without the denominator"),
    "squared norms": (_gc_variant(norm="squared"), "squared norms"),
    "max norm": (_gc_variant(norm="max"), "max norm"),
    "returns the difference vector": (_gc_variant(norm="vector"), "expected a number, got an array"),
    "returns a (1, 1) array": (_gc_variant(norm="array"), "expected a number, got an array"),
    "mean of per-parameter differences": (gc_mean_of_keys, "expected"),
    "returns None": (lambda parameters, grads, cost_fn, epsilon=1e-7: None, "forget `return`"),
}


@pytest.mark.parametrize("label", GC_WRONG)
def test_gradient_check_wrong_implementations_fail(label):
    fn, expected_words = GC_WRONG[label]
    with pytest.raises(AssertionError, match=expected_words):
        gradient_checking.check_gradient_check(fn)


# ================================================================== suspect_gradients

def _differences_by_key(parameters, grads, cost_fn, epsilon):
    differences = {}
    for key in grads:
        name = key[1:]
        theta = parameters[name].reshape(-1, 1)
        approx = ng_copies(lambda t: cost_fn({**parameters, name: t.reshape(parameters[name].shape)}), theta, epsilon)
        differences[key] = _rd(grads[key].reshape(-1, 1), approx)
    return differences


def sg_by_key(parameters, grads, cost_fn, threshold=1e-5, epsilon=1e-7):
    differences = _differences_by_key(parameters, grads, cost_fn, epsilon)
    ranked = sorted(differences.items(), key=lambda item: -item[1])
    return [key for key, value in ranked if value > threshold]


def sg_split_vector(parameters, grads, cost_fn, threshold=1e-5, epsilon=1e-7):
    """One numerical gradient of everything, split back into arrays, compared array by array."""
    theta, spec = dictionary_to_vector(parameters)
    approx = vector_to_dictionary(
        ng_eye(lambda t: cost_fn(vector_to_dictionary(t, spec)), theta, epsilon), spec)
    suspects = {}
    for key, _ in spec:
        difference = _rd(grads["d" + key], approx[key])
        if difference > threshold:
            suspects["d" + key] = difference
    return sorted(suspects, key=suspects.get)[::-1]


def sg_tuple(parameters, grads, cost_fn, threshold=1e-5, epsilon=1e-7):
    return tuple(sg_by_key(parameters, grads, cost_fn, threshold, epsilon))


@pytest.mark.parametrize("fn", [sg_by_key, sg_split_vector, sg_tuple], ids=lambda f: f.__name__)
def test_suspect_gradients_correct_variants_pass(fn):
    gradient_checking.check_suspect_gradients(fn)


def test_suspect_gradients_reference_passes(reference):
    gradient_checking.check_suspect_gradients(reference["suspect_gradients"])


def sg_parameter_names(parameters, grads, cost_fn, threshold=1e-5, epsilon=1e-7):
    return [key[1:] for key in sg_by_key(parameters, grads, cost_fn, threshold, epsilon)]


def sg_best_first(parameters, grads, cost_fn, threshold=1e-5, epsilon=1e-7):
    return sg_by_key(parameters, grads, cost_fn, threshold, epsilon)[::-1]


def sg_dict_order(parameters, grads, cost_fn, threshold=1e-5, epsilon=1e-7):
    differences = _differences_by_key(parameters, grads, cost_fn, epsilon)
    return [key for key in grads if differences[key] > threshold]


def sg_fixed_threshold(parameters, grads, cost_fn, threshold=1e-5, epsilon=1e-7):
    return sg_by_key(parameters, grads, cost_fn, 1e-5, epsilon)


def sg_fixed_epsilon(parameters, grads, cost_fn, threshold=1e-5, epsilon=1e-7):
    return sg_by_key(parameters, grads, cost_fn, threshold, 1e-7)


def sg_overall(parameters, grads, cost_fn, threshold=1e-5, epsilon=1e-7):
    """One check of everything: when it fails, every gradient is a suspect."""
    if gc_with_tools(parameters, grads, cost_fn, epsilon) > threshold:
        return list(grads)
    return []


def sg_no_filter(parameters, grads, cost_fn, threshold=1e-5, epsilon=1e-7):
    differences = _differences_by_key(parameters, grads, cost_fn, epsilon)
    return sorted(differences, key=differences.get, reverse=True)


def sg_only_worst(parameters, grads, cost_fn, threshold=1e-5, epsilon=1e-7):
    return sg_by_key(parameters, grads, cost_fn, threshold, epsilon)[:1]


def sg_returns_dict(parameters, grads, cost_fn, threshold=1e-5, epsilon=1e-7):
    differences = _differences_by_key(parameters, grads, cost_fn, epsilon)
    return {k: v for k, v in differences.items() if v > threshold}


def sg_one_string(parameters, grads, cost_fn, threshold=1e-5, epsilon=1e-7):
    return ", ".join(sg_by_key(parameters, grads, cost_fn, threshold, epsilon))


SG_WRONG = {
    "parameter names": (sg_parameter_names, "name the gradients"),
    "best first": (sg_best_first, "worst first"),
    "dict order": (sg_dict_order, "worst first"),
    "threshold ignored": (sg_fixed_threshold, "use the threshold argument"),
    "epsilon ignored": (sg_fixed_epsilon, "missing"),
    "overall check": (sg_overall, "should not be listed"),
    "no threshold filter": (sg_no_filter, "should not be listed"),
    "only the worst": (sg_only_worst, "missing"),
    "a dict": (sg_returns_dict, "expected a list"),
    "one string": (sg_one_string, "expected a list"),
    "returns None": (lambda parameters, grads, cost_fn, threshold=1e-5, epsilon=1e-7: None, "forget `return`"),
}


@pytest.mark.parametrize("label", SG_WRONG)
def test_suspect_gradients_wrong_implementations_fail(label):
    fn, expected_words = SG_WRONG[label]
    with pytest.raises(AssertionError, match=expected_words):
        gradient_checking.check_suspect_gradients(fn)


# ================================================================== probes

def test_probes_know_their_gradients():
    """The probes' exact gradients agree with centred differences (so checks compare against the truth)."""
    rng = np.random.default_rng(0)
    quadratic = probes.Quadratic(rng.standard_normal((4, 4)), rng.standard_normal(4))
    sines = probes.Sines([1.0, 2.0, 0.5], [1.0, 3.0, 7.0])
    for f, theta in ((quadratic, rng.standard_normal((4, 1))), (sines, rng.standard_normal(3))):
        approx = gradient_checking._differences(f, theta, 1e-6)
        np.testing.assert_allclose(f.gradient(theta), approx, rtol=1e-7, atol=1e-8)
        assert f.gradient(theta).shape == theta.shape
    for lambd in (0.0, 0.7):
        cost, parameters, grads = gradient_checking._net_problem(5, [3, 4, 2, 1], m=7, lambd=lambd)
        for key, value in parameters.items():
            approx = gradient_checking._differences(lambda v: cost({**parameters, key: v}), value, 1e-6)
            np.testing.assert_allclose(grads["d" + key], approx, rtol=1e-6, atol=1e-9)


def test_probes_name_bad_input():
    with pytest.raises(ValueError, match="expected theta with 3 entries, got shape \\(2, 1\\)"):
        probes.Sines([1, 1, 1], [1, 1, 1])(np.zeros((2, 1)))
    cost, parameters, _ = gradient_checking._net_problem(5, [3, 4, 1], m=4)
    with pytest.raises(ValueError, match="missing key"):
        cost({k: v for k, v in parameters.items() if k != "b2"})
    with pytest.raises(ValueError, match="expected parameters as a dict"):
        cost(np.zeros((21, 1)))


def test_checks_leave_global_random_state_alone(reference):
    np.random.seed(99)
    before = np.random.get_state()
    gradient_checking.check_numerical_gradient(ng_copies)
    gradient_checking.check_gradient_check(gc_with_tools)
    after = np.random.get_state()
    assert np.array_equal(before[1], after[1]) and before[2:] == after[2:]
