"""Tools for 13_ml_strategy: data that differs between training and dev, error tags, costs of models.

What is here is plumbing for the notebook's experiments, never an answer to its
exercises. Course shapes: ``X`` is (n_x, m), one 8x8 image per column, stored
row by row as :func:`dlutils.data.digits` does; labels ``y`` are (m,) ints.

    random_shifts       move each image by its own random whole-pixel shift (another "camera")
    camera_images       the notebook's dev distribution: random shifts plus pixel noise
    make_train_dev_split  carve a train-dev set out of the training data (same distribution as train)
    flip_labels         replace a fraction of labels by a different random class (mislabelled data)
    tag_errors          tags of a model's mistakes by rules computed from the images
    model_costs         parameters, megabytes and multiply-adds of a 64-h-10 network
    sigmoid_net         a one-hidden-layer network with K sigmoid outputs trained on a masked cost
    hand_features       32 hand-made features of an 8x8 image (the "pipeline" against end to end)
    softmax_regression  a linear softmax classifier on features, full-batch gradient descent
"""

import numpy as np

from dlutils import data, multiclass
from dlutils.tuning import one_blas_thread
from dlutils._validate import as_2d_array, check_positive_int, check_rng
from dlutils.layers import linear_activation_backward, linear_activation_forward, linear_backward, linear_forward

IMAGE_SHAPE = (8, 8)
# Pairs of digits that look alike in 8x8 images (the confusions of 11's digits model).
LOOK_ALIKE = frozenset({frozenset(p) for p in ((4, 9), (3, 8), (5, 9), (1, 7), (7, 9), (8, 9), (1, 8), (3, 5),
                                                 (5, 6), (2, 8))})
TAGS = ("mislabelled", "look-alike digits", "faint", "off-centre")


def _labels(name, y, m):
    y = np.asarray(y)
    if y.shape != (m,) or not np.issubdtype(y.dtype, np.integer):
        raise ValueError(f"{name}: expected {m} integer labels of shape ({m},), got shape {y.shape} dtype {y.dtype}")
    return y


def random_shifts(X, rng, max_shift=1):
    """Each image moved by its own shift (down, right), each uniform in -max_shift..max_shift, not both 0.

    X: (64, m). Returns a new (64, m) float64 array (pixels pushed out are lost, borders blank).
    """
    X = as_2d_array("X", X, "(64, m)")
    check_rng("rng", rng)
    check_positive_int("max_shift", max_shift)
    offsets = [(d, r) for d in range(-max_shift, max_shift + 1) for r in range(-max_shift, max_shift + 1)
               if (d, r) != (0, 0)]
    which = rng.integers(len(offsets), size=X.shape[1])
    out = np.empty_like(X, dtype=np.float64)
    for k, shift in enumerate(offsets):
        columns = which == k
        if columns.any():
            out[:, columns] = data.shift_images(X[:, columns], shift, IMAGE_SHAPE)
    return out


def camera_images(X, rng, noise=0.15):
    """The notebook's "new camera": each image shifted by one pixel at random, plus Gaussian pixel noise.

    noise: standard deviation of the noise added to each pixel (pixels in [0, 1]);
    the result is clipped to [0, 1]. Returns a new (64, m) float64 array.
    """
    if not (np.isfinite(noise) and noise >= 0):
        raise ValueError(f"noise: expected a number >= 0, got {noise!r}")
    shifted = random_shifts(X, rng)
    return np.clip(shifted + noise * rng.standard_normal(shifted.shape), 0.0, 1.0)


def make_train_dev_split(X, y, n_train_dev, rng):
    """Hold out n_train_dev random training examples as the train-dev set (same distribution as training).

    X: (n_x, m), y: (m,). Returns (X_train, y_train, X_train_dev, y_train_dev); the
    model is trained on the first pair only, so train-dev error minus training error
    is variance, and dev error minus train-dev error is data mismatch.
    """
    X = as_2d_array("X", X, "(n_x, m)")
    m = X.shape[1]
    y = _labels("y", y, m)
    check_positive_int("n_train_dev", n_train_dev)
    check_rng("rng", rng)
    if n_train_dev >= m:
        raise ValueError(f"n_train_dev: expected fewer than the m = {m} training examples, got {n_train_dev}")
    order = rng.permutation(m)
    keep, held = order[n_train_dev:], order[:n_train_dev]
    return X[:, keep], y[keep], X[:, held], y[held]


