"""The optimizer-path explorer: pure path math, then the widget driven in plain Python (Agg)."""

import re

import matplotlib

matplotlib.use("Agg", force=True)

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
from matplotlib.axes import Axes  # noqa: E402
from matplotlib.backend_bases import MouseEvent  # noqa: E402

from dlutils import optimizer_explorer as oe  # noqa: E402
from dlutils import surfaces  # noqa: E402
from _ipympl import on_ipympl, pixels  # noqa: E402

# ------------------------------------------------------------------ the course's update rules, written
# here independently of the notebooks (vectorized form), as a student would pass them in.


def update_parameters_gd(parameters, grads, learning_rate):
    return {k: p - learning_rate * grads["d" + k] for k, p in parameters.items()}


def initialize_velocity(parameters):
    return {"d" + k: np.zeros_like(p) for k, p in parameters.items()}


def update_parameters_momentum(parameters, grads, v, beta, learning_rate):
    v = {k: beta * v[k] + (1 - beta) * grads[k] for k in v}
    return {k: p - learning_rate * v["d" + k] for k, p in parameters.items()}, v


initialize_rmsprop = initialize_velocity


def update_parameters_rmsprop(parameters, grads, s, beta2, learning_rate, epsilon=1e-8):
    s = {k: beta2 * s[k] + (1 - beta2) * grads[k] ** 2 for k in s}
    return {k: p - learning_rate * grads["d" + k] / (np.sqrt(s["d" + k]) + epsilon)
            for k, p in parameters.items()}, s


def initialize_adam(parameters):
    return initialize_velocity(parameters), initialize_velocity(parameters)


def update_parameters_adam(parameters, grads, v, s, t, learning_rate=0.01, beta1=0.9, beta2=0.999, epsilon=1e-8):
    v = {k: beta1 * v[k] + (1 - beta1) * grads[k] for k in v}
    s = {k: beta2 * s[k] + (1 - beta2) * grads[k] ** 2 for k in s}
    step = {k: (v[k] / (1 - beta1**t)) / (np.sqrt(s[k] / (1 - beta2**t)) + epsilon) for k in v}
    return {k: p - learning_rate * step["d" + k] for k, p in parameters.items()}, v, s


FUNCTIONS = {name: globals()[name] for name in oe.FUNCTION_NAMES}


def not_implemented(*args, **kwargs):
    raise NotImplementedError()


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


@pytest.fixture
def explorer():
    explorer = oe.OptimizerExplorer(**FUNCTIONS)
    yield explorer
    explorer.close()


def line_points(line):
    return np.asarray(line.get_xydata(), dtype=float)


# ------------------------------------------------------------------ pure math


def test_gd_path_is_plain_gradient_descent():
    bowl = surfaces.get_surface("elongated bowl")
    path = oe.optimizer_path("GD", FUNCTIONS, bowl, (-4.0, 2.0), 30, learning_rate=0.3)
    w, expected = np.array([-4.0, 2.0]), [np.array([-4.0, 2.0])]
    for _ in range(30):
        w = w - 0.3 * np.array(bowl.gradient(*w))
        expected.append(w)
    np.testing.assert_allclose(path.points, expected, rtol=1e-12)
    np.testing.assert_allclose(path.costs, [bowl.cost(*p) for p in expected], rtol=1e-12)
    assert path.diverged_at is None and path.error is None


def test_adam_first_step_has_the_size_of_the_learning_rate():
    # t = 1 with zero moments: v_hat = g, s_hat = g², so each coordinate moves by lr * sign(g).
    surface = surfaces.get_surface("Rosenbrock-like")
    path = oe.optimizer_path("Adam", FUNCTIONS, surface, (-1.5, 2.5), 1, learning_rate=0.05)
    g = np.array(surface.gradient(-1.5, 2.5))
    np.testing.assert_allclose(path.points[1] - path.points[0], -0.05 * np.sign(g), rtol=1e-6)


