"""The moving-average explorer of 06, driven in plain Python (Agg backend, no browser)."""
import matplotlib

matplotlib.use("Agg", force=True)

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from dlutils.ewma_explorer import (  # noqa: E402
    BETAS,
    NOT_IMPLEMENTED,
    EwmaExplorer,
    effective_window,
    ewma_weights,
    explorer_curves,
    window_span,
)
from _ipympl import on_ipympl, pixels  # noqa: E402


def loop_ewma(theta, beta, bias_correction=False):
    """An independent oracle: the recursion written out, v_0 = 0."""
    v, out = 0.0, []
    for t, x in enumerate(theta, start=1):
        v = beta * v + (1 - beta) * x
        out.append(v / (1 - beta**t) if bias_correction else v)
    return np.array(out)


def not_implemented(theta, beta, bias_correction=False):
    raise NotImplementedError()


THETA = 25 + 3 * np.random.default_rng(0).standard_normal(120)  # far from 0: the start-up bias is large


@pytest.fixture
def make():
    made = []

    def build(ewma=loop_ewma, theta=THETA, **kwargs):
        explorer = EwmaExplorer(ewma, theta, **kwargs)
        made.append(explorer)
        return explorer

    yield build
    for explorer in made:
        explorer.close()
    plt.close("all")


# ------------------------------------------------------------------ the pure functions

@pytest.mark.parametrize("beta, window", [(0.5, 2), (0.9, 10), (0.98, 50), (0.999, 1000)])
def test_effective_window_is_one_over_one_minus_beta(beta, window):
    assert effective_window(beta) == pytest.approx(window)
    if beta >= 0.9:  # beta ** window is about 1/e: the sense in which the window is "effective"
        assert beta ** effective_window(beta) == pytest.approx(np.exp(-1), abs=0.02)


@pytest.mark.parametrize("bad", [1.0, 1.5, -0.1, True, "0.9", None])
def test_effective_window_refuses_bad_beta(bad):
    with pytest.raises(ValueError, match="beta"):
        effective_window(bad)


@pytest.mark.parametrize("beta", [0.5, 0.9, 0.98])
@pytest.mark.parametrize("t", [1, 7, 120])
def test_weights_sum_to_one_minus_beta_to_the_t_and_reproduce_v_t(beta, t):
    w = ewma_weights(beta, t)
    assert w.shape == (t,)
    assert w.sum() == pytest.approx(1 - beta**t, rel=1e-12)
    assert w[-1] == pytest.approx(1 - beta)  # the newest value weighs (1 - beta)
    if t > 1:
        assert np.allclose(w[:-1] / w[1:], beta)  # each step back multiplies by beta
    assert w @ THETA[:t] == pytest.approx(loop_ewma(THETA[:t], beta)[-1], rel=1e-12)


@pytest.mark.parametrize("bad", [0, -3, 2.5, True])
def test_weights_refuse_bad_t(bad):
    with pytest.raises(ValueError, match="t:"):
        ewma_weights(0.9, bad)


def test_window_span_ends_at_t_and_is_cut_at_zero():
    assert window_span(0.9, 100) == (90.0, 100.0)
    assert window_span(0.98, 20) == (0.0, 20.0)


def test_explorer_curves_calls_ewma_both_ways():
    curves = explorer_curves(loop_ewma, THETA, 0.9)
    assert np.allclose(curves.raw, loop_ewma(THETA, 0.9))
    assert np.allclose(curves.corrected, loop_ewma(THETA, 0.9, bias_correction=True))


def test_explorer_curves_protects_the_series_from_in_place_ewma():
    def in_place(theta, beta, bias_correction=False):
        theta[:] = loop_ewma(theta, beta, bias_correction)
        return theta

    theta = THETA.copy()
    explorer_curves(in_place, theta, 0.9)
    assert np.array_equal(theta, THETA)


@pytest.mark.parametrize("ewma, words", [
    (lambda theta, beta, bias_correction=False: list(loop_ewma(theta, beta)), "returned list"),
    (lambda theta, beta, bias_correction=False: loop_ewma(theta, beta)[:-1], r"shape \(119,\)"),
    (lambda theta, beta, bias_correction=False: loop_ewma(theta, beta).reshape(1, -1), r"shape \(1, 120\)"),
    (lambda theta, beta, bias_correction=False: np.full(len(theta), np.nan), "NaN"),
])
def test_explorer_curves_says_what_is_wrong_with_a_result(ewma, words):
    with pytest.raises(ValueError, match=words):
        explorer_curves(ewma, THETA, 0.9)


