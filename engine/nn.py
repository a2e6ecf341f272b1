"""A neuron, a layer, a multi-layer perceptron: the lecture's ladder of modules."""

from __future__ import annotations

import itertools
import random
from collections.abc import Callable, Sequence

from engine.value import Value


def _linear(act: Value) -> Value:
    return act


# What a neuron applies to its weighted sum, by name: the one list of activations.
# (engine/inspect/inference.py and engine/fast/codegen.py each compute every one of these
# in their own way; their tests run through this list.)
ACTIVATIONS: dict[str, Callable[[Value], Value]] = {
    "tanh": Value.tanh,
    "relu": Value.relu,
    "sigmoid": Value.sigmoid,
    "linear": _linear,
}


def layer_activations(
    activation: str, output_activation: str | None, layers: int
) -> tuple[str, ...]:
    """Each layer's activation, the output layer's last.

    Hidden layers use ``activation``. The output layer uses ``output_activation``;
    by default tanh nets end in tanh (the lecture) and every other net ends
    linear (micrograd's demo).
    """
    if output_activation is None:
        output_activation = "tanh" if activation == "tanh" else "linear"
    return (activation,) * (layers - 1) + (output_activation,)


class Module:
    def zero_grad(self) -> None:
        for p in self.parameters():
            p.grad = 0.0

    def parameters(self) -> list[Value]:
        return []


class Neuron(Module):
    def __init__(self, nin: int, activation: str = "tanh", rng: random.Random | None = None):
        if activation not in ACTIVATIONS:
            raise ValueError(f"unknown activation {activation!r} (known: {', '.join(ACTIVATIONS)})")
        rng = rng or random.Random()
        self.w = [Value(rng.uniform(-1, 1)) for _ in range(nin)]
        self.b = Value(rng.uniform(-1, 1))
        self.activation = activation

    def __call__(self, x: Sequence[Value | float]) -> Value:
        act = sum((wi * xi for wi, xi in zip(self.w, x)), self.b)
        return ACTIVATIONS[self.activation](act)  # e.g. act.tanh()

    def parameters(self) -> list[Value]:
        return self.w + [self.b]

    def __repr__(self) -> str:
        return f"{self.activation.capitalize()}Neuron({len(self.w)})"


class Layer(Module):
    def __init__(self, nin: int, nout: int, activation: str = "tanh", rng=None):
        self.neurons = [Neuron(nin, activation, rng) for _ in range(nout)]

    def __call__(self, x: Sequence[Value | float] | Value) -> Value | list[Value]:
        if isinstance(x, Value):  # the previous layer had a single neuron
            x = [x]
        outs = [n(x) for n in self.neurons]
        return outs[0] if len(outs) == 1 else outs

    def parameters(self) -> list[Value]:
        return [p for n in self.neurons for p in n.parameters()]

    def __repr__(self) -> str:
        return f"Layer of [{', '.join(str(n) for n in self.neurons)}]"


class MLP(Module):
    """``MLP(3, [4, 4, 1])``: 3 inputs, two hidden layers of 4, one output.

    ``activation`` is the hidden layers' non-linearity; the output layer's is
    ``output_activation``, by default as ``layer_activations`` says.
    """

    def __init__(
        self,
        nin: int,
        nouts: Sequence[int],
        activation: str = "tanh",
        output_activation: str | None = None,
        seed: int | None = None,
    ):
        rng = random.Random(seed)  # our own generator: never the global one
        sizes = [nin] + list(nouts)
        activations = layer_activations(activation, output_activation, len(nouts))
        self.layers = [
            Layer(sizes[i], sizes[i + 1], activations[i], rng) for i in range(len(nouts))
        ]

    def __call__(self, x: Sequence[Value | float]) -> Value | list[Value]:
        for layer in self.layers:
            x = layer(x)
        return x

    def parameters(self) -> list[Value]:
        return [p for layer in self.layers for p in layer.parameters()]

    def __repr__(self) -> str:
        return f"MLP of [{', '.join(str(layer) for layer in self.layers)}]"


def neuron_name(layer: int, neuron: int) -> str:
    """A neuron in words, counted from 1: "layer 2, neuron 1" (both given from 0)."""
    return f"layer {layer + 1}, neuron {neuron + 1}"


def parameter_name(layer: int, neuron: int, column: int, fan_in: int) -> str:
    """A parameter in words, counted from 1: "layer 2, neuron 1, from h3" or "..., bias"."""
    source = "x" if layer == 0 else "h"
    what = "bias" if column == fan_in else f"from {source}{column + 1}"
    return f"{neuron_name(layer, neuron)}, {what}"


def parameter_names(layer_sizes: Sequence[int]) -> list[str]:
    """Every parameter's name, in ``MLP.parameters()`` order (layer sizes from the inputs)."""
    return [
        parameter_name(layer, neuron, column, nin)
        for layer, (nin, nout) in enumerate(itertools.pairwise(layer_sizes))
        for neuron in range(nout)
        for column in range(nin + 1)
    ]