def test_beta1_reaches_momentum_and_beta2_reaches_rmsprop():
    args = ("elongated bowl", (-4.5, 2.0), 20)
    base = oe.all_paths(FUNCTIONS, *args, learning_rate=0.1, beta1=0.9, beta2=0.999)
    beta1 = oe.all_paths(FUNCTIONS, *args, learning_rate=0.1, beta1=0.5, beta2=0.999)
    beta2 = oe.all_paths(FUNCTIONS, *args, learning_rate=0.1, beta1=0.9, beta2=0.9)
    same = {name: np.array_equal(base[name].points, beta1[name].points) for name in oe.OPTIMIZERS}
    assert same == {"GD": True, "momentum": False, "RMSprop": True, "Adam": False}
    same = {name: np.array_equal(base[name].points, beta2[name].points) for name in oe.OPTIMIZERS}
    assert same == {"GD": True, "momentum": True, "RMSprop": False, "Adam": False}


@pytest.mark.parametrize("name", list(surfaces.SURFACES))
def test_gd_converges_at_each_surface_s_own_learning_rate(name):
    surface = surfaces.get_surface(name)
    path = oe.optimizer_path("GD", FUNCTIONS, surface, surface.start, 200, learning_rate=surface.learning_rate)
    assert path.diverged_at is None and len(path.points) == 201
    assert path.costs[-1] < path.costs[0]


def test_divergence_is_cut_where_the_path_leaves_the_finite_box():
    path = oe.optimizer_path("GD", FUNCTIONS, "elongated bowl", (-4.5, 2.0), 200, learning_rate=3.0)
    # along w2 every step multiplies by 1 - 3 * 2 = -5: 2 * 5^k passes 1e6 at k = 9
    assert path.diverged_at == 9
    assert len(path.points) == path.diverged_at and np.isfinite(path.points).all()
    assert np.abs(path.points).max() <= oe.BOUND
    assert oe.describe("GD", path, 200) == "GD: diverged at step 9"
    assert oe.describe("GD", path, 5).startswith("GD: step 5, cost")


def test_nan_counts_as_divergence():
    def nan_gd(parameters, grads, learning_rate):
        return {k: p * np.nan for k, p in parameters.items()}

    path = oe.optimizer_path("GD", {**FUNCTIONS, "update_parameters_gd": nan_gd}, "saddle", (1.0, 1.0), 10,
                             learning_rate=0.1)
    assert path.diverged_at == 1 and len(path.points) == 1


@pytest.mark.parametrize("name, missing", [("GD", "update_parameters_gd"), ("momentum", "initialize_velocity"),
                                           ("RMSprop", "update_parameters_rmsprop"), ("Adam", "initialize_adam"),
                                           ("Adam", "update_parameters_adam")])
def test_not_implemented_is_a_message_naming_the_function(name, missing):
    functions = {**FUNCTIONS, missing: not_implemented}
    path = oe.optimizer_path(name, functions, "saddle", (1.0, 1.0), 10, learning_rate=0.1)
    assert path.error.startswith(f"{missing} is not implemented yet")
    assert len(path.points) == 1 and path.diverged_at is None
    assert oe.describe(name, path, 10) == f"{name}: not running"


def test_a_student_bug_is_reported_with_the_function_and_the_exception():
    def keyed_wrong(parameters, grads, learning_rate):
        return {k: p - learning_rate * grads[k] for k, p in parameters.items()}  # grads["W1"]: KeyError

    path = oe.optimizer_path("GD", {**FUNCTIONS, "update_parameters_gd": keyed_wrong}, "saddle", (1.0, 1.0), 5,
                             learning_rate=0.1)
    assert path.error == "update_parameters_gd raised KeyError: 'W1'"


@pytest.mark.parametrize("returned, words", [
    (lambda p, g, v, beta, lr: p, r"should return \(parameters, v\), got a dict"),
    (lambda p, g, v, beta, lr: (None, v), "returned NoneType as parameters"),
    (lambda p, g, v, beta, lr: ({"W1": p["W1"]}, v), "without key 'b1'"),
    (lambda p, g, v, beta, lr: ({"W1": np.zeros((2, 1)), "b1": p["b1"]}, v), r"W1 of shape \(2, 1\)"),
])
def test_unusable_return_values_are_named(returned, words):
    path = oe.optimizer_path("momentum", {**FUNCTIONS, "update_parameters_momentum": returned}, "saddle",
                             (1.0, 1.0), 5, learning_rate=0.1)
    assert path.error.startswith("update_parameters_momentum") and pytest.approx(path.points) == [[1.0, 1.0]]
    assert re.search(words, path.error), path.error


