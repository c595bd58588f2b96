"""A model's parameters to and from the course's dict {"W1": (n_1, n_0), "b1": (n_1, 1), ...}.

Linear layers are numbered 1, 2, ... in the order ``model.modules()`` visits them
(for a Sequential, left to right): W{l} is weight (n_l, n_{l-1}) as it is, b{l}
is bias as a column (n_l, 1). A BatchNorm1d gets the number of the Linear layer
before it: gamma{l} and beta{l}, columns (n_l, 1), as in 10_batch_norm.
So the functions of earlier notebooks apply to a dlutils.nn model's weights.
"""

import numpy as np

from dlutils.nn.modules import BatchNorm1d, Linear, Module


def _course_names(model):
    """[(course key, Parameter)] of model in course order; ValueError for a layout with no course names."""
    if not isinstance(model, Module):
        raise ValueError(f"model: expected an nn.Module, got {type(model).__name__}")
    named, layer = [], 0
    for module in model.modules():
        if isinstance(module, Linear):
            layer += 1
            named += [(f"W{layer}", module.weight), (f"b{layer}", module.bias)]
        elif isinstance(module, BatchNorm1d):
            if layer == 0 or any(key == f"gamma{layer}" for key, _ in named):
                raise ValueError(f"model: a BatchNorm1d without a Linear layer of its own before it has no course "
                                 f"name (gamma{layer} taken or no W{layer})")
            named += [(f"gamma{layer}", module.weight), (f"beta{layer}", module.bias)]
    if not named:
        raise ValueError("model: has no Linear layer, so no course parameters W1, b1, ...")
    return named


def to_course_params(model):
    """{"W1": (n_1, n_0), "b1": (n_1, 1), ..., "gamma{l}"/"beta{l}": (n_l, 1)}: copies, in the model's dtype."""
    return {key: (p.data if key[0] == "W" else p.data.reshape(-1, 1)).copy()
            for key, p in _course_names(model)}


def load_course_params(model, params):
    """Copy a course dict (the keys to_course_params gives) into model's parameters, in place.

    Each array must have the shape to_course_params gives for that key (biases, gammas and betas as
    (n_l, 1) columns; (n_l,) is accepted too); errors name the key. Values take the model's dtype.
    """
    if not isinstance(params, dict):
        raise ValueError(f"params: expected a dict {{'W1': ..., 'b1': ...}}, got {type(params).__name__}")
    named = _course_names(model)
    keys = [key for key, _ in named]
    missing = [key for key in keys if key not in params]
    extra = [key for key in params if key not in keys]
    if missing:
        raise ValueError(f"params: missing key(s) {', '.join(missing)} for this model (keys {', '.join(keys)})")
    if extra:
        raise ValueError(f"params: unexpected key(s) {', '.join(map(str, extra))} for this model "
                         f"(keys {', '.join(keys)})")
    values = []
    for key, p in named:
        value = np.asarray(params[key])
        expected = p.data.shape if key[0] == "W" else (p.data.shape[0], 1)
        if value.shape != expected and not (key[0] != "W" and value.shape == p.data.shape):
            raise ValueError(f"{key}: expected shape {expected}, got {value.shape}")
        values.append(value.reshape(p.data.shape))
    for (_, p), value in zip(named, values):  # all checked first: an error leaves the model untouched
        p.data[...] = value
