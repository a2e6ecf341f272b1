"""The plain-float forward pass gives the numbers the Value forward gives."""

from __future__ import annotations

import math
from types import SimpleNamespace

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from engine.inspect.inference import ACTIVATION_FUNCTIONS, PlainMLP, grid, pixel_centres
from engine.nn import ACTIVATIONS, MLP, layer_activations
from engine.training.records import SessionConfig
from engine.training.session import TrainingSession
from engine.value import Value


def plain(model: MLP) -> PlainMLP:
    """The model's weights and activations, copied out as floats."""
    return PlainMLP(
        tuple(tuple(tuple(w.data for w in n.w) for n in layer.neurons) for layer in model.layers),
        tuple(tuple(n.b.data for n in layer.neurons) for layer in model.layers),
        tuple(layer.neurons[0].activation for layer in model.layers),
    )


def close(a: float, b: float) -> bool:
    return abs(a - b) <= 1e-12 * max(1.0, abs(b))


finite = st.floats(-5, 5, allow_nan=False)


@st.composite
def nets_and_inputs(draw):
    nin = draw(st.integers(1, 4))
    hidden = draw(st.lists(st.integers(1, 6), min_size=1, max_size=3))
    activation = draw(st.sampled_from(["tanh", "relu", "sigmoid"]))
    output = draw(st.sampled_from([None, "linear", "tanh", "sigmoid", "relu"]))
    seed = draw(st.integers(0, 2**32 - 1))
    xs = draw(st.lists(st.lists(finite, min_size=nin, max_size=nin), min_size=1, max_size=8))
    return MLP(nin, [*hidden, 1], activation, output, seed), xs


@settings(max_examples=150, deadline=None)
@given(nets_and_inputs())
def test_plain_forward_equals_value_forward(case):
    model, xs = case
    net = plain(model)
    for x in xs:
        assert close(net(x), model(x).data)


@settings(max_examples=100, deadline=None)
@given(nets_and_inputs())
def test_batch_equals_one_at_a_time(case):
    model, xs = case
    net = plain(model)
    batch = net.batch(xs)
    assert len(batch) == len(xs)
    for x, y in zip(xs, batch):
        assert close(y, model(x).data)
        assert y == net(x) or (math.isnan(y) and math.isnan(net(x)))


@pytest.mark.parametrize("name", list(ACTIVATIONS))
def test_every_activation_has_a_float_version_equal_to_the_value_one(name):
    assert set(ACTIVATION_FUNCTIONS) == set(ACTIVATIONS)
    for x in (-3.0, -0.5, 0.0, 0.25, 2.0):
        assert ACTIVATION_FUNCTIONS[name](x) == ACTIVATIONS[name](Value(x)).data


@pytest.mark.parametrize("activation", ["tanh", "relu", "sigmoid"])
@pytest.mark.parametrize("output", [None, "linear", "tanh", "sigmoid"])
def test_layer_activations_follow_the_mlp_rule(activation, output):
    model = MLP(2, [3, 3, 1], activation, output, seed=1)
    expected = tuple(layer.neurons[0].activation for layer in model.layers)
    assert layer_activations(activation, output, 3) == expected
    if output is None:
        assert expected[-1] == ("tanh" if activation == "tanh" else "linear")


def test_from_snapshot_of_a_trained_session():
    xs = [[0.0, 1.0], [1.0, 0.0], [-1.0, -0.5], [0.3, -0.8], [0.9, 0.9]]
    ys = [1.0, -1.0, 1.0, -1.0, 1.0]
    config = SessionConfig(hidden=(16, 16), activation="relu", loss="hinge", lr=0.5, seed=3)
    session = TrainingSession(config, xs, ys)
    for _ in range(5):
        session.step()
    net = PlainMLP.from_snapshot(session.snapshot())
    assert net.activations == ("relu", "relu", "linear")
    probes = xs + [[2.5, -3.0], [-0.01, 0.02]]
    for x, y in zip(probes, net.batch(probes)):
        assert close(y, session.model(x).data)


def test_from_snapshot_reads_only_weights_biases_and_config():
    snapshot = SimpleNamespace(
        weights=(((1.0, 2.0),), ((3.0,),)),
        biases=((0.5,), (-1.0,)),
        config=SimpleNamespace(activation="tanh", output_activation=None),
    )
    net = PlainMLP.from_snapshot(snapshot)
    assert net([0.25, -0.5]) == math.tanh(-1.0 + 3.0 * math.tanh(0.5 + 0.25 - 1.0))


def test_saturated_sigmoid_is_zero_not_an_error():
    model = MLP(1, [1], "sigmoid", "sigmoid", seed=0)
    net = plain(model)
    x = [1e308 if model.layers[0].neurons[0].w[0].data < 0 else -1e308]
    assert net(x) == model(x).data == 0.0


def test_pixel_centres():
    assert pixel_centres(0.0, 4.0, 4) == [0.5, 1.5, 2.5, 3.5]
    assert pixel_centres(-1.0, 1.0, 1) == [0.0]


def test_grid_is_the_net_at_each_pixel_centre_top_row_first():
    net = plain(MLP(2, [5, 1], "tanh", seed=7))
    values = grid(net, (-2.0, 2.0), (-1.0, 1.0), 8, 4)
    assert len(values) == 4 and all(len(row) == 8 for row in values)
    xs = pixel_centres(-2.0, 2.0, 8)
    ys = pixel_centres(-1.0, 1.0, 4)
    for r in range(4):
        for c in range(8):
            assert values[r][c] == net([xs[c], ys[3 - r]])  # row 0 is the largest y


def test_grid_needs_two_inputs():
    with pytest.raises(ValueError, match="2 inputs"):
        grid(plain(MLP(3, [4, 1], seed=0)), (0, 1), (0, 1), 4, 4)


def test_shapes_that_do_not_fit_are_refused():
    with pytest.raises(ValueError, match="layer 2"):
        PlainMLP((((1.0,),), ((1.0, 2.0),)), ((0.0,), (0.0,)), ("tanh", "tanh"))
    with pytest.raises(ValueError, match="one neuron"):
        PlainMLP((((1.0,), (2.0,)),), ((0.0, 0.0),), ("tanh",))
    with pytest.raises(ValueError, match="unknown activation"):
        PlainMLP((((1.0,),),), ((0.0,),), ("softmax",))
