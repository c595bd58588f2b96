"""One realistic wrong implementation per graded function of 01_setting_up (see e2e_autograde)."""

WRONG = {
    "split_dataset": '''
def split_dataset(X, Y, fractions, rng):
    m = X.shape[1]
    n_dev, n_test = int(m * fractions[1]), int(m * fractions[2])
    n_train = m - n_dev - n_test
    X = X[:, rng.permutation(m)]
    Y = Y[:, rng.permutation(m)]  # a second, different permutation: labels no longer match
    return ((X[:, :n_train], Y[:, :n_train]), (X[:, n_train:n_train + n_dev], Y[:, n_train:n_train + n_dev]),
            (X[:, n_train + n_dev:], Y[:, n_train + n_dev:]))
''',
    "split_sizes": '''
def split_sizes(m, cap=10_000):
    n_dev = min(round(0.2 * m), cap)  # rounds to nearest instead of down
    return m - 2 * n_dev, n_dev, n_dev
''',
    "split_with_extra": '''
def split_with_extra(X_target, Y_target, X_extra, Y_extra, n_dev, n_test, rng):
    X, Y = np.hstack([X_target, X_extra]), np.hstack([Y_target, Y_extra])  # pools both sources
    order = rng.permutation(X.shape[1])
    dev, test, train = order[:n_dev], order[n_dev:n_dev + n_test], order[n_dev + n_test:]
    return (X[:, train], Y[:, train]), (X[:, dev], Y[:, dev]), (X[:, test], Y[:, test])
''',
    "diagnose": '''
def diagnose(train_error, dev_error, human_error, tolerance=0.02):
    high_bias = train_error > tolerance  # ignores human-level error
    high_variance = dev_error - train_error > tolerance
    if high_bias and high_variance:
        return BOTH
    if high_bias:
        return HIGH_BIAS
    if high_variance:
        return HIGH_VARIANCE
    return FINE
''',
    "next_step": '''
def next_step(diagnosis):
    remedies = []
    if diagnosis in (HIGH_BIAS, BOTH):
        remedies += [BIGGER_NETWORK, TRAIN_LONGER]
    if diagnosis in (HIGH_VARIANCE, BOTH):  # both at once, instead of bias first
        remedies += [MORE_DATA, REGULARIZE]
    return remedies
''',
    "fit_normalizer": '''
def fit_normalizer(X_train):
    mu = np.mean(X_train, axis=1, keepdims=True)
    var = np.var(X_train, axis=1, ddof=1, keepdims=True)  # sample variance, not population
    return mu, var
''',
    "normalize": '''
def normalize(X, mu, var, epsilon=1e-8):
    return (X - mu) / (np.sqrt(var) + epsilon)  # epsilon outside the square root
''',
}