def test_explorer_curves_lets_not_implemented_through():
    with pytest.raises(NotImplementedError):
        explorer_curves(not_implemented, THETA, 0.9)


# ------------------------------------------------------------------ the widget

def test_controls_have_descriptions_and_the_root_its_class(make):
    explorer = make()
    assert explorer.beta.description in ("β", "beta")
    assert explorer.bias_correction.description == "bias correction"
    assert explorer.t.description == "t" and explorer.play.description == "t"
    assert "dl-ewma-explorer" in explorer.widget._dom_classes
    assert {0.5, 0.9, 0.98, 0.999} <= set(explorer.beta.options[i][1] for i in range(len(explorer.beta.options)))
    assert (explorer.t.min, explorer.t.max) == (explorer.play.min, explorer.play.max) == (1, THETA.size)
    link = explorer._link  # Play drives the t slider in the browser
    assert link.source == (explorer.play, "value") and link.target == (explorer.t, "value")
    assert "application/vnd.jupyter.widget-view+json" in explorer._repr_mimebundle_()


def test_starts_with_the_students_average_over_the_whole_series(make):
    explorer = make(beta=0.9)
    x, y = explorer.lines["ewma"].get_data()
    assert np.array_equal(x, np.arange(1, THETA.size + 1))
    assert np.allclose(y, loop_ewma(THETA, 0.9))
    assert np.allclose(explorer.lines["weights"].get_ydata(), ewma_weights(0.9, THETA.size))
    assert explorer.message.value == ""


def test_moving_beta_redraws_the_same_lines_in_place(make, monkeypatch):
    explorer = make(beta=0.9)
    lines, figures = dict(explorer.lines), plt.get_fignums()
    draws = []
    monkeypatch.setattr(explorer.fig.canvas, "draw_idle", lambda: draws.append(1))
    before = explorer.lines["ewma"].get_ydata().copy()
    explorer.beta.value = 0.98
    after = explorer.lines["ewma"].get_ydata()
    assert not np.allclose(before, after)
    assert np.allclose(after, loop_ewma(THETA, 0.98))
    assert np.allclose(explorer.lines["weights"].get_ydata(), ewma_weights(0.98, THETA.size))
    assert draws and explorer.lines == lines and plt.get_fignums() == figures  # no new figure, no new lines
    assert "50" in explorer.ax.get_title()  # the window 1/(1 - 0.98)


def test_bias_correction_toggle_switches_the_curve(make):
    explorer = make(beta=0.98)
    assert explorer.lines["ewma"].get_ydata()[0] == pytest.approx(0.02 * THETA[0])  # far below the data
    assert explorer.lines["uncorrected"].get_xdata().size == 0
    explorer.bias_correction.value = True
    corrected = explorer.lines["ewma"].get_ydata()
    assert np.allclose(corrected, loop_ewma(THETA, 0.98, bias_correction=True))
    assert corrected[0] == pytest.approx(THETA[0])  # corrected v_1 is theta_1 itself
    assert np.allclose(explorer.lines["uncorrected"].get_ydata(), loop_ewma(THETA, 0.98))  # kept for comparison
    assert "1 - β^t" in explorer.legend.get_texts()[explorer._ewma_entry].get_text()
    explorer.bias_correction.value = False
    assert np.allclose(explorer.lines["ewma"].get_ydata(), loop_ewma(THETA, 0.98))


def test_t_cuts_the_curves_and_moves_the_window(make):
    calls = []

    def counting(theta, beta, bias_correction=False):
        calls.append(beta)
        return loop_ewma(theta, beta, bias_correction)

    explorer = make(counting, beta=0.9)
    explorer.t.value = 30
    x, y = explorer.lines["ewma"].get_data()
    assert len(x) == len(y) == 30 and np.allclose(y, loop_ewma(THETA, 0.9)[:30])
    assert np.allclose(explorer.lines["weights"].get_ydata(), ewma_weights(0.9, 30))
    assert np.allclose(explorer.lines["now"].get_ydata(), y[-1])
    for patch in explorer.windows:
        assert (patch.get_x(), patch.get_x() + patch.get_width()) == pytest.approx((20, 30))
    assert "0.958" in explorer.weights_text.get_text()  # 1 - 0.9 ** 30
    for t in range(1, 31):  # what the Play button does
        explorer.t.value = t
    assert len(calls) == 2  # ewma ran once per curve for this beta, not once per step