def flip_labels(y, fraction, rng, num_classes=10):
    """A copy of y with round(fraction * m) random labels replaced by another class; also the flipped mask.

    Returns (y_noisy (m,), flipped (m,) bool).
    """
    y = np.asarray(y)
    y = _labels("y", y, y.size)
    if not 0 <= fraction <= 1:
        raise ValueError(f"fraction: expected a number in [0, 1], got {fraction!r}")
    check_rng("rng", rng)
    m = y.size
    flipped = np.zeros(m, bool)
    flipped[rng.choice(m, size=int(round(fraction * m)), replace=False)] = True
    y_noisy = y.copy()
    # Adding 1..C-1 modulo C always lands on another class, each equally likely.
    y_noisy[flipped] = (y[flipped] + rng.integers(1, num_classes, size=int(flipped.sum()))) % num_classes
    return y_noisy, flipped


def _ink_and_centre(X):
    images = X.reshape(IMAGE_SHAPE + (-1,))
    ink = images.sum(axis=(0, 1))
    rows, cols = np.arange(IMAGE_SHAPE[0]), np.arange(IMAGE_SHAPE[1])
    safe = np.where(ink > 0, ink, 1.0)
    centre_row = (images.sum(axis=1) * rows[:, None]).sum(axis=0) / safe
    centre_col = (images.sum(axis=0) * cols[:, None]).sum(axis=0) / safe
    return ink, np.stack([centre_row, centre_col])


def tag_errors(X, y_true, y_pred, X_reference, mislabelled=None):
    """Tags of each mistake, by rules computed from the images (what a person would note looking at them).

    X: (64, k) the k misclassified images; y_true, y_pred: (k,) their labels and the
    model's guesses; X_reference: (64, n) correctly-labelled typical images (the
    training set) to compare with; mislabelled: (k,) bool, True where the label
    itself is wrong (known here because the notebook flipped those labels).
    Rules: "faint" when the image has less ink than 90 % of reference images;
    "off-centre" when its centre of mass is more than 1 pixel from the reference
    mean; "look-alike digits" when {y_true, y_pred} is in LOOK_ALIKE;
    "mislabelled" from the mask. Returns a list of k lists of tags (maybe empty).
    """
    X = as_2d_array("X", X, "(64, k)")
    k = X.shape[1]
    y_true, y_pred = _labels("y_true", y_true, k), _labels("y_pred", y_pred, k)
    ink_ref, centre_ref = _ink_and_centre(as_2d_array("X_reference", X_reference, "(64, n)"))
    ink, centre = _ink_and_centre(X)
    faint = ink < np.quantile(ink_ref, 0.1)
    off = np.linalg.norm(centre - centre_ref.mean(axis=1, keepdims=True), axis=0) > 1.0
    wrong_label = np.zeros(k, bool) if mislabelled is None else np.asarray(mislabelled, bool)
    if wrong_label.shape != (k,):
        raise ValueError(f"mislabelled: expected a ({k},) bool mask, got shape {wrong_label.shape}")
    tags = []
    for j in range(k):
        found = []
        if wrong_label[j]:
            found.append("mislabelled")
        if frozenset((int(y_true[j]), int(y_pred[j]))) in LOOK_ALIKE:
            found.append("look-alike digits")
        if faint[j]:
            found.append("faint")
        if off[j]:
            found.append("off-centre")
        tags.append(found)
    return tags


def model_costs(hidden_units, n_x=64, num_classes=10, bytes_per_number=4):
    """Size and speed costs of an n_x-hidden_units-num_classes network, known without a stopwatch.

    Returns a dict: "parameters" (weights and biases), "megabytes" (stored as
    float32 by default) and "multiply_adds" (per example predicted).
    """
    check_positive_int("hidden_units", hidden_units)
    weights = n_x * hidden_units + hidden_units * num_classes
    parameters = weights + hidden_units + num_classes
    return {"parameters": parameters, "megabytes": parameters * bytes_per_number / 1e6, "multiply_adds": weights}


