"""Small datasets made offline, in the course layout.

The 2-D generators return X (2, m) float64 and Y (1, m) int labels 0/1, with
the columns shuffled; they draw only from the ``rng`` passed in, so the same
seed gives the same data.
"""

import numpy as np

from dlutils._validate import check_positive_int, check_rng


def _check_common(m, rng, **non_negative):
    check_positive_int("m", m)
    if m < 2:
        raise ValueError(f"m: expected at least 2 examples (one per class), got {m}")
    check_rng("rng", rng)
    for name, value in non_negative.items():
        if not np.isfinite(value) or value < 0:
            raise ValueError(f"{name}: expected a number >= 0, got {value!r}")


def _class_sizes(m):
    return m // 2, m - m // 2


def _finish(points0, points1, rng):
    """Stack two classes (each (2, k)) into shuffled X (2, m) and Y (1, m)."""
    X = np.hstack([points0, points1]).astype(np.float64)
    Y = np.hstack([np.zeros(points0.shape[1], int), np.ones(points1.shape[1], int)]).reshape(1, -1)
    order = rng.permutation(X.shape[1])
    return X[:, order], Y[:, order]


def circles(m=300, *, rng, noise=0.08, factor=0.5):
    """Two concentric rings: class 0 on radius 1, class 1 on radius ``factor``.

    noise: standard deviation of the Gaussian noise added to each coordinate.
    Returns X (2, m), Y (1, m).
    """
    _check_common(m, rng, noise=noise)
    if not 0 < factor < 1:
        raise ValueError(f"factor: expected a number in (0, 1), got {factor!r}")
    rings = []
    for radius, k in zip((1.0, factor), _class_sizes(m)):
        angle = rng.uniform(0, 2 * np.pi, k)
        ring = radius * np.vstack([np.cos(angle), np.sin(angle)])
        rings.append(ring + noise * rng.standard_normal((2, k)))
    return _finish(*rings, rng)


def moons(m=300, *, rng, noise=0.2):
    """Two interleaved half circles (class 0 upper, class 1 lower), plus Gaussian noise.

    Returns X (2, m), Y (1, m).
    """
    _check_common(m, rng, noise=noise)
    k0, k1 = _class_sizes(m)
    t0, t1 = rng.uniform(0, np.pi, k0), rng.uniform(0, np.pi, k1)
    upper = np.vstack([np.cos(t0), np.sin(t0)])
    lower = np.vstack([1 - np.cos(t1), 0.5 - np.sin(t1)])
    return _finish(upper + noise * rng.standard_normal((2, k0)), lower + noise * rng.standard_normal((2, k1)), rng)


def flower(m=400, *, rng, petals=4):
    """The planar "flower": a rose curve whose petals alternate between the classes.

    petals: petals per class (2 * petals in all). Points lie on the curve
    r = 4 sin(petals * t) with noise on t and r, class 0 for t in [0, pi),
    class 1 for t in [pi, 2 pi). Returns X (2, m), Y (1, m).
    """
    _check_common(m, rng)
    check_positive_int("petals", petals)
    classes = []
    for j, k in enumerate(_class_sizes(m)):
        t = rng.uniform(j * np.pi, (j + 1) * np.pi, k) + 0.2 * rng.standard_normal(k)
        r = 4 * np.sin(petals * t) + 0.2 * rng.standard_normal(k)
        classes.append(np.vstack([r * np.sin(t), r * np.cos(t)]))
    return _finish(*classes, rng)


