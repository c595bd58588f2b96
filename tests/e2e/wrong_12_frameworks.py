"""One realistic wrong implementation per graded function of 12_frameworks (see e2e_autograde)."""

WRONG = {
    "unbroadcast": '''
def unbroadcast(grad, shape):
    lead = grad.ndim - len(shape)
    return np.sum(grad, axis=tuple(range(lead)))  # only the leading axes: a (4, 1) operand gets (4, 3)
''',
    "matmul_backward": '''
def matmul_backward(grad, A, B):
    dA = grad @ B.T
    dB = np.swapaxes(A, -1, -2) @ grad  # one product per matrix of a batch: never summed over the batch
    return dA, dB
''',
    "dropout_layer": '''
def dropout_layer(X, keep_prob, training, rng):
    mask = rng.random(X.shape) < keep_prob  # drawn in eval mode too: shifts every later random number
    if not training:
        return X, None
    return X * mask / keep_prob, mask
''',
    "adam_step": '''
def adam_step(params, grads, state, learning_rate=1e-3, beta1=0.9, beta2=0.999, epsilon=1e-8):
    if not state:
        state = {"t": 0, "v": [np.zeros_like(p) for p in params], "s": [np.zeros_like(p) for p in params]}
    t = state["t"] + 1
    v = [beta1 * v_i + (1 - beta1) * g for v_i, g in zip(state["v"], grads)]
    s = [beta2 * s_i + (1 - beta2) * g**2 for s_i, g in zip(state["s"], grads)]
    v_hat = [v_i / (1 - beta1**t) for v_i in v]
    s_hat = [s_i / (1 - beta2**t) for s_i in s]
    new = [p - learning_rate * vh / (np.sqrt(sh) + epsilon) for p, vh, sh in zip(params, v_hat, s_hat)]
    return new, {"t": t, "v": v_hat, "s": s_hat}  # stored bias-corrected
''',
}
