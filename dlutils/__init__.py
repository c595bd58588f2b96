"""dlutils: the small NumPy library the course notebooks import.

Modules:
    layers    linear, relu, sigmoid, tanh: *_forward -> (out, cache), *_backward(dout, cache)
    model     L-layer binary classifier: L_model_forward/backward, compute_cost,
              predict, accuracy, layer_statistics, Dropout
    multiclass  softmax, one_hot, cross_entropy(_backward), predict_classes, accuracy: (C, m) outputs
    bn_net    a deep multi-class network with batch norm run by the student's batch-norm functions
              (train, forward, predict, running/population statistics), and the gradient check
              of a batch-norm backward (numerical_gradients, expect_gradients)
    classify  around the student's own softmax (11): C-class spiral data, a training loop taking
              the four softmax functions as hooks, confusion matrix, C-class decision regions, image grid
    train     train(...): one training loop taking the student's functions as hooks
    tuning    a digits network to tune (config dicts), DigitsTask.evaluate(config, budget) for
              search methods, map_parallel (configs trained on several cores)
    params    dictionary_to_vector / vector_to_dictionary (for gradient checking)
    data      offline datasets: circles, moons, flower, spiral, noisy_overfit, digits,
              shift_images (augmentation)
    plotting  palette, course style, show(fig, alt) and plot helpers
    checks    expect_* checks for notebook test cells, raising CheckFailure
    progress  what a student sees: failed checks as messages, needs(...) for demos that use
              unfinished exercises, the score view at the end of each notebook
    surfaces  2-D cost surfaces with their gradients (bowl, saddle, plateau, Rosenbrock-like)
    ewma_explorer  widget: moving averages of a noisy series with and without bias
              correction, from the student's ewma (imported on its own: it needs ipywidgets)
    optimizer_explorer  widget: GD/momentum/RMSprop/Adam paths on a surface, from the student's
              update functions (imported on its own: it needs ipywidgets)
    nn        a small framework with PyTorch's names (12-13): Tensor with reverse-mode autodiff,
              Module, Sequential, Linear, BatchNorm1d, Dropout, losses, optim (SGD, RMSprop, Adam,
              Adagrad, schedules); batch first, inputs (m, n)
    strategy  13's data and tools: mismatched "camera" digits, train-dev split, label flips,
              rule-based error tags, model costs, a masked multi-task sigmoid network,
              hand-made features and softmax regression

Conventions (all but nn, which is batch first like every framework): X is (n_x, m) with
one example per column, Y is (1, m), W{l} is (n_l, n_{l-1}), b{l} is (n_l, 1); randomness
only from an np.random.Generator passed as ``rng``.

What dlutils holds, and why some notebooks keep their own copies: dlutils holds no
answer to a graded exercise of an earlier notebook (a student's grade must come from
what they wrote, and a later notebook must not hand out an earlier answer), unless a
later notebook needs it as a tool. So a later notebook that needs an earlier answer as
a tool (He initialization in 03 and 07, mini-batches in 07 and 08) defines it in a
provided, collapsed cell, and those copies are identical: the same source text in every
notebook, kept so by ``tests/test_notebooks.py::test_provided_copies_are_identical``.
``nn`` holds the rules of earlier exercises (optimizers of 07, schedules of 08, batch norm of 10,
softmax cross-entropy of 11) because 12-13 use them as tools; hidden checks never call it.
``multiclass`` is the one tool ahead of its exercise: 10_batch_norm trains 10-class digits
before students write softmax in 11, and 12-13 build on it; hidden tests never call it.
"""

from dlutils import (bn_net, checks, classify, data, layers, model, multiclass, nn, params, plotting, progress,
                     strategy, surfaces, train, tuning)

progress.install()  # message-only check failures and the score record, in an IPython kernel

__version__ = "0.1.0"
