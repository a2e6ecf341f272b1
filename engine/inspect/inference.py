"""The forward pass with plain floats: no graph, no gradients.

``MLP.__call__`` builds a ``Value`` node for every multiply and add, which is
what backprop needs and far too slow for drawing the model's output over a
whole plane many times a second. ``PlainMLP`` holds the same weights as
floats and does the same arithmetic in the same order (``b + w1*x1 + w2*x2
+ ...``, then the activation), so it gives the numbers the ``Value`` forward
gives.

    net = PlainMLP.from_snapshot(session.snapshot())
    net([0.5, -1.0])                        # one input
    net.batch(points)                       # many inputs
    grid(net, (-2, 2), (-1, 1), 60, 40)     # the output over a plane, 60 x 40 pixels
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from itertools import repeat
from operator import add, mul
from typing import Protocol

from engine.nn import ACTIVATIONS, layer_activations

Matrix = tuple[tuple[float, ...], ...]  # [neuron][input]


def _sigmoid(x: float) -> float:
    try:
        return 1.0 / (1.0 + math.exp(-x))
    except OverflowError:  # exp(-x) past the largest float: the output is 0
        return 0.0


def _relu(x: float) -> float:
    return x if x > 0 else 0.0


def _linear(x: float) -> float:
    return x


# On floats, each of ``engine.nn.ACTIVATIONS`` (a test checks that none is missing).
ACTIVATION_FUNCTIONS: dict[str, Callable[[float], float]] = {
    "tanh": math.tanh,
    "relu": _relu,
    "sigmoid": _sigmoid,
    "linear": _linear,
}


def _weighted_sum(row: Sequence[float], b: float, x: Sequence[float]) -> float:
    """``b + w1*x1 + w2*x2 + ...``, added left to right as ``Neuron`` does.

    (Not ``sum()``: from Python 3.12 it compensates rounding for floats, so it
    would no longer add exactly as the ``Value`` graph does.)
    """
    total = b
    for w, xi in zip(row, x):
        total += w * xi
    return total


class _SessionConfigLike(Protocol):
    activation: str
    output_activation: str | None


class SnapshotLike(Protocol):
    """What ``PlainMLP.from_snapshot`` reads: ``engine.training.session.Snapshot`` has it all."""

    weights: tuple[Matrix, ...]
    biases: tuple[tuple[float, ...], ...]
    config: _SessionConfigLike


@dataclass(frozen=True)
class PlainMLP:
    """An MLP with one output, as plain floats: ``weights[layer][neuron][input]``."""

    weights: tuple[Matrix, ...]
    biases: tuple[tuple[float, ...], ...]
    activations: tuple[str, ...]  # one per layer, the output layer's last

    def __post_init__(self) -> None:
        if not (len(self.weights) == len(self.biases) == len(self.activations) >= 1):
            raise ValueError("need weights, biases and an activation for every layer")
        for name in self.activations:
            if name not in ACTIVATIONS:
                raise ValueError(f"unknown activation {name!r} (known: {', '.join(ACTIVATIONS)})")
        for i, (layer_w, layer_b) in enumerate(zip(self.weights, self.biases)):
            fan_in = len(self.weights[i - 1]) if i else len(layer_w[0])
            if len(layer_w) != len(layer_b) or any(len(row) != fan_in for row in layer_w):
                raise ValueError(f"layer {i + 1}: weights and biases do not fit together")
        if len(self.biases[-1]) != 1:
            raise ValueError(f"the last layer must have one neuron, not {len(self.biases[-1])}")

    @classmethod
    def from_snapshot(cls, snapshot: SnapshotLike) -> PlainMLP:
        """The net a session snapshot describes (its weights, biases and activations)."""
        cfg = snapshot.config
        return cls(
            snapshot.weights,
            snapshot.biases,
            layer_activations(cfg.activation, cfg.output_activation, len(snapshot.weights)),
        )

    @property
    def nin(self) -> int:
        return len(self.weights[0][0])

    def __call__(self, x: Sequence[float]) -> float:
        """The output for one input: each neuron is ``act(b + w1*x1 + w2*x2 + ...)``."""
        for layer_w, layer_b, name in zip(self.weights, self.biases, self.activations):
            act = ACTIVATION_FUNCTIONS[name]
            x = [act(_weighted_sum(row, b, x)) for row, b in zip(layer_w, layer_b)]
        return x[0]

    def batch(self, xs: Sequence[Sequence[float]]) -> list[float]:
        """The output for every input in ``xs``, the same numbers as calling it on each.

        Works a layer at a time on columns (one list per neuron, one entry per
        input) so that the inner loops run in C (``map``); per entry the
        arithmetic and its order are those of ``__call__``.
        """
        if not xs:
            return []
        return self.layer_outputs(xs)[-1][0]

    def layer_outputs(
        self, xs: Sequence[Sequence[float]], layers: int | None = None
    ) -> list[list[list[float]]]:
        """Every neuron's output for every input: ``[layer][neuron][point]``, the first
        ``layers`` layers (None: all of them; the hidden ones: one fewer)."""
        columns = [list(c) for c in zip(*xs)]  # columns[i][p]: input i of point p
        n = len(xs)
        every = []
        for layer_w, layer_b, name in list(zip(self.weights, self.biases, self.activations))[
            :layers
        ]:
            outputs = []
            for row, b in zip(layer_w, layer_b):
                total = [b] * n
                for w, column in zip(row, columns):
                    total = list(map(add, total, map(mul, repeat(w), column)))
                outputs.append(_activate_all(name, total))
            columns = outputs
            every.append(outputs)
        return every


def _activate_all(name: str, values: list[float]) -> list[float]:
    if name == "linear":
        return values
    if name == "relu":  # inline: a function call per value costs more than the test
        return [v if v > 0 else 0.0 for v in values]
    return list(map(ACTIVATION_FUNCTIONS[name], values))


def pixel_centres(low: float, high: float, count: int) -> list[float]:
    """The centres of ``count`` equal pixels side by side from ``low`` to ``high``."""
    step = (high - low) / count
    return [low + (i + 0.5) * step for i in range(count)]


def grid(
    net: PlainMLP,
    x_range: tuple[float, float],
    y_range: tuple[float, float],
    columns: int,
    rows: int,
) -> list[list[float]]:
    """The output at every pixel centre of a ``columns`` x ``rows`` image of the plane.

    ``grid[r][c]``: row 0 is the top (largest y), column 0 the left (smallest x).
    """
    if net.nin != 2:
        raise ValueError(f"a grid needs a net with 2 inputs, this one has {net.nin}")
    if columns < 1 or rows < 1:
        return []
    xs = pixel_centres(*x_range, columns)
    ys = pixel_centres(*y_range, rows)[::-1]
    flat = net.batch([(x, y) for y in ys for x in xs])
    return [flat[r * columns : (r + 1) * columns] for r in range(rows)]