def test_not_implemented_shows_a_message_instead_of_a_traceback(make):
    explorer = make(not_implemented)
    assert NOT_IMPLEMENTED in explorer.message.value
    assert "implement ewma above" in explorer.message.value
    assert explorer.status_text.get_visible() and explorer.status_text.get_text() == NOT_IMPLEMENTED
    assert explorer.lines["ewma"].get_xdata().size == 0
    explorer.beta.value = 0.5  # the controls keep working
    explorer.t.value = 10
    explorer.bias_correction.value = True
    assert NOT_IMPLEMENTED in explorer.message.value
    assert explorer.lines["weights"].get_xdata().size == 10


def test_a_failing_ewma_is_named_in_the_message(make):
    def broken(theta, beta, bias_correction=False):
        return theta.shape[5]

    explorer = make(broken)
    assert "ewma failed: IndexError" in explorer.message.value
    explorer2 = make(lambda theta, beta, bias_correction=False: loop_ewma(theta, beta)[1:])
    assert "shape (119,)" in explorer2.message.value


def test_a_fixed_ewma_is_shown_once_the_message_cleared(make):
    explorer = make(not_implemented, beta=0.9)
    explorer.ewma_fn = loop_ewma  # what re-running the cell with a working ewma amounts to
    explorer._cache.clear()
    explorer.beta.value = 0.5
    assert explorer.message.value == "" and not explorer.status_text.get_visible()
    assert np.allclose(explorer.lines["ewma"].get_ydata(), loop_ewma(THETA, 0.5))


@pytest.mark.parametrize("kwargs, words", [
    ({"ewma": "ewma"}, "ewma: expected your function"),
    ({"theta": np.ones((3, 4))}, "theta: expected a 1-D series"),
    ({"theta": [1.0, np.nan, 2.0]}, "finite"),
    ({"beta": 0.7}, "beta: expected one of"),
    ({"betas": (0.5, 1.0), "beta": 0.5}, "beta: expected a number"),
])
def test_bad_arguments_are_named(make, kwargs, words):
    with pytest.raises(ValueError, match=words):
        make(**kwargs)


def test_default_betas_span_the_lecture_values():
    assert {0.5, 0.9, 0.98, 0.999} <= set(BETAS) and list(BETAS) == sorted(BETAS)


# ------------------------------------------------------------------ blitting on ipympl's canvas


@pytest.fixture
def live_explorer():
    """The explorer on ipympl's real canvas (no browser: frames are recorded instead of sent)."""
    explorer, frames = on_ipympl(lambda: EwmaExplorer(loop_ewma, THETA))
    yield explorer, frames
    explorer.close()


def test_on_ipympl_t_and_a_beta_seen_before_are_blitted_with_the_pixels_of_a_full_draw(live_explorer, monkeypatch):
    explorer, frames = live_explorer
    canvas, blitter = explorer.fig.canvas, explorer.blitter
    assert blitter.enabled and explorer.weights_text.get_animated() and explorer.lines["ewma"].get_animated()
    canvas.draw()  # what the browser asks for when the widget appears: captures the background of beta 0.9
    draw_requests = []
    monkeypatch.setattr(canvas, "draw_idle", lambda: draw_requests.append(1))
    explorer.beta.value = 0.98  # a new beta: new y-limits of the weights, so a full draw
    assert draw_requests == [1] and blitter.blits == 0
    canvas.draw()
    full_draws = []
    monkeypatch.setattr(type(explorer.fig), "draw", lambda *a, **k: full_draws.append(1), raising=True)
    explorer.t.value = 60
    explorer.beta.value = 0.9  # seen before: its background is kept
    explorer.beta.value = 0.98
    assert blitter.blits == 3 and full_draws == [] and draw_requests == [1] and len(frames) >= 3
    blitted = pixels(canvas)
    monkeypatch.undo()
    canvas.draw()
    np.testing.assert_array_equal(blitted, pixels(canvas))
    explorer.bias_correction.value = True  # the legend's label changes: a new background
    assert blitter.background is None
