"""The ops of a classifier as functions of Tensors, each one node on the graph (fused where that is faster).

Batch first: x is (m, n), one example per row. Every function returns a Tensor
and, when an input requires grad, records its backward.

    linear(x, weight, bias=None)          (m, n_in), (n_out, n_in), (n_out,) -> (m, n_out): x @ weight.T + bias
    relu(x), tanh(x), sigmoid(x)          entrywise, any shape
    log_softmax(x)                        (m, C) -> (m, C), each row's log of its softmax
    softmax_cross_entropy(logits, labels) (m, C), ints (m,) -> scalar: mean of -log softmax(logits)[i, labels[i]]
    sigmoid_cross_entropy(logits, targets, mask=None)  (m, K), (m, K) 0/1, (m, K) 0/1 -> scalar:
                                          mean over the kept entries of the binary cross-entropy
    dropout(x, keep_prob, rng=None, mask=None)   inverted dropout: x * mask / keep_prob
    batch_norm(x, weight, bias, running_mean, running_var, training, momentum=0.9, epsilon=1e-8)
"""

import numpy as np

from dlutils.nn.tensor import Tensor, _result, sigmoid_array


def _tensor(name, x):
    if isinstance(x, Tensor):
        return x
    raise ValueError(f"{name}: expected a Tensor (wrap arrays with nn.Tensor(array)), got {type(x).__name__}")


def relu(x):
    """max(x, 0) entrywise."""
    return _tensor("x", x).relu()


def tanh(x):
    """tanh entrywise."""
    return _tensor("x", x).tanh()


def sigmoid(x):
    """1 / (1 + exp(-x)) entrywise, without overflow."""
    return _tensor("x", x).sigmoid()


def linear(x, weight, bias=None):
    """x @ weight.T + bias in one node. x (m, n_in), weight (n_out, n_in), bias (n_out,) or None -> (m, n_out)."""
    xd, wd = _tensor("x", x).data, _tensor("weight", weight).data
    if xd.ndim != 2 or wd.ndim != 2 or xd.shape[1] != wd.shape[1]:
        raise ValueError(f"x: expected shape (m, {wd.shape[-1]}) for weight of shape {wd.shape}, got {xd.shape}")
    out = xd @ wd.T
    if bias is None:
        return _result(out, (x, weight), lambda g: (g @ wd if x.requires_grad else None,
                                                      g.T @ xd if weight.requires_grad else None))
    out += _tensor("bias", bias).data

    def backward(g):
        return (g @ wd if x.requires_grad else None,
                g.T @ xd if weight.requires_grad else None,
                g.sum(axis=0) if bias.requires_grad else None)
    return _result(out, (x, weight, bias), backward)


def _log_softmax_rows(z):
    shifted = z - z.max(axis=1, keepdims=True)  # each row's own max: exact for huge logits
    return shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))


def log_softmax(x):
    """log softmax over each row of x (m, C): x - logsumexp(x), computed stably."""
    xd = _tensor("x", x).data
    if xd.ndim != 2:
        raise ValueError(f"x: expected logits of shape (m, C), got {xd.shape}")
    out = _log_softmax_rows(xd)
    probabilities = np.exp(out)
    return _result(out, (x,), lambda g: (g - probabilities * g.sum(axis=1, keepdims=True),))


def _labels(labels, m, C):
    y = np.asarray(labels)
    if y.shape != (m,):
        hint = " — pass integer class labels shaped (m,), not one-hot rows" if y.ndim == 2 else ""
        raise ValueError(f"labels: expected shape ({m},) for logits of shape ({m}, {C}), got {y.shape}{hint}")
    if y.dtype.kind not in "iu":
        if y.dtype.kind == "f" and np.all(y == np.round(y)):
            y = y.astype(np.int64)
        else:
            raise ValueError(f"labels: expected integer class labels 0..{C - 1}, got dtype {y.dtype}")
    if m and (y.min() < 0 or y.max() >= C):
        raise ValueError(f"labels: expected class labels in 0..{C - 1}, got values from {y.min()} to {y.max()}")
    return y


def softmax_cross_entropy(logits, labels):
    """Mean over the batch of -log softmax(logits)[i, labels[i]], fused (one stable node).

    logits: Tensor (m, C); labels: ints (m,) in 0..C-1. Returns a scalar Tensor.
    Gradient: (softmax(logits) - one_hot(labels)) / m.
    """
    z = _tensor("logits", logits).data
    if z.ndim != 2:
        raise ValueError(f"logits: expected shape (m, C), got {z.shape}")
    m, C = z.shape
    y = _labels(labels, m, C)
    rows = np.arange(m)
    logp = _log_softmax_rows(z)
    loss = np.asarray(-logp[rows, y].sum() / m, dtype=z.dtype)

    def backward(g):
        grad = np.exp(logp)
        grad[rows, y] -= 1
        grad *= g / m
        return (grad,)
    return _result(loss, (logits,), backward)


