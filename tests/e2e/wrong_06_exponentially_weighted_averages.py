"""One realistic wrong implementation per graded function of 06_exponentially_weighted_averages (see e2e_autograde)."""

WRONG = {
    "ewma": '''
def ewma(theta, beta, bias_correction=False):
    theta = np.asarray(theta, dtype=float)
    v = np.zeros(theta.shape)
    v_t = 0.0
    for t in range(1, theta.size + 1):
        v_t = beta * v_t + (1 - beta) * theta[t - 1]
        if bias_correction:
            v_t = v_t / (1 - beta**t)  # the corrected value is fed back into the recursion
        v[t - 1] = v_t
    return v
''',
}
