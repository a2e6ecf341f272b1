"""A model, its loss and its data compiled to straight-line Python.

``CompiledNet(model, loss, l2, xs, ys).forward()`` returns a ``CompiledLoss``
that behaves, for training, like the ``Value`` the readable engine returns:
``.data`` is the loss, ``.backward()`` adds the gradients into each
parameter's ``.grad``, honouring the bugs active at that moment.

``MIRRORED_BUGS`` is the one list of the bugs this path honours. Any other
bug runs on the reference engine: ``TrainingSession`` checks ``mirrors()``
before every forward pass, and ``CompiledNet.forward()`` refuses to run one.
"""

from __future__ import annotations

import itertools
import math
import operator
from collections.abc import Callable, Iterable, Sequence
from functools import lru_cache
from itertools import pairwise

from engine import bugs
from engine.fast.codegen import (
    SUM_ADDS_IN_ORDER,
    BackwardMode,
    LayerShape,
    NetShape,
    backward_source,
    forward_source,
    hidden_positions,
)
from engine.losses import LOSSES
from engine.nn import MLP, Neuron
from engine.value import Value, ieee_exp, ieee_pow

# From this many parameters a net compiles to loops (code of a fixed size)
# instead of one line per multiply (faster steps, but compile time and memory
# grow with the parameters): measured, see engine/fast/__init__.py.
LOOPS_FROM = 5000
_DATA = operator.attrgetter("data")


def _log(x: float) -> float:
    """Value.log on a value the losses guarantee is >= 1 or nan."""
    return math.log(x)


# The bugs the fast path honours, and how. It reproduces the first three itself
# (the declared exception to "only the injection point knows a bug"; tests in
# tests/engine/test_fast*.py hold each equal to the reference engine). The
# others live in code both backends run. A bug not listed here never runs
# compiled: the session falls back to the reference engine while it is on.
MIRRORED_BUGS: dict[str, str] = {
    bugs.TANH_DERIVATIVE: "compiled: a second forward with q = 1 - h, read in forward()",
    bugs.OVERWRITE_GRAD: "compiled: a backward with = for +=, read in backward()",
    bugs.FORWARD_ORDER_BACKWARD: "compiled: a backward adding local_grad * 0.0, read in backward()",
    bugs.SKIP_ZERO_GRAD: "shared: TrainingSession.step() leaves out zero_grad() on either backend",
    bugs.ZERO_GRAD_AFTER_BACKWARD: "shared: TrainingSession.step() zeroes after backward()",
    bugs.GRADIENT_ASCENT: "shared: SGD.step() adds the gradient on either backend",
}


def mirrors(bug_ids: Iterable[str]) -> bool:
    """True when the fast path gives the reference engine's numbers with these bugs on."""
    return MIRRORED_BUGS.keys() >= set(bug_ids)


_GLOBALS = {
    "__builtins__": __builtins__,
    "tanh": math.tanh,
    "_exp": ieee_exp,
    "_pow": ieee_pow,
    "_log": _log,
    "mul": operator.mul,
    "compress": itertools.compress,
}


def _compile(source: str, name: str) -> Callable:
    namespace = dict(_GLOBALS)
    # The source is ours, written by codegen from layer sizes and names: no user text.
    exec(compile(source, f"<engine.fast {name}>", "exec"), namespace)  # noqa: S102
    return namespace[name]


# Compiled once per shape and variant, shared by every net of that shape: a
# reset (a new model, the same shape) or a second session compiles nothing.
@lru_cache(maxsize=64)
def _forward_function(shape: NetShape, tanh_bug: bool) -> Callable:
    return _compile(forward_source(shape, tanh_bug), "forward")


@lru_cache(maxsize=128)
def _backward_function(shape: NetShape, mode: BackwardMode) -> Callable:
    return _compile(backward_source(shape, mode), "backward")


