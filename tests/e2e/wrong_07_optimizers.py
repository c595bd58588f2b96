"""One realistic wrong implementation per graded function of 07_optimizers (see e2e_autograde)."""

WRONG = {
    "update_parameters_gd": '''
def update_parameters_gd(parameters, grads, learning_rate):
    L = len(parameters) // 2
    for l in range(1, L + 1):
        parameters["W" + str(l)] = parameters["W" + str(l)] - learning_rate * grads["dW" + str(l)]  # biases forgotten
    return parameters
''',
    "initialize_velocity": '''
def initialize_velocity(parameters):
    v = {}
    for key, value in parameters.items():
        v[key] = np.zeros_like(value)  # keyed "W1" like the parameters, not "dW1" like the gradients
    return v
''',
    "update_parameters_momentum": '''
def update_parameters_momentum(parameters, grads, v, beta, learning_rate):
    L = len(parameters) // 2
    for l in range(1, L + 1):
        for p in ("W", "b"):
            v[f"d{p}{l}"] = (1 - beta) * v[f"d{p}{l}"] + beta * grads[f"d{p}{l}"]  # beta on the wrong term
            parameters[f"{p}{l}"] = parameters[f"{p}{l}"] - learning_rate * v[f"d{p}{l}"]
    return parameters, v
''',
    "initialize_rmsprop": '''
def initialize_rmsprop(parameters):
    s = {}
    for key, value in parameters.items():
        s["d" + key] = np.zeros(value.shape[0])  # 1-D (n_l,): not the shape of the parameter
    return s
''',
    "update_parameters_rmsprop": '''
def update_parameters_rmsprop(parameters, grads, s, beta2, learning_rate, epsilon=1e-8):
    L = len(parameters) // 2
    for l in range(1, L + 1):
        for p in ("W", "b"):
            key = f"d{p}{l}"
            s[key] = beta2 * s[key] + (1 - beta2) * grads[key] ** 2
            parameters[f"{p}{l}"] = parameters[f"{p}{l}"] - learning_rate * grads[key] / np.sqrt(s[key] + epsilon)
    return parameters, s
''',
    "initialize_adam": '''
def initialize_adam(parameters):
    v = {"d" + key: np.zeros_like(value) for key, value in parameters.items()}
    s = dict(v)  # a new dict, but the same zero arrays as v
    return v, s
''',
    "update_parameters_adam": '''
def update_parameters_adam(parameters, grads, v, s, t, learning_rate=0.01, beta1=0.9, beta2=0.999, epsilon=1e-8):
    L = len(parameters) // 2
    for l in range(1, L + 1):
        for p in ("W", "b"):
            key = f"d{p}{l}"
            v[key] = beta1 * v[key] + (1 - beta1) * grads[key]
            s[key] = beta2 * s[key] + (1 - beta2) * grads[key] ** 2
            v[key] = v[key] / (1 - beta1 ** t)  # the corrected moments are stored back into v and s
            s[key] = s[key] / (1 - beta2 ** t)
            parameters[f"{p}{l}"] = parameters[f"{p}{l}"] - learning_rate * v[key] / (np.sqrt(s[key]) + epsilon)
    return parameters, v, s
''',
    "update_parameters_adagrad": '''
def update_parameters_adagrad(parameters, grads, cache, learning_rate, epsilon=1e-8):
    for key in grads:
        cache[key] = grads[key] ** 2  # replaced, not accumulated
    parameters = {key: value - learning_rate * grads["d" + key] / (np.sqrt(cache["d" + key]) + epsilon)
                  for key, value in parameters.items()}
    return parameters, cache
''',
}
