"""dlutils.nn.tensor: every op's backward against centred differences in float64, and the graph's behaviour."""

import numpy as np
import pytest
from _numgrad import numerical_gradient, rel_error

from dlutils import nn

TOL = 1e-7  # smooth ops in float64


@pytest.fixture
def rng():
    return np.random.default_rng(7)


def check_gradients(op, *arrays, rng, tol=TOL):
    """Backward of sum(op(*tensors) * R), R a random upstream gradient, against centred differences."""
    arrays = [np.asarray(a, dtype=np.float64) for a in arrays]  # 0-d draws come back as NumPy scalars
    tensors = [nn.Tensor(a, requires_grad=True) for a in arrays]
    out = op(*tensors)
    upstream = rng.standard_normal(out.shape)
    (out * upstream).sum().backward()
    for i, (t, a) in enumerate(zip(tensors, arrays)):
        def f():
            return float((op(*[nn.Tensor(x) for x in arrays]).data * upstream).sum())
        expected = numerical_gradient(f, a)
        assert t.grad is not None, f"input {i} got no gradient"
        assert t.grad.shape == a.shape
        assert rel_error(t.grad, expected) < tol, f"input {i}: {rel_error(t.grad, expected)}"


BROADCAST_SHAPES = [((3, 4), (3, 4)), ((3, 4), (4,)), ((3, 4), (3, 1)), ((3, 1), (1, 4)), ((4,), (2, 3, 4)),
                    ((3, 4), ())]


@pytest.mark.parametrize("shape_a, shape_b", BROADCAST_SHAPES)
@pytest.mark.parametrize("name, op", [("add", lambda a, b: a + b), ("sub", lambda a, b: a - b),
                                      ("mul", lambda a, b: a * b), ("div", lambda a, b: a / b)])
def test_binary_ops_broadcast(rng, name, op, shape_a, shape_b):
    a = rng.standard_normal(shape_a)
    b = rng.uniform(0.5, 2.0, shape_b) * rng.choice([-1, 1], shape_b)  # away from 0 for div
    check_gradients(op, a, b, rng=rng)


@pytest.mark.parametrize("op", [lambda a: 2.5 + a, lambda a: a + 2.5, lambda a: 3.0 - a, lambda a: a - 3.0,
                                lambda a: 2.0 * a, lambda a: a * 2.0, lambda a: 2.0 / a, lambda a: a / 2.0,
                                lambda a: -a, lambda a: a ** 3, lambda a: a ** 0.5, lambda a: a ** -2])
def test_ops_with_numbers(rng, op):
    check_gradients(op, rng.uniform(0.5, 2.0, (3, 4)), rng=rng)


@pytest.mark.parametrize("axis", [None, 0, 1, (0, 1), -1])
@pytest.mark.parametrize("keepdims", [False, True])
@pytest.mark.parametrize("reduction", ["sum", "mean"])
def test_reductions(rng, reduction, axis, keepdims):
    check_gradients(lambda a: getattr(a, reduction)(axis=axis, keepdims=keepdims), rng.standard_normal((3, 4)),
                    rng=rng)


@pytest.mark.parametrize("shape_a, shape_b", [((3, 4), (4, 5)), ((4,), (4, 5)), ((3, 4), (4,)), ((4,), (4,)),
                                              ((2, 3, 4), (4, 5))])
def test_matmul(rng, shape_a, shape_b):
    check_gradients(lambda a, b: a @ b, rng.standard_normal(shape_a), rng.standard_normal(shape_b), rng=rng)


def test_matmul_with_an_array_on_the_left(rng):
    A = rng.standard_normal((2, 3))
    check_gradients(lambda b: A @ b, rng.standard_normal((3, 4)), rng=rng)


@pytest.mark.parametrize("name", ["tanh", "sigmoid", "exp"])
def test_smooth_unary(rng, name):
    check_gradients(lambda a: getattr(a, name)(), rng.standard_normal((3, 4)) * 2, rng=rng)


def test_log(rng):
    check_gradients(lambda a: a.log(), rng.uniform(0.2, 3.0, (3, 4)), rng=rng)


def test_relu_away_from_the_kink(rng):
    x = rng.standard_normal((4, 5))
    x[np.abs(x) < 0.05] = 0.3  # centred differences straddling 0 would be wrong
    check_gradients(lambda a: a.relu(), x, rng=rng)
    t = nn.Tensor(np.array([-1.0, 0.0, 2.0]), requires_grad=True)
    t.relu().sum().backward()
    np.testing.assert_array_equal(t.grad, [0.0, 0.0, 1.0])  # 0 at the kink, as in PyTorch


