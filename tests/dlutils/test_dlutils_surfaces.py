import numpy as np
import pytest
from _numgrad import numerical_gradient, rel_error

from dlutils import surfaces

NAMES = list(surfaces.SURFACES)


def test_the_four_surfaces_of_the_explorer():
    assert NAMES == ["elongated bowl", "saddle", "plateau", "Rosenbrock-like"]
    for name, surface in surfaces.SURFACES.items():
        assert surface.name == name


@pytest.mark.parametrize("name", NAMES)
def test_gradient_matches_finite_differences(name):
    surface = surfaces.get_surface(name)
    rng = np.random.default_rng(0)
    for _ in range(20):
        w = np.array([rng.uniform(*surface.xlim), rng.uniform(*surface.ylim)])
        numeric = numerical_gradient(lambda: float(surface.cost(w[0], w[1])), w)
        assert rel_error(surface.gradient(w[0], w[1]), numeric) < 1e-7


@pytest.mark.parametrize("name", NAMES)
def test_cost_and_gradient_work_elementwise_on_grids(name):
    surface = surfaces.get_surface(name)
    W1, W2 = np.meshgrid(np.linspace(*surface.xlim, 7), np.linspace(*surface.ylim, 5))
    Z = surface.cost(W1, W2)
    G1, G2 = surface.gradient(W1, W2)
    assert Z.shape == G1.shape == G2.shape == (5, 7)
    assert surface.cost(W1[2, 3], W2[2, 3]) == Z[2, 3]
    assert surface.gradient(W1[2, 3], W2[2, 3]) == (G1[2, 3], G2[2, 3])


@pytest.mark.parametrize("name", NAMES)
def test_minima_are_minima_and_inside_the_box(name):
    surface = surfaces.get_surface(name)
    x0, x1 = surface.xlim
    y0, y1 = surface.ylim
    assert x0 < surface.start[0] < x1 and y0 < surface.start[1] < y1
    rng = np.random.default_rng(1)
    for w1, w2 in surface.minima:
        assert x0 < w1 < x1 and y0 < w2 < y1
        np.testing.assert_allclose(surface.gradient(w1, w2), (0.0, 0.0), atol=1e-12)
        nearby = np.array([w1, w2])[:, None] + 0.05 * rng.standard_normal((2, 50))
        assert np.all(surface.cost(*nearby) > surface.cost(w1, w2))
        assert surface.cost(*surface.start) > surface.cost(w1, w2)


@pytest.mark.parametrize("name", NAMES)
def test_contour_levels_increase_and_fall_in_the_drawn_range(name):
    surface = surfaces.get_surface(name)
    levels = np.array(surface.levels)
    assert levels.size >= 5 and np.all(np.diff(levels) > 0)
    W1, W2 = np.meshgrid(np.linspace(*surface.xlim, 50), np.linspace(*surface.ylim, 50))
    Z = surface.cost(W1, W2)
    assert Z.min() < levels[0] and levels[-1] < Z.max()


def test_saddle_is_a_saddle_at_the_origin():
    saddle = surfaces.get_surface("saddle")
    assert saddle.gradient(0.0, 0.0) == (0.0, 0.0)
    h = 1e-4  # second differences along each axis: curvature +1 along w1, -1 along w2
    curvature = [(saddle.cost(h, 0) - 2 * saddle.cost(0, 0) + saddle.cost(-h, 0)) / h**2,
                 (saddle.cost(0, h) - 2 * saddle.cost(0, 0) + saddle.cost(0, -h)) / h**2]
    np.testing.assert_allclose(curvature, [1.0, -1.0], rtol=1e-6)


def test_plateau_is_flat_where_the_path_starts():
    plateau = surfaces.get_surface("plateau")
    assert np.hypot(*plateau.gradient(*plateau.start)) < 5e-3
    assert np.hypot(*plateau.gradient(0.8, 0.8)) > 0.3  # steep inside the well


def test_bowl_is_elongated():
    bowl = surfaces.get_surface("elongated bowl")
    # curvature along w2 is 20 times the curvature along w1
    assert bowl.gradient(1.0, 0.0)[0] * 20 == pytest.approx(bowl.gradient(0.0, 1.0)[1])


def test_unknown_surface_names_the_choices():
    with pytest.raises(ValueError, match="surface: expected one of 'elongated bowl', 'saddle'.*got 'bowl'"):
        surfaces.get_surface("bowl")
