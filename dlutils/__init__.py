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
    surfaces  2-D cost surfaces with their gradients (bowl, saddle, plateau, Rosenbrock-like)
    ewma_explorer  widget: moving averages of a noisy series with and without bias
              correction, from the student's ewma (imported on its own: it needs ipywidgets)
    optimizer_explorer  widget: GD/momentum/RMSprop/Adam paths on a surface, from the student's
              update functions (imported on its own: it needs ipywidgets)

Conventions: X is (n_x, m) with one example per column, Y is (1, m),
W{l} is (n_l, n_{l-1}), b{l} is (n_l, 1); randomness only from an
np.random.Generator passed as ``rng``.
"""

from dlutils import bn_net, checks, classify, data, layers, model, multiclass, params, plotting, surfaces, train, tuning

__version__ = "0.1.0"