@pytest.mark.parametrize("op", [lambda a: a.reshape(6, 2), lambda a: a.reshape((2, -1)), lambda a: a.T,
                                lambda a: (a.T @ a).reshape(-1)])
def test_shape_ops(rng, op):
    check_gradients(op, rng.standard_normal((3, 4)), rng=rng)


@pytest.mark.parametrize("index", [0, (slice(None), slice(1, 3)), (np.array([0, 2, 0]), np.array([1, 1, 1])),
                                   np.array([2, 0, 2]), (Ellipsis, -1)])
def test_indexing(rng, index):
    check_gradients(lambda a: a[index], rng.standard_normal((3, 4)), rng=rng)


def test_indexing_with_a_mask():
    x = nn.Parameter(np.arange(6.0).reshape(2, 3))
    x[x.data > 2].sum().backward()
    np.testing.assert_array_equal(x.grad, [[0, 0, 0], [1, 1, 1]])
    with pytest.raises(ValueError, match="index: "):
        x[nn.Tensor([0])]


def test_sigmoid_is_stable_for_huge_inputs():
    t = nn.Tensor(np.array([-1000.0, 0.0, 1000.0]), requires_grad=True)
    y = t.sigmoid()
    np.testing.assert_array_equal(y.data, [0.0, 0.5, 1.0])
    y.sum().backward()
    np.testing.assert_array_equal(t.grad, [0.0, 0.25, 0.0])


def test_a_tensor_used_twice_accumulates(rng):
    check_gradients(lambda a: a * a + a, rng.standard_normal((3, 4)), rng=rng)
    x = nn.Tensor(np.array(3.0), requires_grad=True)
    (x * x * x).backward()
    assert x.grad == pytest.approx(27.0)


def test_diamond_graph(rng):
    # x -> (u, v) -> w: the gradient of x sums both paths
    def op(x):
        u, v = x.tanh(), x.exp()
        return u * v + u

    check_gradients(op, rng.standard_normal((2, 3)), rng=rng)


def test_backward_twice_on_separate_graphs_accumulates_until_zeroed():
    x = nn.Parameter(np.array([1.0, 2.0]))
    (x * 3).sum().backward()
    (x * x).sum().backward()
    np.testing.assert_allclose(x.grad, [3 + 2, 3 + 4])
    x.grad = None  # what zero_grad does
    (x * 3).sum().backward()
    np.testing.assert_allclose(x.grad, [3, 3])


def test_leaf_gradients_are_never_shared():
    a, b = nn.Parameter(np.ones(3)), nn.Parameter(np.ones(3))
    upstream = np.arange(3.0)
    (a + b).backward(upstream)
    a.grad += 1  # in-place edits of one gradient touch nothing else
    np.testing.assert_array_equal(b.grad, upstream)
    np.testing.assert_array_equal(upstream, [0.0, 1.0, 2.0])


def test_no_grad_builds_no_graph_and_restores():
    x = nn.Parameter(np.ones(3))
    with nn.no_grad():
        y = x * 2
        assert not nn.is_grad_enabled()
    assert nn.is_grad_enabled()
    assert not y.requires_grad
    with pytest.raises(RuntimeError, match="does not require grad"):
        y.sum().backward()
    with pytest.raises(KeyError), nn.no_grad():
        {}["missing"]
    assert nn.is_grad_enabled()


def test_only_inputs_that_require_grad_get_one(rng):
    x, w = nn.Tensor(rng.standard_normal((2, 3))), nn.Parameter(rng.standard_normal((3, 4)))
    (x @ w).sum().backward()
    assert x.grad is None
    np.testing.assert_allclose(w.grad, x.data.T @ np.ones((2, 4)))


def test_backward_of_a_non_scalar_needs_grad(rng):
    x = nn.Parameter(rng.standard_normal((2, 3)))
    with pytest.raises(ValueError, match=r"grad: .*\(2, 3\)"):
        (x * 2).backward()
    with pytest.raises(ValueError, match=r"grad: expected shape \(2, 3\)"):
        (x * 2).backward(np.ones(3))
    (x * 2).backward(np.ones((2, 3)))
    np.testing.assert_array_equal(x.grad, np.full((2, 3), 2.0))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_dtype_is_kept_through_ops_and_gradients(dtype):
    x = nn.Parameter(np.linspace(0.5, 2, 6, dtype=dtype).reshape(2, 3))
    y = ((x * 2.0 + 1) / 3.0 - np.float64(0.5)) ** 2
    z = (y.tanh() + y.sigmoid() + y.exp().log() + (x @ x.T).sum() + y.relu()).mean(axis=0).sum()
    assert z.dtype == dtype
    z.backward()
    assert x.grad.dtype == dtype


