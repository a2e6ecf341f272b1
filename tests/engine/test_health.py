"""Neuron health (engine/training/health.py): dead and saturated neurons, exploding and
vanishing gradients, on hand-made nets whose answers are known."""

from __future__ import annotations

import dataclasses
import math

import pytest

import datasets
from engine import bugs
from engine.fast import CompiledNet
from engine.training.health import (
    DEAD,
    SATURATED,
    Health,
    HealthLog,
    growth,
    layer_gradient_norms,
    measure,
    neuron_state,
)
from engine.training.presets import PRESETS
from engine.training.records import SessionConfig
from engine.training.session import BACKENDS, TrainingSession

# Four points in the positive quadrant: a neuron whose weights and bias are all
# negative has a negative input on every one of them.
POINTS = [(0.5, 1.0), (1.0, 0.2), (2.0, 2.0), (0.1, 0.3)]
TARGETS = [1.0, -1.0, 1.0, -1.0]


def session(
    activation: str, backend: str = "fast", hidden=(3, 2), lr: float = 0.1
) -> TrainingSession:
    config = SessionConfig(hidden=hidden, activation=activation, loss="mse", lr=lr)
    return TrainingSession(config, POINTS, TARGETS, backend=backend)


def set_neuron(run: TrainingSession, layer: int, neuron: int, weights, bias: float) -> None:
    n = run.model.layers[layer].neurons[neuron]
    for w, value in zip(n.w, weights):
        w.data = value
    n.b.data = bias


# -- the rules on their own ----------------------------------------------------------


def test_a_relu_neuron_is_dead_only_when_zero_on_every_point():
    assert neuron_state("relu", [0.0, 0.0, 0.0]) == DEAD
    assert neuron_state("relu", [0.0, 1e-300, 0.0]) is None
    assert neuron_state("linear", [0.0, 0.0]) is None


def test_saturation_needs_every_point_past_the_threshold():
    assert neuron_state("tanh", [0.995, -0.999, 1.0]) == SATURATED  # either side, each point
    assert neuron_state("tanh", [0.995, 0.99]) is None  # 0.99 is not above 0.99
    assert neuron_state("sigmoid", [0.001, 0.995]) == SATURATED
    assert neuron_state("sigmoid", [0.001, 0.5]) is None
    assert neuron_state("tanh", [math.nan]) is None


def test_growth_and_its_threshold():
    assert Health(5, growth=growth(101.0, 1.0)).exploding
    assert not Health(5, growth=growth(100.0, 1.0)).exploding  # more than 100x, not 100x
    assert growth(5.0, 0.0) is None  # nothing to compare with
    assert not Health(5, first_to_last=1e-6).vanishing
    assert Health(5, first_to_last=0.9e-6).vanishing


def test_layer_gradient_norms_split_parameters_by_layer():
    # MLP(2, [1, 1]): layer 1 has w, w, b; layer 2 has w, b.
    assert layer_gradient_norms((2, 1, 1), [3.0, 4.0, 0.0, 1.0, 0.0]) == (5.0, 1.0)


def test_measure_names_neurons_by_layer_and_index():
    outputs = [[[0.0, 0.0], [0.0, 1.0]], [[0.0, 0.0]], [[0.0, 0.0]]]
    health = measure(7, ["relu", "relu", "relu"], outputs)  # the last: the output neuron
    assert health.dead == ((0, 0), (1, 0)) and health.saturated == ()
    assert health.counts() == "2 dead"
    assert health.state(0, 0) == DEAD and health.state(0, 1) is None


def test_counts_say_nothing_for_a_healthy_net():
    assert Health(3).counts() == "" and Health(3).gradient_line() == ""
    assert Health(3, dead=((0, 1),), saturated=((1, 0),)).counts() == "1 dead, 1 saturated"


def test_the_log_keeps_the_step_each_neuron_became_unhealthy():
    log = HealthLog()
    log.add(Health(1))
    log.add(Health(2, dead=((0, 1),)))
    log.add(Health(3, dead=((0, 1),), saturated=((1, 0),)))
    log.add(Health(4, dead=((0, 1),)))  # (1, 0) recovered
    log.add(Health(5, dead=((0, 1),), saturated=((1, 0),)))  # and saturated again
    assert log.unhealthy() == [((0, 1), DEAD, 2), ((1, 0), SATURATED, 5)]


