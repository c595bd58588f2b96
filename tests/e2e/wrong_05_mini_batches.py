"""One realistic wrong implementation per graded function of 05_mini_batches (see e2e_autograde)."""

WRONG = {
    "random_mini_batches": '''
def random_mini_batches(X, Y, mini_batch_size, rng):
    m = X.shape[1]
    mini_batches = []
    X_shuffled = X[:, rng.permutation(m)]
    Y_shuffled = Y[:, rng.permutation(m)]  # a second permutation: labels leave their examples
    for k in range(0, m, mini_batch_size):
        mini_batches.append((X_shuffled[:, k:k + mini_batch_size], Y_shuffled[:, k:k + mini_batch_size]))
    return mini_batches
''',
}
