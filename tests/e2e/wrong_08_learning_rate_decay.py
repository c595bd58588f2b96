"""One realistic wrong implementation per graded function of 08_learning_rate_decay (see e2e_autograde)."""

WRONG = {
    "lr_inverse_time": '''
def lr_inverse_time(learning_rate0, epoch, decay_rate):
    learning_rate = learning_rate0 / 1 + decay_rate * epoch  # missing brackets
    return learning_rate
''',
    "lr_exponential": '''
def lr_exponential(learning_rate0, epoch, base):
    learning_rate = learning_rate0 * base ** (epoch + 1)  # epochs counted from 1
    return learning_rate
''',
    "lr_staircase": '''
def lr_staircase(learning_rate0, epoch, decay_rate, interval):
    learning_rate = learning_rate0 / (1 + decay_rate * round(epoch / interval))  # round, not floor
    return learning_rate
''',
}
