"""One realistic wrong implementation per graded function of 03_regularization (see e2e_autograde)."""

WRONG = {
    "l2_cost": '''
def l2_cost(AL, Y, parameters, lambd):
    m = Y.shape[1]
    squares = sum(np.sum(np.square(value)) for value in parameters.values())  # biases penalised too
    return float(model.compute_cost(AL, Y) + lambd / (2 * m) * squares)
''',
    "add_l2_gradients": '''
def add_l2_gradients(grads, parameters, lambd, m):
    L = len(parameters) // 2
    for l in range(1, L + 1):
        grads["dW" + str(l)] += lambd / (2 * m) * parameters["W" + str(l)]  # copied the 1/2 of the cost
    return grads
''',
    "dropout_forward": '''
def dropout_forward(A, keep_prob, rng):
    D = np.random.rand(A.shape[0], A.shape[1]) < keep_prob  # global RNG, not rng
    A_out = A * D / keep_prob
    return A_out, D
''',
    "dropout_backward": '''
def dropout_backward(dA, D, keep_prob):
    return dA * D  # forgot to rescale by 1 / keep_prob
''',
    "early_stopping_epoch": '''
def early_stopping_epoch(dev_costs, patience):
    best, epoch = 0, 0
    for epoch in range(1, len(dev_costs)):
        if dev_costs[epoch] < dev_costs[best]:
            best = epoch
        elif epoch - best >= patience:
            break
    return epoch  # the epoch where training stopped, not the best one
''',
}
