"""Neuron, Layer, MLP: sizes, seeded initialisation, activations, forward maths."""

from __future__ import annotations

import math
import random
from itertools import pairwise

import pytest

from engine import MLP, Layer, Neuron, Value


def expected_parameter_count(nin: int, nouts: list[int]) -> int:
    sizes = [nin, *nouts]
    return sum((fan_in + 1) * fan_out for fan_in, fan_out in pairwise(sizes))


@pytest.mark.parametrize(
    "nin, nouts", [(3, [4, 4, 1]), (2, [16, 16, 1]), (1, [1]), (5, [1, 3, 1]), (2, [7])]
)
def test_parameter_counts(nin, nouts):
    assert len(MLP(nin, nouts, seed=0).parameters()) == expected_parameter_count(nin, nouts)


def test_lecture_mlp_has_41_parameters():
    assert len(MLP(3, [4, 4, 1], seed=0).parameters()) == 41
    assert len(Neuron(3).parameters()) == 4
    assert len(Layer(3, 4).parameters()) == 16


def test_parameters_are_distinct_values():
    params = MLP(3, [4, 4, 1], seed=0).parameters()
    assert all(isinstance(p, Value) for p in params)
    assert len({id(p) for p in params}) == len(params)


def _weights(model: MLP) -> list[float]:
    return [p.data for p in model.parameters()]


def test_same_seed_same_initial_weights():
    assert _weights(MLP(3, [4, 4, 1], seed=7)) == _weights(MLP(3, [4, 4, 1], seed=7))


def test_different_seeds_differ():
    assert _weights(MLP(3, [4, 4, 1], seed=7)) != _weights(MLP(3, [4, 4, 1], seed=8))


def test_initial_weights_lie_in_minus_one_to_one():
    assert all(-1 <= w <= 1 for w in _weights(MLP(2, [16, 16, 1], seed=3)))


@pytest.mark.parametrize("seed", [0, 5, None])
def test_initialisation_leaves_the_global_random_state_alone(seed):
    random.seed(1234)
    before = random.getstate()
    MLP(3, [4, 4, 1], seed=seed)
    Neuron(3)
    Layer(2, 3)
    assert random.getstate() == before


def test_seeded_init_ignores_the_global_random_state():
    random.seed(1)
    first = _weights(MLP(2, [3, 1], seed=11))
    random.seed(2)
    assert _weights(MLP(2, [3, 1], seed=11)) == first


def _activations(model: MLP) -> list[list[str]]:
    return [[n.activation for n in layer.neurons] for layer in model.layers]


@pytest.mark.parametrize(
    "activation, output",
    [("tanh", "tanh"), ("relu", "linear"), ("sigmoid", "linear"), ("linear", "linear")],
)
def test_output_activation_defaults(activation, output):
    model = MLP(2, [3, 3, 1], activation=activation, seed=0)
    acts = _activations(model)
    assert acts[0] == [activation] * 3 and acts[1] == [activation] * 3
    assert acts[2] == [output]


def test_output_activation_can_be_chosen():
    model = MLP(2, [3, 1], activation="relu", output_activation="tanh", seed=0)
    assert _activations(model) == [["relu"] * 3, ["tanh"]]


def test_unknown_activation_is_refused():
    with pytest.raises(ValueError, match="softmax"):
        MLP(2, [3, 1], activation="softmax", seed=0)


ACTIVATION_FUNCTIONS = {
    "tanh": math.tanh,
    "relu": lambda x: max(x, 0.0),
    "sigmoid": lambda x: 1 / (1 + math.exp(-x)),
    "linear": lambda x: x,
}


def _manual_forward(model: MLP, x: list[float]) -> float:
    """The MLP's maths on plain floats, read from its parameters."""
    for layer in model.layers:
        x = [
            ACTIVATION_FUNCTIONS[n.activation](sum(w.data * xi for w, xi in zip(n.w, x)) + n.b.data)
            for n in layer.neurons
        ]
    (out,) = x
    return out


@pytest.mark.parametrize("activation", ["tanh", "relu", "sigmoid"])
def test_forward_matches_the_maths(activation):
    model = MLP(3, [4, 4, 1], activation=activation, seed=2)
    for x in ([2.0, 3.0, -1.0], [3.0, -1.0, 0.5], [0.5, 1.0, 1.0]):
        out = model(x)
        assert isinstance(out, Value)
        assert out.data == pytest.approx(_manual_forward(model, x), rel=1e-12, abs=1e-12)


def test_hidden_layer_of_one_neuron_feeds_the_next_layer():
    model = MLP(2, [1, 3, 1], seed=0)
    assert model([0.5, -0.5]).data == pytest.approx(_manual_forward(model, [0.5, -0.5]))


def test_layer_of_many_returns_a_list():
    outs = Layer(2, 3, rng=random.Random(0))([1.0, 2.0])
    assert isinstance(outs, list) and len(outs) == 3


def test_zero_grad_zeroes_every_parameter():
    model = MLP(3, [4, 4, 1], seed=0)
    model([1.0, 2.0, 3.0]).backward()
    assert any(p.grad != 0 for p in model.parameters())
    model.zero_grad()
    assert all(p.grad == 0 for p in model.parameters())