# -- hand-made nets ----------------------------------------------------------------


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_relu_neuron_with_negative_weights_is_dead_and_stays_dead(backend):
    run = session("relu", backend)
    set_neuron(run, 0, 1, (-1.0, -0.5), -0.1)  # negative on every (positive) point
    set_neuron(run, 0, 0, (1.0, 1.0), 0.1)  # positive on every point
    set_neuron(run, 0, 2, (1.0, -1.0), 0.0)  # positive on some points only
    assert run.health().dead == ((0, 1),)
    before = [p.data for p in run.model.layers[0].neurons[1].parameters()]
    for step in range(1, 6):
        run.step()
        assert (0, 1) in run.health().dead, step
    # Dead: its local gradient is 0 on every point, so its weights never moved.
    assert [p.data for p in run.model.layers[0].neurons[1].parameters()] == before
    assert run.snapshot().dead == len(run.health().dead)


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_relu_neuron_fed_only_dead_neurons_and_a_negative_bias_is_dead(backend):
    run = session("relu", backend)
    for neuron in range(3):
        set_neuron(run, 0, neuron, (-1.0, -1.0), -1.0)
    set_neuron(run, 1, 0, (5.0, 5.0, 5.0), -0.5)  # its inputs are all 0: output relu(-0.5)
    set_neuron(run, 1, 1, (5.0, 5.0, 5.0), 0.5)  # relu(0.5) = 0.5: alive, though useless
    assert run.health().dead == ((0, 0), (0, 1), (0, 2), (1, 0))


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize(("activation", "weight"), [("tanh", 3.0), ("sigmoid", 6.0)])
def test_large_weights_saturate_tanh_and_sigmoid(backend, activation, weight):
    run = session(activation, backend)
    # weight * (x + y) + weight >= 1.3 * weight on every point: tanh(3.9) = 0.9992,
    # sigmoid(7.8) = 0.9996; the other neurons' small weights keep them in the middle.
    set_neuron(run, 0, 2, (weight, weight), weight)
    for neuron in (0, 1):
        set_neuron(run, 0, neuron, (0.1, -0.1), 0.0)
    for neuron in (0, 1):
        set_neuron(run, 1, neuron, (0.1, 0.1, 0.1), 0.0)
    assert run.health().saturated == ((0, 2),)
    assert run.health().dead == ()
    run.step()
    assert run.health().saturated == ((0, 2),)


def test_a_saturated_second_layer_makes_layer_one_gradients_vanish():
    run = session("tanh")
    for neuron in range(3):
        set_neuron(run, 0, neuron, (0.5, -0.5), 0.1)
    # Layer 2's neurons get inputs of 40 or more: 1 - tanh(40)**2 is 0 in floats, so
    # nothing reaches layer 1, while the output layer's gradient is ordinary.
    for neuron in range(2):
        set_neuron(run, 1, neuron, (0.0, 0.0, 0.0), 40.0)
    run.step()
    health = run.health()
    assert health.first_to_last == 0.0 and health.vanishing
    assert "vanishing" in health.gradient_line()
    assert health.saturated == ((1, 0), (1, 1))
    healthy = session("tanh")
    healthy.step()
    assert not healthy.health().vanishing


def test_growth_compares_the_step_with_the_one_ten_steps_before():
    # A linear net on a large learning rate (measured): each step overshoots further,
    # and the gradient norm passes 100x over 10 steps at step 60, before the loss
    # grows enough to count as diverged.
    run = session("linear", hidden=(2,), lr=0.2)
    exploding = []
    for _ in range(60):
        run.step()
        exploding.append(run.health().exploding)
    norms = run.snapshot().history.grad_norm  # norms[i] is step i + 1's
    by_hand = [n > 10 and norms[n - 1] > 100 * norms[n - 11] for n in range(1, 61)]
    assert exploding == by_hand and any(exploding)
    assert run.diverged_at is None
    assert run.health().growth == norms[-1] / norms[-11]
    assert "exploding" in run.health().gradient_line()


def test_no_gradient_rule_before_ten_steps_or_at_step_zero():
    run = session("tanh")
    assert run.health().growth is None and run.health().first_to_last is None
    for _ in range(10):
        run.step()
    assert run.health().growth is None  # step 10 has no step 0 gradient to compare with
    run.step()
    assert run.health().growth is not None


# -- measured on the weights after the step, cheaply -------------------------------