def test_ints_become_float64_and_bad_data_is_refused():
    assert nn.Tensor([1, 2]).dtype == np.float64
    with pytest.raises(ValueError, match="data: "):
        nn.Tensor(["a", "b"])
    with pytest.raises(ValueError, match="data: "):
        nn.Tensor(np.array([1 + 2j]))
    with pytest.raises(ValueError, match="p: "):
        nn.Tensor([1.0]) ** nn.Tensor([2.0])
    with pytest.raises(ValueError, match="@: "):
        nn.Tensor(np.ones((2, 3))) @ nn.Tensor(np.ones((2, 3)))
    with pytest.raises(ValueError, match="shape: cannot reshape"):
        nn.Tensor(np.ones((2, 3))).reshape(4, 2)
    with pytest.raises(ValueError, match="item"):
        nn.Tensor(np.ones(2)).item()


def test_unbroadcast():
    g = np.arange(24.0).reshape(2, 3, 4)
    np.testing.assert_array_equal(nn.unbroadcast(g, (4,)), g.sum(axis=(0, 1)))
    np.testing.assert_array_equal(nn.unbroadcast(g, (3, 1)), g.sum(axis=(0, 2)).reshape(3, 1))
    np.testing.assert_array_equal(nn.unbroadcast(g, (1, 3, 4)), g.sum(axis=0, keepdims=True))
    assert nn.unbroadcast(g, (2, 3, 4)) is g
    np.testing.assert_array_equal(nn.unbroadcast(g, ()), g.sum())
    with pytest.raises(ValueError, match="shape: "):
        nn.unbroadcast(g, (5,))


def test_item_numpy_detach_repr():
    x = nn.Parameter(np.array([[2.0]]))
    assert x.item() == 2.0 and isinstance(x.item(), float)
    assert x.numpy() is x.data
    d = (x * 2).detach()
    assert not d.requires_grad and d._backward is None
    assert "requires_grad=True" in repr(x * 1) and repr(x).startswith("Parameter(")
    assert (x.shape, x.ndim, x.dtype, len(x)) == ((1, 1), 2, np.float64, 1)


def test_ndarray_on_the_left_gives_a_tensor():
    x = nn.Parameter(np.ones(3))
    y = np.arange(3.0) * x
    assert isinstance(y, nn.Tensor)
    y.sum().backward()
    np.testing.assert_array_equal(x.grad, [0.0, 1.0, 2.0])


class Cube(nn.Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x ** 3

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return 3 * x ** 2 * grad


class ScaledProduct(nn.Function):
    @staticmethod
    def forward(ctx, a, b, scale=1.0):
        ctx.save_for_backward(a, b)
        ctx.scale = scale
        return scale * a * b

    @staticmethod
    def backward(ctx, grad):
        a, b = ctx.saved_tensors
        return ctx.scale * grad * b, ctx.scale * grad * a


def test_function_custom_op(rng):
    check_gradients(Cube.apply, rng.standard_normal((3, 4)), rng=rng)
    check_gradients(lambda a, b: ScaledProduct.apply(a, b, scale=2.5), rng.standard_normal((3, 4)),
                    rng.standard_normal((3, 4)), rng=rng)
    x = nn.Parameter(np.array([1.0, 2.0]))
    y = Cube.apply(x * 1)  # inside a bigger graph
    assert isinstance(y, nn.Tensor) and y.requires_grad
    (y + x).sum().backward()
    np.testing.assert_allclose(x.grad, 3 * x.data ** 2 + 1)


def test_function_with_a_constant_input_and_bad_backwards():
    x = nn.Parameter(np.array([1.0, 2.0]))
    out = ScaledProduct.apply(x, np.array([3.0, 4.0]))  # an ndarray input: no gradient for it
    out.sum().backward()
    np.testing.assert_allclose(x.grad, [3.0, 4.0])

    class WrongShape(Cube):
        @staticmethod
        def backward(ctx, grad):
            return grad.sum()

    class WrongCount(Cube):
        @staticmethod
        def backward(ctx, grad):
            return grad, grad

    class TensorOut(Cube):
        @staticmethod
        def forward(ctx, x):
            return nn.Tensor(x)

    class TensorGrad(Cube):
        @staticmethod
        def backward(ctx, grad):
            return nn.Tensor(grad)

    for bad, message in ((WrongShape, r"WrongShape.backward: gradient 0 has shape \(\)"),
                         (WrongCount, "WrongCount.backward: returned 2 gradient"),
                         (TensorOut, "TensorOut.forward: returned a Tensor"),
                         (TensorGrad, "TensorGrad.backward: gradient 0 is a Tensor")):
        with pytest.raises(ValueError, match=message):
            bad.apply(x).sum().backward()
    with pytest.raises(NotImplementedError):
        nn.Function.apply(x)