def sigmoid_net(X, Y, mask, *, rng, hidden_units=32, learning_rate=0.5, num_epochs=60, mini_batch_size=64):
    """Train [LINEAR -> ReLU] -> LINEAR -> sigmoid with K outputs on the masked mean cross-entropy.

    X: (n_x, m); Y: (K, m) of 0/1 labels, any value (NaN included) where mask is 0;
    mask: (K, m) of 0/1, 1 where the label is known. The cost averages the
    binary cross-entropy over the known entries only, so its gradient with
    respect to the output scores is mask * (A - Y) / mask.sum() (unknown
    labels give no gradient). Mini-batch gradient descent, He initialization.
    Returns parameters {"W1", "b1", "W2", "b2"}.
    """
    X = as_2d_array("X", X, "(n_x, m)")
    Y, mask = np.asarray(Y, dtype=np.float64), np.asarray(mask, dtype=np.float64)
    if Y.ndim != 2 or Y.shape[1] != X.shape[1] or mask.shape != Y.shape:
        raise ValueError(f"Y and mask: expected the same shape (K, {X.shape[1]}), got {Y.shape} and {mask.shape}")
    check_rng("rng", rng)
    Y = np.where(mask > 0, Y, 0.0)  # unknown labels are never read
    n_x, K = X.shape[0], Y.shape[0]
    parameters = {"W1": rng.standard_normal((hidden_units, n_x)) * np.sqrt(2 / n_x), "b1": np.zeros((hidden_units, 1)),
                  "W2": rng.standard_normal((K, hidden_units)) * np.sqrt(2 / hidden_units), "b2": np.zeros((K, 1))}
    with one_blas_thread():  # small matrices: one BLAS thread is faster, and much faster on a busy machine
        _sigmoid_net_epochs(X, Y, mask, parameters, rng, learning_rate, num_epochs, mini_batch_size)
    return parameters


def _sigmoid_net_epochs(X, Y, mask, parameters, rng, learning_rate, num_epochs, mini_batch_size):
    m = X.shape[1]
    for _ in range(num_epochs):
        order = rng.permutation(m)
        for start in range(0, m, mini_batch_size):
            batch = order[start:start + mini_batch_size]
            known = mask[:, batch]
            if known.sum() == 0:
                continue
            A1, cache1 = linear_activation_forward(X[:, batch], parameters["W1"], parameters["b1"], "relu")
            Z2, cache2 = linear_forward(A1, parameters["W2"], parameters["b2"])
            A2 = 1 / (1 + np.exp(-Z2))
            # dZ2 = known * (A2 - Y) / known.sum(), times the batch size because linear_backward divides
            # by it: the masked cost averages over the known entries, not over the examples.
            dZ2 = known * (A2 - Y[:, batch]) / known.sum() * batch.size
            dA1, dW2, db2 = linear_backward(dZ2, cache2)
            _, dW1, db1 = linear_activation_backward(dA1, cache1)
            for key, grad in (("W1", dW1), ("b1", db1), ("W2", dW2), ("b2", db2)):
                parameters[key] = parameters[key] - learning_rate * grad


def sigmoid_net_scores(X, parameters):
    """The output scores Z2 (K, m) of :func:`sigmoid_net`'s network (probability = sigmoid(Z2))."""
    A1, _ = linear_activation_forward(as_2d_array("X", X, "(n_x, m)"), parameters["W1"], parameters["b1"], "relu")
    return linear_forward(A1, parameters["W2"], parameters["b2"])[0]


def hand_features(X):
    """32 features a person would design for 8x8 digits: the image averaged over 2x2 blocks (16),
    then the mean ink of each column (8) and of each row (8). X: (64, m). Returns (32, m)."""
    X = as_2d_array("X", X, "(64, m)")
    if X.shape[0] != 64:
        raise ValueError(f"X: expected 64 pixels per column (8x8 images), got {X.shape[0]}")
    images = X.reshape(IMAGE_SHAPE + (-1,))
    pooled = images.reshape(4, 2, 4, 2, -1).mean(axis=(1, 3)).reshape(16, -1)
    return np.vstack([pooled, images.mean(axis=0), images.mean(axis=1)])


def softmax_regression(F, y, *, num_classes=10, learning_rate=1.0, num_epochs=300):
    """Fit W (C, n), b (C, 1) of softmax(W F + b) to labels y (m,) by full-batch gradient descent from zeros.

    F: (n, m) features. Returns a function mapping features (n, k) to predicted classes (k,).
    """
    F = as_2d_array("F", F, "(n, m)")
    Y = multiclass.one_hot(_labels("y", y, F.shape[1]), num_classes)
    W, b = np.zeros((num_classes, F.shape[0])), np.zeros((num_classes, 1))
    with one_blas_thread():
        for _ in range(num_epochs):
            dZ = multiclass.cross_entropy_backward(multiclass.softmax(W @ F + b), Y)  # already divided by m
            W = W - learning_rate * dZ @ F.T
            b = b - learning_rate * dZ.sum(axis=1, keepdims=True)

    def predict(features):
        return (W @ as_2d_array("features", features, "(n, k)") + b).argmax(axis=0)

    return predict
