import base64

import matplotlib

matplotlib.use("Agg", force=True)

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
from matplotlib.colors import to_hex  # noqa: E402

from dlutils import data, plotting  # noqa: E402


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


def test_palette_is_okabe_ito():
    okabe_ito = {"#E69F00", "#56B4E9", "#009E73", "#F0E442", "#0072B2", "#D55E00", "#CC79A7", "#000000"}
    assert set(plotting.PALETTE) == okabe_ito and len(plotting.PALETTE) == 8


def test_use_course_style_sets_rcparams():
    with matplotlib.rc_context():
        plotting.use_course_style()
        rc = matplotlib.rcParams
        assert [to_hex(c["color"]).upper() for c in rc["axes.prop_cycle"]] == plotting.PALETTE
        assert tuple(rc["figure.figsize"]) == (6, 4) and rc["figure.dpi"] == 80
        assert rc["axes.grid"] and not rc["axes.spines.top"] and not rc["axes.spines.right"]


def test_show_emits_png_with_alt_text_and_closes(monkeypatch):
    shown = []
    monkeypatch.setattr(plotting, "display", lambda obj, **kwargs: shown.append((obj, kwargs)))
    fig, ax = plt.subplots()
    ax.plot([0, 1], [1, 0])
    plotting.show(fig, "A falling line.")
    (bundle, kwargs), = shown
    assert bundle["text/plain"] == "[figure] A falling line."
    assert base64.b64decode(bundle["image/png"]).startswith(b"\x89PNG")
    assert kwargs == {"raw": True, "metadata": {"image/png": {"alt": "A falling line."}}}
    assert not plt.fignum_exists(fig.number)


def test_show_refuses_empty_alt():
    fig, _ = plt.subplots()
    for alt in ("", "   ", None):
        with pytest.raises(ValueError, match="alt"):
            plotting.show(fig, alt)


def test_show_works_through_ipython_display(capsys):
    # Outside a kernel IPython prints the text/plain part: what text-only outputs keep.
    fig, _ = plt.subplots()
    plotting.show(fig, "An empty plot.")
    assert "[figure] An empty plot." in capsys.readouterr().out


def test_plot_decision_boundary():
    X, Y = data.moons(100, rng=np.random.default_rng(0))
    calls = []

    def predict_fn(points):
        calls.append(points.shape)
        return (points[1:2] < 0.25).astype(int)

    ax = plotting.plot_decision_boundary(predict_fn, X, Y, title="moons", resolution=50)
    assert calls == [(2, 2500)]
    assert ax.get_xlabel() == "x1" and ax.get_ylabel() == "x2" and ax.get_title() == "moons"
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["class 0", "class 1"]
    point_colors = {to_hex(c.get_facecolor()[0]).upper() for c in ax.collections[-2:]}
    assert point_colors == set(plotting.PALETTE[:2])
    with pytest.raises(ValueError, match="predict_fn"):
        plotting.plot_decision_boundary(lambda points: np.zeros((1, 3)), X, Y)


def test_plot_costs_and_log_scale():
    fig, ax = plt.subplots()
    curves = {"a": (np.arange(3), np.array([1.0, 0.5, 0.2])), "b": ([0, 1], [0.9, 0.1])}
    assert plotting.plot_costs(curves, ax=ax, title="t", log=True) is ax
    assert len(ax.get_lines()) == 2 and ax.get_yscale() == "log"
    assert ax.get_xlabel() == "epoch" and ax.get_ylabel() == "cost"
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["a", "b"]


def test_plot_costs_accepts_train_results():
    from dlutils.train import TrainResult

    result = TrainResult({}, np.array([0.7, 0.3]), np.array([0, 10]))
    ax = plotting.plot_costs({"run": result})
    np.testing.assert_array_equal(ax.get_lines()[0].get_xdata(), [0, 10])


def test_plot_layer_histograms():
    values = [np.random.default_rng(l).standard_normal((5, 20)) * 10.0**-l for l in range(4)]
    axes = plotting.plot_layer_histograms(values, title="activations", xlabel="A")
    assert len(axes) == 4
    assert [ax.get_title().split("\n")[0] for ax in axes] == ["layer 1", "layer 2", "layer 3", "layer 4"]
    assert axes[0].get_xlabel() == "A"
    with pytest.raises(ValueError, match="values_per_layer"):
        plotting.plot_layer_histograms([])


def test_plot_layer_histograms_labels_a_selection_of_layers():
    values = [np.arange(10.0) * l for l in (1, 5, 15)]
    axes = plotting.plot_layer_histograms(values, layers=[1, 5, 15])
    assert [ax.get_title().split("\n")[0] for ax in axes] == ["layer 1", "layer 5", "layer 15"]
    with pytest.raises(ValueError, match="layers: expected 3"):
        plotting.plot_layer_histograms(values, layers=[1, 5])


def test_sequential_cmap_ends_in_the_colour():
    cmap = plotting.sequential_cmap(plotting.PALETTE[2])
    assert to_hex(cmap(0.0)).upper() == "#FFFFFF" and to_hex(cmap(1.0)).upper() == plotting.PALETTE[2]