def spiral(m=300, *, rng, turns=1.5, noise=0.2):
    """Two interleaved spiral arms (class 1 is class 0 rotated by half a turn).

    turns: how many times each arm winds around; noise: Gaussian noise, in
    units of the gap between the arms. Points lie within radius about 1.
    Returns X (2, m), Y (1, m).
    """
    _check_common(m, rng, noise=noise)
    if not turns > 0:
        raise ValueError(f"turns: expected a number > 0, got {turns!r}")
    arms = []
    for j, k in enumerate(_class_sizes(m)):
        # sqrt spreads points evenly along the arm instead of crowding the centre
        r = np.sqrt(rng.uniform(0.0025, 1, k))
        angle = 2 * np.pi * turns * r + j * np.pi
        gap = 1 / (2 * turns)  # radial distance between neighbouring arms
        arm = r * np.vstack([np.cos(angle), np.sin(angle)])
        arms.append(arm + noise * gap / 2 * rng.standard_normal((2, k)))
    return _finish(*arms, rng)


def noisy_overfit(m=200, *, rng):
    """A sparse 2-D set with 15% flipped labels, for showing overfitting.

    The clean boundary is the curve x2 = 0.6 sin(2.5 x1) with points uniform in
    [-1.5, 1.5]^2; a large network trained long enough memorises the flipped
    labels, so its train accuracy ends clearly above its dev accuracy (draw the
    dev set with another call). Returns X (2, m), Y (1, m).
    """
    _check_common(m, rng)
    X = rng.uniform(-1.5, 1.5, (2, m))
    Y = (X[1] > 0.6 * np.sin(2.5 * X[0])).astype(int)
    flip = rng.random(m) < 0.15
    Y = np.where(flip, 1 - Y, Y).reshape(1, m)
    return X, Y


def digits(*, binary=None):
    """The 8x8 handwritten digits of scikit-learn (1797 images, no download).

    Returns X (64, m) float64 scaled to [0, 1] and y (m,) int labels 0..9.
    binary=(a, b) keeps the two classes a and b only and returns Y (1, m)
    with label 0 for a and 1 for b.
    """
    from sklearn.datasets import load_digits  # imported here: slow, and few notebooks need it

    if binary is not None:
        ok = isinstance(binary, (tuple, list)) and len(binary) == 2 and binary[0] != binary[1]
        if not (ok and set(binary) <= set(range(10))):
            raise ValueError(f"binary: expected two different digits (a, b) in 0..9, got {binary!r}")
    data = load_digits()
    X, y = data.data.T / 16.0, data.target.astype(np.int64)
    if binary is None:
        return X, y
    keep = np.isin(y, binary)
    return X[:, keep], (y[keep] == binary[1]).astype(np.int64).reshape(1, -1)


def shift_images(X, shift, image_shape=(8, 8)):
    """Move every image by whole pixels, filling the uncovered border with 0 (blank).

    X: (n_x, m), one image per column, stored row by row as ``digits`` does
    (n_x = rows * cols of ``image_shape``). shift = (down, right) in pixels;
    negative values move up or left. Pixels pushed past the edge are lost.
    Returns a new (n_x, m) float64 array; X is left unchanged.
    """
    rows, cols = (int(s) for s in image_shape)
    X = np.asarray(X, dtype=np.float64)
    if X.ndim != 2 or X.shape[0] != rows * cols:
        raise ValueError(f"X: expected shape ({rows * cols}, m) for {rows}x{cols} images, one per column, "
                         f"got {X.shape}")
    ok = isinstance(shift, (tuple, list)) and len(shift) == 2 and all(
        isinstance(s, (int, np.integer)) and not isinstance(s, bool) for s in shift)
    if not ok:
        raise ValueError(f"shift: expected two whole numbers of pixels (down, right), got {shift!r}")
    down, right = int(shift[0]), int(shift[1])
    images = X.reshape(rows, cols, -1)
    out = np.zeros_like(images)
    # Target and source windows of the part of the image that stays in frame.
    if abs(down) < rows and abs(right) < cols:
        out[max(down, 0):rows + min(down, 0), max(right, 0):cols + min(right, 0)] = \
            images[max(-down, 0):rows + min(-down, 0), max(-right, 0):cols + min(-right, 0)]
    return out.reshape(rows * cols, -1)
