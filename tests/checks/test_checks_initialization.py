"""The hidden checks of 02_initialization: pass the reference and correct variants,
fail a catalogue of realistic wrong implementations with a message that names the problem."""
from __future__ import annotations

import numpy as np
import pytest

from grader.checks import initialization


# ------------------------------------------------------------------ correct variants

def zeros_dict_comprehension(layer_dims):
    L = len(layer_dims)
    return {**{f"W{l}": np.zeros((layer_dims[l], layer_dims[l - 1])) for l in range(1, L)},
            **{f"b{l}": np.zeros((layer_dims[l], 1)) for l in range(1, L)}}


def zeros_like_from_empty(layer_dims):
    params = {}
    for l in range(len(layer_dims) - 1, 0, -1):  # reverse order
        W = np.empty((layer_dims[l], layer_dims[l - 1]))
        W[...] = 0.0
        params[f"W{l}"], params[f"b{l}"] = W, np.zeros((layer_dims[l], 1))
    return params


def _scaled(std_fn, draw):
    def init(layer_dims, rng):
        params = {}
        for l in range(1, len(layer_dims)):
            params[f"W{l}"] = draw(rng, (layer_dims[l], layer_dims[l - 1]), std_fn(layer_dims, l))
            params[f"b{l}"] = np.zeros((layer_dims[l], 1))
        return params
    return init


def draw_normal(rng, shape, std):
    return rng.normal(0.0, std, size=shape)


def draw_transposed(rng, shape, std):
    return rng.standard_normal(shape[::-1]).T / (1 / std)


def draw_loop(rng, shape, std):
    W = np.zeros(shape)
    for i in range(shape[0]):
        W[i, :] = rng.standard_normal(shape[1]) * std
    return W


def draw_global(rng, shape, std):
    return np.random.randn(*shape) * std


def draw_uniform_matched(rng, shape, std):
    a = std * np.sqrt(3)
    return rng.uniform(-a, a, size=shape)


def draw_fresh_generator(rng, shape, std):
    return np.random.default_rng().standard_normal(shape) * std


def draw_fixed_seed(rng, shape, std):
    return np.random.default_rng(shape[0] * 1000 + shape[1]).standard_normal(shape) * std


def draw_repeated_row(rng, shape, std):
    return np.tile(rng.standard_normal((1, shape[1])) * std, (shape[0], 1))


HE = lambda dims, l: np.sqrt(2 / dims[l - 1])
XAVIER = lambda dims, l: np.sqrt(1 / dims[l - 1])


def with_bad_bias(init, bias):
    def wrapped(layer_dims, rng):
        params = init(layer_dims, rng)
        for l in range(1, len(layer_dims)):
            params[f"b{l}"] = bias(rng, layer_dims[l])
        return params
    return wrapped


def drop_last_layer(init):
    def wrapped(layer_dims, rng):
        params = init(layer_dims, rng)
        L = len(layer_dims) - 1
        params.pop(f"W{L}"), params.pop(f"b{L}")
        return params
    return wrapped


def transposed_weights(init):
    def wrapped(layer_dims, rng):
        params = init(layer_dims, rng)
        return {k: (v.T if k.startswith("W") else v) for k, v in params.items()}
    return wrapped


def zero_indexed(init):
    def wrapped(layer_dims, rng):
        params = init(layer_dims, rng)
        return {k[0] + str(int(k[1:]) - 1): v for k, v in params.items()}
    return wrapped


def no_return(layer_dims, rng):
    _scaled(HE, draw_normal)(layer_dims, rng)


# ------------------------------------------------------------------ zeros

def test_zeros_reference_and_variants_pass(reference):
    initialization.check_initialize_zeros(reference["initialize_zeros"])
    initialization.check_initialize_zeros(zeros_dict_comprehension)
    initialization.check_initialize_zeros(zeros_like_from_empty)