def test_biases_forgotten_moves_along_w1_only():
    def weights_only(parameters, grads, learning_rate):
        return {"W1": parameters["W1"] - learning_rate * grads["dW1"], "b1": parameters["b1"]}

    path = oe.optimizer_path("GD", {**FUNCTIONS, "update_parameters_gd": weights_only}, "elongated bowl",
                             (-4.5, 2.0), 20, learning_rate=0.1)
    assert np.all(path.points[:, 1] == 2.0) and path.points[-1, 0] > -4.5


def test_unknown_optimizer_is_refused():
    with pytest.raises(ValueError, match="name: expected one of 'GD', 'momentum', 'RMSprop', 'Adam'"):
        oe.optimizer_path("SGD", FUNCTIONS, "saddle", (0, 0), 3, learning_rate=0.1)


# ------------------------------------------------------------------ the widget


def test_controls_have_descriptions_and_the_root_its_class(explorer):
    assert explorer.surface.description == "surface"
    assert explorer.learning_rate.description == "learning rate"
    assert explorer.beta1.description == "β₁ (momentum)"
    assert explorer.beta2.description == "β₂ (RMSprop)"
    assert explorer.play.description == "step"
    assert explorer.step.description == "at step"
    assert explorer.reset.description == "reset start"
    assert "dl-optimizer-explorer" in explorer.widget._dom_classes
    assert explorer.link.source == (explorer.play, "value") and explorer.link.target == (explorer.step, "value")
    assert explorer.play.max == explorer.step.max == explorer.num_steps == 200
    assert list(explorer.surface.options) == list(surfaces.SURFACES)
    assert min(explorer.learning_rate.min, 0) <= -3 and 10 ** explorer.learning_rate.max > 1  # GD diverges in range


def test_initial_lines_show_the_full_paths(explorer):
    assert set(explorer.paths) == set(oe.OPTIMIZERS)
    for name, path in explorer.paths.items():
        np.testing.assert_array_equal(line_points(explorer.lines[name]), path.points)
        np.testing.assert_array_equal(line_points(explorer.markers[name]), path.points[-1:])
    assert explorer.message.value == "All four optimizers ran."


def test_learning_rate_slider_changes_the_lines_without_redrawing_contours(explorer, monkeypatch):
    draws, contours = [], []
    monkeypatch.setattr(explorer.fig.canvas, "draw_idle", lambda *a, **k: draws.append(1))
    monkeypatch.setattr(Axes, "contour", lambda *a, **k: contours.append(1))
    before = {name: line_points(line) for name, line in explorer.lines.items()}
    explorer.learning_rate.value = 0.3
    for name in oe.OPTIMIZERS:
        assert not np.array_equal(line_points(explorer.lines[name]), before[name]), name
    assert draws and contours == [] and explorer.background_draws == 1


def test_beta_sliders_change_the_paths_that_use_them(explorer):
    before = {name: line_points(line) for name, line in explorer.lines.items()}
    explorer.beta1.value = 0.5
    changed = {name: not np.array_equal(line_points(explorer.lines[name]), before[name]) for name in before}
    assert changed == {"GD": False, "momentum": True, "RMSprop": False, "Adam": True}
    explorer.beta2.value = 0.9
    assert not np.array_equal(line_points(explorer.lines["RMSprop"]), before["RMSprop"])


def test_switching_surface_draws_the_contours_once(explorer, monkeypatch):
    original, calls = Axes.contour, []

    def counting(self, *args, **kwargs):
        calls.append(self)
        return original(self, *args, **kwargs)

    monkeypatch.setattr(Axes, "contour", counting)
    explorer.surface.value = "Rosenbrock-like"
    assert explorer.background_draws == 2
    assert sorted(map(id, calls)) == sorted(map(id, explorer.axes.values()))  # one contour set per panel
    rosenbrock = surfaces.get_surface("Rosenbrock-like")
    assert explorer.start == rosenbrock.start and explorer.learning_rate.value == pytest.approx(0.02)
    for name, ax in explorer.axes.items():
        assert len(ax.collections) == 1  # the old surface's contours are gone
        assert ax.get_xlim() == rosenbrock.xlim and ax.get_ylim() == rosenbrock.ylim
        assert tuple(line_points(explorer.lines[name])[0]) == rosenbrock.start
    explorer.learning_rate.value = 0.05
    assert explorer.background_draws == 2 and len(calls) == 4


