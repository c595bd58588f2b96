"""One realistic wrong implementation per graded function of 10_batch_norm (see e2e_autograde).

Each loses only its own exercise. The backward exercises are checked with the cache of the
student's own forward, always called with an explicit epsilon, so the wrong forward here (a wrong
default epsilon) costs only the forward; most other forward mistakes would also show in the
backward's visible check, which compares with centred differences of the student's forward.
"""

WRONG = {
    "batchnorm_forward": '''
def batchnorm_forward(Z, gamma, beta, epsilon=1e-5):  # PyTorch's default epsilon, not the course's 1e-8
    mu = np.mean(Z, axis=1, keepdims=True)
    var = np.var(Z, axis=1, keepdims=True)
    inv_std = 1.0 / np.sqrt(var + epsilon)
    Z_hat = (Z - mu) * inv_std
    return gamma * Z_hat + beta, (Z_hat, gamma, inv_std)
''',
    "batchnorm_backward": '''
def batchnorm_backward(dZ_tilde, cache):
    Z_hat, gamma, inv_std = cache
    dbeta = np.sum(dZ_tilde, axis=1, keepdims=True)
    dgamma = np.sum(dZ_tilde * Z_hat, axis=1, keepdims=True)
    dZ = gamma * inv_std * dZ_tilde  # mu and var treated as constants
    return dZ, dgamma, dbeta
''',
    "batchnorm_backward_compact": '''
def batchnorm_backward_compact(dZ_tilde, cache):
    Z_hat, gamma, inv_std = cache
    dbeta = np.sum(dZ_tilde, axis=1, keepdims=True)
    dgamma = np.sum(dZ_tilde * Z_hat, axis=1, keepdims=True)
    dZ = gamma * inv_std * (dZ_tilde.shape[1] * dZ_tilde - dbeta - Z_hat * dgamma)  # the 1/m is missing
    return dZ, dgamma, dbeta
''',
    "update_running_stats": '''
def update_running_stats(running_mean, running_var, mu, var, momentum=0.9):
    running_mean = (1 - momentum) * running_mean + momentum * mu  # PyTorch's convention
    running_var = (1 - momentum) * running_var + momentum * var
    return running_mean, running_var
''',
    "batchnorm_inference": '''
def batchnorm_inference(Z, gamma, beta, running_mean, running_var, epsilon=1e-8):
    Z_tilde, _ = batchnorm_forward(Z, gamma, beta, epsilon)  # the batch's own statistics
    return Z_tilde
''',
}