def sigmoid_cross_entropy(logits, targets, mask=None):
    """Binary cross-entropy of sigmoid(logits) against targets, averaged over the entries mask keeps.

    logits: Tensor (m, K); targets: (m, K) of 0/1; mask: None (keep all) or (m, K) of 0/1, 0 where a
    label is unknown (multi-task learning). Returns a scalar Tensor; stable for large |logits|.
    """
    z = _tensor("logits", logits).data
    t = np.asarray(targets.data if isinstance(targets, Tensor) else targets, dtype=z.dtype)
    if t.shape != z.shape:
        raise ValueError(f"targets: expected shape {z.shape} (the logits'), got {t.shape}")
    if mask is None:
        keep = np.ones_like(z)
    else:
        keep = np.asarray(mask, dtype=z.dtype)
        if keep.shape != z.shape:
            raise ValueError(f"mask: expected shape {z.shape} (the logits'), got {keep.shape}")
        if not np.all((keep == 0) | (keep == 1)):
            raise ValueError("mask: expected 0 (unknown label) or 1 (known) entries")
    count = keep.sum()
    if count == 0:
        raise ValueError("mask: keeps no entry, so the mean is undefined")
    losses = np.maximum(z, 0) - z * t + np.log1p(np.exp(-np.abs(z)))
    loss = np.asarray((losses * keep).sum() / count, dtype=z.dtype)

    def backward(g):
        return ((sigmoid_array(z) - t) * keep * (g / count),)
    return _result(loss, (logits,), backward)


def dropout(x, keep_prob, rng=None, mask=None):
    """Inverted dropout: x * mask / keep_prob, each entry kept with probability keep_prob.

    keep_prob: the probability to KEEP a unit (PyTorch's p is the probability to drop: p = 1 - keep_prob).
    rng: np.random.Generator drawing the mask (rng.random(x.shape) < keep_prob); or mask: a given 0/1
    array shaped like x (then rng is not used). keep_prob = 1 returns x unchanged.
    """
    xd = _tensor("x", x).data
    if not (isinstance(keep_prob, (int, float, np.floating)) and 0 < keep_prob <= 1):
        raise ValueError(f"keep_prob: expected a probability to keep in (0, 1], got {keep_prob!r}")
    if mask is None:
        if keep_prob == 1:
            return x
        if not isinstance(rng, np.random.Generator):
            raise ValueError(f"rng: expected an np.random.Generator to draw the mask, got {type(rng).__name__}")
        mask = rng.random(xd.shape) < keep_prob
    else:
        mask = np.asarray(mask)
        if mask.shape != xd.shape:
            raise ValueError(f"mask: expected shape {xd.shape} (x's), got {mask.shape}")
    scale = np.multiply(mask, 1.0 / keep_prob, dtype=xd.dtype)
    return _result(xd * scale, (x,), lambda g: (g * scale,))


def batch_norm(x, weight, bias, running_mean, running_var, training, momentum=0.9, epsilon=1e-8):
    """Batch norm over the batch axis of x (m, n), with the course's conventions.

    weight, bias: Tensors (n,) (gamma and beta); running_mean, running_var: ndarrays (n,), updated in
    place in training as momentum * old + (1 - momentum) * batch (population variance).
    training: True uses the batch's mean and variance, False the running ones.
    Returns weight * (x - mean) / sqrt(var + epsilon) + bias, one node.
    """
    xd = _tensor("x", x).data
    gamma, beta = _tensor("weight", weight).data, _tensor("bias", bias).data
    n = gamma.shape[0]
    if xd.ndim != 2 or xd.shape[1] != n:
        raise ValueError(f"x: expected shape (m, {n}) for batch norm over {n} features, got {xd.shape}")
    if training:
        m = xd.shape[0]
        if m < 2:
            raise ValueError(f"x: batch norm in training mode needs at least 2 examples per batch, got {m}")
        mu = xd.mean(axis=0)
        centred = xd - mu
        var = np.einsum("ij,ij->j", centred, centred) / m
        running_mean *= momentum
        running_mean += (1 - momentum) * mu
        running_var *= momentum
        running_var += (1 - momentum) * var
    else:
        centred = xd - running_mean
        var = running_var
    inv_std = (1.0 / np.sqrt(var + epsilon)).astype(xd.dtype, copy=False)
    x_hat = centred * inv_std
    out = x_hat * gamma + beta

    def backward(g):
        dgamma = np.einsum("ij,ij->j", g, x_hat) if weight.requires_grad or training else None
        dbeta = g.sum(axis=0) if bias.requires_grad or training else None
        dx = None
        if x.requires_grad:
            scale = gamma * inv_std
            if training:  # the compact form: the batch statistics depend on x too
                m = g.shape[0]
                dx = scale * (g - dbeta / m - x_hat * (dgamma / m))
            else:
                dx = g * scale
        return (dx, dgamma if weight.requires_grad else None, dbeta if bias.requires_grad else None)
    return _result(out, (x, weight, bias), backward)


__all__ = ["linear", "relu", "tanh", "sigmoid", "log_softmax", "softmax_cross_entropy", "sigmoid_cross_entropy",
           "dropout", "batch_norm"]