def test_step_slider_shows_the_path_up_to_that_step(explorer):
    explorer.step.value = 10
    for name, path in explorer.paths.items():
        np.testing.assert_array_equal(line_points(explorer.lines[name]), path.points[:11])
        np.testing.assert_array_equal(line_points(explorer.markers[name]), path.points[10:11])
        assert oe.describe(name, path, 10) in explorer.costs.value
        assert explorer.axes[name].get_title() == name
    assert re.search(r"GD: step 10, cost \d", explorer.costs.value)


def click(explorer, ax, w1, w2, button=1):
    x, y = ax.transData.transform((w1, w2))
    event = MouseEvent("button_press_event", explorer.fig.canvas, x, y, button=button)
    explorer.fig.canvas.callbacks.process("button_press_event", event)


def test_a_click_moves_the_start_point(explorer):
    click(explorer, explorer.axes["Adam"], 1.5, -1.0)
    assert explorer.start == pytest.approx((1.5, -1.0))
    for name in oe.OPTIMIZERS:
        assert line_points(explorer.lines[name])[0] == pytest.approx([1.5, -1.0])
    for marker in explorer._start_markers:
        assert line_points(marker)[0] == pytest.approx([1.5, -1.0])
    click(explorer, explorer.axes["GD"], 2.0, 1.0, button=3)  # right button: ignored
    assert explorer.start == pytest.approx((1.5, -1.0))
    explorer.reset.click()
    assert explorer.start == surfaces.get_surface("elongated bowl").start


def test_a_click_outside_the_panels_is_ignored(explorer):
    event = MouseEvent("button_press_event", explorer.fig.canvas, 2, 2, button=1)  # figure corner
    explorer.fig.canvas.callbacks.process("button_press_event", event)
    assert explorer.start == surfaces.get_surface("elongated bowl").start


def test_divergence_is_reported(explorer):
    explorer.learning_rate.value = 3.0
    path = explorer.paths["GD"]
    assert path.diverged_at is not None
    assert f"GD: diverged at step {path.diverged_at}" in explorer.costs.value
    assert f"<b>GD</b> diverged at step {path.diverged_at}" in explorer.message.value
    assert np.isfinite(line_points(explorer.lines["GD"])).all()


def test_not_implemented_is_shown_and_the_others_still_run():
    explorer = oe.OptimizerExplorer(**{**FUNCTIONS, "update_parameters_adam": not_implemented})
    try:
        note = explorer.notes["Adam"]
        text = note.get_text()
        assert note.get_visible() and " ".join(text.split()).startswith("update_parameters_adam is not implemented yet")
        assert max(len(line) for line in text.splitlines()) <= 34  # wrapped to stay inside its panel
        assert "<b>Adam</b>: update_parameters_adam is not implemented yet" in explorer.message.value
        assert "Adam: not running" in explorer.costs.value
        for name in ("GD", "momentum", "RMSprop"):
            assert explorer.paths[name].error is None and not explorer.notes[name].get_visible()
            assert len(line_points(explorer.lines[name])) == 201
        explorer.learning_rate.value = 0.2  # still no traceback on a slider move
        assert explorer.paths["Adam"].error is not None
    finally:
        explorer.close()


def test_functions_left_out_blank_only_their_panels():
    """Partial work: only GD and Adam written (progress.available leaves the other three out)."""
    written = {name: FUNCTIONS[name] for name in ("update_parameters_gd", "initialize_adam", "update_parameters_adam")}
    explorer = oe.OptimizerExplorer(**written)
    try:
        for name, first in (("momentum", "initialize_velocity"), ("RMSprop", "initialize_rmsprop")):
            assert explorer.paths[name].error.startswith(f"{first} is not written yet")
            assert explorer.notes[name].get_visible()
        for name in ("GD", "Adam"):
            assert explorer.paths[name].error is None and len(line_points(explorer.lines[name])) == 201
    finally:
        explorer.close()