ZEROS_WRONG = {
    "1-D biases": (lambda d: {**zeros_dict_comprehension(d), **{f"b{l}": np.zeros(d[l]) for l in range(1, len(d))}},
                   "2-D column"),
    "transposed W": (lambda d: {k: (v.T if k[0] == "W" else v) for k, v in zeros_dict_comprehension(d).items()},
                     "transposed"),
    "integer dtype": (lambda d: {k: v.astype(int) for k, v in zeros_dict_comprehension(d).items()}, "float64"),
    "stops one layer early": (lambda d: {k: v for k, v in zeros_dict_comprehension(d).items()
                                         if int(k[1:]) < len(d) - 1}, "missing keys"),
    "biases of ones": (lambda d: {**zeros_dict_comprehension(d),
                                  **{f"b{l}": np.ones((d[l], 1)) for l in range(1, len(d))}}, "only zeros"),
    "keys from 0": (lambda d: {k[0] + str(int(k[1:]) - 1): v for k, v in zeros_dict_comprehension(d).items()},
                    "numbered from 1"),
    "returns None": (lambda d: None, "return"),
}


@pytest.mark.parametrize("label", ZEROS_WRONG)
def test_zeros_wrong_implementations_fail(label):
    fn, expected_words = ZEROS_WRONG[label]
    with pytest.raises(AssertionError, match=expected_words):
        initialization.check_initialize_zeros(fn)


# ------------------------------------------------------------------ random

def random_variant(draw):
    def init(layer_dims, rng, scale=10.0):
        return _scaled(lambda dims, l: scale, draw)(layer_dims, rng)
    return init


def test_random_reference_and_variants_pass(reference):
    initialization.check_initialize_random(reference["initialize_random"])
    initialization.check_initialize_random(random_variant(draw_normal))
    initialization.check_initialize_random(random_variant(draw_transposed))
    initialization.check_initialize_random(random_variant(draw_loop))


def random_in_place_scale(layer_dims, rng, scale=10.0):
    params = {}
    for l in range(1, len(layer_dims)):
        W = rng.standard_normal((layer_dims[l], layer_dims[l - 1]))
        W *= scale
        params["W" + str(l)] = W
        params["b" + str(l)] = np.zeros((layer_dims[l], 1))
    return params


def test_random_in_place_variant_passes():
    initialization.check_initialize_random(random_in_place_scale)


RANDOM_WRONG = {
    "global np.random": (random_variant(draw_global), "global random generator"),
    "fresh unseeded generator": (random_variant(draw_fresh_generator), "same seed"),
    "fixed seed per shape": (random_variant(draw_fixed_seed), "identical"),
    "own seeded generator, ignores rng": (lambda d, rng, scale=10.0: random_variant(draw_normal)(
        d, np.random.default_rng(42), scale), "draw its random numbers from `rng`"),
    "uniform [0, 1)": (lambda d, rng, scale=10.0: _scaled(lambda dims, l: scale,
                                                         lambda r, s, std: r.random(s) * std)(d, rng), "variance|mean"),
    "uniform with matched variance": (random_variant(draw_uniform_matched), "normally distributed"),
    "forgets scale": (lambda d, rng, scale=10.0: _scaled(lambda dims, l: 1.0, draw_normal)(d, rng),
                      "without `\\* scale`"),
    "scale squared": (lambda d, rng, scale=10.0: _scaled(lambda dims, l: scale**2, draw_normal)(d, rng),
                      "scale squared"),
    "default scale 1": (lambda d, rng, scale=1.0: _scaled(lambda dims, l: scale, draw_normal)(d, rng),
                        "default"),
    "random biases": (lambda d, rng, scale=10.0: with_bad_bias(
        _scaled(lambda dims, l: scale, draw_normal), lambda r, n: r.standard_normal((n, 1)) * scale)(d, rng),
        "zeros"),
    "one row repeated": (random_variant(draw_repeated_row), "rows or columns of W1 repeat"),
    "transposed": (lambda d, rng, scale=10.0: transposed_weights(random_variant(draw_normal))(d, rng),
                   "transposed"),
}


@pytest.mark.parametrize("label", RANDOM_WRONG)
def test_random_wrong_implementations_fail(label):
    fn, expected_words = RANDOM_WRONG[label]
    with pytest.raises(AssertionError, match=expected_words):
        initialization.check_initialize_random(fn)


# ------------------------------------------------------------------ He and Xavier

