"""The hidden checks of 03_regularization: pass the reference and correct variants,
fail a catalogue of realistic wrong implementations with a message that names the problem."""
from __future__ import annotations

import numpy as np
import pytest

from dlutils.model import compute_cost
from grader.checks import regularization

# ------------------------------------------------------------------ l2_cost


def l2_cost_loop(AL, Y, parameters, lambd):
    m = Y.shape[1]
    cross_entropy = 0.0
    for j in range(m):
        y, a = Y[0, j], AL[0, j]
        cross_entropy -= y * np.log(a) + (1 - y) * np.log(1 - a)
    penalty = 0.0
    for key, W in parameters.items():
        if key.startswith("W"):
            for value in W.ravel():
                penalty += value * value
    return cross_entropy / m + lambd * penalty / (2 * m)


def l2_cost_norm(AL, Y, parameters, lambd):
    L = len(parameters) // 2
    m = AL.shape[1]
    norms = [np.linalg.norm(parameters["W" + str(l)], "fro") ** 2 for l in range(1, L + 1)]
    return compute_cost(AL, Y) + lambd / (2 * m) * np.sum(norms)


def l2_cost_array_of_shape_0d(AL, Y, parameters, lambd):
    m = Y.shape[1]
    ce = -np.mean(Y * np.log(AL) + (1 - Y) * np.log(1 - AL))
    return np.squeeze(ce + lambd / (2 * m) * sum(np.sum(np.square(W)) for k, W in parameters.items() if k[0] == "W"))


def test_l2_cost_reference_and_variants_pass(reference):
    for fn in (reference["l2_cost"], l2_cost_loop, l2_cost_norm, l2_cost_array_of_shape_0d):
        regularization.check_l2_cost(fn)


def _l2(penalty, *, ce=compute_cost, m_of=lambda Y: Y.shape[1]):
    def l2_cost(AL, Y, parameters, lambd):
        L = len(parameters) // 2
        return ce(AL, Y) + penalty(parameters, L, lambd, m_of(Y))
    return l2_cost


def _sum_sq(parameters, layers):
    return sum(np.sum(parameters[f"W{l}"] ** 2) for l in layers)


