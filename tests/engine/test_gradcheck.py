"""gradcheck passes on clean nets with every loss and catches injected bugs."""

from __future__ import annotations

import pytest

from engine import MLP, bugs
from engine.inspect.gradcheck import gradcheck
from engine.losses import LOSSES

XS = [[2.0, 3.0, -1.0], [3.0, -1.0, 0.5], [0.5, 1.0, 1.0], [1.0, 1.0, -1.0], [-0.7, 0.2, 1.3]]
YS = [1.0, -1.0, -1.0, 1.0, -1.0]


def _problem(activation: str, loss: str, seed: int = 0):
    model = MLP(3, [4, 4, 1], activation=activation, seed=seed)

    def forward():
        return LOSSES[loss]([model(x) for x in XS], YS)

    return model, forward


@pytest.mark.parametrize("loss", list(LOSSES))
@pytest.mark.parametrize("activation", ["tanh", "relu", "sigmoid"])
def test_gradcheck_passes_on_clean_nets(activation, loss):
    model, forward = _problem(activation, loss)
    result = gradcheck(forward, model.parameters())
    assert result.passed, (result.max_abs_error, result.max_rel_error)
    assert len(result.checks) == result.total_parameters == 41
    assert not result.is_subset
    # a real check, not a trivial one: some gradients are far from zero
    assert max(abs(c.backprop) for c in result.checks) > 1e-3


@pytest.mark.parametrize("loss", list(LOSSES))
@pytest.mark.parametrize("bug", [bugs.OVERWRITE_GRAD, bugs.TANH_DERIVATIVE])
def test_gradcheck_fails_under_a_gradient_bug(bug, loss):
    model, forward = _problem("tanh", loss)
    with bugs.injected([bug]):
        result = gradcheck(forward, model.parameters())
    assert not result.passed
    assert result.max_rel_error > 1e-2


def test_gradcheck_restores_parameters_and_checks_a_subset():
    model, forward = _problem("tanh", "sse")
    before = [p.data for p in model.parameters()]
    result = gradcheck(forward, model.parameters(), indices=[0, 5, 40])
    assert [p.data for p in model.parameters()] == before
    assert [c.index for c in result.checks] == [0, 5, 40]
    assert result.is_subset and result.passed
    # .grad is left holding the backprop gradient
    assert [model.parameters()[c.index].grad for c in result.checks] == [
        c.backprop for c in result.checks
    ]


# -- how many parameters a check looks at: one rule for the dashboard and train ----------


def test_every_parameter_while_the_work_fits_then_a_subset_that_fits():
    from engine.inspect.gradcheck import CHECK_MULTIPLY_ADDS, MIN_CHECKED, parameters_to_check

    assert parameters_to_check(41, 4 * 32) is None  # the tutorial: every parameter
    per_parameter = 4 * 1000
    fits = CHECK_MULTIPLY_ADDS // per_parameter
    assert parameters_to_check(fits, 1000) is None
    assert parameters_to_check(fits + 1, 1000) == fits
    assert parameters_to_check(10**6, 10**9) == MIN_CHECKED  # never fewer than a few


def test_a_session_check_names_its_step_and_follows_the_rule():
    from engine.inspect.gradcheck import parameters_to_check
    from engine.training.budget import multiply_adds, parameter_count
    from engine.training.records import SessionConfig
    from engine.training.session import TrainingSession

    xs = [[i / 50, (i % 7) / 7] for i in range(150)]
    ys = [1.0 if i % 2 else -1.0 for i in range(150)]
    session = TrainingSession(SessionConfig(hidden=(16, 16), activation="relu"), xs, ys)
    session.step()
    session.step()
    result = session.passes.gradcheck()
    total = parameter_count(2, (16, 16))
    assert result.step == 2
    assert result.total_parameters == total
    assert len(result.checks) == parameters_to_check(total, 150 * multiply_adds(2, (16, 16)))
    assert result.is_subset
