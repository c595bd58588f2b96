"""Modules: layers that hold their Parameters, with PyTorch's names and behaviour.

A Module registers every Parameter and sub-Module assigned to one of its
attributes (in assignment order), so ``parameters()`` finds them all; ``train()``
and ``eval()`` set ``training`` on it and every sub-Module. Batch first: inputs
are (m, n), one example per row.
"""

import numpy as np

from dlutils import _validate
from dlutils.nn import functional as F
from dlutils.nn.tensor import Parameter


class Module:
    """Base class of layers and models: subclass, call super().__init__(), assign Parameters and
    Modules as attributes, and define forward(x). Calling the module calls forward.

    parameters() -> list of Parameters (own first, then each sub-Module's, in assignment order, each once)
    named_parameters() -> list of (name, Parameter), names like "0.weight"
    children() -> list of direct sub-Modules; train(mode=True) / eval() set .training everywhere below
    zero_grad() sets every parameter's .grad to None (as PyTorch does by default)
    """

    def __init__(self):
        object.__setattr__(self, "_parameters", {})
        object.__setattr__(self, "_modules", {})
        object.__setattr__(self, "training", True)

    def __setattr__(self, name, value):
        try:
            params, modules = self.__dict__["_parameters"], self.__dict__["_modules"]
        except KeyError:
            raise AttributeError(f"{type(self).__name__}: call super().__init__() at the start of __init__, "
                                 "before assigning attributes") from None
        params.pop(name, None)
        modules.pop(name, None)
        if isinstance(value, Parameter):
            params[name] = value
        elif isinstance(value, Module):
            modules[name] = value
        object.__setattr__(self, name, value)

    def __delattr__(self, name):
        self._parameters.pop(name, None)
        self._modules.pop(name, None)
        object.__delattr__(self, name)

    def forward(self, *inputs):
        """The computation of this module (define it in the subclass); module(x) calls it."""
        raise NotImplementedError(f"{type(self).__name__}: a Module subclass defines forward()")

    def __call__(self, *inputs, **options):
        return self.forward(*inputs, **options)

    def named_parameters(self, prefix=""):
        """[(name, Parameter)], this module's own first, then each sub-Module's; a shared Parameter once."""
        seen, result = set(), []
        for name, p in self._named_parameters_all(prefix):
            if id(p) not in seen:
                seen.add(id(p))
                result.append((name, p))
        return result

    def _named_parameters_all(self, prefix):
        for name, p in self._parameters.items():
            yield prefix + name, p
        for name, module in self._modules.items():
            yield from module._named_parameters_all(f"{prefix}{name}.")

    def parameters(self):
        """List of every Parameter of this module and its sub-Modules (deterministic order, each once)."""
        return [p for _, p in self.named_parameters()]

    def children(self):
        """List of the direct sub-Modules, in assignment order."""
        return list(self._modules.values())

    def modules(self):
        """This module and every sub-Module below it, depth first."""
        result = [self]
        for child in self._modules.values():
            result.extend(child.modules())
        return result

    def train(self, mode=True):
        """Set training mode (True) or evaluation mode (False) here and in every sub-Module; returns self."""
        if not isinstance(mode, bool):
            raise ValueError(f"mode: expected True or False, got {mode!r}")
        for module in self.modules():
            object.__setattr__(module, "training", mode)
        return self

    def eval(self):
        """Evaluation mode: batch norm uses its running statistics, dropout passes inputs through."""
        return self.train(False)

    def zero_grad(self):
        """Forget the gradients: every parameter's .grad becomes None."""
        for p in self.parameters():
            p.grad = None

    def extra_repr(self):
        """The arguments shown in repr(module), e.g. "64, 256" for Linear(64, 256)."""
        return ""

    def __repr__(self):
        lines = [f"  ({name}): " + repr(module).replace("\n", "\n  ") for name, module in self._modules.items()]
        head = f"{type(self).__name__}({self.extra_repr()}"
        return head + ("\n" + "\n".join(lines) + "\n)" if lines else ")")


class Sequential(Module):
    """Modules applied one after another: Sequential(m1, m2, ...)(x) = m2(m1(x)) ...; indexable, len()."""

    def __init__(self, *modules):
        super().__init__()
        for i, module in enumerate(modules):
            if not isinstance(module, Module):
                raise ValueError(f"modules[{i}]: expected a Module (e.g. nn.Linear(...) or nn.ReLU()), "
                                 f"got {type(module).__name__}")
            setattr(self, str(i), module)

    def __getitem__(self, index):
        layers = list(self._modules.values())
        if isinstance(index, slice):
            return Sequential(*layers[index])
        return layers[index]

    def __len__(self):
        return len(self._modules)

    def __iter__(self):
        return iter(self._modules.values())

    def forward(self, x):
        """x through each module in order."""
        for module in self._modules.values():
            x = module(x)
        return x


def _check_size(name, n):
    _validate.check_positive_int(name, n)
    return int(n)


def _check_dtype(dtype):
    dtype = np.dtype(dtype)
    if dtype not in (np.float32, np.float64):
        raise ValueError(f"dtype: expected np.float32 or np.float64, got {dtype}")
    return dtype