L2_WRONG = {
    "biases included": (_l2(lambda p, L, lam, m: lam / (2 * m) * sum(np.sum(v**2) for v in p.values())),
                        "biases are in the penalty"),
    "missing 1/2": (_l2(lambda p, L, lam, m: lam / m * _sum_sq(p, range(1, L + 1))), "1/2 is missing"),
    "not divided by m": (_l2(lambda p, L, lam, m: lam / 2 * _sum_sq(p, range(1, L + 1))), "not divided by m"),
    "m from Y.shape[0]": (_l2(lambda p, L, lam, m: lam / (2 * m) * _sum_sq(p, range(1, L + 1)),
                              m_of=lambda Y: Y.shape[0]), "not divided by m"),
    "last layer only": (_l2(lambda p, L, lam, m: lam / (2 * m) * _sum_sq(p, [L])), "only the last layer"),
    "stops before last layer": (_l2(lambda p, L, lam, m: lam / (2 * m) * _sum_sq(p, range(1, L))),
                                "last layer is left out"),
    "norm not squared": (_l2(lambda p, L, lam, m: lam / (2 * m) * sum(np.linalg.norm(p[f"W{l}"])
                                                                        for l in range(1, L + 1))), "not squared"),
    "mean not sum": (_l2(lambda p, L, lam, m: lam / (2 * m) * sum(np.mean(p[f"W{l}"] ** 2)
                                                                    for l in range(1, L + 1))), "mean"),
    "penalty subtracted": (_l2(lambda p, L, lam, m: -lam / (2 * m) * _sum_sq(p, range(1, L + 1))), "subtracted"),
    "no cross-entropy": (_l2(lambda p, L, lam, m: lam / (2 * m) * _sum_sq(p, range(1, L + 1)),
                             ce=lambda AL, Y: 0.0), "cross-entropy part is missing"),
    "cross-entropy summed": (_l2(lambda p, L, lam, m: lam / (2 * m) * _sum_sq(p, range(1, L + 1)),
                                 ce=lambda AL, Y: Y.shape[1] * compute_cost(AL, Y)), "summed"),
    "returns a (1, 1) array": (lambda AL, Y, p, lam: np.sum(-(Y * np.log(AL) + (1 - Y) * np.log(1 - AL)), axis=1,
                                                            keepdims=True) / Y.shape[1]
                               + lam / (2 * Y.shape[1]) * _sum_sq(p, range(1, len(p) // 2 + 1)),
                               "expected a number, got an array"),
    "returns None": (lambda AL, Y, p, lam: None, "forget `return`"),
}


@pytest.mark.parametrize("label", L2_WRONG)
def test_l2_cost_wrong_implementations_fail(label):
    fn, words = L2_WRONG[label]
    with pytest.raises(AssertionError, match=words):
        regularization.check_l2_cost(fn)


# ------------------------------------------------------------------ add_l2_gradients


def add_l2_in_place(grads, parameters, lambd, m):
    for key in parameters:
        if key.startswith("W"):
            grads["d" + key] += (lambd / m) * parameters[key]
    return grads


def add_l2_new_dict(grads, parameters, lambd, m):
    return {key: value + lambd / m * parameters[key[1:]] if key.startswith("dW") else value
            for key, value in grads.items()}


def add_l2_by_layer(grads, parameters, lambd, m):
    out = dict(grads)
    L = len(parameters) // 2
    for l in range(L, 0, -1):
        out["dW%d" % l] = out["dW%d" % l] + parameters["W%d" % l] * lambd / m
    return out


def test_add_l2_gradients_reference_and_variants_pass(reference):
    for fn in (reference["add_l2_gradients"], add_l2_in_place, add_l2_new_dict, add_l2_by_layer):
        regularization.check_add_l2_gradients(fn)


def _add(factor, *, biases=False, layers=lambda L: range(1, L + 1), power=1):
    def add_l2_gradients(grads, parameters, lambd, m):
        grads = dict(grads)
        L = len(parameters) // 2
        for l in layers(L):
            grads[f"dW{l}"] = grads[f"dW{l}"] + factor(lambd, m) * parameters[f"W{l}"] ** power
            if biases:
                grads[f"db{l}"] = grads[f"db{l}"] + factor(lambd, m) * parameters[f"b{l}"]
        return grads
    return add_l2_gradients


ADD_WRONG = {
    "biases regularized": (_add(lambda lam, m: lam / m, biases=True), "biases are regularised"),
    "lambd/(2m)": (_add(lambda lam, m: lam / (2 * m)), r"lambd / \(2m\) instead of lambd / m"),
    "lambd, no m": (_add(lambda lam, m: lam), "without dividing by m"),
    "2 lambd/m": (_add(lambda lam, m: 2 * lam / m), "2 \\* lambd / m"),
    "subtracted": (_add(lambda lam, m: -lam / m), "subtracted"),
    "W squared": (_add(lambda lam, m: lam / m, power=2), r"W\*\*2"),
    "forgets last layer": (_add(lambda lam, m: lam / m, layers=lambda L: range(1, L)), "last layer is left out"),
    "forgets first layer": (_add(lambda lam, m: lam / m, layers=lambda L: range(2, L + 1)),
                            "first layer is left out"),
    "returns None after in-place update": (lambda g, p, lam, m: add_l2_in_place(g, p, lam, m) and None,
                                           "forget `return`"),
    "returns parameters": (lambda g, p, lam, m: {k: v + lam / m * v for k, v in p.items()}, "missing key"),
    "drops the bias gradients": (lambda g, p, lam, m: {k: v for k, v in add_l2_new_dict(g, p, lam, m).items()
                                                       if k.startswith("dW")}, "missing key"),
}


@pytest.mark.parametrize("label", ADD_WRONG)
def test_add_l2_gradients_wrong_implementations_fail(label):
    fn, words = ADD_WRONG[label]
    with pytest.raises(AssertionError, match=words):
        regularization.check_add_l2_gradients(fn)


# ------------------------------------------------------------------ dropout_forward


def dropout_uniform(A, keep_prob, rng):
    D = rng.uniform(0.0, 1.0, size=A.shape) < keep_prob  # boolean mask
    return A * D / keep_prob, D


def dropout_binomial(A, keep_prob, rng):
    D = rng.binomial(1, keep_prob, size=A.shape)  # integer 0/1 mask
    return A * D / keep_prob, D


def dropout_in_place(A, keep_prob, rng):
    D = rng.random(A.shape)
    D = (D < keep_prob).astype(int)
    A *= D
    A /= keep_prob
    return A, D


def dropout_loop_transposed(A, keep_prob, rng):
    n, m = A.shape
    D = np.zeros((n, m))
    draws = rng.random((m, n))  # drawn example by example, then transposed
    for j in range(m):
        for i in range(n):
            D[i, j] = 1.0 if draws[j, i] <= keep_prob else 0.0
    return np.where(D == 1, A / keep_prob, 0.0), D


def dropout_choice(A, keep_prob, rng):
    D = rng.choice([0.0, 1.0], size=A.shape, p=[1 - keep_prob, keep_prob])
    return A * (D / keep_prob), D


def test_dropout_forward_reference_and_variants_pass(reference):
    for fn in (reference["dropout_forward"], dropout_uniform, dropout_binomial, dropout_in_place,
               dropout_loop_transposed, dropout_choice):
        regularization.check_dropout_forward(fn)


def _mask(D_of, out_of=lambda A, D, kp: A * D / kp, returned=lambda D, kp: D):
    def dropout_forward(A, keep_prob, rng):
        D = D_of(A, keep_prob, rng)
        return out_of(A, D, keep_prob), returned(D, keep_prob)
    return dropout_forward


def _standard(A, kp, rng):
    return (rng.random(A.shape) < kp).astype(float)


DROPOUT_WRONG = {
    "one mask for all examples (broadcast)": (_mask(lambda A, kp, rng: (rng.random((A.shape[0], 1)) < kp) * 1.0),
                                              "one keep decision per unit shared by every example"),
    "one mask for all examples (tiled)": (_mask(lambda A, kp, rng: np.tile(rng.random((A.shape[0], 1)) < kp,
                                                                           (1, A.shape[1])) * 1.0),
                                          "one mask shared by all examples"),
    "one decision per example (broadcast row)": (_mask(lambda A, kp, rng: (rng.random((1, A.shape[1])) < kp) * 1.0),
                                                 "one keep decision per example"),
    "one row repeated for all units": (_mask(lambda A, kp, rng: np.repeat(rng.random((1, A.shape[1])) < kp,
                                                                          A.shape[0], axis=0) * 1.0),
                                       "rows of D"),
    "kept with the drop probability": (_mask(lambda A, kp, rng: (rng.random(A.shape) > kp) * 1.0),
                                       "DROP probability"),
    "missing 1/keep_prob rescale": (_mask(_standard, out_of=lambda A, D, kp: A * D), "rescale is missing"),
    "multiplies by keep_prob": (_mask(_standard, out_of=lambda A, D, kp: A * D * kp), "do not multiply"),
    "D returned scaled": (_mask(_standard, returned=lambda D, kp: D / kp), "1/keep_prob where a unit is kept"),
    "D returned as raw draws": (lambda A, kp, rng: (lambda R: (A * (R < kp) / kp, R))(rng.random(A.shape)),
                                "raw draws"),
    "mask not applied": (_mask(_standard, out_of=lambda A, D, kp: A / kp), "mask D is not applied"),
    "returns (D, A_out)": (lambda A, kp, rng: _mask(_standard)(A, kp, rng)[::-1], "order"),
    "returns only A_out": (lambda A, kp, rng: _mask(_standard)(A, kp, rng)[0], "pair"),
    "global RNG": (_mask(lambda A, kp, rng: (np.random.rand(*A.shape) < kp) * 1.0), "global random generator"),
    "new unseeded generator": (_mask(lambda A, kp, rng: (np.random.default_rng().random(A.shape) < kp) * 1.0),
                               "same seed"),
    "rng ignored, fixed seed": (_mask(lambda A, kp, rng: (np.random.default_rng(1).random(A.shape) < kp) * 1.0),
                                "identical results"),
    "keeps everything": (_mask(lambda A, kp, rng: np.ones(A.shape)), "keeps every unit"),
    "returns None": (lambda A, kp, rng: None, "forget `return"),
}


@pytest.mark.parametrize("label", DROPOUT_WRONG)
def test_dropout_forward_wrong_implementations_fail(label):
    fn, words = DROPOUT_WRONG[label]
    with pytest.raises(AssertionError, match=words):
        regularization.check_dropout_forward(fn)


def test_dropout_forward_check_leaves_global_random_state_alone(reference):
    np.random.seed(99)
    before = np.random.get_state()
    regularization.check_dropout_forward(reference["dropout_forward"])
    after = np.random.get_state()
    assert np.array_equal(before[1], after[1]) and before[2:] == after[2:]


# ------------------------------------------------------------------ dropout_backward


def backward_where(dA, D, keep_prob):
    return np.where(D.astype(bool), dA / keep_prob, 0.0)


def backward_in_place(dA, D, keep_prob):
    dA[D == 0] = 0.0
    dA /= keep_prob
    return dA


def backward_loop(dA, D, keep_prob):
    out = np.zeros_like(dA)
    for i in range(dA.shape[0]):
        for j in range(dA.shape[1]):
            if D[i, j]:
                out[i, j] = dA[i, j] / keep_prob
    return out


def test_dropout_backward_reference_and_variants_pass(reference):
    for fn in (reference["dropout_backward"], backward_where, backward_in_place, backward_loop):
        regularization.check_dropout_backward(fn)


def backward_only_float(dA, D, keep_prob):
    if D.dtype == bool:
        raise TypeError("unsupported mask")
    return dA * D / keep_prob


BACKWARD_WRONG = {
    "no rescale": (lambda dA, D, kp: dA * D, "rescale is missing"),
    "multiplies by keep_prob": (lambda dA, D, kp: dA * D * kp, "do not multiply"),
    "mask not applied": (lambda dA, D, kp: dA / kp, "mask D is not applied"),
    "returns dA": (lambda dA, D, kp: dA, "dA unchanged"),
    "mask inverted": (lambda dA, D, kp: dA * (1 - D) / kp, "inverted"),
    "float masks only": (backward_only_float, "boolean mask"),
    "returns None": (lambda dA, D, kp: None, "forget `return"),
}


@pytest.mark.parametrize("label", BACKWARD_WRONG)
def test_dropout_backward_wrong_implementations_fail(label):
    fn, words = BACKWARD_WRONG[label]
    with pytest.raises(AssertionError, match=words):
        regularization.check_dropout_backward(fn)


# ------------------------------------------------------------------ early_stopping_epoch


def early_loop_counter(dev_costs, patience):
    best_cost, best_epoch, waited = float("inf"), 0, 0
    for epoch, cost in enumerate(dev_costs):
        if cost < best_cost:
            best_cost, best_epoch, waited = cost, epoch, 0
        else:
            waited += 1
            if waited >= patience:
                break
    return best_epoch


def early_vectorized(dev_costs, patience):
    costs = np.asarray(dev_costs, dtype=float)
    running_min = np.minimum.accumulate(costs)
    new_best = np.r_[True, costs[1:] < running_min[:-1]]
    best_so_far = np.maximum.accumulate(np.where(new_best, np.arange(costs.size), 0))
    stopped = np.flatnonzero(np.arange(costs.size) - best_so_far >= patience)
    return int(best_so_far[stopped[0]]) if stopped.size else int(best_so_far[-1])


def early_slice_argmin(dev_costs, patience):
    costs = list(dev_costs)
    for end in range(1, len(costs) + 1):
        best = int(np.argmin(costs[:end]))
        if end - 1 - best >= patience:
            return best
    return int(np.argmin(costs))


def early_while(dev_costs, patience):
    best, epoch = 0, 1
    while epoch < len(dev_costs) and epoch - best <= patience:
        if dev_costs[epoch] < dev_costs[best]:
            best = epoch
        epoch += 1
    return best


def test_early_stopping_reference_and_variants_pass(reference):
    for fn in (reference["early_stopping_epoch"], early_loop_counter, early_vectorized, early_slice_argmin,
               early_while):
        regularization.check_early_stopping_epoch(fn)


def early_returns_stop(dev_costs, patience):
    best, epoch = 0, 0
    for epoch in range(1, len(dev_costs)):
        if dev_costs[epoch] < dev_costs[best]:
            best = epoch
        elif epoch - best >= patience:
            break
    return epoch  # where the loop ended, not the best epoch


def early_returns_stop_or_best(dev_costs, patience):
    best = 0
    for epoch in range(1, len(dev_costs)):
        if dev_costs[epoch] < dev_costs[best]:
            best = epoch
        elif epoch - best >= patience:
            return epoch
    return best


def _early(*, extra=0, ties=False, reset=True, check_first=False):
    def early_stopping_epoch(dev_costs, patience):
        best, waited = 0, 0
        for epoch in range(1, len(dev_costs)):
            if check_first and epoch - best >= patience + extra:
                break
            better = dev_costs[epoch] <= dev_costs[best] if ties else dev_costs[epoch] < dev_costs[best]
            if better:
                best = epoch
                waited = 0 if reset else waited
            else:
                waited += 1
                if waited >= patience + extra:
                    break
        return best
    return early_stopping_epoch


def early_previous_epoch(dev_costs, patience):
    # Counts rises relative to the PREVIOUS epoch, not epochs since the best.
    best, rises = 0, 0
    for epoch in range(1, len(dev_costs)):
        if dev_costs[epoch] < dev_costs[best]:
            best = epoch
        rises = rises + 1 if dev_costs[epoch] >= dev_costs[epoch - 1] else 0
        if rises >= patience:
            break
    return best


def early_list_only(dev_costs, patience):
    best = _early()(dev_costs, patience)
    return dev_costs.index(dev_costs[best])  # lists have .index, arrays do not


EARLY_WRONG = {
    "ignores patience (global argmin)": (lambda c, p: int(np.argmin(c)), "ignoring patience"),
    "returns the stop epoch": (early_returns_stop, "where training stops"),
    "returns the stop epoch, or the best when never stopping": (early_returns_stop_or_best, "where training stops"),
    "returns the last epoch": (lambda c, p: len(c) - 1, "last epoch"),
    "waits one epoch too many": (_early(extra=1), "one epoch too many"),
    "stops one epoch too early": (_early(extra=-1), "one epoch too early"),
    "ties count as new best": (_early(ties=True), "equal cost"),
    "counter never reset": (_early(reset=False), "expected epoch"),
    "stop checked before the new cost is seen": (_early(check_first=True), "expected epoch"),
    "counts rises from the previous epoch": (early_previous_epoch, "expected epoch"),
    "1-based epochs": (lambda c, p: _early()(c, p) + 1, "plus one"),
    "highest cost": (lambda c, p: _early()([-x for x in c], p), "expected epoch"),
    "list only": (early_list_only, "NumPy array"),
    "returns the best cost": (lambda c, p: float(c[_early()(c, p)]), "not a cost"),
    "returns a float index": (lambda c, p: float(_early()(c, p)), "as an int"),
    "returns None": (lambda c, p: None, "forget `return`"),
}


@pytest.mark.parametrize("label", EARLY_WRONG)
def test_early_stopping_wrong_implementations_fail(label):
    fn, words = EARLY_WRONG[label]
    with pytest.raises(AssertionError, match=words):
        regularization.check_early_stopping_epoch(fn)


def test_early_stopping_cases_separate_each_mistake():
    """Every named mistake is caught by at least one hand-made case (not only by the random ones)."""
    seen = set()
    for costs, patience in regularization._EARLY_CASES:
        seen |= {label.split(":")[0] for label in regularization._early_stopping_mistakes(costs, patience)}
    assert len(seen) == 7, seen
