"""dlutils.nn.optim against the week-2 rules: the reference solutions of 07_optimizers and 08_learning_rate_decay."""

from pathlib import Path

import numpy as np
import pytest
from reference_functions import load_reference_functions

from dlutils import nn

WEEK2 = Path(__file__).resolve().parents[2] / "solutions" / "week2"


@pytest.fixture(scope="module")
def week2():
    functions = load_reference_functions(WEEK2 / "07_optimizers.ipynb")
    functions.update(load_reference_functions(WEEK2 / "08_learning_rate_decay.ipynb"))
    return functions


def make_model(dtype=np.float64, seed=0):
    rng = np.random.default_rng(seed)
    return nn.Sequential(nn.Linear(5, 4, rng=rng, dtype=dtype), nn.Tanh(), nn.Linear(4, 3, rng=rng, dtype=dtype))


def backward_on_a_batch(model, step, dtype=np.float64):
    rng = np.random.default_rng(100 + step)
    x, y = rng.standard_normal((8, 5)).astype(dtype), rng.integers(0, 3, 8)
    nn.SoftmaxCrossEntropy()(model(nn.Tensor(x)), y).backward()


def course_grads(model):
    grads = {}
    for key, p in nn.course._course_names(model):
        grads["d" + key] = p.grad if key[0] == "W" else p.grad.reshape(-1, 1)
    return {k: v.copy() for k, v in grads.items()}


def zeros_like_grads(parameters):
    return {"d" + k: np.zeros_like(v) for k, v in parameters.items()}


RULES = {
    "gd": (lambda ps: nn.optim.SGD(ps, 0.1), lambda f, p, g, s, t: (f["update_parameters_gd"](p, g, 0.1), s)),
    "momentum": (lambda ps: nn.optim.SGD(ps, 0.1, momentum=0.9),
                 lambda f, p, g, s, t: f["update_parameters_momentum"](p, g, s, 0.9, 0.1)),
    "rmsprop": (lambda ps: nn.optim.RMSprop(ps, 0.01, beta=0.99, epsilon=1e-8),
                lambda f, p, g, s, t: f["update_parameters_rmsprop"](p, g, s, 0.99, 0.01, 1e-8)),
    "adagrad": (lambda ps: nn.optim.Adagrad(ps, 0.05, epsilon=1e-7),
                lambda f, p, g, s, t: f["update_parameters_adagrad"](p, g, s, 0.05, 1e-7)),
    "adam": (lambda ps: nn.optim.Adam(ps, learning_rate=0.01, beta1=0.8, beta2=0.99, epsilon=1e-8),
             lambda f, p, g, s, t: (lambda r: (r[0], r[1:]))(
                 f["update_parameters_adam"](p, g, s[0], s[1], t, 0.01, 0.8, 0.99, 1e-8))),
}


@pytest.mark.parametrize("name", RULES)
def test_optimizer_follows_the_week2_rule(week2, name):
    make_optimizer, course_rule = RULES[name]
    model = make_model()
    optimizer = make_optimizer(model.parameters())
    parameters = nn.to_course_params(model)
    state = (zeros_like_grads(parameters), zeros_like_grads(parameters)) if name == "adam" else zeros_like_grads(
        parameters)
    for t in range(1, 6):
        optimizer.zero_grad()
        backward_on_a_batch(model, t)
        grads = course_grads(model)
        optimizer.step()
        # the course's rule on the same gradients (evaluated at the same parameters)
        parameters, state = course_rule(week2, parameters, grads, state, t)
        ours = nn.to_course_params(model)
        for key in parameters:
            np.testing.assert_allclose(ours[key], parameters[key], rtol=1e-12, atol=1e-14, err_msg=f"{key} step {t}")
        assert optimizer.steps == t


def test_state_is_per_parameter_and_matches_the_course(week2):
    model = make_model()
    optimizer = nn.optim.Adam(model.parameters(), learning_rate=0.01)
    backward_on_a_batch(model, 1)
    optimizer.step()
    assert sorted(optimizer.state) == [0, 1, 2, 3]
    w = model[0].weight
    np.testing.assert_allclose(optimizer.state[0]["v"], 0.1 * w.grad)
    np.testing.assert_allclose(optimizer.state[0]["s"], 0.001 * w.grad ** 2)
    assert optimizer.state[1]["v"].shape == model[0].bias.shape


def test_gradients_set_by_hand_and_missing_gradients():
    model = make_model()
    params = model.parameters()
    before = [p.data.copy() for p in params]
    optimizer = nn.optim.SGD(params, 0.5)
    params[0].grad = np.ones_like(params[0].data)  # set by hand, not by backward: still used
    optimizer.step()
    np.testing.assert_allclose(params[0].data, before[0] - 0.5)
    for p, b in zip(params[1:], before[1:]):  # no gradient: skipped, as in PyTorch
        np.testing.assert_array_equal(p.data, b)