def net_shape(model: MLP, loss: str, l2: bool) -> NetShape:
    """The shape of an ``engine.nn.MLP``; ValueError if the fast path cannot mirror it."""
    if loss not in LOSSES:
        raise ValueError(f"the fast path has no loss {loss!r}")
    layers = []
    for layer in model.layers:
        neurons = layer.neurons
        if not neurons or any(type(n) is not Neuron for n in neurons):
            raise ValueError("the fast path compiles engine.nn.Neuron layers only")
        acts = {n.activation for n in neurons}
        nins = {len(n.w) for n in neurons}
        if len(acts) != 1 or len(nins) != 1:
            raise ValueError("the fast path needs one activation and width per layer")
        layers.append(LayerShape(nins.pop(), len(neurons), acts.pop()))
    for below, above in pairwise(layers):
        if below.nout != above.nin:
            raise ValueError("layer widths do not chain")
    if layers[-1].nout != 1:
        raise ValueError("the fast path needs a single output neuron")
    shape = NetShape(tuple(layers), loss, l2)
    if SUM_ADDS_IN_ORDER and shape.parameter_count() >= LOOPS_FROM:
        shape = NetShape(tuple(layers), loss, l2, loops=True)
    return shape


class CompiledLoss:
    """The loss of one forward pass, with what its backward pass needs."""

    __slots__ = (
        "_bounded",
        "_net",
        "_params",
        "_rdata",
        "_tape",
        "_up",
        "data",
        "predictions",
        "tanh_bug",
    )

    def __init__(
        self,
        net: CompiledNet,
        data: float,
        predictions: list[float],
        params,
        tape,
        rdata,
        up,
        tanh_bug: bool = False,
    ):
        self.data = data
        self.predictions = predictions
        self.tanh_bug = tanh_bug  # the forward variant that made it
        self._net = net
        self._params = params  # the parameter values the forward pass used
        self._tape = tape
        self._rdata = rdata  # the samples it ran on, last first
        self._up = up  # what each sample's loss term receives
        self._bounded = net.can_skip and net.values_bounded(params)

    def reads_current_weights(self) -> bool:
        """True while every parameter still holds the very value this pass read."""
        return all(map(operator.is_, map(_DATA, self._net.parameters), self._params))

    def neuron_outputs(self) -> list[list[Sequence[float]]]:
        """Each neuron's output on every sample of this pass: [layer][neuron][sample]
        (the hidden ones from the tape, the output neuron's are the predictions)."""
        tape = self._tape
        layers = []
        for positions in self._net.hidden_positions:
            if self._net.shape.loops:  # the layer's outputs are one entry: a list per sample
                layers.append(list(zip(*map(operator.itemgetter(positions[0]), tape))))
            else:
                layers.append([tuple(map(operator.itemgetter(i), tape)) for i in positions])
        layers.append([self.predictions])
        return layers

    def backward(self) -> None:
        """Add d(loss)/d(p) into every parameter's ``.grad``, as ``Value.backward()`` does."""
        overwrite = bugs.is_on(bugs.OVERWRITE_GRAD)
        forward_order = bugs.is_on(bugs.FORWARD_ORDER_BACKWARD)
        skip_zeros = self._bounded and not (overwrite or forward_order)
        net = self._net
        backward = net.backward_function(overwrite, forward_order, skip_zeros)
        backward(net.parameters, self._params, self._tape, self._rdata, self._up, net.alpha)