def test_without_ipympl_the_figure_is_shown_as_an_image(explorer):
    assert explorer._image is not None and bytes(explorer._image.value).startswith(b"\x89PNG")
    first = bytes(explorer._image.value)
    explorer.learning_rate.value = 0.5
    assert bytes(explorer._image.value) != first


@pytest.mark.parametrize("kwargs, words", [
    ({**FUNCTIONS, "update_parameters_sgd": update_parameters_gd}, "unexpected argument.*update_parameters_sgd"),
    ({**FUNCTIONS, "update_parameters_gd": None}, "update_parameters_gd: expected your function, got NoneType"),
    ({**FUNCTIONS, "num_steps": 0}, "num_steps: expected a positive integer"),
    ({**FUNCTIONS, "surface": "bowl"}, "surface: expected one of"),
])
def test_bad_arguments_are_named(kwargs, words):
    with pytest.raises(ValueError, match=words):
        oe.OptimizerExplorer(**kwargs)


def test_a_beta_slider_reruns_only_the_optimizers_that_use_it():
    calls = []

    def counted(fn):
        def wrapper(*args):
            calls.append(fn.__name__)
            return fn(*args)
        return wrapper

    explorer = oe.OptimizerExplorer(**{name: counted(fn) for name, fn in FUNCTIONS.items()})
    try:
        def updates_after(control, value):
            calls.clear()
            control.value = value
            return {name for name in calls if name.startswith("update_parameters_")}

        assert updates_after(explorer.beta2, 0.9) == {"update_parameters_rmsprop", "update_parameters_adam"}
        assert updates_after(explorer.beta1, 0.5) == {"update_parameters_momentum", "update_parameters_adam"}
        assert updates_after(explorer.learning_rate, 0.2) == {f"update_parameters_{n}"
                                                              for n in ("gd", "momentum", "rmsprop", "adam")}
        assert updates_after(explorer.step, 20) == set()
        # the cached paths are the ones a fresh computation gives
        fresh = oe.all_paths(FUNCTIONS, explorer.surface.value, explorer.start, explorer.num_steps,
                             learning_rate=0.2, beta1=0.5, beta2=0.9)
        for name in oe.OPTIMIZERS:
            np.testing.assert_array_equal(explorer.paths[name].points, fresh[name].points)
    finally:
        explorer.close()


# ------------------------------------------------------------------ blitting on ipympl's canvas


@pytest.fixture
def live_explorer():
    """The explorer on ipympl's real canvas (no browser: frames are recorded instead of sent)."""
    explorer, frames = on_ipympl(lambda: oe.OptimizerExplorer(**FUNCTIONS))
    yield explorer, frames
    explorer.close()


def test_on_ipympl_a_slider_move_blits_the_same_pixels_a_full_draw_gives(live_explorer, monkeypatch):
    explorer, frames = live_explorer
    canvas, blitter = explorer.fig.canvas, explorer.blitter
    assert blitter.enabled and all(line.get_animated() for line in explorer.lines.values())
    canvas.draw()  # what the browser asks for when the widget appears: captures the background
    first = pixels(canvas)
    assert blitter.background is not None and len(frames) == 1

    full_draws = []
    monkeypatch.setattr(type(explorer.fig), "draw", lambda *a, **k: full_draws.append(1), raising=True)
    explorer.learning_rate.value = 0.3
    assert blitter.blits == 1 and full_draws == [] and len(frames) == 2  # a frame sent, no full render
    blitted = pixels(canvas)
    assert not np.array_equal(blitted, first)  # the paths moved
    monkeypatch.undo()
    canvas.draw()
    np.testing.assert_array_equal(blitted, pixels(canvas))


def test_on_ipympl_a_new_surface_is_drawn_in_full_then_blitted_over(live_explorer):
    explorer, frames = live_explorer
    canvas, blitter = explorer.fig.canvas, explorer.blitter
    canvas.draw()
    draw_requests = []
    canvas.draw_idle = lambda: draw_requests.append(1)  # ipympl asks the browser, which asks for canvas.draw()
    explorer.surface.value = "saddle"
    assert blitter.background is None and draw_requests  # the old contours are not blitted over
    canvas.draw()
    explorer.step.value = 15
    assert blitter.blits == 1
    blitted = pixels(canvas)
    canvas.draw()
    np.testing.assert_array_equal(blitted, pixels(canvas))  # background has the saddle's contours
