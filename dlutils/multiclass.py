"""Multi-class outputs: softmax, one-hot labels, cross-entropy and its gradient.

Course shapes: scores ``Z`` and probabilities ``AL`` are (C, m), one example per
column; integer labels ``y`` are (m,) or (1, m) with values 0..C-1; one-hot
``Y`` is (C, m).

These are tools for notebooks that need a multi-class output before or after
students write their own in 11_softmax (10_batch_norm trains on the 10-class
digits; 12 and 13 build on it). The graded versions in 11 are the student's
own; hidden tests never call these.
"""

import numpy as np

from dlutils._validate import as_2d_array, check_shape

# Probabilities are kept this far from 0 in the cost: log(0) is -inf.
_CLIP = 1e-15


def softmax(Z):
    """Column-wise softmax of Z (C, m): exp(Z - max) / sum, each column summing to 1.

    Subtracting each column's own max makes it exact for any finite scores
    (exp never overflows, and the largest entry of each column becomes exp(0) = 1).
    """
    Z = as_2d_array("Z", Z, "(C, m)")
    E = np.exp(Z - Z.max(axis=0, keepdims=True))
    return E / E.sum(axis=0, keepdims=True)


def labels_1d(y, C=None):
    """Integer labels as a (m,) int array; y may be (m,) or (1, m). ValueError names the problem."""
    if y is None:
        raise ValueError("y: expected integer labels of shape (m,) or (1, m), got None")
    y = np.asarray(y)
    if y.ndim == 2 and y.shape[0] == 1:
        y = y[0]
    if y.ndim != 1:
        raise ValueError(f"y: expected integer labels of shape (m,) or (1, m), got shape {y.shape}")
    if y.size and not np.all(np.equal(np.mod(y, 1), 0)):
        raise ValueError("y: expected whole-number class labels, got fractional values")
    y = y.astype(np.int64)
    if C is not None and y.size and (y.min() < 0 or y.max() >= C):
        raise ValueError(f"y: labels must be in 0..{C - 1} for C = {C}, got values {y.min()}..{y.max()}")
    return y


def one_hot(y, C):
    """One-hot labels (C, m) float64 from integer labels y of shape (m,) or (1, m)."""
    y = labels_1d(y, C)
    Y = np.zeros((C, y.size))
    Y[y, np.arange(y.size)] = 1.0
    return Y


def cross_entropy(AL, Y):
    """-(1/m) sum(Y log AL) as a float; AL (C, m) probabilities, Y (C, m) one-hot.

    Probabilities are clipped at 1e-15 so an exact 0 costs about 34.5, not inf.
    """
    AL = as_2d_array("AL", AL, "(C, m)")
    Y = as_2d_array("Y", Y, "(C, m)")
    check_shape("Y", Y, AL.shape, "Y must be one-hot (C, m) like AL: use one_hot(y, C)")
    return float(-(Y * np.log(np.maximum(AL, _CLIP))).sum() / AL.shape[1])


def cross_entropy_backward(AL, Y):
    """dZ (C, m) of the mean cross-entropy of softmax(Z) with respect to Z: (AL - Y) / m.

    The 1/m of the mean is included here, so dW = dZ A_prev.T needs no further division.
    """
    AL = as_2d_array("AL", AL, "(C, m)")
    Y = as_2d_array("Y", Y, "(C, m)")
    check_shape("Y", Y, AL.shape, "Y must be one-hot (C, m) like AL: use one_hot(y, C)")
    return (AL - Y) / AL.shape[1]


def predict_classes(AL):
    """The most probable class of each column of AL (C, m), as a (m,) int array."""
    return as_2d_array("AL", AL, "(C, m)").argmax(axis=0)


def accuracy(y_pred, y):
    """Fraction of examples where the integer labels agree; both (m,) or (1, m)."""
    y_pred, y = labels_1d(y_pred), labels_1d(y)
    if y_pred.shape != y.shape:
        raise ValueError(f"y_pred: expected {y.shape[0]} labels like y, got {y_pred.shape[0]}")
    return float(np.mean(y_pred == y))
