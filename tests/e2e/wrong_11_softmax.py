"""One realistic wrong implementation per graded function of 11_softmax (see e2e_autograde)."""

WRONG = {
    "softmax": '''
def softmax(Z):
    E = np.exp(Z - np.max(Z))  # one global max: a column far below it underflows to 0 / 0
    A = E / np.sum(E, axis=0, keepdims=True)
    return A
''',
    "one_hot": '''
def one_hot(y, C):
    Y = np.zeros((C, len(y)))  # len of (1, m) labels is 1
    Y[y, np.arange(len(y))] = 1.0
    return Y
''',
    "cross_entropy_cost": '''
def cross_entropy_cost(AL, Y):
    m = AL.shape[1]
    cost = -np.sum(Y * np.log(AL)) / m  # log(0) = -inf, and 0 * -inf = nan
    return float(cost)
''',
    "softmax_backward": '''
def softmax_backward(AL, Y):
    dZ = (AL - Y) / AL.shape[1]  # the 1/m belongs in dW and db: this divides twice
    return dZ
''',
}