def test_health_is_of_the_weights_after_the_update():
    data = datasets.make("moons")
    run = TrainingSession(PRESETS["moons"], data.xs, data.ys)
    for _ in range(20):
        run.step()
    # A fresh run with the same weights at step 0: the floats path, nothing shared.
    other = TrainingSession(PRESETS["moons"], data.xs, data.ys, backend="reference")
    for p, q in zip(other.model.parameters(), run.model.parameters()):
        p.data = q.data
    assert run.health().dead == other.health().dead
    assert len(run.health().dead) > 0  # moons' preset has dead ReLUs by step 20


def test_asking_after_every_step_costs_no_second_forward_pass(monkeypatch):
    data = datasets.make("moons")
    run = TrainingSession(PRESETS["moons"], data.xs, data.ys)
    run.step()
    run.health()
    calls = []
    original = CompiledNet.forward
    monkeypatch.setattr(
        CompiledNet, "forward", lambda self, rows=None: calls.append(rows) or original(self, rows)
    )
    for _ in range(5):
        run.step()
        run.health()
        run.snapshot()  # asks again: kept
    assert len(calls) == 5  # one forward pass per step, made by health() and reused


@pytest.mark.parametrize(
    "change",
    ["nothing", "tanh-bug", "data", "weights", "batches"],
)
def test_a_run_asked_for_its_health_trains_as_one_never_asked(change):
    data = datasets.make("xor", 40, seed=3)
    config = PRESETS["xor"]
    if change == "batches":
        config = dataclasses.replace(config, batch_size=7)
    asked, plain = (TrainingSession(config, data.xs, data.ys) for _ in range(2))
    for step in range(12):
        asked.health()  # made at the weights after the last step, before any change
        for run in (asked, plain):
            if step == 6 and change == "tanh-bug":
                run.set_bugs([bugs.TANH_DERIVATIVE])
            if step == 6 and change == "data":
                run.set_data(data.xs[:30], data.ys[:30])
            if step == 6 and change == "weights":
                run.model.parameters()[0].data += 0.25
        assert asked.step() == plain.step()
        # (not snapshot(): it measures the health too)
        assert [p.data for p in asked.model.parameters()] == [
            p.data for p in plain.model.parameters()
        ]
    assert asked.last_backend == "fast"


def test_new_points_are_measured_again():
    run = session("relu")
    set_neuron(run, 0, 1, (-1.0, -0.5), -0.1)
    run.step()
    assert (0, 1) in run.health().dead
    run.set_data([(-3.0, -3.0), *POINTS], [1.0, *TARGETS])  # a point it is positive on
    assert (0, 1) not in run.health().dead


@pytest.mark.parametrize("hidden", [(6, 5), (72, 72)])  # unrolled, and loops (5,545 weights)
def test_the_fast_path_reads_the_outputs_the_plain_floats_give(hidden):
    data = datasets.make("moons", 30, seed=1)
    config = dataclasses.replace(PRESETS["moons"], hidden=hidden)
    run = TrainingSession(config, data.xs, data.ys)
    run.step()
    assert run.passes.compiled.shape.loops == (hidden == (72, 72))
    fast = run.passes.neuron_outputs()
    run.passes.compiled = None  # now the floats path
    floats = run.passes.neuron_outputs()
    assert [[list(c) for c in layer] for layer in fast] == floats
    assert [len(layer) for layer in floats] == [*hidden, 1] and len(floats[1][0]) == 30


@pytest.mark.parametrize("backend", BACKENDS)
def test_the_output_neuron_is_never_marked(backend):
    run = session("tanh", backend)  # tanh nets end in tanh
    set_neuron(run, 2, 0, (0.0, 0.0), 5.0)  # tanh(5) = 0.9999 whatever it is fed
    assert (2, 0) not in run.health().saturated  # confident on every point: its goal
    hidden = session("tanh", backend)
    set_neuron(hidden, 0, 0, (0.0, 0.0), 5.0)  # a hidden one at 0.9999: saturated
    assert (0, 0) in hidden.health().saturated
    relu = session("relu", backend)  # relu nets end linear: never marked
    set_neuron(relu, 2, 0, (0.0, 0.0), -5.0)
    assert (2, 0) not in relu.health().dead


def test_a_resumed_run_measures_what_the_straight_run_does():
    run = session("linear", hidden=(2,), lr=0.2)  # the exploding run above
    for _ in range(55):
        run.step()
    resumed = TrainingSession.from_state(run.export_state())
    for _ in range(5):
        run.step()
        resumed.step()
        assert resumed.health() == run.health()  # growth reads the 10 steps before too
    assert run.health().exploding