class Linear(Module):
    """y = x @ weight.T + bias: x (m, n_in) -> y (m, n_out).

    weight: Parameter (n_out, n_in), like the course's W; bias: Parameter (n_out,), zeros.
    init: "he" (N(0, 2 / n_in), for ReLU; default), "xavier" (N(0, 1 / n_in), the course's Xavier) or
    "zeros"; the draws come from rng (np.random.Generator) in float64, then take dtype.
    """

    def __init__(self, n_in, n_out, rng=None, dtype=np.float64, init="he"):
        super().__init__()
        n_in, n_out = _check_size("n_in", n_in), _check_size("n_out", n_out)
        dtype = _check_dtype(dtype)
        _validate.check_choice("init", init, ("he", "xavier", "zeros"))
        if init == "zeros":
            weight = np.zeros((n_out, n_in))
        else:
            _validate.check_rng("rng", rng)
            weight = rng.standard_normal((n_out, n_in)) * np.sqrt((2.0 if init == "he" else 1.0) / n_in)
        self.weight = Parameter(weight.astype(dtype))
        self.bias = Parameter(np.zeros(n_out, dtype=dtype))

    def forward(self, x):
        """x Tensor (m, n_in) -> Tensor (m, n_out)."""
        return F.linear(x, self.weight, self.bias)

    def extra_repr(self):
        """The constructor arguments, for repr."""
        n_out, n_in = self.weight.shape
        return f"{n_in}, {n_out}"


class ReLU(Module):
    """max(x, 0) entrywise."""

    def forward(self, x):
        """Any shape -> the same shape."""
        return F.relu(x)


class Tanh(Module):
    """tanh entrywise."""

    def forward(self, x):
        """Any shape -> the same shape."""
        return F.tanh(x)


class Sigmoid(Module):
    """1 / (1 + exp(-x)) entrywise."""

    def forward(self, x):
        """Any shape -> the same shape."""
        return F.sigmoid(x)


class BatchNorm1d(Module):
    """Batch norm of x (m, n) over the batch, per feature, with the course's conventions.

    weight (gamma, ones) and bias (beta, zeros): Parameters (n,). running_mean (zeros) and running_var
    (ones): ndarrays (n,). Training: normalize with the batch's mean and population variance and update
    running = momentum * running + (1 - momentum) * batch. Evaluation: normalize with the running ones.
    Against PyTorch's BatchNorm1d: its momentum weights the NEW value (torch momentum = 1 - ours, so our
    0.9 is its 0.1), it stores the unbiased (m - 1) running variance, and its epsilon is 1e-5.
    """

    def __init__(self, n, momentum=0.9, epsilon=1e-8, dtype=np.float64):
        super().__init__()
        n = _check_size("n", n)
        if not (isinstance(momentum, (int, float)) and 0 <= momentum <= 1):
            raise ValueError(f"momentum: expected the weight of the old running value in [0, 1], got {momentum!r}")
        if not (isinstance(epsilon, (int, float)) and epsilon >= 0):
            raise ValueError(f"epsilon: expected a small number >= 0, got {epsilon!r}")
        dtype = _check_dtype(dtype)
        self.momentum, self.epsilon = float(momentum), float(epsilon)
        self.weight = Parameter(np.ones(n, dtype=dtype))
        self.bias = Parameter(np.zeros(n, dtype=dtype))
        self.running_mean = np.zeros(n, dtype=dtype)
        self.running_var = np.ones(n, dtype=dtype)

    def forward(self, x):
        """x Tensor (m, n) -> (m, n); batch statistics in training (m >= 2), running ones in evaluation."""
        return F.batch_norm(x, self.weight, self.bias, self.running_mean, self.running_var, self.training,
                            self.momentum, self.epsilon)

    def extra_repr(self):
        """The constructor arguments, for repr."""
        return f"{self.weight.shape[0]}, momentum={self.momentum}, epsilon={self.epsilon}"


class Dropout(Module):
    """Inverted dropout in training (x * mask / keep_prob, masks drawn from rng); identity in evaluation.

    keep_prob: probability to KEEP a unit, as in the course (PyTorch's Dropout(p) drops with p:
    p = 1 - keep_prob). rng: np.random.Generator, the only source of the masks.
    """

    def __init__(self, keep_prob, rng=None):
        super().__init__()
        if not (isinstance(keep_prob, (int, float)) and not isinstance(keep_prob, bool) and 0 < keep_prob <= 1):
            raise ValueError(f"keep_prob: expected the probability to keep a unit, in (0, 1], got {keep_prob!r}")
        if keep_prob < 1:
            _validate.check_rng("rng", rng)
        self.keep_prob, self.rng = float(keep_prob), rng

    def forward(self, x):
        """x Tensor of any shape -> the same shape; a new mask from rng on each call in training."""
        if not self.training:
            return x
        return F.dropout(x, self.keep_prob, rng=self.rng)

    def extra_repr(self):
        """The constructor arguments, for repr."""
        return f"keep_prob={self.keep_prob}"


class SoftmaxCrossEntropy(Module):
    """loss_fn(logits, labels): logits Tensor (m, C), labels ints (m,) -> scalar Tensor, the mean
    cross-entropy of softmax(logits); one fused, stable node (PyTorch's nn.CrossEntropyLoss)."""

    def forward(self, logits, labels):
        """logits Tensor (m, C), labels ints (m,) -> scalar Tensor."""
        return F.softmax_cross_entropy(logits, labels)


class SigmoidCrossEntropy(Module):
    """loss_fn(logits, targets, mask=None): logits Tensor (m, K), targets (m, K) of 0/1, mask (m, K) of
    0/1 or None -> scalar Tensor, the binary cross-entropy of sigmoid(logits) averaged over the entries
    the mask keeps (multi-task learning with unknown labels masked out)."""

    def forward(self, logits, targets, mask=None):
        """logits Tensor (m, K), targets (m, K), mask (m, K) or None -> scalar Tensor."""
        return F.sigmoid_cross_entropy(logits, targets, mask)


__all__ = ["Module", "Sequential", "Linear", "ReLU", "Tanh", "Sigmoid", "BatchNorm1d", "Dropout",
           "SoftmaxCrossEntropy", "SigmoidCrossEntropy"]