@pytest.mark.parametrize("draw", [draw_normal, draw_transposed, draw_loop])
def test_he_and_xavier_variants_pass(reference, draw):
    initialization.check_initialize_he(reference["initialize_he"])
    initialization.check_initialize_xavier(reference["initialize_xavier"])
    initialization.check_initialize_he(_scaled(HE, draw))
    initialization.check_initialize_xavier(_scaled(XAVIER, draw))
    # sqrt(2/n) written as 1 / sqrt(n / 2)
    initialization.check_initialize_he(_scaled(lambda dims, l: 1 / np.sqrt(dims[l - 1] / 2), draw))


def _wrong_scaled(std_fn):
    return _scaled(std_fn, draw_normal)


HE_WRONG = {
    "fan-out n_l": (_wrong_scaled(lambda d, l: np.sqrt(2 / d[l])), "n_l"),
    "Xavier variance": (_wrong_scaled(XAVIER), "Xavier"),
    "variance used as std": (_wrong_scaled(lambda d, l: 2 / d[l - 1]), "variance used as the standard deviation"),
    "no rescaling": (_wrong_scaled(lambda d, l: 1.0), "without rescaling"),
    "sqrt(2)/n": (_wrong_scaled(lambda d, l: np.sqrt(2) / d[l - 1]), "variance"),
    "global np.random": (_scaled(HE, draw_global), "global random generator"),
    "uniform matched": (_scaled(HE, draw_uniform_matched), "normally distributed"),
    "random biases": (with_bad_bias(_scaled(HE, draw_normal), lambda r, n: r.standard_normal((n, 1))), "zeros"),
    "1-D biases": (with_bad_bias(_scaled(HE, draw_normal), lambda r, n: np.zeros(n)), "2-D"),
    "drops last layer": (drop_last_layer(_scaled(HE, draw_normal)), "missing keys"),
    "transposed": (transposed_weights(_scaled(HE, draw_normal)), "transposed"),
    "keys from 0": (zero_indexed(_scaled(HE, draw_normal)), "numbered from 1"),
    "same draw for every layer": (lambda d, rng: _same_draw_each_layer(d, rng), "identical"),
    "one column repeated": (_scaled(HE, lambda r, s, std: np.tile(r.standard_normal((s[0], 1)) * std, (1, s[1]))),
                            "rows or columns of W1 repeat"),
    "returns None": (no_return, "return"),
}


def _same_draw_each_layer(layer_dims, rng):
    seed = int(rng.integers(1 << 30))
    params = {}
    for l in range(1, len(layer_dims)):
        layer_rng = np.random.default_rng(seed)  # restarts the stream: every layer the same
        params[f"W{l}"] = layer_rng.standard_normal((layer_dims[l], layer_dims[l - 1])) * np.sqrt(2 / layer_dims[l - 1])
        params[f"b{l}"] = np.zeros((layer_dims[l], 1))
    return params


@pytest.mark.parametrize("label", HE_WRONG)
def test_he_wrong_implementations_fail(label):
    fn, expected_words = HE_WRONG[label]
    with pytest.raises(AssertionError, match=expected_words):
        initialization.check_initialize_he(fn)


XAVIER_WRONG = {
    "He variance": (_wrong_scaled(HE), "He"),
    "fan-out": (_wrong_scaled(lambda d, l: np.sqrt(1 / d[l])), "n_l"),
    "1/n as std": (_wrong_scaled(lambda d, l: 1 / d[l - 1]), "variance used as the standard deviation"),
    "global np.random": (_scaled(XAVIER, draw_global), "global random generator"),
}


@pytest.mark.parametrize("label", XAVIER_WRONG)
def test_xavier_wrong_implementations_fail(label):
    fn, expected_words = XAVIER_WRONG[label]
    with pytest.raises(AssertionError, match=expected_words):
        initialization.check_initialize_xavier(fn)


def test_checks_leave_global_random_state_alone(reference):
    np.random.seed(99)
    before = np.random.get_state()
    initialization.check_initialize_he(reference["initialize_he"])
    after = np.random.get_state()
    assert np.array_equal(before[1], after[1]) and before[2:] == after[2:]
