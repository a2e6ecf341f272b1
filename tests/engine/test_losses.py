"""Losses: values on hand-computed cases, gradients against finite differences."""

from __future__ import annotations

import math

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from engine import Value
from engine.losses import (
    LOSS_TITLES,
    LOSSES,
    binary_cross_entropy,
    hinge,
    l2_penalty,
    mean_squared_error,
    sum_squared_error,
)

EPS = 1e-6


def _loss(fn, scores: list[float], targets: list[float]) -> float:
    return fn([Value(s) for s in scores], targets).data


def test_the_four_losses_are_registered():
    assert LOSSES == {
        "sse": sum_squared_error,
        "mse": mean_squared_error,
        "hinge": hinge,
        "bce": binary_cross_entropy,
    }
    assert LOSS_TITLES.keys() == LOSSES.keys()  # every loss has its words, and no other


def test_sum_and_mean_squared_error_by_hand():
    scores, targets = [0.5, -0.5, 2.0], [1.0, -1.0, -1.0]
    # (0.5-1)^2 + (-0.5+1)^2 + (2+1)^2 = 0.25 + 0.25 + 9
    assert _loss(sum_squared_error, scores, targets) == pytest.approx(9.5)
    assert _loss(mean_squared_error, scores, targets) == pytest.approx(9.5 / 3)


def test_hinge_by_hand():
    scores, targets = [0.5, -2.0, 1.5, 3.0], [1.0, -1.0, -1.0, 1.0]
    # relu(1 - y*s): 0.5, relu(-1)=0, 2.5, relu(-2)=0 -> mean 3/4
    assert _loss(hinge, scores, targets) == pytest.approx(0.75)


def test_binary_cross_entropy_by_hand():
    scores, targets = [0.0, 2.0, -1.0], [1.0, -1.0, -1.0]
    expected = (math.log(2) + math.log1p(math.exp(2.0)) + math.log1p(math.exp(-1.0))) / 3
    assert _loss(binary_cross_entropy, scores, targets) == pytest.approx(expected, rel=1e-12)


@pytest.mark.parametrize("score, target", [(1000.0, -1.0), (-1000.0, 1.0), (1000.0, 1.0)])
def test_binary_cross_entropy_is_stable_for_large_logits(score, target):
    s = Value(score)
    loss = binary_cross_entropy([s], [target])
    loss.backward()
    margin = -target * score  # loss = softplus(margin) ~ max(margin, 0)
    assert loss.data == pytest.approx(max(margin, 0.0))
    assert s.grad == pytest.approx(-target if margin > 0 else 0.0)


def test_l2_penalty_by_hand():
    params = [Value(1.0), Value(-2.0), Value(0.5)]
    penalty = l2_penalty(params, 1e-4)
    penalty.backward()
    assert penalty.data == pytest.approx(1e-4 * (1 + 4 + 0.25))
    assert [p.grad for p in params] == pytest.approx([2e-4 * p.data for p in params])


def _float_loss(name: str, scores: list[float], targets: list[float]) -> float:
    """Each loss written on plain floats, independently of the engine."""
    if name == "sse":
        return sum((s - y) ** 2 for s, y in zip(scores, targets))
    if name == "mse":
        return sum((s - y) ** 2 for s, y in zip(scores, targets)) / len(scores)
    if name == "hinge":
        return sum(max(0.0, 1 - y * s) for s, y in zip(scores, targets)) / len(scores)
    return sum(math.log1p(math.exp(-y * s)) for s, y in zip(scores, targets)) / len(scores)


samples = st.lists(
    st.tuples(st.floats(-4, 4), st.sampled_from([-1.0, 1.0])), min_size=1, max_size=8
)


@pytest.mark.parametrize("name", list(LOSSES))
@settings(max_examples=40, deadline=None)
@given(pairs=samples)
def test_loss_value_and_gradient_match_finite_differences(name, pairs):
    scores = [s for s, _ in pairs]
    targets = [y for _, y in pairs]
    if name == "hinge":
        assume(all(abs(1 - y * s) > 1e-3 for s, y in pairs))  # off the kink
    values = [Value(s) for s in scores]
    loss = LOSSES[name](values, targets)
    loss.backward()
    assert loss.data == pytest.approx(_float_loss(name, scores, targets), rel=1e-9, abs=1e-12)
    for i, v in enumerate(values):
        up = scores[:i] + [scores[i] + EPS] + scores[i + 1 :]
        down = scores[:i] + [scores[i] - EPS] + scores[i + 1 :]
        numerical = (_float_loss(name, up, targets) - _float_loss(name, down, targets)) / (2 * EPS)
        assert v.grad == pytest.approx(numerical, rel=1e-5, abs=1e-6)
