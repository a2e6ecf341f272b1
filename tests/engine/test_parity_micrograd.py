"""Parity with karpathy's micrograd 0.1.0: from the same initial weights, our
session's loss and every gradient equal micrograd's, step after step."""

from __future__ import annotations

import gc
import math
from dataclasses import dataclass

import pytest
from micrograd.engine import Value as MgValue
from micrograd.nn import MLP as MgMLP

import datasets
from engine.training.presets import PRESETS
from engine.training.session import BACKENDS, TrainingSession

TOLERANCE = 1e-9


def copy_weights(session: TrainingSession, mg_model: MgMLP) -> None:
    """Ours into micrograd's: its Neuron holds a .w list and a .b, like ours."""
    assert len(session.model.layers) == len(mg_model.layers)
    for ours, theirs in zip(session.model.layers, mg_model.layers):
        assert len(ours.neurons) == len(theirs.neurons)
        for n, m in zip(ours.neurons, theirs.neurons):
            assert len(n.w) == len(m.w)
            for w, mw in zip(n.w, m.w):
                mw.data = w.data
            m.b.data = n.b.data


def assert_all_close(ours, theirs, what: str, step: int) -> None:
    assert len(ours) == len(theirs)
    worst = max(abs(a - b) for a, b in zip(ours, theirs))
    assert worst <= TOLERANCE, f"step {step}: {what} differ by {worst:g}"


def demo_loss(model: MgMLP, X, y):
    """The loss of micrograd's demo.ipynb, as it is written there."""
    inputs = [list(map(MgValue, xrow)) for xrow in X]
    scores = list(map(model, inputs))
    losses = [(1 + -yi * scorei).relu() for yi, scorei in zip(y, scores)]
    data_loss = sum(losses) * (1.0 / len(losses))
    alpha = 1e-4
    reg_loss = alpha * sum(p * p for p in model.parameters())
    total_loss = data_loss + reg_loss
    accuracy = [(yi > 0) == (scorei.data > 0) for yi, scorei in zip(y, scores)]
    return total_loss, sum(accuracy) / len(accuracy)


@dataclass(frozen=True)
class DemoStep:
    loss: float
    accuracy: float
    learning_rate: float
    gradients: list[float]
    weights: list[float]  # after the update


@pytest.fixture(scope="module")
def moons_demo_run(gc_paused):
    """micrograd's demo loop for 10 steps, from our moons preset's initial weights."""
    data = datasets.make("moons")
    ours = TrainingSession(PRESETS["moons"], data.xs, data.ys, backend="reference")
    mg_model = MgMLP(2, [16, 16, 1])
    copy_weights(ours, mg_model)
    initial = [p.data for p in mg_model.parameters()]
    steps = []
    with gc_paused():  # micrograd's closures make cycles: collected once per step below
        for k in range(10):
            total_loss, acc = demo_loss(mg_model, data.xs, data.ys)
            mg_model.zero_grad()
            total_loss.backward()
            learning_rate = 1.0 - 0.9 * k / 100
            for p in mg_model.parameters():
                p.data -= learning_rate * p.grad
            params = mg_model.parameters()
            steps.append(
                DemoStep(
                    total_loss.data,
                    acc,
                    learning_rate,
                    [p.grad for p in params],
                    [p.data for p in params],
                )
            )
            del total_loss
            gc.collect()
    return data, initial, steps


@pytest.mark.parametrize("backend", BACKENDS)
def test_moons_preset_matches_micrograd_demo_for_10_steps(backend, moons_demo_run, gc_paused):
    data, initial, demo_steps = moons_demo_run
    session = TrainingSession(PRESETS["moons"], data.xs, data.ys, backend=backend)
    # micrograd's MLP: relu hidden layers, a linear last layer; ours must be the same net
    acts = [[n.activation for n in layer.neurons] for layer in session.model.layers]
    assert acts == [["relu"] * 16, ["relu"] * 16, ["linear"]]
    assert session.snapshot().parameters == tuple(initial)

    for k, demo in enumerate(demo_steps):
        with gc_paused():  # our Value graphs hold no cycles: collecting is wasted time
            result = session.step()
        snap = session.snapshot()
        assert result.loss == pytest.approx(demo.loss, abs=TOLERANCE)
        assert result.accuracy == demo.accuracy
        assert result.lr == pytest.approx(demo.learning_rate, rel=1e-12)
        assert_all_close(snap.gradients, demo.gradients, "grads", k)
        assert_all_close(snap.parameters, demo.weights, "weights", k)


def lecture_tanh(v: MgValue) -> MgValue:
    """The lecture's Value.tanh, grafted onto micrograd's Value (0.1.0 has no tanh)."""
    x = v.data
    t = (math.exp(2 * x) - 1) / (math.exp(2 * x) + 1)
    out = MgValue(t, (v,), "tanh")

    def _backward():
        v.grad += (1 - t**2) * out.grad

    out._backward = _backward
    return out


def lecture_forward(model: MgMLP, x):
    """The lecture's MLP: every neuron, the last one included, ends in tanh."""
    for layer in model.layers:
        x = [lecture_tanh(sum((wi * xi for wi, xi in zip(n.w, x)), n.b)) for n in layer.neurons]
    return x[0] if len(x) == 1 else x


@pytest.mark.parametrize("backend", BACKENDS)
def test_tutorial_preset_matches_the_lecture_loop_for_20_steps(backend):
    data = datasets.make("tutorial")
    session = TrainingSession(PRESETS["tutorial"], data.xs, data.ys, backend=backend)
    mg_model = MgMLP(3, [4, 4, 1])
    copy_weights(session, mg_model)
    xs, ys = data.xs, data.ys

    for k in range(20):
        # the lecture's training loop
        ypred = [lecture_forward(mg_model, x) for x in xs]
        loss = sum((yout - ygt) ** 2 for ygt, yout in zip(ys, ypred))
        for p in mg_model.parameters():
            p.grad = 0.0
        loss.backward()
        for p in mg_model.parameters():
            p.data += -0.05 * p.grad

        result = session.step()
        snap = session.snapshot()
        assert result.loss == pytest.approx(loss.data, abs=TOLERANCE)
        assert snap.predictions == pytest.approx([y.data for y in ypred], abs=TOLERANCE)
        assert_all_close(snap.gradients, [p.grad for p in mg_model.parameters()], "grads", k)
        assert_all_close(snap.parameters, [p.data for p in mg_model.parameters()], "weights", k)
