"""Learning-rate schedules and the SGD update."""

from __future__ import annotations

import pytest

from engine import Value, bugs
from engine.optim import SGD, Schedule


@pytest.mark.parametrize("k", [0, 1, 50, 99, 100, 1000])
def test_constant_schedule(k):
    assert Schedule(0.05).at(k) == 0.05


def test_linear_schedule_is_micrograds_demo_decay():
    schedule = Schedule(1.0, 0.1, 100)
    for k in range(101):
        assert schedule.at(k) == pytest.approx(1.0 - 0.9 * k / 100, rel=1e-12)


def test_linear_schedule_holds_its_end_after_the_last_step():
    schedule = Schedule(1.0, 0.1, 100)
    assert schedule.at(150) == pytest.approx(0.1)
    assert schedule.at(10_000) == pytest.approx(0.1)


def test_scaled_schedule_keeps_its_shape():
    scaled = Schedule(1.0, 0.1, 100).scaled(2.0)
    assert (scaled.start, scaled.end, scaled.steps) == (2.0, pytest.approx(0.2), 100)
    assert Schedule(0.5).scaled(3.0) == Schedule(1.5)


def _param(data: float, grad: float) -> Value:
    p = Value(data)
    p.grad = grad
    return p


def test_sgd_moves_against_the_gradient_at_the_scheduled_rate():
    params = [_param(1.0, 0.5), _param(-2.0, -1.0)]
    optimizer = SGD(params, Schedule(1.0, 0.1, 100))
    lr = optimizer.step(10)
    assert lr == pytest.approx(0.91)
    assert params[0].data == pytest.approx(1.0 - 0.91 * 0.5)
    assert params[1].data == pytest.approx(-2.0 + 0.91 * 1.0)
    assert [p.grad for p in params] == [0.5, -1.0]  # the update leaves gradients alone


def test_sgd_weight_decay_shrinks_weights():
    p = _param(2.0, 0.0)
    SGD([p], Schedule(0.1), weight_decay=0.5).step(0)
    assert p.data == pytest.approx(2.0 - 0.1 * 0.5 * 2.0)


def test_gradient_ascent_bug_climbs():
    p = _param(1.0, 0.5)
    with bugs.injected([bugs.GRADIENT_ASCENT]):
        SGD([p], Schedule(0.1)).step(0)
    assert p.data == pytest.approx(1.05)