class CompiledNet:
    """One model + loss + data, compiled once; forward passes read the current weights."""

    def __init__(
        self,
        model: MLP,
        loss: str,
        l2: float,
        xs: Sequence[Sequence[float]],
        ys: Sequence[float],
    ):
        self.shape = net_shape(model, loss, bool(l2))
        self.model = model
        # The Value objects whose .data each forward pass reads and whose .grad
        # backward writes; replacing one in the model needs a new CompiledNet.
        self.parameters: list[Value] = model.parameters()
        # Each sample as (x0, x1, ..., -y): -y is what every loss multiplies or adds.
        self.data = tuple((*map(float, x), -float(y)) for x, y in zip(xs, ys))
        self.reversed_data = self.data[::-1]
        # Skipping zero work pays where zeros are common: relu, the hinge's met margins.
        self.can_skip = loss == "hinge" or any(
            layer.activation == "relu" for layer in self.shape.layers
        )
        values = [abs(v) for x in self.data for v in x]
        # (max() would pass over a nan: a non-finite input turns skipping off instead.)
        self.input_bound = max([1.0, *values]) if all(map(math.isfinite, values)) else math.inf
        self.inv_n = 1.0 / len(self.data)
        self.alpha = float(l2)
        self.up = 1.0 if loss == "sse" else self.inv_n  # what each sample's loss term receives
        # This net's variants, so a step does not hash the shape to find them.
        self._forwards: dict[bool, Callable] = {}
        self._backwards: dict[tuple[bool, bool, bool], Callable] = {}
        self.hidden_positions = hidden_positions(self.shape)

    def values_bounded(self, params: Sequence[float]) -> bool:
        """True when these weights keep every value of both passes far from overflow.

        With X the largest |input| (at least 1) and S = max(1, sum of all
        |parameters|), a layer's outputs are at most S times its inputs, so
        every forward value is at most X * S**L (L layers). Going back, the
        loss passes at most 4 * X * S**L to the score, and each layer at most
        2 * S times what it receives (|local derivative| <= 2), so every
        gradient a node passes on is at most 4 * X * 2**L * S**(2L). When that
        is under 1e300, forward values and gradients are all finite, so every
        product the backward pass would form with a zero is a zero: what
        skipping relies on.
        """
        total = sum(map(abs, params))  # inf or nan if any parameter is
        if not (total < 1e300 and self.input_bound < 1e300):
            return False
        depth = len(self.shape.layers)
        log_bound = (
            math.log(4 * self.input_bound)
            + depth * math.log(2)
            + 2 * depth * math.log(max(1.0, total))
        )
        return log_bound < math.log(1e300)

    def forward_function(self, tanh_bug: bool) -> Callable:
        fn = self._forwards.get(tanh_bug)
        if fn is None:
            fn = self._forwards[tanh_bug] = _forward_function(self.shape, tanh_bug)
        return fn

    def backward_function(self, overwrite: bool, forward_order: bool, skip_zeros: bool) -> Callable:
        key = (overwrite, forward_order, skip_zeros)
        fn = self._backwards.get(key)
        if fn is None:
            fn = self._backwards[key] = _backward_function(self.shape, BackwardMode(*key))
        return fn

    def source(self, tanh_bug: bool = False, mode: BackwardMode | None = None) -> str:
        """The generated Python of this net's forward and backward passes, to read."""
        mode = mode or BackwardMode()
        return forward_source(self.shape, tanh_bug) + "\n\n" + backward_source(self.shape, mode)

    def forward(self, rows: Sequence[int] | None = None) -> CompiledLoss:
        """The loss at the current weights, on the samples ``rows`` (None: all of them).

        The tanh-derivative bug is read now, as in Value.tanh. ValueError if a
        bug the fast path does not mirror is on: it would silently run clean.
        """
        if not mirrors(bugs.active()):
            unmirrored = ", ".join(sorted(bugs.active() - MIRRORED_BUGS.keys()))
            raise ValueError(
                f"the fast path does not mirror {unmirrored}: use the reference engine"
            )
        tanh_bug = bugs.is_on(bugs.TANH_DERIVATIVE)
        forward = self.forward_function(tanh_bug)
        if rows is None:
            data, rdata, inv_n, up = self.data, self.reversed_data, self.inv_n, self.up
        else:  # a mini-batch: the same code, on those samples, averaged over them
            data = tuple([self.data[i] for i in rows])
            rdata = data[::-1]
            inv_n = 1.0 / len(data)
            up = 1.0 if self.shape.loss == "sse" else inv_n
        loss, scores, tape, params = forward(self.parameters, data, inv_n, self.alpha)
        return CompiledLoss(self, loss, scores, params, tape, rdata, up, tanh_bug)
