"""dlutils.nn: a small deep-learning framework on NumPy, with PyTorch's names (week 3, 12_frameworks).

    from dlutils import nn
    model = nn.Sequential(nn.Linear(64, 256, rng=rng), nn.ReLU(), nn.Linear(256, 10, rng=rng))
    loss_fn = nn.SoftmaxCrossEntropy()
    optimizer = nn.optim.Adam(model.parameters(), learning_rate=1e-3)
    loss = loss_fn(model(nn.Tensor(X_batch)), y_batch)     # X_batch (m, 64), y_batch ints (m,)
    optimizer.zero_grad(); loss.backward(); optimizer.step()

Batch first, as in every framework: inputs are (m, n), one example per row (the
course's (n_x, m) transposed). float32 and float64 both work and are kept;
randomness comes only from the ``rng`` given; nothing is global but the
no_grad() switch.

Files, each small enough to read in one sitting:
    tensor      Tensor (data, grad, backward()), Parameter, Function (custom ops), no_grad, unbroadcast
    functional  the ops as functions: linear, relu, tanh, sigmoid, log_softmax, softmax_cross_entropy,
                sigmoid_cross_entropy, dropout, batch_norm
    modules     Module, Sequential, Linear, ReLU, Tanh, Sigmoid, BatchNorm1d, Dropout,
                SoftmaxCrossEntropy, SigmoidCrossEntropy
    optim       Optimizer, SGD (momentum), RMSprop, Adam, Adagrad; inverse_time_decay, exponential_decay,
                staircase_decay
    course      to_course_params(model) / load_course_params(model, params): the {"W1", "b1", ...} dict
    threads     set_num_threads(n) / get_num_threads(): NumPy's BLAS threads (1 is fastest for small models)
"""

from dlutils.nn import functional, optim
from dlutils.nn.course import load_course_params, to_course_params
from dlutils.nn.modules import (BatchNorm1d, Dropout, Linear, Module, ReLU, Sequential, Sigmoid, SigmoidCrossEntropy,
                                SoftmaxCrossEntropy, Tanh)
from dlutils.nn.tensor import Function, Parameter, Tensor, is_grad_enabled, no_grad, unbroadcast
from dlutils.nn.threads import get_num_threads, set_num_threads

__all__ = ["Tensor", "Parameter", "Function", "no_grad", "is_grad_enabled", "unbroadcast", "functional", "optim",
           "Module", "Sequential", "Linear", "ReLU", "Tanh", "Sigmoid", "BatchNorm1d", "Dropout",
           "SoftmaxCrossEntropy", "SigmoidCrossEntropy", "to_course_params", "load_course_params",
           "set_num_threads", "get_num_threads"]
