"""Held-out points: test loss and accuracy come from them alone, at the step's weights,
and never steer training. (datasets.split itself is tested in tests/datasets.)"""

from __future__ import annotations

import math
from dataclasses import replace

import pytest

from engine.training.records import SessionConfig
from engine.training.session import BACKENDS, TrainingSession
from tests.support.models import objective_at

# Two well separated classes: x > 0 is +1, x < 0 is -1.
TRAIN_XS = [[1.0, 0.5], [1.5, -0.5], [2.0, 0.0], [-1.0, 0.5], [-1.5, -0.5], [-2.0, 0.0]]
TRAIN_YS = [1.0, 1.0, 1.0, -1.0, -1.0, -1.0]
# Held-out points in the same regions, deliberately labelled the other way.
TEST_XS = [[1.2, 0.1], [1.8, -0.2], [-1.2, 0.1], [-1.8, -0.2]]
TEST_YS = [-1.0, -1.0, 1.0, 1.0]
CONFIG = SessionConfig(hidden=(4,), activation="tanh", loss="mse", lr=0.5, seed=1)


def split_session(backend: str, config: SessionConfig = CONFIG) -> TrainingSession:
    return TrainingSession(config, TRAIN_XS, TRAIN_YS, (), backend, TEST_XS, TEST_YS)


@pytest.mark.parametrize("backend", BACKENDS)
def test_test_metrics_come_from_the_held_out_points_only(backend):
    session = split_session(backend)
    assert all(math.isnan(v) for v in session.test_metrics)  # nothing measured before a step
    for _ in range(200):
        if session.step().accuracy == 1.0:
            break
    snap = session.snapshot()
    assert snap.accuracy == 1.0  # every training point is right...
    test_loss, test_accuracy = session.test_metrics
    assert test_accuracy == 0.0  # ...and so every mislabelled held-out point is wrong
    assert test_loss > 1.0 > snap.loss
    assert (snap.test_loss, snap.test_accuracy) == (test_loss, test_accuracy)


@pytest.mark.parametrize("backend", BACKENDS)
def test_each_step_measures_the_test_set_at_the_weights_it_trained_on(backend):
    config = replace(CONFIG, l2=1e-3)  # the test loss is the same objective, L2 term included
    session = split_session(backend, config)
    for _ in range(8):
        weights = session.snapshot().parameters  # what this step's forward pass sees
        result = session.step()
        test_loss, test_accuracy = session.test_metrics
        expected_loss, expected_accuracy = objective_at(config, weights, TEST_XS, TEST_YS)
        assert test_loss == pytest.approx(expected_loss, rel=1e-12)
        assert test_accuracy == expected_accuracy
        train_loss, _ = objective_at(config, weights, TRAIN_XS, TRAIN_YS)
        assert result.loss == pytest.approx(train_loss, rel=1e-12)

        history = session.snapshot().history
        assert (history.test_loss[-1], history.test_accuracy[-1]) == (test_loss, test_accuracy)
    assert len(history.test_loss) == len(history.test_accuracy) == len(history.loss) == 8


@pytest.mark.parametrize("backend", BACKENDS)
def test_held_out_points_do_not_change_training(backend):
    with_test = split_session(backend)
    without = TrainingSession(CONFIG, TRAIN_XS, TRAIN_YS, (), backend)
    for _ in range(30):
        with_test.step()
        without.step()
    a, b = with_test.snapshot(), without.snapshot()
    assert a.history.loss == b.history.loss
    assert a.history.accuracy == b.history.accuracy
    assert a.parameters == b.parameters
    # without a test set the test columns are nan, and so are the metrics
    assert all(math.isnan(v) for v in (*b.history.test_loss, *b.history.test_accuracy))
    assert all(math.isnan(v) for v in without.test_metrics)
    assert not any(math.isnan(v) for v in (*a.history.test_loss, *a.history.test_accuracy))


def test_reset_forgets_the_test_metrics():
    session = split_session("fast")
    session.step()
    session.reset()
    assert all(math.isnan(v) for v in session.test_metrics)
    snap = session.snapshot()
    assert math.isnan(snap.test_loss) and math.isnan(snap.test_accuracy)