def test_frozen_parameters_stay_put():
    model = make_model()
    for p in model[0].parameters():  # transfer learning: freeze the first layer
        p.requires_grad = False
    frozen = [p.data.copy() for p in model[0].parameters()]
    head = model[2].weight.data.copy()
    optimizer = nn.optim.Adam(model.parameters(), learning_rate=0.1)
    for step in range(3):
        optimizer.zero_grad()
        backward_on_a_batch(model, step)
        optimizer.step()
    for p, before in zip(model[0].parameters(), frozen):
        assert p.grad is None
        np.testing.assert_array_equal(p.data, before)
    assert not np.allclose(model[2].weight.data, head)


def test_replaced_data_is_taken_back():
    model = make_model()
    optimizer = nn.optim.SGD(model.parameters(), 1.0)
    w = model[0].weight
    w.data = np.zeros_like(w.data)  # e.g. a notebook resetting a layer
    backward_on_a_batch(model, 1)
    g = w.grad.copy()
    optimizer.step()
    np.testing.assert_allclose(w.data, -g)


def test_learning_rate_is_settable_between_steps():
    model = make_model()
    w = model[0].weight
    optimizer = nn.optim.SGD(model.parameters(), 1.0)
    optimizer.learning_rate = 0.25
    backward_on_a_batch(model, 1)
    expected = w.data - 0.25 * w.grad
    optimizer.step()
    np.testing.assert_allclose(w.data, expected)


def test_zero_grad_and_float32():
    model = make_model(np.float32)
    optimizer = nn.optim.Adam(model.parameters())
    backward_on_a_batch(model, 1, np.float32)
    optimizer.step()
    assert all(p.data.dtype == np.float32 for p in model.parameters())
    assert all(s.dtype == np.float32 for state in optimizer.state.values() for s in state.values())
    optimizer.zero_grad()
    assert all(p.grad is None for p in model.parameters())


def test_bad_arguments():
    model = make_model()
    with pytest.raises(ValueError, match="learning_rate: "):
        nn.optim.SGD(model.parameters(), -1)
    with pytest.raises(ValueError, match="momentum: "):
        nn.optim.SGD(model.parameters(), 0.1, momentum=1.0)
    with pytest.raises(ValueError, match="beta2: "):
        nn.optim.Adam(model.parameters(), beta2=1.5)
    with pytest.raises(ValueError, match="params: expected at least one"):
        nn.optim.Adam([])
    with pytest.raises(ValueError, match=r"params\[0\]: expected a Parameter, got ndarray"):
        nn.optim.Adam([np.ones(2)])
    with pytest.raises(ValueError, match=r"params\[0\]: expected a Parameter, got a Tensor computed by an op"):
        nn.optim.Adam([nn.Parameter(np.ones(2)) * 2])
    w = model[0].weight
    with pytest.raises(ValueError, match=r"params\[1\]: this Parameter is listed twice"):
        nn.optim.Adam([w, w])
    with pytest.raises(ValueError, match="params: expected one dtype"):
        nn.optim.Adam([w, nn.Parameter(np.ones(2, dtype=np.float32))])
    with pytest.raises(NotImplementedError, match="_update"):
        nn.optim.Optimizer(model.parameters(), 0.1).step()


@pytest.mark.parametrize("ours, course, extra", [("inverse_time_decay", "lr_inverse_time", (0.5,)),
                                                 ("exponential_decay", "lr_exponential", (0.9,)),
                                                 ("staircase_decay", "lr_staircase", (0.5, 3))])
def test_schedules_follow_week2(week2, ours, course, extra):
    for epoch in range(12):
        assert getattr(nn.optim, ours)(0.2, epoch, *extra) == pytest.approx(week2[course](0.2, epoch, *extra),
                                                                            rel=1e-15)


def test_schedule_arguments():
    with pytest.raises(ValueError, match="epoch: "):
        nn.optim.inverse_time_decay(0.1, -1, 0.5)
    with pytest.raises(ValueError, match="learning_rate0: "):
        nn.optim.exponential_decay(0, 1, 0.9)
    with pytest.raises(ValueError, match="base: "):
        nn.optim.exponential_decay(0.1, 1, 1.5)
    with pytest.raises(ValueError, match="interval: "):
        nn.optim.staircase_decay(0.1, 1, 0.5, 0)


def test_a_kept_gradient_is_never_overwritten():
    model = make_model()
    optimizer = nn.optim.SGD(model.parameters(), 0.1)
    backward_on_a_batch(model, 1)
    kept = model[0].weight.grad
    saved = kept.copy()
    optimizer.step()
    optimizer.zero_grad()
    backward_on_a_batch(model, 2)
    optimizer.step()
    np.testing.assert_array_equal(kept, saved)  # a new step's gradient is a new array, as in PyTorch


def test_a_subclass_that_overrides_step():
    class HalfStep(nn.optim.Optimizer):  # the way 12_frameworks plugs a student's update in
        def step(self):
            for i, p in enumerate(self.params):
                self.state[i]["count"] = self.state[i].get("count", 0) + 1
                p.data = p.data - 0.5 * self.learning_rate * p.grad

    model = make_model()
    optimizer = HalfStep(model.parameters(), 1.0)
    backward_on_a_batch(model, 1)
    expected = [p.data - 0.5 * p.grad for p in model.parameters()]
    optimizer.step()
    for p, e in zip(model.parameters(), expected):
        np.testing.assert_allclose(p.data, e)
    assert optimizer.state[0]["count"] == 1
