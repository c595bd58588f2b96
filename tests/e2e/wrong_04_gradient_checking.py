"""One realistic wrong implementation per graded function of 04_gradient_checking (see e2e_autograde)."""

WRONG = {
    "numerical_gradient": '''
def numerical_gradient(f, theta, epsilon=1e-7):
    grad_approx = np.zeros(theta.shape)
    for i in range(theta.shape[0]):
        theta_plus = theta.copy()
        theta_plus[i] += epsilon
        grad_approx[i] = (f(theta_plus) - f(theta)) / epsilon  # one-sided difference
    return grad_approx
''',
    "relative_difference": '''
def relative_difference(grad, grad_approx):
    numerator = np.linalg.norm(grad - grad_approx)
    return numerator / (np.linalg.norm(grad) + np.linalg.norm(grad_approx))  # nan when both are zero
''',
    "gradient_check": '''
def gradient_check(parameters, grads, cost_fn, epsilon=1e-7):
    theta, spec = params.dictionary_to_vector(parameters)
    # each dict flattened in its own order: dW3 (backprop fills it first) meets W1
    grad = np.concatenate([g.reshape(-1) for g in grads.values()]).reshape(-1, 1)
    f = lambda t: cost_fn(params.vector_to_dictionary(t, spec))
    return relative_difference(grad, numerical_gradient(f, theta, epsilon))
''',
    "suspect_gradients": '''
def suspect_gradients(parameters, grads, cost_fn, threshold=1e-5, epsilon=1e-7):
    differences = {}
    for key in grads:
        value = parameters[key[1:]]
        f = lambda v: cost_fn({**parameters, key[1:]: v.reshape(value.shape)})
        approx = numerical_gradient(f, value.reshape(-1, 1), epsilon).reshape(value.shape)
        differences[key] = relative_difference(grads[key], approx)
    return sorted([k for k in differences if differences[k] > threshold], key=differences.get)  # best first
''',
}
